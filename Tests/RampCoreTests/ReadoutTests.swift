import Foundation
import RampCore
import Testing

/// The readout's lift, intervals and p-values, pinned against GrowthBook's gbstats (Tests/Support/check_readout.py,
/// installed by Tests/run-all.sh).
@Suite struct ReadoutTests {
    static let python =
        ProcessInfo.processInfo.environment["RAMP_GBSTATS_PYTHON"]
        ?? PythonCheck.packageRoot.appendingPathComponent(".build/python-gbstats/bin/python").path

    struct Case {
        var metric: ArmData.Metric
        var control: (Int, Double, Double)
        var treatment: (Int, Double, Double)
        var alpha: Double
        var tuning: Double
    }

    static let cases: [Case] = [
        Case(metric: .proportion, control: (1_000, 100, 100), treatment: (1_000, 120, 120), alpha: 0.05, tuning: 5_000),
        Case(
            metric: .proportion, control: (50_000, 2_500, 2_500), treatment: (49_700, 2_750, 2_750), alpha: 0.05,
            tuning: 5_000),
        Case(metric: .proportion, control: (200, 3, 3), treatment: (180, 9, 9), alpha: 0.1, tuning: 1_000),
        Case(
            metric: .proportion, control: (10_000, 5_000, 5_000), treatment: (10_000, 4_900, 4_900), alpha: 0.01,
            tuning: 20_000),
        Case(metric: .mean, control: (500, 1_250, 4_100), treatment: (520, 1_400, 4_700), alpha: 0.05, tuning: 5_000),
        Case(metric: .mean, control: (30, 300, 3_400), treatment: (25, 200, 1_800), alpha: 0.05, tuning: 100),
        Case(
            metric: .mean, control: (100_000, 1_000_000, 12_000_000), treatment: (100_000, 1_010_000, 12_300_000),
            alpha: 0.05, tuning: 5_000),
    ]

    @Test func liftIntervalsAndPValuesAreGbstatss() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("no gbstats at \(Self.python): run Tests/run-all.sh, which installs it")
            return
        }
        let input = JSONValue.array(
            Self.cases.map { c in
                func arm(_ a: (Int, Double, Double)) -> JSONValue {
                    [.number(Double(a.0)), .number(a.1), .number(a.2)]
                }
                return [
                    "metric": .string(c.metric.rawValue), "control": arm(c.control), "treatment": arm(c.treatment),
                    "alpha": .number(c.alpha), "tuning": .number(c.tuning),
                ]
            })
        let output = try JSONParser.parse(
            PythonCheck.run("Tests/Support/check_readout.py", input: input, python: Self.python))
        let expected = output.arrayValue ?? []
        #expect(expected.count == Self.cases.count)
        func close(_ a: Double, _ b: Double?) -> Bool {
            guard let b else { return false }
            return abs(a - b) <= 1e-9 * max(1, abs(b))
        }
        for (c, gb) in zip(Self.cases, expected) {
            let control = try #require(
                ArmData(metric: c.metric, units: c.control.0, sum: c.control.1, sumOfSquares: c.control.2))
            let treatment = try #require(
                ArmData(metric: c.metric, units: c.treatment.0, sum: c.treatment.1, sumOfSquares: c.treatment.2))
            let lift = try #require(Lift.of(treatment, over: control, alpha: c.alpha, tuning: c.tuning))
            let interval = gb["interval"]?.arrayValue?.compactMap(\.numberValue) ?? []
            let sequential = gb["sequential_interval"]?.arrayValue?.compactMap(\.numberValue) ?? []
            #expect(close(lift.estimate, gb["estimate"]?.numberValue), "\(c)")
            #expect(close(lift.interval.lower, interval.first) && close(lift.interval.upper, interval.last), "\(c)")
            #expect(close(lift.pValue, gb["p"]?.numberValue), "\(c): \(lift.pValue) vs \(gb["p"]?.canonical ?? "")")
            #expect(
                close(lift.alwaysValidInterval.lower, sequential.first)
                    && close(lift.alwaysValidInterval.upper, sequential.last), "\(c)")
            #expect(close(lift.alwaysValidPValue, gb["sequential_p"]?.numberValue), "\(c)")
        }
    }

    /// The sample ratio mismatch check across all arms is scipy's `chisquare` (Tests/Support/check_srm.py).
    @Test func theSampleRatioCheckAcrossAllArmsIsScipys() throws {
        guard FileManager.default.isExecutableFile(atPath: GroupSequentialTests.python) else {
            Issue.record("no scipy at \(GroupSequentialTests.python): run Tests/run-all.sh, which installs it")
            return
        }
        let cases: [([Int], [Double])] = [
            ([5_012, 4_988], [1, 1]), ([3_300, 3_350, 3_350], [1, 1, 1]), ([1_000, 2_100, 6_900], [10, 20, 70]),
            ([250, 240, 260, 310], [0.25, 0.25, 0.25, 0.25]), ([100_000, 101_500], [1, 1]), ([7, 0, 3], [1, 1, 1]),
        ]
        let input = JSONValue.array(
            cases.map { units, weights in
                [
                    "units": .array(units.map { .number(Double($0)) }),
                    "weights": .array(weights.map(JSONValue.number)),
                ]
            })
        let output = try JSONParser.parse(
            PythonCheck.run("Tests/Support/check_srm.py", input: input, python: GroupSequentialTests.python))
        let expected = output.arrayValue ?? []
        #expect(expected.count == cases.count)
        for ((units, weights), scipy) in zip(cases, expected) {
            let pair = scipy.arrayValue?.compactMap(\.numberValue) ?? []
            let ramp = try #require(SampleRatio.test(units: units, weights: weights))
            #expect(pair.count == 2)
            #expect(abs(ramp.chiSquare - (pair.first ?? .nan)) <= 1e-9 * max(1, ramp.chiSquare), "\(units)")
            #expect(
                abs(ramp.p - (pair.last ?? .nan)) <= 1e-9 * max(1e-3, pair.last ?? 0), "\(units): \(ramp.p) vs \(pair)")
        }
        #expect(SampleRatio.test(units: [1], weights: [1]) == nil)
        #expect(SampleRatio.test(units: [1, 2], weights: [1, 0]) == nil)
        #expect(SampleRatio.test(units: [-1, 2], weights: [1, 1]) == nil)
        #expect(SampleRatio.test(units: [0, 0], weights: [1, 1]) == nil)
        #expect(SampleRatio.test(units: [1, 2], weights: [1, .infinity]) == nil)
    }

    @Test func theAlwaysValidIntervalIsWiderThanTheFixedOne() throws {
        let control = try #require(ArmData(metric: .proportion, units: 20_000, sum: 2_000))
        let treatment = try #require(ArmData(metric: .proportion, units: 20_000, sum: 2_200))
        let lift = try #require(Lift.of(treatment, over: control))
        #expect(lift.alwaysValidInterval.lower < lift.interval.lower)
        #expect(lift.alwaysValidInterval.upper > lift.interval.upper)
        #expect(lift.alwaysValidPValue >= lift.pValue)
    }

    @Test func badArmsAreRefused() {
        #expect(ArmData(metric: .proportion, units: 1, sum: 0) == nil)
        #expect(ArmData(metric: .proportion, units: 10, sum: 11) == nil)
        #expect(ArmData(metric: .proportion, units: 10, sum: .nan) == nil)
        #expect(ArmData(metric: .mean, units: 10, sum: 5) == nil)
        #expect(ArmData(metric: .mean, units: 10, sum: 5, sumOfSquares: -1) == nil)
        let zero = ArmData(metric: .proportion, units: 100, sum: 0)!
        let some = ArmData(metric: .proportion, units: 100, sum: 10)!
        #expect(Lift.of(some, over: zero) == nil)
        // A treatment with no variance (no conversions at all) has no interval, as gbstats refuses it.
        #expect(Lift.of(zero, over: some) == nil)
        #expect(Lift.of(some, over: some, alpha: 1.5) == nil)
        #expect(Lift.of(some, over: some, tuning: 0) == nil)
        #expect(abs(StudentT.quantile(0.975, df: 10) - 2.2281388519649385) < 1e-9)  // scipy.stats.t.ppf(0.975, 10)
        #expect(StudentT.quantile(1.5, df: 10).isNaN)
    }
}
