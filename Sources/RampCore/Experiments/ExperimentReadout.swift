#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What ramp's events say of one arm over a window: its exposed units, and for each outcome metric the count, sum
/// and sum of squares of its values (a proportion's successes as the sum).
public struct ArmTotals: Sendable, Equatable {
    public var units: Int
    /// Per metric: a proportion's trials, successes (twice); a mean's count, sum and sum of squares.
    public var metrics: [String: (count: Int, sum: Double, sumOfSquares: Double)]
    /// Metrics read from a source that could not be read for this arm, with why.
    public var errors: [String: String] = [:]

    public init(
        units: Int, metrics: [String: (count: Int, sum: Double, sumOfSquares: Double)], errors: [String: String] = [:]
    ) {
        self.units = units
        self.metrics = metrics
        self.errors = errors
    }

    public static func == (a: ArmTotals, b: ArmTotals) -> Bool {
        a.units == b.units && a.errors == b.errors && a.metrics.keys == b.metrics.keys
            && a.metrics.allSatisfy { key, value in
                let other = b.metrics[key]!
                return value.count == other.count && value.sum == other.sum && value.sumOfSquares == other.sumOfSquares
            }
    }

    /// The arm's data for `metric`: a proportion over its trials (ramp's events: the exposed units; successes
    /// capped at them), a mean over its values; nil with fewer than two.
    public func data(_ metric: ExperimentPlan.Metric) -> ArmData? {
        let m = metrics[metric.metric] ?? (0, 0, 0)
        switch metric.type {
        case .proportion: return ArmData(metric: .proportion, units: m.count, sum: min(m.sum, Double(m.count)))
        case .mean: return ArmData(metric: .mean, units: m.count, sum: m.sum, sumOfSquares: m.sumOfSquares)
        }
    }
}

/// An experiment's readout and its decision, a pure function of the plan, each arm's totals, the shares planned
/// and where its window stands.
public struct ExperimentReadout: Sendable {
    /// One metric of one arm.
    public struct MetricResult: Sendable {
        public var metric: String
        public var units: Int
        /// The conversion rate or the mean; nil with fewer than two units.
        public var value: Double?
        /// The data behind it: units (a mean's: its values), sum and sum of squares.
        public var data: ArmData?
        /// Against the control; nil for the control, or when either arm has no variance yet.
        public var lift: Lift?
        /// Whether the interval the decision reads lies wholly on the better side of 0, or the worse.
        public var better: Bool
        public var worse: Bool
        /// A guardrail's: the worse end of the interval within the margin.
        public var nonInferior: Bool
        /// The whole interval past the margin on the worse side: worse by more than the margin tolerates (a
        /// guardrail that is, fails, and the tick stops the experiment).
        public var beyondMargin: Bool
        /// The interval `marginTest` judged: of treatment − k × control, k = 1 ± margin (see `marginTest`).
        public var marginInterval: (lower: Double, upper: Double)?
        /// Whether the lift is of adjusted data, an arm having no variance (see `adjusted`).
        public var adjusted = false
        /// Why the metric could not be read for this arm (a source's error), if it could not.
        public var error: String?
    }

    /// Whether the treatment is shown worse than the margin tolerates: the interval of treatment − k × control,
    /// k = 1 + margin where lower is better (1 − margin where higher is; the margin's sign turned for a negative
    /// control mean), lies wholly on the worse side of 0; and that interval. Nil when it cannot be made. That is
    /// the margin's own test, and it divides by nothing, so it holds when the control's rate is near 0 (an arm
    /// without variance gets `adjusted`'s pseudo-counts). The interval is always-valid unless `fixed`.
    static func marginTest(
        _ treatment: ArmData, _ control: ArmData, metric: ExperimentPlan.Metric, alpha: Double, tuning: Double,
        fixed: Bool
    ) -> (beyond: Bool, interval: (lower: Double, upper: Double))? {
        var (t, c) = (treatment, control)
        if t.variance == 0 || c.variance == 0 {
            guard let pair = adjusted(t, c) else { return nil }
            (t, c) = pair
        }
        // The margin is relative to the control's size: c + margin × |c| where lower is better, c − margin × |c|
        // where higher is.
        let lower = metric.better == .lower
        let signed = c.mean < 0 ? -metric.margin : metric.margin
        let k = lower ? 1 + signed : 1 - signed
        let difference = t.mean - k * c.mean
        let variance = t.variance / Double(t.units) + k * k * c.variance / Double(c.units)
        guard variance > 0, variance.isFinite, difference.isFinite else { return nil }
        let width =
            fixed
            ? Normal.quantile(1 - alpha / 2) * variance.squareRoot()
            : Lift.sequentialHalfWidth(
                variance: variance, n: Double(t.units + c.units), alpha: alpha, tuning: tuning)
        let interval = (difference - width, difference + width)
        return (lower ? interval.0 > 0 : interval.1 < 0, interval)
    }

    /// Data with variance for a pair where an arm has none: a proportion gets one success and one failure more
    /// in each arm (Agresti and Caffo's adjustment), a constant mean the other arm's variance. Nil when that
    /// cannot help (both means constant, or no units).
    static func adjusted(_ treatment: ArmData, _ control: ArmData) -> (ArmData, ArmData)? {
        switch treatment.metric {
        case .proportion:
            guard let t = ArmData(metric: .proportion, units: treatment.units + 2, sum: treatment.sum + 1),
                let c = ArmData(metric: .proportion, units: control.units + 2, sum: control.sum + 1)
            else { return nil }
            return (t, c)
        case .mean:
            func with(_ arm: ArmData, variance: Double) -> ArmData? {
                let n = Double(arm.units)
                return ArmData(
                    metric: .mean, units: arm.units, sum: arm.sum,
                    sumOfSquares: (n - 1) * variance + arm.sum * arm.sum / n)
            }
            switch (treatment.variance > 0, control.variance > 0) {
            case (false, true): return with(treatment, variance: control.variance).map { ($0, control) }
            case (true, false): return with(control, variance: treatment.variance).map { (treatment, $0) }
            default: return nil
            }
        }
    }

    /// Where the readout's window stands.
    public enum Window: Sendable {
        /// Still collecting: any look may be the last, so the always-valid intervals decide.
        case open
        /// Stopped before its planned sample: the always-valid intervals, and the control stays.
        case stopped
        /// Closed at the planned sample: one planned look, the fixed-horizon intervals.
        case closed
    }

    public struct Arm: Sendable {
        public var variant: String
        public var units: Int
        /// The share of the split the arm is planned to get (now, for a bandit).
        public var plannedShare: Double
        public var primary: MetricResult
        public var guardrails: [MetricResult]
    }

    public enum Basis: String, Sendable {
        /// Looking at every tick: the always-valid intervals (a confidence sequence).
        case alwaysValid = "always-valid"
        /// One look at the planned sample: the fixed-horizon intervals.
        case fixedHorizon = "fixed-horizon"
    }

    public enum Verdict: String, Sendable {
        case ship
        case keepControl = "keep-control"
        case `continue`
        case invalid
    }

    public var arms: [Arm]
    public var basis: Basis
    public var sampleReached: Int
    public var samplePlanned: Int
    /// Pearson's chi-square against the planned shares; nil for a bandit (its shares change) or without units.
    public var sampleRatio: (chiSquare: Double, p: Double)?
    /// The primary metric's power to find its `mde` at the units reached (two-sided z-test at `alpha`, the
    /// control's variance); nil without an `mde` or control data.
    public var power: Double?
    /// The units per arm a two-arm test needs for the plan's power on the primary at its `mde`, the miss rate
    /// divided by the guardrails plus one (so the decision as a whole keeps the power); nil likewise.
    public var requiredPerArm: Double?
    public var verdict: Verdict
    public var winner: String?
    public var reason: String

    /// Below this sample ratio p-value the split itself is in doubt, and so is every number.
    public static let sampleRatioThreshold = 0.001

    public static func make(
        plan: ExperimentPlan, totals: [String: ArmTotals], shares: [String: Double], window: Window
    ) -> ExperimentReadout {
        let closed = window == .closed
        let basis: Basis = closed ? .fixedHorizon : .alwaysValid
        let tuning = Double(plan.sample)
        func result(_ metric: ExperimentPlan.Metric, _ arm: String) -> MetricResult {
            let armTotals = totals[arm] ?? ArmTotals(units: 0, metrics: [:])
            let data = armTotals.data(metric)
            var out = MetricResult(
                metric: metric.metric, units: data?.units ?? (metric.type == .proportion ? armTotals.units : 0),
                value: data?.mean, data: data, lift: nil, better: false, worse: false, nonInferior: false,
                beyondMargin: false)
            out.error = armTotals.errors[metric.metric] ?? totals[plan.control]?.errors[metric.metric]
            guard arm != plan.control, let data, let control = totals[plan.control]?.data(metric) else { return out }
            if let test = Self.marginTest(
                data, control, metric: metric, alpha: plan.alpha, tuning: tuning, fixed: closed)
            {
                out.beyondMargin = test.beyond
                out.marginInterval = test.interval
            }
            var lift = Lift.of(data, over: control, alpha: plan.alpha, tuning: tuning)
            if lift == nil, let (t, c) = Self.adjusted(data, control) {
                // An arm without variance (no conversions at all, every one, or one constant value) has no
                // delta-method interval; a treatment that breaks everything must still be seen.
                lift = Lift.of(t, over: c, alpha: plan.alpha, tuning: tuning)
                out.adjusted = lift != nil
            }
            guard let lift else { return out }
            out.lift = lift
            var (lower, upper) = closed ? lift.interval : lift.alwaysValidInterval
            // Relative to a negative control mean, a larger value is a smaller lift: read the interval turned.
            if control.mean < 0 { (lower, upper) = (-upper, -lower) }
            let higher = metric.better == .higher
            out.better = higher ? lower > 0 : upper < 0
            out.worse = higher ? upper < 0 : lower > 0
            out.nonInferior = higher ? lower > -metric.margin : upper < metric.margin
            return out
        }
        let arms = plan.arms.map { variant in
            Arm(
                variant: variant, units: totals[variant]?.units ?? 0, plannedShare: shares[variant] ?? 0,
                primary: result(plan.primary, variant), guardrails: plan.guardrails.map { result($0, variant) })
        }
        let reached = arms.reduce(0) { $0 + $1.units }
        var sampleRatio: (Double, Double)?
        let unread = arms.contains { $0.primary.error != nil }
        if plan.kind == .experiment, reached > 0, !unread {
            sampleRatio = SampleRatio.test(
                units: arms.map(\.units), weights: arms.map { max($0.plannedShare, .leastNonzeroMagnitude) })
        }
        // Power and the sample it needs, for the primary metric at its MDE.
        var power: Double?
        var required: Double?
        if let mde = plan.primary.mde, let control = totals[plan.control]?.data(plan.primary), control.variance > 0,
            control.mean != 0
        {
            let sd = control.variance.squareRoot()
            let effect = mde * abs(control.mean) / sd
            let z = Normal.quantile(1 - plan.alpha / 2)
            let treated = arms.dropFirst().map(\.units).min() ?? 0
            let nc = Double(arms.first?.units ?? 0)
            let nt = Double(treated)
            if nc > 0, nt > 0 {
                let scaled = effect / (1 / nc + 1 / nt).squareRoot()
                power = Normal.cdf(scaled - z) + Normal.cdf(-scaled - z)
            }
            let beta = (1 - plan.power) / Double(plan.guardrails.count + 1)
            let zb = Normal.quantile(1 - beta)
            required = 2 * (z + zb) * (z + zb) / (effect * effect)
        }
        // The decision.
        var verdict = Verdict.continue
        var winner: String?
        var reason: String
        if let (_, p) = sampleRatio, p < sampleRatioThreshold {
            verdict = .invalid
            reason =
                "sample ratio mismatch (p = \(format(p)) < \(format(sampleRatioThreshold))): the split is not as "
                + "planned, so no number here can be trusted"
        } else if window == .stopped {
            verdict = .keepControl
            reason =
                "ended before the planned sample (\(reached) of \(plan.sample) units): no variant to ship by the rule"
        } else {
            let shippable = arms.dropFirst().filter { arm in
                arm.primary.better && arm.guardrails.allSatisfy { $0.nonInferior && !$0.worse }
            }
            // A larger lift is better where higher is, and relative to a negative control mean it is the other way.
            let controlMean = totals[plan.control]?.data(plan.primary)?.mean ?? 1
            let sign = (plan.primary.better == .higher ? 1.0 : -1.0) * (controlMean < 0 ? -1 : 1)
            if let best = shippable.max(by: {
                sign * ($0.primary.lift?.estimate ?? 0) < sign * ($1.primary.lift?.estimate ?? 0)
            }) {
                verdict = .ship
                winner = best.variant
                reason =
                    "\(best.variant) improves \(plan.primary.metric) (its \(basis.rawValue) interval lies on the better "
                    + "side of no effect) and every guardrail holds its margin"
            } else if closed {
                verdict = .keepControl
                let worse = arms.dropFirst().flatMap { arm in
                    ([arm.primary] + arm.guardrails).filter(\.worse).map { "\(arm.variant) on \($0.metric)" }
                }
                reason =
                    "the planned sample is reached and no variant is shown better with every guardrail held"
                    + (worse.isEmpty ? "" : " (shown worse: \(worse.joined(separator: ", ")))")
            } else {
                reason = "\(reached) of \(plan.sample) planned units: no variant is shown better yet"
            }
        }
        return ExperimentReadout(
            arms: arms, basis: basis, sampleReached: reached, samplePlanned: plan.sample, sampleRatio: sampleRatio,
            power: power, requiredPerArm: required, verdict: verdict, winner: winner, reason: reason)
    }

    /// A number for people: four significant digits (`0.0312`, `2.1e-7`).
    public static func format(_ x: Double) -> String { RampCore.format(x) }

    /// A share for people: `1.31%`.
    public static func percentText(_ x: Double) -> String { percent(x) }

    /// A count for people: `4,100`.
    public static func countText(_ x: Double) -> String { count(x) }
}
