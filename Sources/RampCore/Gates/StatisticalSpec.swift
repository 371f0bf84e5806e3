/// A statistical gate: the canary compared with the baseline by a test, not a threshold.
public struct StatisticalSpec: Sendable, Equatable {
    public enum Test: String, Sendable, CaseIterable {
        /// The mixture SPRT: safe to check at every tick (proportions and means).
        case sequential
        /// A group-sequential test with alpha spending: looks as samples accumulate, up to `expected_samples`
        /// (proportions and means).
        case groupSequential = "group_sequential"
        /// The two-proportion z-test: one look, when both arms reach `expected_samples`.
        case z
        /// Welch's t-test: one look, when both arms reach `expected_samples`.
        case welch
        /// Mann-Whitney U with the Hodges-Lehmann shift and its interval (distributions), Kayenta-style.
        case mannWhitney = "mann_whitney"
        /// Sample ratio mismatch: the arms' sizes against the rollout's share.
        case srm
    }

    public enum Metric: String, Sendable, CaseIterable {
        /// Inputs per arm `count` (successes, e.g. errors) and `total` (trials, e.g. requests).
        case proportion
        /// Inputs per arm `count` with `mean` and `variance`, or with `sum` and `sum_squares`.
        case mean
        /// Input per arm `samples`: a list of values (one per instance, per minute, per event).
        case distribution
        /// Input per arm `total`: units exposed (for `srm`).
        case exposures
    }

    public enum PassRule: String, Sendable, CaseIterable {
        /// Pass when the canary is shown, always-valid, to be worse by less than the tolerance.
        case nonInferiority = "non_inferiority"
        /// Pass when both arms reach `expected_samples` without a regression.
        case samples
    }

    public var test: Test
    public var metric: Metric
    public var worse: Worse
    /// The false-rollback rate the test allows (its significance level).
    public var alpha: Double
    /// How much worse (in the metric's units: an absolute difference) the canary may be and still pass.
    public var tolerance: Double
    /// Neither pass nor fail before each arm has this many units.
    public var minSamples: Double
    /// The planned sample per arm: the fixed tests' horizon, the `samples` pass rule, and the mixture's tuning.
    public var expectedSamples: Double?
    /// The mixture's width τ (in the metric's units); derived from `expectedSamples` when nil.
    public var mixture: Double?
    /// How a group-sequential test spends α over the planned sample.
    public var spending: AlphaSpending
    /// The most looks a group-sequential test takes: one each time the smaller arm has grown by this fraction of
    /// `expectedSamples`, and the last at `expectedSamples`.
    public var looks: Int
    public var pass: PassRule
    /// Input name → query (templated with `{{variant}}`), read once per arm; empty for the events source.
    public var inputs: [String: String]

    public init(
        test: Test, metric: Metric, worse: Worse = .higher, alpha: Double = 0.05, tolerance: Double = 0,
        minSamples: Double = 100, expectedSamples: Double? = nil, mixture: Double? = nil,
        spending: AlphaSpending = .obrienFleming, looks: Int = 10, pass: PassRule = .samples,
        inputs: [String: String] = [:]
    ) {
        self.test = test
        self.metric = metric
        self.worse = worse
        self.alpha = alpha
        self.tolerance = tolerance
        self.minSamples = minSamples
        self.expectedSamples = expectedSamples
        self.mixture = mixture
        self.spending = spending
        self.looks = looks
        self.pass = pass
        self.inputs = inputs
    }

    /// The inputs a metric needs per arm, in the order they are read; for a mean, either set.
    public static func inputNames(_ metric: Metric) -> [[String]] {
        switch metric {
        case .proportion: [["count", "total"]]
        case .mean: [["count", "mean", "variance"], ["count", "sum", "sum_squares"]]
        case .distribution: [["samples"]]
        case .exposures: [["total"]]
        }
    }

    /// The bound in words, for status lines.
    public var boundDescription: String {
        switch test {
        case .srm: return "split fits the share (χ² p ≥ \(JSONValue.format(alpha)))"
        case .mannWhitney:
            return "shift ≤ \(JSONValue.format(tolerance)) (Mann-Whitney, \(percent(1 - alpha)) interval)"
        case .groupSequential:
            return
                "canary worse by ≤ \(JSONValue.format(tolerance)) (group-sequential, \(spending.name), α \(JSONValue.format(alpha)))"
        default:
            let name = test == .sequential ? "mSPRT" : test == .z ? "z-test" : "Welch t"
            return "canary worse by ≤ \(JSONValue.format(tolerance)) (\(name), α \(JSONValue.format(alpha)))"
        }
    }
}

/// What a statistical gate read for one arm.
public enum ArmReading: Sendable, Equatable {
    case summary(ArmSummary)
    case samples([Double])
    /// The inputs could not be read: no data or an error, with why.
    case unusable(GateOutcome, String)
}
