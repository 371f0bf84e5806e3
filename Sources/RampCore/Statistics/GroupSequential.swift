import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a group-sequential test spends its false-rollback rate α over the information fraction t (the share of the
/// planned sample reached, 0…1): Lan and DeMets' spending functions (Biometrika 1983), one-sided.
public enum AlphaSpending: String, Sendable, CaseIterable {
    /// O'Brien-Fleming-type: α(t) = 2 − 2Φ(z₁₋α/₂ / √t). Almost nothing early, nearly all α at the end, so the
    /// maximum sample is barely above a single look's.
    case obrienFleming = "obrien_fleming"
    /// Pocock-type: α(t) = α · ln(1 + (e − 1) t). Spent evenly: stops early on large effects, but needs a larger
    /// maximum sample.
    case pocock

    /// `O'Brien-Fleming` or `Pocock`, as status lines, plans and benchmarks say it.
    public var name: String { self == .obrienFleming ? "O'Brien-Fleming" : "Pocock" }

    /// The α spent by information fraction `t` (clipped to 0…1).
    public func spent(_ t: Double, alpha: Double) -> Double {
        let t = min(max(t, 0), 1)
        guard t > 0 else { return 0 }
        switch self {
        case .obrienFleming: return 2 * Normal.sf(Normal.quantile(1 - alpha / 2) / t.squareRoot())
        case .pocock: return alpha * log(1 + (M_E - 1) * t)
        }
    }
}

/// A one-sided group-sequential test with alpha spending, look by look: at each look, at whatever information
/// fraction it comes, the boundary is the z that makes the probability of first crossing there (under the null,
/// having not crossed before) equal to the α the spending function allows by then, less what was spent before.
///
/// The probabilities come from the recursive numerical integration of Armitage, McPherson and Rowe (1969) on the
/// score scale S = Z·√t, whose increments between looks are independent N(θ·Δt, Δt): the density of the paths
/// still running is carried from look to look on a uniform lattice, piecewise linear between its points, and
/// convolved with each increment's normal density in closed form. As in Reboussin et al.'s `ldbounds`, paths are
/// truncated below at −8√t and boundaries are capped at z = 8 (an increment of α smaller than P(Z > 8) is not
/// spent then, and stays available to later looks).
public struct GroupSequential: Sendable {
    public let spending: AlphaSpending
    public let alpha: Double
    /// The drift θ: S(t) ~ N(θt, t). Zero under the null, where boundaries are solved.
    public let drift: Double
    /// The information fraction of each look so far.
    public private(set) var fractions: [Double] = []
    /// The boundary of each look on the z scale.
    public private(set) var boundaries: [Double] = []
    /// The probability of first crossing at each look (under the drift).
    public private(set) var exits: [Double] = []

    /// The truncation of paths below and of boundaries above, in z.
    public static let truncation = 8.0
    /// How far each increment's normal density is integrated, in its standard deviations.
    static let window = 9.0

    /// The lattice spacing on the S scale (fixed at the first look), the index of the first lattice point with a
    /// value, the density at successive lattice points, and the last look's boundary on the S scale with the
    /// density there (the end of the last, partial segment).
    private var spacing = 0.0
    private var first = 0
    private var values: [Double] = []
    private var end = 0.0
    private var endValue = 0.0

    /// The smallest step in information expected between looks: the lattice is fine enough for it (a smaller step
    /// is still integrated exactly, on a lattice coarser than it would need).
    public let smallestStep: Double

    public init(spending: AlphaSpending, alpha: Double, drift: Double = 0, smallestStep: Double = 0.01) {
        self.spending = spending
        self.alpha = alpha
        self.drift = drift
        self.smallestStep = min(max(smallestStep, 1e-6), 1)
    }

    /// The α spent by the looks so far: the sum of their exit probabilities under the null.
    public var spent: Double { exits.reduce(0, +) }

    /// Takes a look at information fraction `t` (after the last one, at most 1) and returns its boundary on the
    /// z scale, solved so this look spends what the spending function allows.
    @discardableResult
    public mutating func look(at t: Double) -> Double { advance(to: t, boundary: nil) }

    /// Takes a look at `t` with a boundary already known (from a solved design) and returns the probability of
    /// first crossing it there under this test's drift.
    @discardableResult
    public mutating func look(at t: Double, boundary z: Double) -> Double {
        _ = advance(to: t, boundary: z)
        return exits[exits.count - 1]
    }

    /// The boundaries (z) of the looks at `fractions` (increasing, in 0…1].
    public static func boundaries(fractions: [Double], spending: AlphaSpending, alpha: Double) -> [Double] {
        var test = GroupSequential(spending: spending, alpha: alpha, smallestStep: smallestStep(fractions))
        for t in fractions { test.look(at: t) }
        return test.boundaries
    }

    /// The probability of first crossing at each look, for `boundaries` at `fractions`, under drift θ.
    public static func crossings(fractions: [Double], boundaries: [Double], drift: Double) -> [Double] {
        var test = GroupSequential(
            spending: .obrienFleming, alpha: 0, drift: drift, smallestStep: smallestStep(fractions))
        for (t, z) in zip(fractions, boundaries) { test.look(at: t, boundary: z) }
        return test.exits
    }

    /// A design with `looks` equally spaced looks that has `power` against the effect a single look at the fixed
    /// horizon detects with that power: its maximum sample as a multiple of the fixed horizon's (the inflation
    /// factor), and its expected sample under that effect (stopping at the look that crosses, else at the maximum).
    public static func design(spending: AlphaSpending, alpha: Double, power: Double, looks: Int)
        -> (maximum: Double, expected: Double)
    {
        let fractions = (1...max(1, looks)).map { Double($0) / Double(max(1, looks)) }
        let boundaries = Self.boundaries(fractions: fractions, spending: spending, alpha: alpha)
        let single = Normal.quantile(1 - alpha) + Normal.quantile(power)
        func detects(_ drift: Double) -> [Double] {
            crossings(fractions: fractions, boundaries: boundaries, drift: drift)
        }
        // The drift at the maximum that gives `power`: between the single look's and twice that.
        var (low, high) = (single * 0.9, single * 2)
        for _ in 0..<30 {
            let mid = (low + high) / 2
            if detects(mid).reduce(0, +) < power { low = mid } else { high = mid }
        }
        let drift = (low + high) / 2
        let exits = detects(drift)
        let stopped = zip(fractions, exits).map { $0 * $1 }.reduce(0, +) + (1 - exits.reduce(0, +))
        let maximum = (drift / single) * (drift / single)
        return (maximum, maximum * stopped)
    }

    /// The smallest step between successive `fractions` (the first from 0).
    static func smallestStep(_ fractions: [Double]) -> Double {
        zip([0] + fractions, fractions).map { $1 - $0 }.min() ?? 1
    }

    private mutating func advance(to t: Double, boundary given: Double?) -> Double {
        let previous = fractions.last ?? 0
        let delta = t - previous
        let sigma = delta.squareRoot()
        let shift = drift * delta
        let root = t.squareRoot()
        let floor = -Self.truncation * root
        let cap = Self.truncation * root
        if fractions.isEmpty { spacing = min(smallestStep, delta).squareRoot() / 20 }
        let c: Double
        if let given {
            c = min(max(given * root, floor), cap)
        } else {
            let target = spending.spent(t, alpha: alpha) - spent
            if target <= exit(above: cap, sigma: sigma, shift: shift, t: t) {
                c = cap
            } else {
                // The exit probability falls as the boundary rises: bisect for the one that spends `target`.
                var low = floor
                var high = cap
                for _ in 0..<64 where high - low > 1e-10 {
                    let mid = (low + high) / 2
                    if exit(above: mid, sigma: sigma, shift: shift, t: t) > target { low = mid } else { high = mid }
                }
                c = (low + high) / 2
            }
        }
        let crossing = exit(above: c, sigma: sigma, shift: shift, t: t)
        // The density of the paths still running, on the lattice from the floor to the boundary.
        let low = Int((floor / spacing).rounded(.down))
        let high = max(Int((c / spacing).rounded(.down)), low)
        var next = [Double](repeating: 0, count: high - low + 1)
        if fractions.isEmpty {
            for j in next.indices {
                next[j] = Self.normalDensity((Double(low + j) * spacing - drift * t) / root) / root
            }
            endValue = Self.normalDensity((c - drift * t) / root) / root
        } else {
            convolve(into: &next, from: low, sigma: sigma, shift: shift)
            endValue = density(at: c, sigma: sigma, shift: shift)
        }
        // A linear piece over a convex stretch of density holds more mass than the density does (h²f''/12 per
        // unit length, the trapezoid rule's error): taking that off each interior value leaves an error of order h⁴.
        if next.count > 2 {
            var corrected = next
            for i in 1..<(next.count - 1) { corrected[i] -= (next[i + 1] - 2 * next[i] + next[i - 1]) / 12 }
            next = corrected
        }
        first = low
        values = next
        end = max(c, Double(high) * spacing)
        fractions.append(t)
        boundaries.append(c / root)
        exits.append(crossing)
        return c / root
    }

    /// The probability that a path still running at the last look is above `c` at this one.
    private func exit(above c: Double, sigma: Double, shift: Double, t: Double) -> Double {
        guard !fractions.isEmpty else { return Normal.sf((c - drift * t) / t.squareRoot()) }
        // ∫ f(u) Φ((u + shift − c)/σ) du over each linear piece of the density f.
        let limit = Self.window
        var total = 0.0
        func piece(_ u0: Double, _ u1: Double, _ f0: Double, _ f1: Double) {
            guard u1 > u0 else { return }
            let w0 = (u0 + shift - c) / sigma
            let w1 = (u1 + shift - c) / sigma
            if w1 < -limit { return }
            if w0 > limit {
                total += (f0 + f1) / 2 * (u1 - u0)
                return
            }
            // f = a + m·u, u = c − shift + σw: σ ∫ (a + m(c − shift) + mσw) Φ(w) dw.
            let m = (f1 - f0) / (u1 - u0)
            let base = f0 + m * (c - shift - u0)
            let (p0, p1) = (Normal.cdf(w0), Normal.cdf(w1))
            let (d0, d1) = (Self.normalDensity(w0), Self.normalDensity(w1))
            let integralPhi = (w1 * p1 + d1) - (w0 * p0 + d0)
            let integralWPhi = ((w1 * w1 - 1) * p1 + w1 * d1 - (w0 * w0 - 1) * p0 - w0 * d0) / 2
            total += sigma * (base * integralPhi + m * sigma * integralWPhi)
        }
        for i in 0..<(values.count - 1) {
            piece(Double(first + i) * spacing, Double(first + i + 1) * spacing, values[i], values[i + 1])
        }
        piece(Double(first + values.count - 1) * spacing, end, values[values.count - 1], endValue)
        return max(0, total)
    }

    /// The density at `s` of the paths still running at the last look, moved on by one increment.
    private func density(at s: Double, sigma: Double, shift: Double) -> Double {
        var total = 0.0
        func piece(_ u0: Double, _ u1: Double, _ f0: Double, _ f1: Double) {
            guard u1 > u0 else { return }
            total += Self.convolved(u0, u1, f0, f1, at: s - shift, sigma: sigma)
        }
        let reach = Self.window * sigma
        let lowIndex = max(0, Int(((s - shift - reach) / spacing).rounded(.down)) - first)
        let highIndex = min(values.count - 1, Int(((s - shift + reach) / spacing).rounded(.up)) - first)
        if lowIndex < highIndex {
            for i in lowIndex..<highIndex {
                piece(Double(first + i) * spacing, Double(first + i + 1) * spacing, values[i], values[i + 1])
            }
        }
        piece(Double(first + values.count - 1) * spacing, end, values[values.count - 1], endValue)
        return total
    }

    /// ∫ over [u0, u1] of the linear piece from f0 to f1, times the normal density of `s − u` with deviation σ.
    static func convolved(_ u0: Double, _ u1: Double, _ f0: Double, _ f1: Double, at s: Double, sigma: Double)
        -> Double
    {
        let z0 = (u0 - s) / sigma
        let z1 = (u1 - s) / sigma
        if z1 < -window || z0 > window { return 0 }
        let m = (f1 - f0) / (u1 - u0)
        return (f0 + m * (s - u0)) * (Normal.cdf(z1) - Normal.cdf(z0))
            + m * sigma * (normalDensity(z0) - normalDensity(z1))
    }

    /// The density at lattice points `low`… of the running paths moved on by one increment. Source and target share
    /// the lattice, so the kernel's terms depend only on the offset between points, and are computed once.
    private mutating func convolve(into next: inout [Double], from low: Int, sigma: Double, shift: Double) {
        let h = spacing
        let reach = Int(((Self.window * sigma + abs(shift)) / h).rounded(.up)) + 1
        // For offset d = i − j (source point i, target point j): z = (d·h + shift)/σ.
        var cdf = [Double](repeating: 0, count: 2 * reach + 2)
        var pdf = [Double](repeating: 0, count: 2 * reach + 2)
        for k in cdf.indices {
            let z = (Double(k - reach) * h + shift) / sigma
            cdf[k] = Normal.cdf(z)
            pdf[k] = Self.normalDensity(z)
        }
        let lastFull = values.count - 1  // full lattice segments are i = 0..<lastFull
        for j in next.indices {
            let target = low + j
            let s = Double(target) * h - shift
            var total = 0.0
            let from = max(0, target - reach - first)
            let to = min(lastFull, target + reach - first)
            if from < to {
                for i in from..<to {
                    let d = first + i - target + reach
                    let f0 = values[i]
                    let m = (values[i + 1] - f0) / h
                    total +=
                        (f0 + m * (s - Double(first + i) * h)) * (cdf[d + 1] - cdf[d]) + m * sigma
                        * (pdf[d] - pdf[d + 1])
                }
            }
            let tail = Double(first + lastFull) * h
            if end > tail {
                total += Self.convolved(tail, end, values[lastFull], endValue, at: s, sigma: sigma)
            }
            next[j] = max(0, total)
        }
    }

    static func normalDensity(_ z: Double) -> Double { exp(-z * z / 2) / (2 * Double.pi).squareRoot() }
}

extension GroupSequential {
    /// The test after looks at `fractions`, each look solved once per process: a process that judges the same looks
    /// again (a simulation's runs, a gate replaying its step's looks at every check) reuses what it solved. At most
    /// `cacheLimit` designs are kept; the cache starts over when full.
    public static func replay(spending: AlphaSpending, alpha: Double, smallestStep: Double, fractions: [Double])
        -> GroupSequential
    {
        guard let last = fractions.last else {
            return GroupSequential(spending: spending, alpha: alpha, smallestStep: smallestStep)
        }
        let key = Key(spending: spending, alpha: alpha, smallestStep: smallestStep, fractions: fractions)
        if let known = solved.withLock({ $0[key] }) { return known }
        var test = replay(
            spending: spending, alpha: alpha, smallestStep: smallestStep, fractions: Array(fractions.dropLast()))
        test.look(at: last)
        solved.withLock {
            if $0.count >= cacheLimit { $0.removeAll() }
            $0[key] = test
        }
        return test
    }

    static let cacheLimit = 512

    struct Key: Hashable {
        let spending: AlphaSpending
        let alpha: Double
        let smallestStep: Double
        let fractions: [Double]
    }

    private static let solved = Mutex<[Key: GroupSequential]>([:])
}
