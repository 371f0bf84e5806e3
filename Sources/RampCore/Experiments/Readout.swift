#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An experiment arm's data: units, and the sum (and sum of squares) of the metric over them.
public struct ArmData: Sendable, Equatable {
    public enum Metric: String, Sendable { case proportion, mean }

    public var metric: Metric
    public var units: Int
    public var sum: Double
    public var sumOfSquares: Double

    /// Nil unless units ≥ 2 and the sums are finite (and, for a proportion, 0 ≤ sum ≤ units).
    public init?(metric: Metric, units: Int, sum: Double, sumOfSquares: Double? = nil) {
        guard units >= 2, sum.isFinite else { return nil }
        switch metric {
        case .proportion:
            guard sum >= 0, sum <= Double(units) else { return nil }
        case .mean:
            guard let sumOfSquares, sumOfSquares.isFinite, sumOfSquares >= 0 else { return nil }
        }
        self.metric = metric
        self.units = units
        self.sum = sum
        self.sumOfSquares = metric == .proportion ? sum : sumOfSquares!
    }

    public var mean: Double { sum / Double(units) }

    /// A proportion's p(1 − p); a mean's sample variance (n − 1 in the denominator).
    public var variance: Double {
        switch metric {
        case .proportion: mean * (1 - mean)
        case .mean: max(0, (sumOfSquares - sum * sum / Double(units)) / Double(units - 1))
        }
    }
}

/// A treatment against the control: the relative lift with its interval and p-value, fixed-horizon (Welch's t
/// on the delta-method variance of the ratio) and always-valid (the asymptotic confidence sequence of
/// Waudby-Smith et al. 2023, eq. 9 and 155, for peeking at every tick) — as GrowthBook's gbstats computes them.
public struct Lift: Sendable, Equatable {
    /// (treatment − control) / control.
    public var estimate: Double
    public var interval: (lower: Double, upper: Double)
    public var pValue: Double
    public var alwaysValidInterval: (lower: Double, upper: Double)
    public var alwaysValidPValue: Double

    public static func == (a: Lift, b: Lift) -> Bool {
        a.estimate == b.estimate && a.interval == b.interval && a.pValue == b.pValue
            && a.alwaysValidInterval == b.alwaysValidInterval && a.alwaysValidPValue == b.alwaysValidPValue
    }

    /// The lift of `treatment` over `control` at level `alpha` (two-sided); `tuning` is the confidence sequence's
    /// tuning (the sample size it is tightest at). Nil, as gbstats refuses them, when the control's mean is 0 or
    /// either arm has no variance (a treatment with no conversions at all, or every conversion), alpha is not in
    /// (0, 1), or tuning is not positive.
    public static func of(
        _ treatment: ArmData, over control: ArmData, alpha: Double = 0.05, tuning: Double = 5_000
    ) -> Lift? {
        guard alpha > 0, alpha < 1, tuning > 0, tuning.isFinite, control.mean != 0 else { return nil }
        let (ma, mb) = (control.mean, treatment.mean)
        let (va, vb) = (control.variance, treatment.variance)
        let (na, nb) = (Double(control.units), Double(treatment.units))
        guard va > 0, vb > 0 else { return nil }
        let estimate = (mb - ma) / ma
        // The delta method's variance of the ratio of means.
        let variance = vb / (ma * ma * nb) + va * mb * mb / (ma * ma * ma * ma * na)
        guard variance > 0, variance.isFinite else { return nil }
        let se = variance.squareRoot()
        // Welch–Satterthwaite degrees of freedom on the raw variances.
        let df =
            pow(vb / nb + va / na, 2) / (pow(vb, 2) / (nb * nb * (nb - 1)) + pow(va, 2) / (na * na * (na - 1)))
        guard df > 0, df.isFinite else { return nil }
        let t = estimate / se
        let pValue = 2 * StudentT.sf(abs(t), df: df)
        let width = StudentT.quantile(1 - alpha / 2, df: df) * se
        // The asymptotic confidence sequence.
        let n = na + nb
        let rho = ((-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tuning).squareRoot()
        let rho2n = n * rho * rho
        let sequentialWidth = sequentialHalfWidth(variance: variance, n: n, alpha: alpha, tuning: tuning)
        let st2 = estimate * estimate * n / variance
        let evalue = exp(rho * rho * st2 / (2 * (rho2n + 1))) / (rho2n + 1).squareRoot()
        return Lift(
            estimate: estimate, interval: (estimate - width, estimate + width), pValue: min(1, pValue),
            alwaysValidInterval: (estimate - sequentialWidth, estimate + sequentialWidth),
            alwaysValidPValue: min(1, 1 / evalue))
    }

    /// The lift as the readout and the audit log write it.
    public var json: JSONValue {
        [
            "estimate": .number(estimate), "interval": [.number(interval.lower), .number(interval.upper)],
            "p": .number(pValue),
            "always_valid_interval": [.number(alwaysValidInterval.lower), .number(alwaysValidInterval.upper)],
            "always_valid_p": .number(alwaysValidPValue),
        ]
    }

    /// The half-width of the asymptotic confidence sequence (Waudby-Smith et al. 2023, eq. 9) for an estimate
    /// with `variance` after `n` units in all, at level `alpha`, tuned to `tuning` units.
    public static func sequentialHalfWidth(variance: Double, n: Double, alpha: Double, tuning: Double) -> Double {
        let rho = ((-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tuning).squareRoot()
        let rho2n = n * rho * rho
        return (variance * n).squareRoot()
            * (2 * (rho2n + 1) * log((rho2n + 1).squareRoot() / alpha) / (n * rho * n * rho)).squareRoot()
    }
}
