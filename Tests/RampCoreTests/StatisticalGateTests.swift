import RampCore
import Testing

/// The statistical gate's verdicts on hand-made sequences of looks: cumulative counts as ticks would read them.
@Suite struct StatisticalGateTests {
    static func gate(_ spec: StatisticalSpec) -> Gate {
        Gate(name: "errors", source: "ev", rule: .statistical(spec))
    }

    static let sequential = StatisticalSpec(
        test: .sequential, metric: .proportion, alpha: 0.05, minSamples: 500, expectedSamples: 20_000)

    /// (canary errors, canary requests, baseline errors, baseline requests) at each look.
    static func verdicts(_ gate: Gate, _ looks: [(Double, Double, Double, Double)]) -> [GateOutcome] {
        looks.map { c, cn, b, bn in
            gate.judge(
                canary: .summary(.proportion(successes: c, trials: cn)),
                baseline: .summary(.proportion(successes: b, trials: bn)), share: 0.5
            ).outcome
        }
    }

    @Test func aDoubledErrorRateFailsOnceTheEvidenceIsStrongAndNotBefore() {
        // 1% baseline, 2% canary, growing evidence at each look.
        let looks = [(10.0, 400.0, 4.0, 400.0), (20, 1000, 10, 1000), (40, 2000, 20, 2000), (80, 4000, 40, 4000)]
        let outcomes = Self.verdicts(Self.gate(Self.sequential), looks)
        // Below min_samples nothing is decided, however large the gap.
        #expect(outcomes[0] == .inconclusive)
        #expect(outcomes[1] == .inconclusive)
        #expect(outcomes[2] == .inconclusive)
        #expect(outcomes[3] == .fail)
    }

    /// The sequential gate fails exactly where the mixture likelihood ratio reaches 1/α: just above, fail; just
    /// below, not yet.
    @Test func theSequentialBoundaryIsExactlyOneOverAlpha() {
        let (tau, alpha, n, variance) = (0.05, 0.05, 10_000.0, 1.0)
        let v = 2 * variance / n
        var (below, above) = (0.0, 1.0)
        for _ in 0..<200 {
            let mid = (below + above) / 2
            if MixtureSPRT.likelihoodRatio(theta: mid, variance: v, tau: tau) >= 1 / alpha {
                above = mid
            } else {
                below = mid
            }
        }
        let gate = Self.gate(
            StatisticalSpec(
                test: .sequential, metric: .mean, alpha: alpha, minSamples: 100, expectedSamples: 1e9, mixture: tau))
        let baseline = ArmSummary(count: n, mean: 10, variance: variance)
        func outcome(_ worseBy: Double) -> GateOutcome {
            gate.judge(
                canary: .summary(ArmSummary(count: n, mean: 10 + worseBy, variance: variance)),
                baseline: .summary(baseline), share: 0.5
            ).outcome
        }
        #expect(above > 0.001 && above < 0.5, "the boundary lies where the test can reach it: \(above)")
        #expect(outcome(above * (1 + 1e-9)) == .fail)
        #expect(outcome(below * (1 - 1e-9)) == .inconclusive)
    }

    /// Overflowed inputs (a count or sum past 1e308) are an error, never a verdict.
    @Test(arguments: [Double.infinity, -Double.infinity, .nan])
    func nonFiniteInputsAreAnError(bad: Double) {
        let good = ArmSummary.proportion(successes: 200, trials: 20_000)
        for spec in [Self.sequential, StatisticalSpec(test: .srm, metric: .exposures)] {
            let gate = Self.gate(spec)
            let odd = ArmSummary(count: 20_000, mean: bad, variance: 0.01)
            #expect(gate.judge(canary: .summary(odd), baseline: .summary(good), share: 0.5).outcome == .error)
            #expect(gate.judge(canary: .summary(good), baseline: .summary(odd), share: 0.5).outcome == .error)
        }
        let mw = Self.gate(StatisticalSpec(test: .mannWhitney, metric: .distribution))
        #expect(mw.judge(canary: .samples([1, 2, bad]), baseline: .samples([1, 2, 3]), share: 0.5).outcome == .error)
    }

    @Test func equalArmsStayInconclusiveUntilThePlannedSampleThenPass() {
        let looks = [(10.0, 1000.0, 10.0, 1000.0), (100, 10_000, 101, 10_000), (199, 20_000, 200, 20_000)]
        #expect(Self.verdicts(Self.gate(Self.sequential), looks) == [.inconclusive, .inconclusive, .pass])
    }

    @Test func aBetterCanaryNeverFailsAOneSidedTest() {
        let looks = [(10.0, 4000.0, 80.0, 4000.0), (20, 8000, 160, 8000)]
        #expect(!Self.verdicts(Self.gate(Self.sequential), looks).contains(.fail))
    }

    @Test func nonInferiorityPassesWhenTheCanaryIsShownWithinTolerance() {
        var spec = Self.sequential
        spec.tolerance = 0.005
        spec.pass = .nonInferiority
        let looks = [(10.0, 1000.0, 10.0, 1000.0), (100, 10_000, 100, 10_000)]
        #expect(Self.verdicts(Self.gate(spec), looks) == [.inconclusive, .pass])
        // The same data with the samples rule waits for the planned 20,000.
        #expect(Self.verdicts(Self.gate(Self.sequential), looks) == [.inconclusive, .inconclusive])
    }

    @Test func theEvidenceCarriesInputsEstimateIntervalPValueRuleAndVerdict() throws {
        let check = Self.gate(Self.sequential).judge(
            canary: .summary(.proportion(successes: 131, trials: 10_000)),
            baseline: .summary(.proportion(successes: 102, trials: 10_000)), share: 0.5)
        let stats = try #require(check.statistics)
        #expect(stats["canary"]?["count"] == 10_000 && stats["baseline"]?["mean"] == 0.0102)
        #expect(stats["estimate"]?.numberValue.map { abs($0 - 0.0029) < 1e-12 } == true)
        let interval = (stats["interval"]?.arrayValue ?? []).compactMap { $0.numberValue }
        #expect(interval.count == 2 && interval[0] < 0.0029 && interval[1] > 0.0029)
        #expect(stats["p_value"]?.numberValue.map { $0 > 0.05 && $0 <= 1 } == true)
        #expect(stats["verdict"] == "inconclusive" && stats["decision_rule"] != nil)
        // The interval, by hand: v = pc(1-pc)/n + pb(1-pb)/n; τ² = (pc(1-pc) + pb(1-pb))/N·(−2 log α + log(1 − 2 log α));
        // half = √(v(v+τ²)/τ² · (log((v+τ²)/v) − 2 log α)) → 0.29 ± 0.4678 pp.
        #expect(
            check.message
                == "canary rate 1.31% vs baseline 1.02% (+0.29 pp, always-valid 95% interval −0.18 pp…+0.76 pp): "
                + "not yet conclusive; 10,000 of 20,000 planned samples")
    }

    @Test func aSequentialGateOnMeansFailsASlowerCanaryAndPassesAnEqualOne() {
        let latency = Self.gate(
            StatisticalSpec(test: .sequential, metric: .mean, tolerance: 5, minSamples: 50, expectedSamples: 2000))
        func judge(_ canaryMean: Double, _ n: Double) -> GateOutcome {
            latency.judge(
                canary: .summary(ArmSummary(count: n, mean: canaryMean, variance: 400)),
                baseline: .summary(ArmSummary(count: n, mean: 200, variance: 400)), share: 0.5
            ).outcome
        }
        // Means with a 20 ms standard deviation: 12 ms slower is beyond the 5 ms tolerance once the evidence is in.
        #expect(judge(212, 20) == .inconclusive)
        #expect(judge(212, 200) == .fail)
        #expect(judge(200, 200) == .inconclusive)
        // Tolerance > 0 makes non-inferiority the pass rule: shown within 5 ms.
        #expect(judge(200, 2000) == .pass)
    }

    @Test func theFixedHorizonTestsLookOnceAtTheirPlannedSample() {
        let z = Self.gate(StatisticalSpec(test: .z, metric: .proportion, minSamples: 100, expectedSamples: 10_000))
        // Before the horizon a fixed test says nothing, even with a clear gap.
        #expect(Self.verdicts(z, [(200, 5000, 50, 5000)]) == [.inconclusive])
        // At the horizon: norm.sf(1.9110174559612885) = 0.028 ≤ 0.05 fails; an equal split passes.
        #expect(Self.verdicts(z, [(131, 10_000, 102, 10_000), (100, 10_000, 102, 10_000)]) == [.fail, .pass])
    }

    @Test func armsWithoutVariationAreInconclusiveNeverAVerdict() {
        let welch = Self.gate(StatisticalSpec(test: .welch, metric: .mean, minSamples: 1, expectedSamples: 1))
        let outcome = welch.judge(
            canary: .summary(ArmSummary(count: 1, mean: 300, variance: 0)),
            baseline: .summary(ArmSummary(count: 1, mean: 100, variance: 0)), share: 0.5
        ).outcome
        #expect(outcome == .inconclusive)
        let z = Self.gate(StatisticalSpec(test: .z, metric: .proportion, minSamples: 10, expectedSamples: 10))
        #expect(Self.verdicts(z, [(0, 100, 0, 100)]) == [.inconclusive])
        var noPlan = Self.sequential
        noPlan.expectedSamples = nil
        noPlan.mixture = nil
        // Built without a planned sample (the parser refuses that), the gate still judges rather than crashing.
        #expect(Self.verdicts(Self.gate(noPlan), [(80, 4000, 40, 4000)]) == [.fail])
    }

    /// Every canary request failed and no baseline request did: no variation in either arm, and certainly worse.
    /// The sequential gate fails instead of waiting for variation and passing at the planned sample.
    @Test func aCanaryWhoseEveryUnitFailsAgainstAFlawlessBaselineFails() {
        let gate = Self.gate(Self.sequential)
        #expect(Self.verdicts(gate, [(500, 500, 0, 500), (20_000, 20_000, 0, 20_000)]) == [.fail, .fail])
        // The same arms with the baseline worse, or equal, stay as before: no verdict until the planned sample.
        #expect(Self.verdicts(gate, [(0, 500, 500, 500), (0, 500, 0, 500)]) == [.inconclusive, .inconclusive])
        #expect(Self.verdicts(gate, [(0, 20_000, 0, 20_000)]) == [.pass])
    }

    @Test func aSampleRatioMismatchFailsAndAFairSplitPasses() {
        let srm = Self.gate(StatisticalSpec(test: .srm, metric: .exposures, alpha: 0.001, minSamples: 100))
        func judge(_ canary: Double, _ baseline: Double, share: Double) -> GateCheck {
            srm.judge(
                canary: .summary(ArmSummary(count: canary, mean: 0, variance: 0)),
                baseline: .summary(ArmSummary(count: baseline, mean: 0, variance: 0)), share: share)
        }
        // A 5% canary that got 3.9% of 10,000 users: chisquare([390, 9610], [500, 9500]) p = 4.3e-07.
        let starved = judge(390, 9610, share: 0.05)
        #expect(starved.outcome == .fail && starved.message.hasPrefix("sample ratio mismatch"))
        #expect(judge(489, 9511, share: 0.05).outcome == .pass)
        #expect(judge(10, 90, share: 0.05).outcome == .inconclusive)  // too few units
    }

    @Test func mannWhitneyFailsOnlyWhenTheWholeShiftIntervalIsWorseThanTheTolerance() {
        let spec = StatisticalSpec(test: .mannWhitney, metric: .distribution, tolerance: 5, minSamples: 10)
        let baseline = (0..<40).map { 100 + Double($0 % 10) }
        func judge(_ shift: Double) -> GateOutcome {
            Self.gate(spec).judge(
                canary: .samples(baseline.map { $0 + shift }), baseline: .samples(baseline), share: 0.5
            )
            .outcome
        }
        #expect(judge(20) == .fail)
        #expect(judge(3) == .pass)
        #expect(judge(-20) == .pass)
    }

    @Test func anUnreadableArmIsNoDataOrErrorNotAVerdict() {
        let check = Self.gate(Self.sequential).judge(
            canary: .unusable(.error, "count: timeout"), baseline: .summary(.proportion(successes: 1, trials: 10)),
            share: 0.5)
        #expect(check.outcome == .error && check.message == "canary: count: timeout")
    }
}

@Suite struct StatisticalPlanTests {
    static func plan(_ gate: String, source: String = #"{"type": "events"}"#) -> String {
        """
        {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
         "steps": [{"percent": 5, "bake": "1h"}], "sources": {"s": \(source)}, "gates": [\(gate)]}
        """
    }

    @Test func aStatisticalGateParsesWithItsDefaults() throws {
        let plan = try PlanParser.parse(
            Self.plan(
                #"{"name": "e", "source": "s", "kind": "statistical", "test": "sequential", "metric": "proportion", "query": "error", "expected_samples": 5000}"#
            ), file: "p.json")
        let spec = try #require(plan.gates.first?.statistical)
        #expect(spec.alpha == 0.05 && spec.tolerance == 0 && spec.pass == .samples && spec.worse == .higher)
        #expect(spec.minSamples == 100 && spec.expectedSamples == 5000 && plan.gates[0].query == "error")
    }

    @Test(arguments: [
        (
            #""test": "sequential", "metric": "proportion", "query": "error""#,
            "p.json: gates[0]: a sequential gate needs \"expected_samples\" (per arm) or \"mixture\" to tune its test"
        ),
        (
            #""test": "welch", "metric": "proportion", "query": "x", "expected_samples": 10"#,
            "p.json: gates[0].metric: test welch takes mean, not proportion"
        ),
        (
            #""test": "sequential", "metric": "proportion", "expected_samples": 1000"#,
            "p.json: gates[0].query: is required: the outcome metric to compare (as `ramp record` names it)"
        ),
        (
            #""test": "z", "query": "x", "expected_samples": 1000, "pass": "non_inferiority""#,
            "p.json: gates[0].pass: non_inferiority needs a tolerance above 0 (how much worse may still pass)"
        ),
        (#""test": "srm", "alpha": 0.7"#, "p.json: gates[0].alpha: 0.7 is not between 0 and 0.5"),
    ])
    func aMalformedStatisticalGateNamesItsField(fields: String, message: String) {
        let text = Self.plan(#"{"name": "e", "source": "s", "kind": "statistical", \#(fields)}"#)
        #expect {
            try PlanParser.parse(text, file: "p.json")
        } throws: { error in
            (error as? PlanError)?.description == message
        }
    }

    @Test func prometheusInputsMustBeReadPerArm() {
        let source = #"{"type": "prometheus", "url": "http://127.0.0.1:9090"}"#
        let gate = #"{"name": "e", "source": "s", "kind": "statistical", "test": "srm", "inputs": {"total": "sum(x)"}}"#
        #expect {
            try PlanParser.parse(Self.plan(gate, source: source), file: "p.json")
        } throws: { error in
            (error as? PlanError)?.description
                == "p.json: gates[0].inputs.total: is read once per arm, so it must use {{variant}}"
        }
    }
}

/// The sequential gate's promise, on simulated A/A traffic from a fixed seed (the benchmark runs the full size).
@Suite struct SequentialGateSimulationTests {
    @Test func checkedAtEveryLookItRollsBackHealthyCanariesAtMostAlphaOfTheTime() {
        let gate = StatisticalGateTests.gate(
            StatisticalSpec(test: .sequential, metric: .proportion, minSamples: 500, expectedSamples: 25_000))
        var random = SeededRandom(seed: 42)
        var sequentialFalse = 0
        var naiveFalse = 0
        let runs = 400
        for _ in 0..<runs {
            var (c, b, n) = (0, 0, 0)
            var (seqFailed, naiveFailed) = (false, false)
            for _ in 0..<50 {
                c += random.binomial(500, 0.01)
                b += random.binomial(500, 0.01)
                n += 500
                let canary = ArmSummary.proportion(successes: Double(c), trials: Double(n))
                let baseline = ArmSummary.proportion(successes: Double(b), trials: Double(n))
                if gate.judge(canary: .summary(canary), baseline: .summary(baseline), share: 0.5).outcome == .fail {
                    seqFailed = true
                }
                if FixedHorizon.proportions(canary: canary, baseline: baseline, worse: .higher).p <= 0.05 {
                    naiveFailed = true
                }
            }
            sequentialFalse += seqFailed ? 1 : 0
            naiveFalse += naiveFailed ? 1 : 0
        }
        #expect(Double(sequentialFalse) / Double(runs) <= 0.05)
        // The same traffic fools a z-test re-run at every look far more often: the simulation can tell them apart.
        #expect(Double(naiveFalse) / Double(runs) > 0.15)
    }

    @Test func binomialDrawsHaveTheRightMean() {
        var random = SeededRandom(seed: 7)
        let total = (0..<2000).reduce(0) { sum, _ in sum + random.binomial(1000, 0.02) }
        // Mean 20 per draw; the standard error of the mean of 2,000 draws is √(19.6/2000) ≈ 0.1.
        #expect(abs(Double(total) / 2000 - 20) < 0.5)
    }
}
