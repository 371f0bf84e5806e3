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
