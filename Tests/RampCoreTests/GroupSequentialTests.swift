import Foundation
import RampCore
import Testing

/// The group-sequential boundaries: against published values, against their own definition, and against an
/// independent implementation (spotify-confidence's solver, with scipy's multivariate normal for the exit
/// probabilities; Tests/Support/check_group_sequential.py, installed by Tests/run-all.sh).
@Suite struct GroupSequentialTests {
    /// Lan-DeMets spending, one-sided α 0.025, five equal looks: the boundaries tabulated for this design in the
    /// group-sequential literature (spotify-confidence's port of R's ldbounds gives them too, below).
    @Test func fiveEqualLooksGiveThePublishedBoundaries() {
        let fractions = [0.2, 0.4, 0.6, 0.8, 1.0]
        let obf = GroupSequential.boundaries(fractions: fractions, spending: .obrienFleming, alpha: 0.025)
        for (ramp, published) in zip(obf, [4.877, 3.357, 2.680, 2.290, 2.031]) {
            #expect(abs(ramp - published) < 1e-3, "O'Brien-Fleming-type: ramp \(obf)")
        }
        let pocock = GroupSequential.boundaries(fractions: fractions, spending: .pocock, alpha: 0.025)
        for (ramp, published) in zip(pocock, [2.438, 2.427, 2.410, 2.397, 2.386]) {
            #expect(abs(ramp - published) < 1e-3, "Pocock-type: ramp \(pocock)")
        }
    }

    /// The first look has no past: its boundary is the normal quantile of what is spent by then.
    @Test func theFirstBoundaryIsTheQuantileOfTheFirstSpend() {
        for spending in AlphaSpending.allCases {
            for (t, alpha) in [(0.05, 0.05), (0.3, 0.05), (0.5, 0.1), (1.0, 0.01)] {
                let z = GroupSequential.boundaries(fractions: [t], spending: spending, alpha: alpha)[0]
                let expected = min(Normal.quantile(1 - spending.spent(t, alpha: alpha)), GroupSequential.truncation)
                #expect(abs(z - expected) < 1e-8, "\(spending) t \(t) α \(alpha): \(z) vs \(expected)")
            }
        }
    }

    /// Looks at irregular information fractions up to 1, each 0.01 plus up to `spread` after the last (seeded).
    static func irregular(seed: UInt64, spread: Double) -> [Double] {
        var random = SeededRandom(seed: seed)
        var fractions: [Double] = []
        var t = 0.0
        while t < 1 {
            t = min(1, t + 0.01 + random.uniform() * spread)
            fractions.append(t)
        }
        return fractions
    }

    /// Under the null, the looks' exit probabilities add up to the spending function at every look, however
    /// irregular the looks; under a drift, crossing is likelier, and the last boundary is above the single look's.
    @Test func eachLookSpendsWhatTheSpendingFunctionAllows() {
        let fractions = Self.irregular(seed: 7, spread: 0.09)
        for spending in AlphaSpending.allCases {
            var test = GroupSequential(spending: spending, alpha: 0.05)
            for (k, t) in fractions.enumerated() {
                test.look(at: t)
                #expect(abs(test.spent - spending.spent(t, alpha: 0.05)) < 1e-9, "\(spending) look \(k + 1)")
            }
            #expect(test.boundaries.last! > Normal.quantile(0.95))
            let null = GroupSequential.crossings(fractions: fractions, boundaries: test.boundaries, drift: 0)
            // Recomputed on the lattice the crossings choose (for these looks' smallest step), not the test's.
            #expect(abs(null.reduce(0, +) - 0.05) < 1e-7)
            let power = GroupSequential.crossings(fractions: fractions, boundaries: test.boundaries, drift: 2.5)
            #expect(power.reduce(0, +) > 0.7)
        }
    }

    static let python =
        ProcessInfo.processInfo.environment["RAMP_CONFIDENCE_PYTHON"]
        ?? packageRoot.appendingPathComponent(".build/python-confidence/bin/python").path
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs Tests/Support/check_group_sequential.py on `designs` and returns what it computed for each.
    static func independent(_ designs: [(AlphaSpending, Double, [Double], [Double])], drift: Double? = nil) throws
        -> [JSONValue]
    {
        let input = JSONValue.array(
            designs.map { spending, alpha, fractions, boundaries in
                var design: [String: JSONValue] = [
                    "spending": .string(spending.rawValue), "alpha": .number(alpha),
                    "fractions": .array(fractions.map(JSONValue.number)),
                    "boundaries": .array(boundaries.map(JSONValue.number)),
                ]
                if let drift { design["drift"] = .number(drift) }
                return .object(design)
            })
        let text = try PythonCheck.run("Tests/Support/check_group_sequential.py", input: input, python: python)
        guard case .array(let results) = try JSONParser.parse(text) else { throw CancellationError() }
        return results
    }

    /// ramp's boundaries for even, irregular, dense and sparse looks, each spending function and several α, agree
    /// with spotify-confidence's solver within 0.002 in z (its own precision: it stops within 1e-7 of each look's
    /// α); for up to four looks, scipy's multivariate normal at ramp's boundaries gives the α the spending function
    /// allows by each look, within 0.003% of α.
    @Test func theBoundariesAgreeWithSpotifyConfidenceAndScipy() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("no spotify-confidence at \(Self.python): run Tests/run-all.sh, which installs it")
            return
        }
        let irregular = Self.irregular(seed: 2026, spread: 0.07)
        let every = (1...100).map { Double($0) / 100 }
        let schedules: [(AlphaSpending, Double, [Double])] = [
            (.obrienFleming, 0.05, [0.25, 0.5, 0.75, 1]),
            (.pocock, 0.05, [0.25, 0.5, 0.75, 1]),
            (.obrienFleming, 0.1, [0.13, 0.41, 0.58, 1]),
            (.pocock, 0.01, [0.3, 0.31, 0.9]),
            (.obrienFleming, 0.05, [0.5, 0.8]),
            (.obrienFleming, 0.05, irregular),
            (.pocock, 0.05, irregular),
            (.obrienFleming, 0.05, every),
            (.pocock, 0.2, every),
        ]
        let designs = schedules.map { spending, alpha, fractions in
            (
                spending, alpha, fractions,
                GroupSequential.boundaries(fractions: fractions, spending: spending, alpha: alpha)
            )
        }
        let results = try Self.independent(designs)
        try #require(results.count == designs.count)
        for ((spending, alpha, fractions, ramp), result) in zip(designs, results) {
            let name = "\(spending.rawValue) α \(alpha), \(fractions.count) looks"
            let confidence = (result["confidence"]?.arrayValue ?? []).compactMap(\.numberValue)
            try #require(confidence.count == ramp.count, "\(name): \(result)")
            let spent = (result["spent"]?.arrayValue ?? []).compactMap(\.numberValue)
            // spotify-confidence, like ldbounds, finds each boundary to within 1e-7 of its look's α increment, and
            // puts it at z = 8 without spending when the increment is below that: its boundaries are as exact as
            // ramp's where the increment is at least 1e-4 (most looks; all but the first few of O'Brien-Fleming).
            var compared = 0
            for (k, (ours, theirs)) in zip(ramp, confidence).enumerated()
            where spent[k] - (k > 0 ? spent[k - 1] : 0) >= 1e-4 {
                compared += 1
                #expect(abs(ours - theirs) < 2e-3, "\(name), look \(k + 1): ramp \(ours), spotify-confidence \(theirs)")
            }
            #expect(compared >= ramp.count / 2, "\(name): only \(compared) looks compared")
            for (t, theirs) in zip(fractions, spent) {
                #expect(abs(spending.spent(t, alpha: alpha) - theirs) < 1e-12, "\(name): spent by \(t)")
            }
            if let crossed = result["crossed"]?.arrayValue?.compactMap(\.numberValue) {
                #expect(crossed.count == fractions.count)
                for (k, (probability, allowed)) in zip(crossed, spent).enumerated() {
                    #expect(
                        abs(probability - allowed) < 3e-5 * alpha,
                        "\(name), by look \(k + 1): scipy \(probability), α(t) \(allowed)")
                }
            }
        }
    }
}

/// The design `ramp plan check` plans with: its inflation factor gives the power asked for, by scipy's multivariate
/// normal at ramp's boundaries, and its expected sample follows from the same crossing probabilities.
@Suite struct GroupSequentialDesignTests {
    @Test(arguments: [(AlphaSpending.obrienFleming, 4), (.pocock, 4), (.obrienFleming, 3)])
    func theInflatedSampleHasThePowerAskedFor(spending: AlphaSpending, looks: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: GroupSequentialTests.python) else {
            Issue.record("no spotify-confidence at \(GroupSequentialTests.python): run Tests/run-all.sh")
            return
        }
        let (alpha, power) = (0.05, 0.8)
        let design = GroupSequential.design(spending: spending, alpha: alpha, power: power, looks: looks)
        let fractions = (1...looks).map { Double($0) / Double(looks) }
        let boundaries = GroupSequential.boundaries(fractions: fractions, spending: spending, alpha: alpha)
        let drift = design.maximum.squareRoot() * (Normal.quantile(1 - alpha) + Normal.quantile(power))
        let result = try #require(
            try GroupSequentialTests.independent([(spending, alpha, fractions, boundaries)], drift: drift).first)
        let byLook = (result["crossed_under_drift"]?.arrayValue ?? []).compactMap(\.numberValue)
        try #require(byLook.count == looks)
        #expect(abs(byLook[looks - 1] - power) < 1e-5, "scipy's power at ramp's inflation: \(byLook)")
        // Stopping at the look that first crosses, else at the maximum.
        var stopped = 1 - byLook[looks - 1]
        for (k, t) in fractions.enumerated() { stopped += t * (byLook[k] - (k > 0 ? byLook[k - 1] : 0)) }
        #expect(abs(design.expected - design.maximum * stopped) < 1e-4, "\(design) vs \(design.maximum * stopped)")
        // Looking more than once costs sample at the maximum and saves it on average under the effect.
        #expect(design.maximum > 1 && design.expected < 1)
    }
}

/// The group-sequential gate, check by check, with its state handed from each check to the next as a tick does.
@Suite struct GroupSequentialGateTests {
    static let spec = StatisticalSpec(
        test: .groupSequential, metric: .proportion, alpha: 0.05, minSamples: 100, expectedSamples: 10_000)

    /// Checks a gate on cumulative (canary errors, baseline errors, requests per arm), carrying its state.
    static func run(
        _ spec: StatisticalSpec, _ checks: [(Double, Double, Double)], step: Int = 1, start: JSONValue? = nil
    ) -> [GateCheck] {
        let gate = Gate(name: "errors", source: "ev", rule: .statistical(spec))
        var state = start
        return checks.map { c, b, n in
            let check = gate.judge(
                canary: .summary(.proportion(successes: c, trials: n)),
                baseline: .summary(.proportion(successes: b, trials: n)), share: 0.5,
                sequential: SequentialContext(step: step, stepEnteredAt: Instant(seconds: 1000), previous: state))
            state = check.statistics.flatMap(GroupSequentialState.init(json:))?.json ?? state
            return check
        }
    }

    static func plan(_ gate: String) -> String {
        """
        {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
         "steps": [{"percent": 5, "bake": "1h"}], "sources": {"s": {"type": "events"}}, "gates": [\(gate)]}
        """
    }

    static func looks(_ check: GateCheck) -> [Double] {
        (check.statistics?["looks"]?.arrayValue ?? []).compactMap(\.numberValue)
    }

    /// Looks come each tenth of the planned sample, whatever the ticks in between; the boundaries are those of
    /// the fractions actually reached, and a healthy canary passes at the planned sample.
    @Test func itLooksEachTenthOfThePlannedSampleAndPassesAtTheEnd() throws {
        // Ticks every 400 requests per arm, both arms at 1%.
        let ticks = (1...25).map { (k: Int) -> (Double, Double, Double) in
            let x = Double(k)
            return (4 * x, 4 * x, 400 * x)
        }
        let checks = Self.run(Self.spec, ticks)
        let outcomes = checks.map(\.outcome)
        #expect(outcomes.dropLast().allSatisfy { $0 == .inconclusive }, "\(outcomes)")
        #expect(outcomes.last == .pass)
        let last = try #require(checks.last)
        // A look at 1,200 (the first tick past 1,000), then each time 1,000 more have come, and at 10,000.
        let counts = Self.looks(last)
        #expect(counts == [1200, 2400, 3600, 4800, 6000, 7200, 8400, 9600, 10_000], "\(counts)")
        let expected = GroupSequential.boundaries(
            fractions: counts.map { $0 / 10_000 }, spending: .obrienFleming, alpha: 0.05)
        let recorded = (last.statistics?["boundaries"]?.arrayValue ?? []).compactMap(\.numberValue)
        // The gate's lattice is set by its 1/looks step, the direct computation's by these looks' smallest step.
        #expect(recorded.count == expected.count)
        for (gate, direct) in zip(recorded, expected) { #expect(abs(gate - direct) < 1e-5) }
        #expect(abs((last.statistics?["alpha_spent"]?.numberValue ?? 0) - 0.05) < 1e-9)
        #expect(last.statistics?["stopped"]?.stringValue == "pass")
        #expect(last.message.contains("no regression at the planned sample"), "\(last.message)")
        // Between looks the message says when the next one comes.
        #expect(checks[3].message.contains("next look at 2,200 samples per arm"), "\(checks[3].message)")
    }

    /// A doubled error rate crosses a boundary before the planned sample; the verdict then stands for the step.
    @Test func aRegressionFailsAtTheFirstLookWhoseBoundaryItReachesAndStaysFailed() throws {
        let ticks = (1...10).map { (k: Int) -> (Double, Double, Double) in
            let x = Double(k)
            return (20 * x, 10 * x, 1000 * x)
        }
        let checks = Self.run(Self.spec, ticks)
        let first = try #require(checks.firstIndex { $0.outcome == .fail })
        let check = checks[first]
        let z = try #require(check.statistics?["z"]?.numberValue)
        let boundary = try #require(check.statistics?["boundary"]?.numberValue)
        #expect(z >= boundary)
        // Every check before it was inconclusive: no earlier look's boundary was reached.
        #expect(checks[..<first].allSatisfy { $0.outcome == .inconclusive })
        #expect(first < checks.count - 1, "it stopped before the planned sample")
        #expect(checks[(first + 1)...].allSatisfy { $0.outcome == .fail })
        // Later data that looks healthy does not undo a crossed boundary within the step.
        let after = Self.run(Self.spec, [(80, 10, 1000), (90, 60, 6000), (100, 80, 8000)])
        #expect(after.map(\.outcome) == [.fail, .fail, .fail])
        #expect(after.last?.message.contains("ended at look 1") == true, "\(after.last?.message ?? "")")
    }

    /// The fail rule is exactly z ≥ the boundary solved for this look.
    @Test func theGateFailsExactlyAtTheBoundary() throws {
        let n = 5000.0
        let boundary = GroupSequential.boundaries(fractions: [0.5], spending: .obrienFleming, alpha: 0.05)[0]
        // Means with variance 1 per unit: z = excess / √(2/n).
        func outcome(_ z: Double) -> GateOutcome {
            var spec = Self.spec
            spec.metric = .mean
            let gate = Gate(name: "g", source: "ev", rule: .statistical(spec))
            let excess = z * (2 / n).squareRoot()
            return gate.judge(
                canary: .summary(ArmSummary(count: n, mean: 10 + excess, variance: 1)),
                baseline: .summary(ArmSummary(count: n, mean: 10, variance: 1)), share: 0.5
            ).outcome
        }
        #expect(outcome(boundary * (1 + 1e-9)) == .fail)
        #expect(outcome(boundary * (1 - 1e-9)) == .inconclusive)
    }

    /// A state from another step (or the same step entered anew) is not continued; one that cannot be read is an
    /// error, not a fresh start that would spend α again; samples that shrink are an error.
    @Test func stateFromElsewhereStartsAfreshAndBrokenStateIsAnError() {
        let earlier = GroupSequentialState(
            step: 0, stepEnteredAt: Instant(seconds: 1000), looks: [1000, 2000], stopped: .fail
        ).json
        let fresh = Self.run(Self.spec, [(10, 10, 1000)], step: 1, start: earlier)
        #expect(fresh[0].outcome == .inconclusive)
        #expect(Self.looks(fresh[0]) == [1000])
        let same = GroupSequentialState(step: 1, stepEnteredAt: Instant(seconds: 1000), looks: [1000, 2000]).json
        let continued = Self.run(Self.spec, [(30, 30, 3000)], step: 1, start: same)
        #expect(Self.looks(continued[0]) == [1000, 2000, 3000])
        let shrunk = Self.run(Self.spec, [(15, 15, 1500)], step: 1, start: same)
        #expect(shrunk[0].outcome == .error)
        #expect(shrunk[0].message.contains("samples fell from 2,000 to 1,500"), "\(shrunk[0].message)")
        for broken: JSONValue in [
            ["step": 1, "step_entered_at": 1000, "looks": [2000, 1000]],
            ["step": 1, "step_entered_at": 1000, "looks": [.number(.nan)]],
            ["step": 1, "step_entered_at": 1000, "looks": [], "stopped": "inconclusive"],
            ["step": 1.5, "step_entered_at": 1000, "looks": []], "looks",
            // A test still running after a look at the planned sample cannot be: its next look would have no width.
            ["step": 1, "step_entered_at": 1000, "looks": [5000, 10_000]],
        ] {
            let check = Self.run(Self.spec, [(10, 10, 1000)], step: 1, start: broken)[0]
            #expect(check.outcome == .error, "\(broken)")
            #expect(check.message.contains("stored group-sequential state is unreadable"))
        }
    }

    /// Arms without variation: a certain excess crosses any boundary; none passes at the planned sample.
    @Test func armsWithoutVariationFailOnlyWhenTheCanaryIsWorse() {
        #expect(Self.run(Self.spec, [(1000, 0, 1000)]).map(\.outcome) == [.fail])
        #expect(Self.run(Self.spec, [(0, 0, 1000), (0, 0, 10_000)]).map(\.outcome) == [.inconclusive, .pass])
    }

    /// Before min_samples nothing is looked at, and the state given is kept for the next check.
    @Test func tooFewSamplesTakeNoLook() {
        var spec = Self.spec
        spec.minSamples = 2000
        let checks = Self.run(spec, [(10, 10, 1500), (20, 20, 2100)])
        #expect(checks[0].outcome == .inconclusive && checks[0].statistics?["looks"] == nil)
        #expect(Self.looks(checks[1]) == [2100])
    }

    @Test func aGroupSequentialGateParsesWithItsDefaultsAndRefusesWhatItCannotDo() throws {
        let gate =
            #"{"name": "e", "source": "s", "kind": "statistical", "test": "group_sequential", "metric": "proportion", "query": "error""#
        let plan = try PlanParser.parse(
            Self.plan(gate + #", "expected_samples": 5000, "tolerance": 0.001}"#), file: "p.json")
        let spec = try #require(plan.gates.first?.statistical)
        #expect(spec.test == .groupSequential && spec.spending == .obrienFleming && spec.looks == 10)
        #expect(spec.pass == .samples && spec.tolerance == 0.001)
        let pocock = try PlanParser.parse(
            Self.plan(gate + #", "expected_samples": 5000, "spending": "pocock", "looks": 4}"#),
            file: "p.json")
        #expect(pocock.gates.first?.statistical?.spending == .pocock && pocock.gates.first?.statistical?.looks == 4)
        let refused: [(String, String)] = [
            (
                gate + "}",
                "gates[0].expected_samples: is required by group_sequential (the planned maximum sample per arm)"
            ),
            (
                gate + #", "expected_samples": 5000, "tolerance": 0.1, "pass": "non_inferiority"}"#,
                "gates[0].pass: group_sequential passes at its planned sample (samples), not by non_inferiority"
            ),
            (
                gate + #", "expected_samples": 5000, "mixture": 0.01}"#,
                "gates[0].mixture: is for the sequential test (mSPRT), not group_sequential"
            ),
            (
                gate + #", "expected_samples": 5000, "spending": "haybittle"}"#,
                "gates[0].spending: \"haybittle\" is not one of obrien_fleming, pocock"
            ),
            (
                gate + #", "expected_samples": 5000, "looks": 0}"#,
                "gates[0].looks: 0 is not a whole number from 1 to 100"
            ),
            (
                gate + #", "expected_samples": 5000, "looks": 2.5}"#,
                "gates[0].looks: 2.5 is not a whole number from 1 to 100"
            ),
            (
                #"{"name": "e", "source": "s", "kind": "statistical", "test": "sequential", "metric": "proportion", "query": "error", "expected_samples": 1000, "spending": "pocock"}"#,
                "gates[0].spending: is only for test group_sequential"
            ),
            (
                #"{"name": "e", "source": "s", "kind": "statistical", "test": "group_sequential", "metric": "distribution", "query": "x", "expected_samples": 1000}"#,
                "gates[0].metric: test group_sequential takes mean or proportion, not distribution"
            ),
        ]
        for (text, message) in refused {
            #expect {
                try PlanParser.parse(Self.plan(text), file: "p.json")
            } throws: { error in
                (error as? PlanError)?.description == "p.json: " + message
            }
        }
    }
}
