#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What ramp's events say of one arm over a window: its exposed units, and for each outcome metric the count, sum
/// and sum of squares of its values (a proportion's successes as the sum).
public struct ArmTotals: Sendable, Equatable {
    public var units: Int
    public var metrics: [String: (count: Int, sum: Double, sumOfSquares: Double)]

    public init(units: Int, metrics: [String: (count: Int, sum: Double, sumOfSquares: Double)]) {
        self.units = units
        self.metrics = metrics
    }

    public static func == (a: ArmTotals, b: ArmTotals) -> Bool {
        a.units == b.units && a.metrics.keys == b.metrics.keys
            && a.metrics.allSatisfy { key, value in
                let other = b.metrics[key]!
                return value.count == other.count && value.sum == other.sum && value.sumOfSquares == other.sumOfSquares
            }
    }

    /// The arm's data for `metric`: a proportion over the exposed units (successes capped at them), a mean over
    /// the outcome's values; nil with fewer than two.
    public func data(_ metric: ExperimentPlan.Metric) -> ArmData? {
        let m = metrics[metric.metric] ?? (0, 0, 0)
        switch metric.type {
        case .proportion: return ArmData(metric: .proportion, units: units, sum: min(m.sum, Double(units)))
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
                value: data?.mean, lift: nil, better: false, worse: false, nonInferior: false, beyondMargin: false)
            guard arm != plan.control, let data, let control = totals[plan.control]?.data(metric),
                let lift = Lift.of(data, over: control, alpha: plan.alpha, tuning: tuning)
            else { return out }
            out.lift = lift
            let (lower, upper) = closed ? lift.interval : lift.alwaysValidInterval
            let higher = metric.better == .higher
            out.better = higher ? lower > 0 : upper < 0
            out.worse = higher ? upper < 0 : lower > 0
            out.nonInferior = higher ? lower > -metric.margin : upper < metric.margin
            out.beyondMargin = higher ? upper < -metric.margin : lower > metric.margin
            return out
        }
        let arms = plan.arms.map { variant in
            Arm(
                variant: variant, units: totals[variant]?.units ?? 0, plannedShare: shares[variant] ?? 0,
                primary: result(plan.primary, variant), guardrails: plan.guardrails.map { result($0, variant) })
        }
        let reached = arms.reduce(0) { $0 + $1.units }
        var sampleRatio: (Double, Double)?
        if plan.kind == .experiment, reached > 0 {
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
        } else {
            let shippable = arms.dropFirst().filter { arm in
                arm.primary.better && arm.guardrails.allSatisfy { $0.nonInferior && !$0.worse }
            }
            let sign = plan.primary.better == .higher ? 1.0 : -1.0
            if let best = shippable.max(by: {
                sign * ($0.primary.lift?.estimate ?? 0) < sign * ($1.primary.lift?.estimate ?? 0)
            }) {
                verdict = .ship
                winner = best.variant
                reason =
                    "\(best.variant) improves \(plan.primary.metric) (\(basis.rawValue) interval above no effect) and "
                    + "no guardrail is shown worse than its margin"
            } else if window == .stopped {
                verdict = .keepControl
                reason = "stopped before the planned sample (\(reached) of \(plan.sample) units): the control stays"
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
