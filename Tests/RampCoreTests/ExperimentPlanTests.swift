import Foundation
import RampCore
import Testing

/// Experiment and bandit plans: parsing, the split they start with, the readout's decision, the bandit's reweight
/// and its replay, and the flag an experiment's audit entry records.
@Suite struct ExperimentPlanTests {
    static func parse(_ text: String) throws -> ExperimentPlan { try ExperimentPlan.parse(text, file: "x.json") }

    /// plans/checkout-copy.json, its description shortened.
    static let checkoutCopy = """
        {
          "$schema": "./ramp-plan.schema.json",
          "kind": "experiment",
          "flag": "checkout-copy",
          "description": "Which checkout button text sells more",
          "variants": {"control": "Buy now", "short": "Buy", "urgent": "Buy now: ships today"},
          "control": "control",
          "weights": {"control": 1, "short": 1, "urgent": 1},
          "primary": {"metric": "purchase", "type": "proportion", "better": "higher", "mde": 0.15},
          "guardrails": [{"metric": "checkout_latency_ms", "type": "mean", "better": "lower", "margin": 0.05}],
          "sample": 27000,
          "cohorts": ["platform"],
          "interval": "10m",
          "end": "hold",
          "layer": {"name": "checkout", "range": [0, 6000]}
        }
        """

    /// plans/recommendation-model.json, its description shortened.
    static let recommendationModel = """
        {
          "$schema": "./ramp-plan.schema.json",
          "kind": "bandit",
          "flag": "recommendation-model",
          "description": "Three recommendation models",
          "variants": {"v1": "model-2025-06", "v2": "model-2026-03", "v3": "model-2026-09"},
          "control": "v1",
          "primary": {"metric": "click", "type": "proportion", "better": "higher"},
          "guardrails": [{"metric": "response_ms", "type": "mean", "better": "lower", "margin": 0.1}],
          "sample": 30000,
          "interval": "10m",
          "burn_in": 500,
          "floor": 0.05,
          "end": "hold"
        }
        """

    /// The least experiment plan, for the table of bad plans to mutate.
    static let minimal =
        #"{"kind": "experiment", "flag": "f", "variants": {"a": "A", "b": "B"}, "control": "a", "#
        + #""primary": {"metric": "m", "type": "proportion", "better": "higher"}, "sample": 100}"#

    // MARK: - Parsing

    @Test func theExampleExperimentParsesWithItsLayerAndDefaults() throws {
        let plan = try Self.parse(Self.checkoutCopy)
        let document = try JSONParser.parse(Self.checkoutCopy)
        #expect(ExperimentPlan.isExperiment(document))
        #expect(plan.kind == .experiment)
        #expect(plan.flag == "checkout-copy")
        #expect(plan.description == "Which checkout button text sells more")
        #expect(plan.arms == ["control", "short", "urgent"])
        #expect(plan.variants["urgent"] == JSONValue.string("Buy now: ships today"))
        #expect(plan.weights == ["control": 1, "short": 1, "urgent": 1])
        #expect(plan.primary.metric == "purchase")
        #expect(plan.primary.type == .proportion)
        #expect(plan.primary.better == .higher)
        #expect(plan.primary.mde == 0.15)
        #expect(plan.guardrails.count == 1)
        #expect(plan.guardrails.first?.type == .mean)
        #expect(plan.guardrails.first?.better == .lower)
        #expect(plan.guardrails.first?.margin == 0.05)
        #expect(plan.guardrails.first?.mde == nil)
        #expect(plan.sample == 27_000)
        #expect(plan.alpha == 0.05)
        #expect(plan.power == 0.8)
        #expect(plan.cohorts == ["platform"])
        #expect(plan.interval == TimeSpan(seconds: 600))
        #expect(plan.end == .hold)
        let layer = try #require(plan.layer)
        #expect(layer.name == "checkout")
        #expect(layer.lower == 0)
        #expect(layer.upper == 6_000)
        // Bandit-only settings stay at nothing for an experiment.
        #expect(plan.burnIn == 0)
        #expect(plan.floor == 0)
        #expect(plan.topTwo == nil)
    }

    @Test func theExampleBanditParsesWithEqualWeights() throws {
        let plan = try Self.parse(Self.recommendationModel)
        #expect(plan.kind == .bandit)
        #expect(plan.control == "v1")
        #expect(plan.arms == ["v1", "v2", "v3"])
        #expect(plan.weights == ["v1": 1, "v2": 1, "v3": 1])
        #expect(plan.primary.mde == nil)
        #expect(plan.guardrails.first?.margin == 0.1)
        #expect(plan.sample == 30_000)
        #expect(plan.burnIn == 500)
        #expect(plan.floor == 0.05)
        #expect(plan.draws == 10_000)
        #expect(plan.topTwo == nil)
        #expect(plan.layer == nil)
        #expect(plan.cohorts.isEmpty)
    }

    @Test func aBanditLeftToItsDefaultsOrdersItsArmsControlFirstThenByName() throws {
        let plan = try Self.parse(
            #"{"kind": "bandit", "flag": "f", "variants": {"m": 1, "b": 2, "z": 3, "a": 4}, "control": "m", "#
                + #""primary": {"metric": "t", "type": "mean", "better": "lower"}, "sample": 1000}"#)
        #expect(plan.arms == ["m", "a", "b", "z"])
        #expect(plan.weights == ["a": 1, "b": 1, "m": 1, "z": 1])
        #expect(plan.interval == TimeSpan(seconds: 3_600))
        #expect(plan.burnIn == 100)
        #expect(plan.floor == 0.01)
        #expect(plan.draws == 10_000)
        #expect(plan.topTwo == nil)
        #expect(plan.end == .hold)
        #expect(plan.guardrails.isEmpty)
        #expect(!ExperimentPlan.isExperiment(["flag": "f", "canary": "on", "baseline": "off"]))
    }

    @Test(arguments: [
        (#""kind": "experiment""#, #""kind": "canary""#, #"x.json: kind: must be "experiment" or "bandit""#),
        (#""control": "a", "#, "", "x.json: control: is required"),
        (#""control": "a""#, #""control": "z""#, #"x.json: control: "z" is not one of the variants"#),
        (#""b": "B""#, #""b": null"#, "x.json: variants.b: a variant's value cannot be null"),
        (
            #""sample": 100"#, #""sample": 100, "weights": {"a": 1}"#,
            #"x.json: weights: has no weight for variant "b" (every arm needs one)"#
        ),
        (
            #""sample": 100"#, #""sample": 100, "weights": {"a": 0, "b": 1}"#,
            "x.json: weights.a: must be a whole number from 1 to 10000"
        ),
        (
            #""kind": "experiment""#, #""kind": "bandit", "weights": {"a": 1, "b": 1}"#,
            "x.json: weights: unknown field"
        ),
        (
            #""sample": 100"#, #""sample": 3"#,
            "x.json: sample: must be a whole number of units from 4 (two per arm) to 1e12"
        ),
        (#""sample": 100"#, #""sample": 100, "alpha": 0"#, "x.json: alpha: must be above 0 and at most 0.5"),
        (#""sample": 100"#, #""sample": 100, "power": 1"#, "x.json: power: must be at least 0.5 and below 1"),
        (
            #""sample": 100"#, #""sample": 100, "cohorts": ["country", "country"]"#,
            #"x.json: cohorts[1]: "country" is named twice"#
        ),
        (
            #""sample": 100"#, #""sample": 100, "layer": {"name": "l", "range": [600, 100]}"#,
            "x.json: layer.range: expected [lower, upper]: whole units with 0 ≤ lower < upper ≤ 10000"
        ),
        (
            #""kind": "experiment""#, #""kind": "bandit", "floor": 0.5"#,
            "x.json: floor: must be from 0 and below 1 / the number of arms (2)"
        ),
        (
            #""kind": "experiment""#, #""kind": "bandit", "top_two": 1"#,
            "x.json: top_two: the leader's share β must be above 0 and below 1 (0.5 is usual)"
        ),
        (#""type": "proportion""#, #""type": "median""#, #"x.json: primary.type: "median" is not proportion or mean"#),
        (
            #""sample": 100"#,
            #""sample": 100, "guardrails": [{"metric": "g", "type": "mean", "better": "lower", "mde": 0.1}]"#,
            "x.json: guardrails[0].mde: unknown field"
        ),
        (
            #""sample": 100"#, #""sample": 100, "interval": "5s""#,
            "x.json: interval: 5s is shorter than the minimum 10s"
        ),
        (
            #""variants": {"a": "A", "b": "B"}, "control": "a", "#,
            #""variants": {"a": "A", "b": "B", "c": "C"}, "control": "a", "weights": {"a": 10000, "b": 10000, "c": 1}, "#,
            "x.json: weights.c: would get none of the split's 10000 units: weigh it more"
        ),
        // Metrics read from a source.
        (
            #""better": "higher"}"#, #""better": "higher", "source": "prom"}"#,
            "x.json: primary.source: unknown source \"prom\" (defined: )"
        ),
        (
            #""better": "higher"}"#, #""better": "higher", "inputs": {"count": "x"}}"#,
            #"x.json: primary.inputs: inputs are read from a source: name one ("source")"#
        ),
        (
            #""better": "higher"}, "sample": 100"#,
            #""better": "higher", "source": "p", "inputs": {"count": "a{{variant}}", "total": "b"}}, "#
                + #""sources": {"p": {"type": "prometheus", "url": "http://p:9090"}}, "sample": 100"#,
            "x.json: primary.inputs.total: is read once per arm, so it must use {{variant}}"
        ),
        (
            #""better": "higher"}, "sample": 100"#,
            #""better": "higher", "source": "p", "inputs": {"count": "a{{variant}}", "mean": "b{{variant}}"}}, "#
                + #""sources": {"p": {"type": "prometheus", "url": "http://p:9090"}}, "sample": 100"#,
            "x.json: primary.inputs: proportion takes count, total, found count, mean"
        ),
        (
            #""better": "higher"}, "sample": 100"#,
            #""better": "higher", "source": "p", "inputs": {"count": "a{{variant}}", "total": "b{{variant}}"}}, "#
                + #""sources": {"p": {"type": "prometheus", "url": "http://p:9090"}}, "cohorts": ["c"], "sample": 100"#,
            "x.json: cohorts: cohorts group ramp's exposures; a primary metric read from a source has none to group"
        ),
        (
            #""better": "higher"}, "sample": 100"#,
            #""better": "higher", "source": "h", "inputs": {"count": "{{variant}}", "total": "/t/{{variant}}"}}, "#
                + #""sources": {"h": {"type": "http", "url": "http://h/stats"}}, "sample": 100"#,
            #"x.json: primary.inputs.count: "{{variant}}" is not a JSON Pointer (it starts with /)"#
        ),
        (
            #""better": "higher"}, "sample": 100"#,
            #""better": "higher"}, "guardrails": [{"metric": "m", "type": "mean", "better": "lower"}], "#
                + #""sample": 100"#,
            #"x.json: guardrails[0].metric: "m" is read otherwise already (its type, source or inputs); "#
                + "one name is one metric"
        ),
    ])
    func refusesBadPlansNamingTheFieldAndWhy(original: String, replacement: String, message: String) {
        let text = Self.minimal.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.minimal, "the table row must change the plan")
        do {
            let plan = try ExperimentPlan.parse(text, file: "x.json")
            Issue.record("parsed a plan for \(plan.flag) that should be refused with: \(message)")
        } catch {
            #expect(error.description == message)
        }
    }

    // MARK: - The starting split

    @Test func theInitialAllocationScalesTheWeightsToTheWholeSplitControlFirst() throws {
        let plan = try Self.parse(
            Self.minimal.replacingOccurrences(
                of: #""variants": {"a": "A", "b": "B"}, "control": "a""#,
                with: #""variants": {"control": 0, "a": 1, "b": 2}, "control": "control", "#
                    + #""weights": {"control": 1, "a": 1, "b": 2}"#))
        let allocation = plan.initialAllocation
        #expect(allocation.total == ExperimentPlan.total)
        #expect(allocation.fractional == [["control", 2_500], ["a", 2_500], ["b", 5_000]])
        // No layer: the flag's own split, unconditioned.
        let split: JSONValue = ["fractional": .array(allocation.fractional)]
        #expect(plan.logic(allocation) == split)
    }

    @Test func equalThirdsGiveTheLeftoverUnitToTheFirstNameNotTheControl() throws {
        let plan = try Self.parse(
            Self.minimal.replacingOccurrences(
                of: #""variants": {"a": "A", "b": "B"}, "control": "a""#,
                with: #""variants": {"a": 1, "b": 2, "z": 3}, "control": "z""#))
        let allocation = plan.initialAllocation
        #expect(allocation.units == ["a": 3_334, "b": 3_333, "z": 3_333])
        #expect(allocation.segments.map(\.variant) == ["z", "a", "b"])
        #expect(allocation.total == 10_000)
    }

    @Test func aLayeredPlanServesItsSplitOnlyInsideTheLayersRange() throws {
        let plan = try Self.parse(Self.checkoutCopy)
        let allocation = plan.initialAllocation
        #expect(allocation.fractional == [["control", 3_334], ["short", 3_333], ["urgent", 3_333]])
        let parts = try #require(plan.logic(allocation)["if"]?.arrayValue)
        #expect(parts.count == 3)
        let layer = try #require(Layer(salt: "checkout"))
        #expect(parts.first == layer.condition(lower: 0, upper: 6_000))
        let split: JSONValue = ["fractional": .array(allocation.fractional)]
        #expect(parts.dropFirst().first == split)
        #expect(parts.last == JSONValue.null)
    }

    // MARK: - The readout's decision

    /// A plan on a proportion (`buy`, 10% MDE) with `guardrails` latency guardrails, 20,000 units planned.
    static func readoutPlan(arms: [String] = ["control", "b"], guardrails: Int = 1, kind: String = "experiment")
        throws -> ExperimentPlan
    {
        let variants = arms.map { "\"\($0)\": \"\($0)\"" }.joined(separator: ", ")
        let rails = (0..<guardrails).map { i in
            let name = i == 0 ? "latency" : "latency\(i)"
            return "{\"metric\": \"\(name)\", \"type\": \"mean\", \"better\": \"lower\", \"margin\": 0.05}"
        }
        return try parse(
            """
            {"kind": "\(kind)", "flag": "checkout", "variants": {\(variants)}, "control": "control",
             "primary": {"metric": "buy", "type": "proportion", "better": "higher", "mde": 0.1},
             "guardrails": [\(rails.joined(separator: ", "))], "sample": 20000}
            """)
    }

    /// An arm's totals: `buys` of its units converted, and a latency with that mean and a variance of 2,500.
    static func arm(_ units: Int, buys: Double, latency: Double = 200) -> ArmTotals {
        let n = Double(units)
        return ArmTotals(
            units: units,
            metrics: [
                "buy": (count: units, sum: buys, sumOfSquares: buys),
                "latency": (count: units, sum: n * latency, sumOfSquares: n * latency * latency + (n - 1) * 2_500),
            ])
    }

    static func shares(_ plan: ExperimentPlan) -> [String: Double] {
        plan.initialAllocation.units.mapValues { Double($0) / Double(ExperimentPlan.total) }
    }

    static func readout(_ plan: ExperimentPlan, _ totals: [String: ArmTotals], _ window: ExperimentReadout.Window)
        -> ExperimentReadout
    {
        ExperimentReadout.make(plan: plan, totals: totals, shares: shares(plan), window: window)
    }

    @Test func aClearWinnerWithANeutralGuardrailShipsAtThePlannedSample() throws {
        let plan = try Self.readoutPlan()
        // 13% against 10% over 10,000 units each; the same latency in both arms.
        let totals = ["control": Self.arm(10_000, buys: 1_000), "b": Self.arm(10_000, buys: 1_300)]
        let closed = Self.readout(plan, totals, .closed)
        #expect(closed.arms.map(\.variant) == ["control", "b"])
        #expect(closed.arms.map(\.plannedShare) == [0.5, 0.5])
        #expect(closed.basis == .fixedHorizon)
        #expect(closed.verdict == .ship)
        #expect(closed.winner == "b")
        #expect(closed.reason.contains("fixed-horizon"))
        #expect(closed.sampleReached == 20_000)
        #expect(closed.samplePlanned == 20_000)
        let ratio = try #require(closed.sampleRatio)
        #expect(ratio.p > 0.99)
        #expect(closed.arms[0].primary.lift == nil)
        let lift = try #require(closed.arms[1].primary.lift)
        #expect(abs(lift.estimate - 0.3) < 1e-12)
        #expect(closed.arms[1].primary.better)
        let guardrail = try #require(closed.arms[1].guardrails.first)
        #expect(guardrail.nonInferior && !guardrail.worse && !guardrail.beyondMargin)

        // Open, the same data is read by the always-valid intervals: wider, and here still clear of 0.
        let open = Self.readout(plan, totals, .open)
        #expect(open.basis == .alwaysValid)
        #expect(open.verdict == .ship)
        #expect(open.reason.contains("always-valid"))
        let sequential = lift.alwaysValidInterval.upper - lift.alwaysValidInterval.lower
        #expect(sequential > lift.interval.upper - lift.interval.lower)
    }

    @Test func aModestWinnerShipsOnTheFixedIntervalButNotWhileTheWindowIsOpen() throws {
        let plan = try Self.readoutPlan()
        // 11.2% against 10%: the fixed interval clears 0, the always-valid one does not.
        let totals = ["control": Self.arm(10_000, buys: 1_000), "b": Self.arm(10_000, buys: 1_120)]
        let lift = try #require(Self.readout(plan, totals, .closed).arms[1].primary.lift)
        #expect(lift.interval.lower > 0)
        #expect(lift.alwaysValidInterval.lower < 0)
        #expect(Self.readout(plan, totals, .closed).verdict == .ship)
        let open = Self.readout(plan, totals, .open)
        #expect(open.verdict == .continue)
        #expect(open.winner == nil)
        #expect(open.reason == "20000 of 20000 planned units: no variant is shown better yet")
    }

    @Test func aGuardrailFarPastItsMarginKeepsTheControl() throws {
        let plan = try Self.readoutPlan()
        // The primary wins clearly, but latency is 50% worse against a 5% margin.
        let totals = ["control": Self.arm(10_000, buys: 1_000), "b": Self.arm(10_000, buys: 1_300, latency: 300)]
        let closed = Self.readout(plan, totals, .closed)
        let guardrail = try #require(closed.arms[1].guardrails.first)
        #expect(guardrail.beyondMargin)
        #expect(guardrail.worse)
        #expect(!guardrail.nonInferior)
        #expect(closed.arms[1].primary.better)
        #expect(closed.verdict == .keepControl)
        #expect(closed.winner == nil)
        #expect(closed.reason.contains("shown worse: b on latency"))
        #expect(Self.readout(plan, totals, .open).arms[1].guardrails.first?.beyondMargin == true)
    }

    @Test func anUnbalancedSplitMakesTheReadoutInvalidWhateverItsNumbers() throws {
        let plan = try Self.readoutPlan(arms: ["control", "b", "c"])
        // c wins clearly, but b has a fifth fewer units than planned.
        let totals = [
            "control": Self.arm(5_000, buys: 500), "b": Self.arm(4_000, buys: 400), "c": Self.arm(5_000, buys: 700),
        ]
        let readout = Self.readout(plan, totals, .closed)
        let ratio = try #require(readout.sampleRatio)
        #expect(ratio.p < ExperimentReadout.sampleRatioThreshold)
        #expect(readout.verdict == .invalid)
        #expect(readout.winner == nil)
        #expect(readout.reason.hasPrefix("sample ratio mismatch"))

        // Balanced, the same winner ships.
        var balanced = totals
        balanced["b"] = Self.arm(5_000, buys: 500)
        let fair = Self.readout(plan, balanced, .closed)
        let fairRatio = try #require(fair.sampleRatio)
        #expect(fairRatio.p > 0.5)
        #expect(fair.verdict == .ship)
        #expect(fair.winner == "c")

        // A bandit's shares move, so its split is not tested against them.
        let banditPlan = try Self.readoutPlan(arms: ["control", "b", "c"], kind: "bandit")
        let bandit = Self.readout(banditPlan, totals, .closed)
        #expect(bandit.sampleRatio?.p == nil)
        #expect(bandit.verdict != .invalid)
    }

    @Test func stoppingBeforeThePlannedSampleKeepsTheControl() throws {
        let plan = try Self.readoutPlan()
        let totals = ["control": Self.arm(5_000, buys: 500), "b": Self.arm(5_000, buys: 500)]
        let readout = Self.readout(plan, totals, .stopped)
        #expect(readout.basis == .alwaysValid)
        #expect(readout.verdict == .keepControl)
        #expect(readout.winner == nil)
        #expect(readout.reason.hasPrefix("ended before the planned sample"))
        #expect(readout.reason.contains("(10000 of 20000 units)"))
    }

    @Test func powerGrowsWithTheUnitsAndMatchesTheTwoSidedZTest() throws {
        let plan = try Self.readoutPlan()
        var powers: [Double] = []
        for n in [500, 2_000, 8_000, 32_000] {
            let totals = ["control": Self.arm(n, buys: Double(n) / 10), "b": Self.arm(n, buys: Double(n) / 10)]
            powers.append(try #require(Self.readout(plan, totals, .open).power))
        }
        #expect(zip(powers, powers.dropFirst()).allSatisfy { $0 < $1 })
        // scipy: norm.cdf(d − z) + norm.cdf(−d − z), d = 0.1 · 0.1 / √0.09 / √(2 / n), z = norm.ppf(0.975).
        #expect(abs(powers[1] - 0.1837908524382999) < 1e-9)
        #expect(abs(powers[2] - 0.5589395626303163) < 1e-9)
    }

    @Test func moreGuardrailsNeedMoreUnitsPerArm() throws {
        let totals = ["control": Self.arm(10_000, buys: 1_000), "b": Self.arm(10_000, buys: 1_000)]
        var required: [Int: Double] = [:]
        for guardrails in [0, 2] {
            let plan = try Self.readoutPlan(guardrails: guardrails)
            #expect(plan.guardrails.count == guardrails)
            let units = try #require(Self.readout(plan, totals, .open).requiredPerArm)
            // 2 (z₁₋α/₂ + z₁₋β′)² / (mde · p / √(p(1 − p)))², β′ = (1 − power) / (guardrails + 1).
            let p = 0.1
            let effect = 0.1 * p / (p * (1 - p)).squareRoot()
            let z = Normal.quantile(1 - 0.05 / 2)
            let zb = Normal.quantile(1 - (1 - 0.8) / Double(guardrails + 1))
            let expected = 2 * (z + zb) * (z + zb) / (effect * effect)
            #expect(abs(units - expected) / expected < 1e-9)
            required[guardrails] = units
        }
        // scipy's norm.ppf in the same formula.
        let none = try #require(required[0])
        let two = try #require(required[2])
        #expect(two > none)
        #expect(abs(none - 14_127.983521828359) < 1e-6)
        #expect(abs(two - 21_561.959919592908) < 1e-6)
    }

    // MARK: - Bandits

    @Test func topTwoGivesTheLeaderBetaAndSharesTheChallengerDraws() {
        let shares = BanditReweight.topTwo([0.7, 0.2, 0.1], beta: 0.5)
        #expect(shares.count == 3)
        #expect(abs(shares.reduce(0, +) - 1) < 1e-12)
        // β·p₀ + (1 − β)·Σ_{j≠0} pⱼ·p₀/(1 − pⱼ).
        let first = 0.5 * 0.7 + 0.5 * (0.2 * 0.7 / 0.8 + 0.1 * 0.7 / 0.9)
        #expect(abs(shares[0] - first) < 1e-12)
        #expect(shares[0] < 0.7)
        #expect(shares[2] > 0.1)

        let certain = BanditReweight.topTwo([1, 0, 0], beta: 0.3)
        #expect(abs(certain[0] - 0.3) < 1e-12)
        #expect(abs(certain[1] - 0.35) < 1e-12)
        #expect(abs(certain[2] - 0.35) < 1e-12)
    }

    static func reweight() throws -> BanditReweight {
        let control = try #require(Thompson.Posterior.conversions(100, of: 1_000))
        let b = try #require(Thompson.Posterior.conversions(130, of: 1_000))
        let c = try #require(Thompson.Posterior.conversions(90, of: 1_000))
        let before = try #require(Allocation([("control", 3_334), ("b", 3_333), ("c", 3_333)]))
        return try #require(
            BanditReweight.make(
                arms: ["control", "b", "c"], posteriors: [control, b, c], before: before,
                seed: BanditReweight.seed(flag: "checkout", experiment: 1, reweight: 1), draws: 10_000, floor: 0.05,
                topTwo: 0.5))
    }

    @Test func aReweightReplaysFromItsRecordAndATamperedSeedDoesNot() throws {
        let reweight = try Self.reweight()
        #expect(reweight.after.total == 10_000)
        #expect(reweight.after.units(of: "b") > reweight.after.units(of: "control"))
        #expect(reweight.arms.allSatisfy { reweight.after.units(of: $0) >= 499 })

        // As audit verify reads it: the entry's canonical text, parsed back.
        let record = try JSONParser.parse(reweight.json.canonical)
        let replay = try #require(BanditReweight.replay(record))
        #expect(replay.recorded == reweight.after)
        #expect(replay.replayed.after == reweight.after)
        #expect(replay.replayed == reweight)
        #expect(replay.replayed.json.canonical == reweight.json.canonical)

        var members = try #require(record.objectValue)
        members["seed"] = .string(String(reweight.seed &+ 1))
        let tampered = JSONValue.object(members)
        let other = try #require(BanditReweight.replay(tampered))
        #expect(other.replayed.json.canonical != reweight.json.canonical)
        // The record's draws are not the new seed's: the replay gives away the edit.
        #expect(other.replayed.probabilityBest != reweight.probabilityBest)
        #expect(other.replayed.json.canonical != tampered.canonical)
    }

    @Test func theSeedIsTheFirstBytesOfTheDigestAndDiffersPerReweight() {
        let seed = BanditReweight.seed(flag: "checkout", experiment: 1, reweight: 1)
        // Python: int.from_bytes(hashlib.sha256(b"checkout:1:1").digest()[:8], "big").
        #expect(seed == 10_782_037_177_084_051_173)
        #expect(BanditReweight.seed(flag: "f", experiment: 7, reweight: 1) == 8_291_868_099_823_888_796)
        #expect(seed == BanditReweight.seed(flag: "checkout", experiment: 1, reweight: 1))
        let seeds = Set((1...50).map { BanditReweight.seed(flag: "checkout", experiment: 1, reweight: $0) })
        #expect(seeds.count == 50)
        #expect(seed != BanditReweight.seed(flag: "checkout", experiment: 2, reweight: 1))
    }

    @Test func unitsMovedIsWhatTheShrinkingArmsGaveUp() throws {
        let reweight = try Self.reweight()
        let given = reweight.arms.reduce(0) {
            $0 + max(0, reweight.before.units(of: $1) - reweight.after.units(of: $1))
        }
        #expect(given > 0)
        #expect(reweight.moved == given)
        #expect(reweight.json["units_moved"] == JSONValue.number(Double(given)))
    }

    @Test func posteriorsAreOrientedSoLargerIsBetter() throws {
        // 130 successes and 870 failures: Beta(1 + successes, 1 + failures), or swapped when lower is better.
        let conversions = try #require(ArmData(metric: .proportion, units: 1_000, sum: 130))
        let higher = Thompson.Posterior.beta(alpha: 131, beta: 871)
        let lower = Thompson.Posterior.beta(alpha: 871, beta: 131)
        #expect(BanditReweight.posterior(conversions, better: .higher) == higher)
        #expect(BanditReweight.posterior(conversions, better: .lower) == lower)
        // Mean 5, sample variance (120 − 100) / 3: a lower-is-better mean is read as its negative.
        let latency = try #require(ArmData(metric: .mean, units: 4, sum: 20, sumOfSquares: 120))
        let se = (20.0 / 3 / 4).squareRoot()
        let negated = Thompson.Posterior.normal(mean: -5, standardError: se)
        #expect(BanditReweight.posterior(latency, better: .lower) == negated)
        let plain = Thompson.Posterior.normal(mean: 5, standardError: se)
        #expect(BanditReweight.posterior(latency, better: .higher) == plain)
    }

    // MARK: - The flag an entry records

    static let served = Flag(
        key: "banner", variants: ["on": true, "off": false, "gold": "G"], baseline: "off", canary: "on",
        canaryPercent: Percent(basisPoints: 2_500),
        rules: [
            TargetingRule(when: .logic(["==": [["var": "tier"], "gold"]]), variant: "gold"),
            TargetingRule(choose: ["if": [["in": ["@beta", ["var": "email"]]], "on", .null]]),
            TargetingRule(when: .segment("staff"), variant: "on"),
        ],
        weights: ["on": 1, "off": 3, "gold": 2])

    @Test func aFlagIsRebuiltFromWhatItsEntryRecords() throws {
        let json = try JSONParser.parse(Self.served.servedJSON.canonical)
        let rebuilt = try #require(Flag.applyingServed(json, to: nil, key: "banner"))
        #expect(rebuilt == Self.served)
        #expect(rebuilt.servedJSON.canonical == Self.served.servedJSON.canonical)

        // Onto an existing flag: what the entry records replaces, the rest stays.
        let existing = Flag(
            key: "banner", variants: ["off": false], baseline: "off", canary: "off", killed: true,
            canarySegments: ["staff"], metadata: ["team": "web"])
        let onto = try #require(Flag.applyingServed(json, to: existing, key: "ignored"))
        #expect(onto.key == "banner")
        #expect(onto.killed)
        #expect(onto.metadata == ["team": "web"])
        #expect(onto.canarySegments.isEmpty)
        #expect(onto.rules == Self.served.rules)
        #expect(onto.weights == ["on": 1, "off": 3, "gold": 2])
        #expect(onto.canaryPercent == Percent(basisPoints: 2_500))
    }

    @Test func aRecordMissingRulesOrPastFullShareIsRefused() throws {
        let members = try #require(Self.served.servedJSON.objectValue)
        var noRules = members
        noRules.removeValue(forKey: "rules")
        #expect(Flag.applyingServed(.object(noRules), to: nil, key: "banner") == nil)
        var tooMuch = members
        tooMuch["canary_bp"] = .number(10_001)
        #expect(Flag.applyingServed(.object(tooMuch), to: nil, key: "banner") == nil)
        var full = members
        full["canary_bp"] = .number(10_000)
        #expect(Flag.applyingServed(.object(full), to: nil, key: "banner")?.canaryPercent == .full)
    }
}
