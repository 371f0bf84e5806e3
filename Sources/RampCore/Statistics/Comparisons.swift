#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One arm (canary or baseline) summarized: its sample size, mean and per-unit variance.
public struct ArmSummary: Sendable, Equatable {
    public var count: Double
    public var mean: Double
    /// The sample variance of one unit (n − 1 in the denominator for means, p(1 − p) for proportions).
    public var variance: Double

    public init(count: Double, mean: Double, variance: Double) {
        self.count = count
        self.mean = mean
        self.variance = variance
    }

    /// `successes` of `trials` (errors of requests, conversions of users): mean p, variance p(1 − p).
    public static func proportion(successes: Double, trials: Double) -> ArmSummary {
        let p = trials > 0 ? successes / trials : 0
        return ArmSummary(count: trials, mean: p, variance: p * (1 - p))
    }

    /// From the count, the sum and the sum of squares of the values.
    ///
    /// Rounding can leave a tiny negative variance for values that are all equal, which counts as 0. A result that
    /// overflowed (a sum of squares past 1e308) is infinite, and one below what the sum allows (fewer squares than
    /// any real values have) stays negative: a gate judges neither, it refuses them as an error.
    public static func moments(count: Double, sum: Double, sumOfSquares: Double) -> ArmSummary {
        guard count > 0 else { return ArmSummary(count: count == 0 ? 0 : count, mean: 0, variance: 0) }
        let mean = sum / count
        guard count > 1 else { return ArmSummary(count: count, mean: mean, variance: 0) }
        let variance = (sumOfSquares - count * mean * mean) / (count - 1)
        guard variance.isFinite else { return ArmSummary(count: count, mean: mean, variance: .infinity) }
        let rounding = 1e-9 * abs(sumOfSquares) / (count - 1)
        return ArmSummary(count: count, mean: mean, variance: variance < 0 && -variance <= rounding ? 0 : variance)
    }

    /// From a list of values.
    public static func of(_ values: [Double]) -> ArmSummary {
        moments(
            count: Double(values.count), sum: values.reduce(0, +), sumOfSquares: values.reduce(0) { $0 + $1 * $1 })
    }

    /// The variance of this arm's mean.
    var varianceOfMean: Double { count > 0 ? variance / count : .infinity }
}

/// Which way of a metric hurts.
public enum Worse: String, Sendable, CaseIterable {
    /// Errors, latency: a higher canary is worse.
    case higher = "higher_is_worse"
    /// Conversions, throughput: a lower canary is worse.
    case lower = "lower_is_worse"

    /// How much worse the canary is than the baseline, given the difference canary − baseline.
    func worseBy(_ difference: Double) -> Double { self == .higher ? difference : -difference }
}

/// The mixture sequential probability ratio test (Johari, Koomen, Pekelis, Walsh, "Always Valid Inference",
/// Operations Research 2022), one-sided, on the difference of two means under the normal approximation.
///
/// With δ̂ the canary's excess over the baseline in the direction that hurts, V its variance (σ²c/nc + σ²b/nb)
/// and a half-normal mixture of width τ over the alternatives beyond the null value δ₀, the mixture likelihood
/// ratio of "worse by more than δ₀" against "worse by δ₀" is
///
///     Λ = 2 Φ(θ τ / √(V (V + τ²))) · √(V / (V + τ²)) · exp(θ² τ² / (2 V (V + τ²))),   θ = δ̂ − δ₀,
///
/// a non-negative supermartingale under the null, so by Ville's inequality P(Λ ever ≥ 1/α) ≤ α: the test may be
/// checked at every tick and still rejects a true null at most α of the time. The always-valid p-value is
/// min(1, 1/Λ). The two-sided always-valid interval (normal mixture) is θ̂ ± √(V (V+τ²)/τ² · (log((V+τ²)/V) − 2 log α)).
public enum MixtureSPRT {
    /// The one-sided mixture likelihood ratio for an estimate `theta` above its null, with variance `v`.
    public static func likelihoodRatio(theta: Double, variance v: Double, tau: Double) -> Double {
        let t2 = tau * tau
        let shrink = (v / (v + t2)).squareRoot()
        let z = theta * tau / (v * (v + t2)).squareRoot()
        let exponent = theta * theta * t2 / (2 * v * (v + t2))
        // 2Φ(z)·exp(…) in logs, so a large exponent does not overflow before the product is formed.
        return exp(log(2 * Normal.cdf(z)) + log(shrink) + exponent)
    }

    /// The half-width of the always-valid (1 − α) interval around the estimate.
    public static func halfWidth(variance v: Double, tau: Double, alpha: Double) -> Double {
        let t2 = tau * tau
        return (v * (v + t2) / t2 * (log((v + t2) / v) - 2 * log(alpha))).squareRoot()
    }

    /// The mixture width that makes the test most sensitive at `samples` per arm (Howard et al.'s choice for a
    /// normal mixture, as safe-rollout tools use): τ² = V_N · (−2 log α + log(1 − 2 log α)), with V_N the
    /// variance of the difference at that sample size.
    public static func tau(perUnitVariance: Double, samples: Double, alpha: Double) -> Double {
        let vn = perUnitVariance / samples
        return (vn * (-2 * log(alpha) + log(1 - 2 * log(alpha)))).squareRoot()
    }
}

/// The fixed-horizon tests: valid for one look at a sample size fixed in advance, not for a look at every tick.
public enum FixedHorizon {
    /// The two-proportion z-test, pooled standard error: z and its one-sided p-value for "canary worse by more
    /// than `tolerance`".
    public static func proportions(canary: ArmSummary, baseline: ArmSummary, worse: Worse, tolerance: Double = 0)
        -> (z: Double, p: Double)
    {
        let se = pooledVariance(canary: canary, baseline: baseline).squareRoot()
        let z = (worse.worseBy(canary.mean - baseline.mean) - tolerance) / se
        return (z, Normal.sf(z))
    }

    /// The variance of the difference of two proportions with both arms pooled: p̄(1 − p̄)(1/nc + 1/nb).
    static func pooledVariance(canary: ArmSummary, baseline: ArmSummary) -> Double {
        let pooled = (canary.mean * canary.count + baseline.mean * baseline.count) / (canary.count + baseline.count)
        return pooled * (1 - pooled) * (1 / canary.count + 1 / baseline.count)
    }

    /// Welch's t-test: t, the Welch–Satterthwaite degrees of freedom, and the one-sided p-value for "canary worse
    /// by more than `tolerance`" (NaN when there are no degrees of freedom).
    public static func welch(canary: ArmSummary, baseline: ArmSummary, worse: Worse, tolerance: Double = 0)
        -> (t: Double, df: Double, p: Double)
    {
        let vc = canary.varianceOfMean
        let vb = baseline.varianceOfMean
        let t = (worse.worseBy(canary.mean - baseline.mean) - tolerance) / (vc + vb).squareRoot()
        let df = (vc + vb) * (vc + vb) / (vc * vc / (canary.count - 1) + vb * vb / (baseline.count - 1))
        // No degrees of freedom (an arm of one, or no variance at all): no p-value.
        guard df.isFinite, df > 0 else { return (t, df, .nan) }
        return (t, df, StudentT.sf(t, df: df))
    }
}

/// The Mann-Whitney U test on two samples, with the Hodges-Lehmann shift and its distribution-free interval —
/// the comparison Kayenta's canary judge makes.
public struct MannWhitney: Sendable, Equatable {
    /// The most values per arm the gate compares (the newest): the interval sorts every pairwise difference.
    public static let sampleLimit = 2_000

    /// U of the canary: the number of (canary, baseline) pairs where the canary is larger, ties counting ½.
    public var u: Double
    /// The one-sided p-value (normal approximation, tie-corrected, with continuity correction) for "the canary
    /// tends to be worse".
    public var p: Double
    /// The Hodges-Lehmann estimate of the shift canary − baseline: the median of all pairwise differences.
    public var shift: Double
    /// The (1 − α) interval on the shift from the order statistics of the pairwise differences.
    public var lower: Double
    public var upper: Double

    public init(canary: [Double], baseline: [Double], worse: Worse, alpha: Double) {
        let n = Double(canary.count)
        let m = Double(baseline.count)
        // Mid-ranks over the pooled sample.
        let pooled = (canary.map { ($0, true) } + baseline.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count, pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2
            let ties = Double(j - i + 1)
            tieTerm += ties * ties * ties - ties
            for k in i...j where pooled[k].1 { rankSum += rank }
            i = j + 1
        }
        u = rankSum - n * (n + 1) / 2
        let total = n + m
        let sigma = (n * m / 12 * ((total + 1) - tieTerm / (total * (total - 1)))).squareRoot()
        let excess = worse == .higher ? u - n * m / 2 : n * m / 2 - u
        p = sigma > 0 ? Normal.sf((excess - 0.5) / sigma) : 0.5
        var differences: [Double] = []
        differences.reserveCapacity(canary.count * baseline.count)
        for c in canary { for b in baseline { differences.append(c - b) } }
        differences.sort()
        let count = differences.count
        shift =
            count % 2 == 1
            ? differences[count / 2] : (differences[count / 2 - 1] + differences[count / 2]) / 2
        // The k-th smallest and k-th largest differences bound the shift with confidence 1 − α (no ties).
        let z = Normal.quantile(1 - alpha / 2)
        // A tiny alpha makes the quantile infinite: the interval is then as wide as the differences go.
        let rank = (n * m / 2 - z * (n * m * (total + 1) / 12).squareRoot()).rounded(.down)
        let k = rank.isFinite && rank >= 1 ? Int(exactly: min(rank, Double(count))) ?? 1 : 1
        lower = differences[min(k, count) - 1]
        upper = differences[max(count - k, 0)]
    }
}

/// The sample ratio mismatch check: do the arms' sizes fit the planned split?
public enum SampleRatio {
    /// The chi-square statistic (1 degree of freedom) and its p-value for `canary` and `baseline` units against a
    /// planned canary share `share` (0 < share < 1).
    public static func test(canary: Double, baseline: Double, share: Double) -> (chiSquare: Double, p: Double) {
        let total = canary + baseline
        let expectedCanary = total * share
        let expectedBaseline = total * (1 - share)
        let x2 =
            (canary - expectedCanary) * (canary - expectedCanary) / expectedCanary
            + (baseline - expectedBaseline) * (baseline - expectedBaseline) / expectedBaseline
        return (x2, ChiSquare.sf(x2, df: 1))
    }

    /// Across any number of arms: Pearson's chi-square statistic (k − 1 degrees of freedom) and its p-value for
    /// each arm's `units` against its planned `weights` (any scale). Nil unless there are at least two arms, the
    /// counts are non-negative with a positive total, and the weights are finite and positive.
    public static func test(units: [Int], weights: [Double]) -> (chiSquare: Double, p: Double)? {
        guard units.count >= 2, units.count == weights.count, units.allSatisfy({ $0 >= 0 }),
            weights.allSatisfy({ $0.isFinite && $0 > 0 })
        else { return nil }
        let total = units.reduce(0.0) { $0 + Double($1) }
        let weightSum = weights.reduce(0, +)
        guard total > 0, weightSum.isFinite else { return nil }
        var x2 = 0.0
        for (count, weight) in zip(units, weights) {
            let expected = total * weight / weightSum
            x2 += (Double(count) - expected) * (Double(count) - expected) / expected
        }
        return (x2, ChiSquare.sf(x2, df: Double(units.count - 1)))
    }
}
