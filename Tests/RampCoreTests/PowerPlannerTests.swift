import RampCore
import Testing

@Suite struct PowerPlannerTests {
    static func plan(_ gate: String, steps: String) throws -> Plan {
        try PlanParser.parse(
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [\(steps)],
             "sources": {"ev": {"type": "events"}}, "gates": [\(gate)]}
            """, file: "p.json")
    }

    static let fixed =
        #"{"name": "e", "source": "ev", "kind": "statistical", "test": "z", "query": "error", "expected_samples": 1000}"#
    static let sequential =
        #"{"name": "e", "source": "ev", "kind": "statistical", "test": "sequential", "metric": "proportion", "query": "error", "expected_samples": 30000}"#

    @Test func theFixedHorizonTimeIsTheTextbookSampleSizeAtTheStepsSplit() throws {
        let planner = PowerPlanner(traffic: 200, baselineRate: 0.01, relativeEffect: 0.2)
        let test = PowerPlanner.Test(plan: try Self.plan(Self.fixed, steps: #"{"percent": 50}"#))
        #expect(!test.sequential && test.alpha == 0.05)
        // k = pc(1-pc)/(T·s) + pb(1-pb)/(T·(1-s)); z = norm.ppf(0.95) + norm.ppf(0.8); k·z²/δ², pc=0.012, pb=0.01
        #expect(abs(planner.seconds(share: 0.5, test: test) - 336.26928784955504) < 1e-6)
        #expect(abs(planner.seconds(share: 0.05, test: test) - 1913.0459064614427) < 1e-6)
        // norm.ppf(0.99) + norm.ppf(0.9), T = 1000/s, a 25% canary
        var strict = test
        strict.alpha = 0.01
        let powerful = PowerPlanner(traffic: 1000, baselineRate: 0.01, relativeEffect: 0.2, power: 0.9)
        #expect(abs(powerful.seconds(share: 0.25, test: strict) - 197.28471787753523) < 1e-6)
    }

    @Test func theSequentialTestNeedsLongerThanOneLookButNotOrdersOfMagnitude() throws {
        let planner = PowerPlanner(traffic: 200, baselineRate: 0.01, relativeEffect: 0.2)
        let sequential = PowerPlanner.Test(plan: try Self.plan(Self.sequential, steps: #"{"percent": 50}"#))
        var fixed = sequential
        fixed.sequential = false
        let s = planner.seconds(share: 0.5, test: sequential)
        let f = planner.seconds(share: 0.5, test: fixed)
        #expect(s > f && s < 3 * f)
        // At the planned time the estimate at its power quantile reaches the boundary; a minute earlier it does not.
        let k = (0.012 * 0.988 + 0.01 * 0.99) / 100
        let tau = MixtureSPRT.tau(perUnitVariance: 0.012 * 0.988 + 0.01 * 0.99, samples: 30000, alpha: 0.05)
        func ratio(_ t: Double) -> Double {
            let v = k / t
            return MixtureSPRT.likelihoodRatio(
                theta: 0.002 - Normal.quantile(0.8) * v.squareRoot(), variance: v, tau: tau)
        }
        #expect(ratio(s) >= 20 && ratio(s - 60) < 20)
    }

    /// A group-sequential gate needs the fixed horizon's time inflated by its design's factor at most, and is
    /// expected to stop at the design's expected share of that when the effect is there.
    @Test func aGroupSequentialGateIsPlannedAtItsInflatedMaximumAndExpectedToStopSooner() throws {
        let gate =
            #"{"name": "e", "source": "ev", "kind": "statistical", "test": "group_sequential", "metric": "proportion", "query": "error", "expected_samples": 4000, "looks": 5}"#
        let plan = try Self.plan(gate, steps: #"{"percent": 50, "bake": "5m"}, {"percent": 100}"#)
        let planner = PowerPlanner(traffic: 200, baselineRate: 0.01, relativeEffect: 0.2)
        let test = PowerPlanner.Test(plan: plan)
        #expect(test.spending == .obrienFleming && test.looks == 5 && !test.sequential)
        #expect(test.name == "group-sequential (O'Brien-Fleming, 5 looks)")
        let design = GroupSequential.design(spending: .obrienFleming, alpha: 0.05, power: 0.8, looks: 5)
        let need = try #require(planner.plan(plan).steps.first)
        // The fixed horizon's 336.269 s (above), inflated.
        let seconds = try #require(need.seconds)
        #expect(abs(seconds - 336.26928784955504 * design.maximum) < 1e-6)
        #expect(abs((need.expectedSeconds ?? 0) - 336.26928784955504 * design.expected) < 1e-6)
        #expect(
            need.warning
                == "bake 5m is too short to be conclusive: it needs \(TimeSpan.describing(seconds: seconds)) at this traffic"
        )
    }

    @Test func stepsWhoseBakeIsTooShortAreWarnedAndUnjudgeableStepsSaySo() throws {
        let plan = try Self.plan(
            Self.fixed,
            steps: #"{"percent": 5, "bake": "10m"}, {"percent": 50, "bake": "1h"}, {"percent": 100}"#)
        let needs = PowerPlanner(traffic: 200, baselineRate: 0.01, relativeEffect: 0.2).plan(plan).steps
        #expect(needs.map(\.step) == [1, 2, 3])
        #expect(needs[0].warning == "bake 10m is too short to be conclusive: it needs 31m54s at this traffic")
        #expect(needs[0].canarySamples == (200 * 0.05 * 1913.0459064614427).rounded(.up))
        #expect(needs[1].warning == nil)
        #expect(needs[2].seconds == nil && needs[2].warning == "no baseline left to compare with")
    }
}
