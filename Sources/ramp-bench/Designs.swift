// `simulate`, second part: the group-sequential gate beside the mSPRT and the fixed-horizon test, each designed for
// 80% power against the same effect, over three look schedules.
import Foundation
import RampCore

/// One test's outcome in one simulated run: whether it rolled back, and the samples per arm when it stopped.
struct Stop {
    var failed: Bool
    var samples: Int
}

/// A test as the simulation drives it: told the cumulative arms at each tick, it answers once it has stopped.
protocol SimulatedTest {
    var name: String { get }
    /// The most samples per arm it may take.
    var maximum: Int { get }
    /// Starts a run afresh.
    mutating func reset()
    /// The stop at this tick, or nil to go on.
    mutating func check(canary: ArmSummary, baseline: ArmSummary, n: Int) -> Stop?
}

/// A ramp gate, checked as a tick checks it: a group-sequential gate gets its state back at every check.
struct GateUnderTest: SimulatedTest {
    let name: String
    let gate: Gate
    let maximum: Int
    var state: JSONValue?

    mutating func reset() { state = nil }

    mutating func check(canary: ArmSummary, baseline: ArmSummary, n: Int) -> Stop? {
        let check = gate.judge(
            canary: .summary(canary), baseline: .summary(baseline), share: 0.5,
            sequential: SequentialContext(step: 0, stepEnteredAt: nil, previous: state))
        state = check.statistics.flatMap(GroupSequentialState.init(json:))?.json ?? state
        switch check.outcome {
        case .fail: return Stop(failed: true, samples: n)
        case .pass: return Stop(failed: false, samples: n)
        default: return n >= maximum ? Stop(failed: false, samples: n) : nil
        }
    }
}

/// The two-proportion z-test looked at once, at the fixed horizon.
struct SingleLook: SimulatedTest {
    let name = "fixed horizon, one look"
    let maximum: Int
    let alpha: Double

    mutating func reset() {}

    func check(canary: ArmSummary, baseline: ArmSummary, n: Int) -> Stop? {
        guard n >= maximum else { return nil }
        let p = FixedHorizon.proportions(canary: canary, baseline: baseline, worse: .higher).p
        return Stop(failed: p.isFinite && p <= alpha, samples: n)
    }
}

func runDesigns(runs: Int, seed: UInt64, alpha: Double) {
    let (baselineRate, canaryRate, power) = (0.01, 0.02, 0.8)
    let variance = baselineRate * (1 - baselineRate) + canaryRate * (1 - canaryRate)
    let delta = canaryRate - baselineRate
    let z = Normal.quantile(1 - alpha) + Normal.quantile(power)
    let fixed = Int((variance * z * z / (delta * delta)).rounded(.up))
    func groupSequential(_ spending: AlphaSpending) -> GateUnderTest {
        let design = GroupSequential.design(spending: spending, alpha: alpha, power: power, looks: 10)
        let maximum = Int((Double(fixed) * design.maximum).rounded(.up))
        let spec = StatisticalSpec(
            test: .groupSequential, metric: .proportion, alpha: alpha, minSamples: 100,
            expectedSamples: Double(maximum), spending: spending, looks: 10)
        return GateUnderTest(
            name: "group-sequential, \(spending.name)",
            gate: Gate(name: "errors", source: "events", rule: .statistical(spec)),
            maximum: maximum)
    }
    // The mSPRT as `ramp plan check` plans it: tuned at the fixed horizon, run to the sample that gives it 80%.
    let tau = MixtureSPRT.tau(perUnitVariance: variance, samples: Double(fixed), alpha: alpha)
    let plannerTest = PowerPlanner.Test(sequential: true, alpha: alpha, mixture: tau)
    // At 2 units a second split evenly, a second is one sample per arm.
    let msprtMaximum = Int(
        PowerPlanner(
            traffic: 2, baselineRate: baselineRate, relativeEffect: canaryRate / baselineRate - 1, power: power
        )
        .seconds(share: 0.5, test: plannerTest).rounded(.up))
    let msprt = GateUnderTest(
        name: "sequential (mSPRT)",
        gate: Gate(
            name: "errors", source: "events",
            rule: .statistical(
                StatisticalSpec(
                    test: .sequential, metric: .proportion, alpha: alpha, minSamples: 100,
                    expectedSamples: Double(msprtMaximum), mixture: tau))),
        maximum: msprtMaximum)
    let tests: [any SimulatedTest] = [
        groupSequential(.obrienFleming), groupSequential(.pocock), msprt, SingleLook(maximum: fixed, alpha: alpha),
    ]
    let horizon = tests.map(\.maximum).max()!

    // Users per arm added at each tick, per run.
    var irregular = SeededRandom(seed: seed &+ 100)
    let irregularSchedules: [[Int]] = (0..<20).map { _ in
        var ticks: [Int] = []
        var total = 0
        while total < horizon {
            let users = 1 + Int(irregular.uniform() * 100)
            ticks.append(users)
            total += users
        }
        return ticks
    }
    let quarter = (tests[0].maximum + 3) / 4
    let schedules: [(String, (Int) -> [Int])] = [
        ("every tick: 20 users per arm per tick", { _ in Array(repeating: 20, count: horizon / 20 + 1) }),
        (
            "irregular: 1 to 100 users per arm per tick (20 seeded schedules)",
            { run in irregularSchedules[run % irregularSchedules.count] }
        ),
        (
            "few looks: \(quarter) users per arm per tick (a quarter of the O'Brien-Fleming maximum)",
            { _ in Array(repeating: quarter, count: horizon / quarter + 1) }
        ),
    ]

    print("")
    print(
        "designs: each for 80% power against 1% → 2% at alpha \(alpha), \(runs) runs per schedule, seed \(seed); "
            + "fixed horizon \(fixed) per arm")
    for test in tests {
        print(
            "  \(test.name.padding(toLength: 34, withPad: " ", startingAt: 0)) maximum \(test.maximum) per arm"
                + String(format: " (%.3f× fixed)", Double(test.maximum) / Double(fixed)))
    }
    print(
        "samples per arm, then as a multiple of the fixed horizon (\(fixed)) and of the one-look test's own sample "
            + "in the same schedule (it too waits for a tick)")
    let started = Date()
    for (label, schedule) in schedules {
        print("schedule \(label)")
        print(
            "  test                               A/A false rollbacks         A/B rolled back              "
                + "mean at rollback       expected sample        largest")
        // Every test sees the same traffic in a run (paired), A/A and A/B from their own seeds.
        var results: [[(aa: Stop, ab: Stop)]] = Array(repeating: [], count: tests.count)
        var random = SeededRandom(seed: seed)
        for run in 0..<runs {
            let ticks = schedule(run)
            var stops: [[Stop]] = []
            for rate in [baselineRate, canaryRate] {
                var active = tests
                for i in active.indices { active[i].reset() }
                var found: [Stop?] = Array(repeating: nil, count: tests.count)
                var (c, b, n) = (0, 0, 0)
                for users in ticks {
                    c += random.binomial(users, rate)
                    b += random.binomial(users, baselineRate)
                    n += users
                    let canary = ArmSummary.proportion(successes: Double(c), trials: Double(n))
                    let base = ArmSummary.proportion(successes: Double(b), trials: Double(n))
                    for i in active.indices where found[i] == nil {
                        found[i] = active[i].check(canary: canary, baseline: base, n: n)
                    }
                    if !found.contains(where: { $0 == nil }) { break }
                }
                stops.append(found.map { $0 ?? Stop(failed: false, samples: n) })
            }
            for i in tests.indices { results[i].append((stops[0][i], stops[1][i])) }
        }
        struct Figures {
            var falseRollbacks: Int
            var detected: Int
            var meanAtDetection: Double
            var expected: Double
            var largest: Double
        }
        let figures = results.map { outcome -> Figures in
            let detected = outcome.filter { $0.ab.failed }
            return Figures(
                falseRollbacks: outcome.filter { $0.aa.failed }.count, detected: detected.count,
                meanAtDetection: detected.isEmpty
                    ? 0 : Double(detected.map(\.ab.samples).reduce(0, +)) / Double(detected.count),
                expected: Double(outcome.map(\.ab.samples).reduce(0, +)) / Double(runs),
                largest: Double(outcome.map { max($0.ab.samples, $0.aa.samples) }.max() ?? 0))
        }
        // The one-look test is last: in this schedule it too can only look at a tick, so its own sample is the
        // second baseline (the first is the design's fixed horizon).
        let single = figures[figures.count - 1]
        for (test, f) in zip(tests, figures) {
            func ratio(_ x: Double, _ here: Double) -> String {
                String(format: "%5.0f %.3f× %.3f×", x, x / Double(fixed), x / here)
            }
            print(
                "  \(test.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(wilson(f.falseRollbacks, runs))   "
                    + "\(wilson(f.detected, runs))   \(ratio(f.meanAtDetection, single.meanAtDetection))   "
                    + "\(ratio(f.expected, single.expected))   \(ratio(f.largest, single.largest))")
        }
    }
    print(String(format: "(%.1f s)", Date().timeIntervalSince(started)))
}

/// `4.9% (95% CI 4.5–5.4%)`: a rate with its Wilson interval.
func wilson(_ hits: Int, _ runs: Int) -> String {
    let p = Double(hits) / Double(runs)
    let z = 1.959963984540054
    let n = Double(runs)
    let center = (p + z * z / (2 * n)) / (1 + z * z / n)
    let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
    return String(format: "%5.1f%% (95%% CI %.1f–%.1f%%)", p * 100, (center - half) * 100, (center + half) * 100)
}
