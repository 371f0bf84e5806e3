/// One bandit reweight, a pure function of the plan, the split before it, each arm's data and a seed: the
/// posteriors, each arm's probability of being best (from seeded joint draws), the weights Thompson sampling
/// gives (top-two when the plan asks, then each arm's floor), and the split after it, moving the fewest users.
/// Its JSON is what the audit entry records; `replay` recomputes the split from that record alone.
public struct BanditReweight: Sendable, Equatable {
    public var seed: UInt64
    public var draws: Int
    public var floor: Double
    public var topTwo: Double?
    /// Arms in the plan's order (the control first, then by name).
    public var arms: [String]
    /// Oriented so that larger is better: a proportion where lower is better is read as its complement, a mean
    /// where lower is better as its negative.
    public var posteriors: [Thompson.Posterior]
    public var probabilityBest: [Double]
    public var weights: [Double]
    public var before: Allocation
    public var after: Allocation

    /// The users (as units of the split) whose variant changed.
    public var moved: Int { before.unitsMoved(to: after) }

    /// The seed of experiment `experiment`'s `n`th reweight: the first 8 bytes of SHA-256 of `flag:experiment:n`
    /// (the entry records it, so any reweight is reproducible from its entry alone), so no two of a store's
    /// reweights share draws by accident, and a rehearsal draws the same each time it runs.
    public static func seed(flag: String, experiment: Int64, reweight n: Int) -> UInt64 {
        let digest = SHA256.hash(Array("\(flag):\(experiment):\(n)".utf8))
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The posterior of an arm's data for the plan's primary metric, oriented so that larger is better.
    public static func posterior(_ data: ArmData, better: ExperimentPlan.Better) -> Thompson.Posterior? {
        switch data.metric {
        case .proportion:
            let successes = Int(data.sum.rounded())
            let failures = data.units - successes
            return better == .higher
                ? .conversions(successes, of: data.units) : .conversions(failures, of: data.units)
        case .mean:
            return .mean(better == .higher ? data.mean : -data.mean, variance: data.variance, units: data.units)
        }
    }

    /// Top-two Thompson sampling's assignment probabilities (Russo 2020): with probability β the arm drawn best,
    /// else a challenger drawn best among the others, so arm i gets β·pᵢ + (1 − β)·Σ_{j≠i} pⱼ·pᵢ/(1 − pⱼ). An arm
    /// certain to be best leaves its challenger's share to the others equally.
    public static func topTwo(_ p: [Double], beta: Double) -> [Double] {
        let k = p.count
        return (0..<k).map { i in
            var challenger = 0.0
            for j in 0..<k where j != i {
                let rest = 1 - p[j]
                challenger += rest > 1e-12 ? p[j] * p[i] / rest : p[j] / Double(k - 1)
            }
            return beta * p[i] + (1 - beta) * challenger
        }
    }

    /// The reweight from each arm's posterior; nil when a posterior is not valid or the weights cannot be made.
    public static func make(
        arms: [String], posteriors: [Thompson.Posterior], before: Allocation, seed: UInt64, draws: Int,
        floor: Double, topTwo: Double?
    ) -> BanditReweight? {
        guard arms.count == posteriors.count, arms.count >= 2,
            let best = Thompson.probabilityBest(posteriors, draws: draws, seed: seed)
        else { return nil }
        let assigned = topTwo.map { Self.topTwo(best, beta: $0) } ?? best
        guard let weights = Thompson.weights(probabilityBest: assigned, floor: floor),
            let units = Allocation.units(
                for: Dictionary(uniqueKeysWithValues: zip(arms, weights)), total: before.total),
            let after = before.reweighted(to: units)
        else { return nil }
        return BanditReweight(
            seed: seed, draws: draws, floor: floor, topTwo: topTwo, arms: arms, posteriors: posteriors,
            probabilityBest: best, weights: weights, before: before, after: after)
    }

    /// The record an audit entry carries.
    public var json: JSONValue {
        func posterior(_ p: Thompson.Posterior) -> JSONValue {
            switch p {
            case .beta(let a, let b): ["beta": [.number(a), .number(b)]]
            case .normal(let m, let se): ["normal": [.number(m), .number(se)]]
            }
        }
        return [
            "seed": .string(String(seed)), "draws": .number(Double(draws)), "floor": .number(floor),
            "top_two": topTwo.map { .number($0) } ?? .null,
            "arms": .array(
                arms.indices.map { i in
                    [
                        "variant": .string(arms[i]), "posterior": posterior(posteriors[i]),
                        "probability_best": .number(probabilityBest[i]), "weight": .number(weights[i]),
                        "units_before": .number(Double(before.units(of: arms[i]))),
                        "units_after": .number(Double(after.units(of: arms[i]))),
                    ]
                }),
            "allocation_before": before.json, "allocation_after": after.json,
            "units_moved": .number(Double(moved)), "units_total": .number(Double(before.total)),
        ]
    }

    /// Recomputes a recorded reweight from its seed, draws, floor, top-two β, posteriors and the split before it;
    /// nil when the record cannot be read. Equal to the record exactly when the entry is what ramp computed.
    public static func replay(_ record: JSONValue) -> (recorded: Allocation, replayed: BanditReweight)? {
        guard let seedText = record["seed"]?.stringValue, let seed = UInt64(seedText),
            case .number(let d)? = record["draws"], let draws = Int(exactly: d), draws >= 1, draws <= 10_000_000,
            case .number(let floor)? = record["floor"], case .array(let armList)? = record["arms"],
            let before = record["allocation_before"].flatMap(Allocation.init(json:)),
            let after = record["allocation_after"].flatMap(Allocation.init(json:))
        else { return nil }
        var topTwo: Double?
        switch record["top_two"] {
        case .number(let beta)?: topTwo = beta
        case .null?, nil: topTwo = nil
        default: return nil
        }
        var arms: [String] = []
        var posteriors: [Thompson.Posterior] = []
        for arm in armList {
            guard let variant = arm["variant"]?.stringValue,
                case .array(let p)? = arm["posterior"]?["beta"]
                    ?? arm["posterior"]?["normal"], p.count == 2, case .number(let x) = p[0], case .number(let y) = p[1]
            else { return nil }
            arms.append(variant)
            posteriors.append(
                arm["posterior"]?["beta"] != nil ? .beta(alpha: x, beta: y) : .normal(mean: x, standardError: y))
        }
        guard Set(arms).count == arms.count else { return nil }
        guard
            let replayed = make(
                arms: arms, posteriors: posteriors, before: before, seed: seed, draws: draws, floor: floor,
                topTwo: topTwo)
        else { return nil }
        return (after, replayed)
    }
}
