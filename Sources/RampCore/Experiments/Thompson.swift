#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SeededRandom {
    /// A standard normal draw (Box–Muller; one of the pair).
    public mutating func normal() -> Double {
        sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform())
    }

    /// A Gamma(shape, 1) draw, shape > 0: Marsaglia and Tsang's squeeze (2000), with Gamma(k) = Gamma(k + 1) ·
    /// U^(1/k) below 1.
    public mutating func gamma(_ shape: Double) -> Double {
        guard shape.isFinite, shape > 0 else { return .nan }
        if shape < 1 { return gamma(shape + 1) * pow(uniform(), 1 / shape) }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal()
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(a, b) draw, a, b > 0 (else NaN): X / (X + Y) of two Gamma draws. With shapes so small that both
    /// draws underflow to 0, the draw is 0 or 1 with the Beta's odds of being nearer either.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(a)
        let y = gamma(b)
        guard x.isFinite, y.isFinite else { return .nan }
        if x + y == 0 { return uniform() < a / (a + b) ? 1 : 0 }
        return x / (x + y)
    }
}

/// Thompson sampling: each arm's posterior, the probability that each is best (by seeded draws, so a reweight
/// is reproducible from its seed), and the weights that follow from it.
public enum Thompson {
    /// What is believed of an arm's metric after its data.
    public enum Posterior: Sendable, Equatable {
        /// A conversion rate: Beta(1 + successes, 1 + failures), from a uniform prior.
        case beta(alpha: Double, beta: Double)
        /// A mean: normal around the sample mean with its standard error (flat prior, known variance).
        case normal(mean: Double, standardError: Double)

        /// The posterior of `successes` in `units` under a uniform prior; nil unless 0 ≤ successes ≤ units.
        public static func conversions(_ successes: Int, of units: Int) -> Posterior? {
            guard successes >= 0, units >= successes else { return nil }
            return .beta(alpha: 1 + Double(successes), beta: 1 + Double(units - successes))
        }

        /// The posterior of a mean from `units` values with `mean` and sample `variance`; nil without at least
        /// two units or with numbers that are not finite.
        public static func mean(_ mean: Double, variance: Double, units: Int) -> Posterior? {
            guard units >= 2, mean.isFinite, variance.isFinite, variance >= 0 else { return nil }
            return .normal(mean: mean, standardError: (variance / Double(units)).squareRoot())
        }

        var isValid: Bool {
            switch self {
            case .beta(let a, let b): a.isFinite && b.isFinite && a > 0 && b > 0
            case .normal(let m, let se): m.isFinite && se.isFinite && se >= 0
            }
        }

        func draw(_ random: inout SeededRandom) -> Double {
            switch self {
            case .beta(let a, let b): random.beta(a, b)
            case .normal(let m, let se): m + se * random.normal()
            }
        }
    }

    /// The share of `draws` joint draws in which each arm's draw is the largest (ties to the first); nil for no
    /// arms, fewer than one draw, or a posterior whose parameters are not finite and positive.
    public static func probabilityBest(_ arms: [Posterior], draws: Int, seed: UInt64) -> [Double]? {
        guard !arms.isEmpty, draws >= 1, arms.allSatisfy(\.isValid) else { return nil }
        var random = SeededRandom(seed: seed)
        var wins = [Int](repeating: 0, count: arms.count)
        for _ in 0..<draws {
            var best = 0
            var top = -Double.infinity
            for (i, arm) in arms.enumerated() {
                let value = arm.draw(&random)
                if value > top {
                    top = value
                    best = i
                }
            }
            wins[best] += 1
        }
        return wins.map { Double($0) / Double(draws) }
    }

    /// Thompson sampling's weights with a floor: each arm `floor` plus its share of the rest by its probability of
    /// being best. Nil when the floors take more than everything, a probability is not in [0, 1], or all are 0.
    public static func weights(probabilityBest: [Double], floor: Double) -> [Double]? {
        let k = Double(probabilityBest.count)
        guard !probabilityBest.isEmpty, floor.isFinite, floor >= 0, floor * k <= 1,
            probabilityBest.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 })
        else { return nil }
        let sum = probabilityBest.reduce(0, +)
        guard sum > 0 else { return nil }
        return probabilityBest.map { floor + (1 - floor * k) * $0 / sum }
    }
}
