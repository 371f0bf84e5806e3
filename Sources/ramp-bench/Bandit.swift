// `bandit`: Thompson sampling against an equal split and ε-greedy on simulated conversions, and the users each
// reweight moves: the Allocation's minimum against a contiguous re-split.
import Foundation
import RampCore

func runBandit(_ args: [String]) {
    let runs = Int(option(args, "runs") ?? "") ?? 500
    let seed = UInt64(option(args, "seed") ?? "") ?? 1
    let intervals = Int(option(args, "intervals") ?? "") ?? 50
    let perInterval = Int(option(args, "per-interval") ?? "") ?? 1_000
    let rates = [0.10, 0.11, 0.12, 0.14]
    let names = rates.indices.map { "v\($0 + 1)" }
    let best = rates.max()!
    let burnIn = 200
    let floor = 0.01
    let epsilon = 0.1
    let total = 10_000
    guard runs > 0, intervals > 0, perInterval > 0 else {
        print("bandit: --runs, --intervals and --per-interval must be positive")
        exit(2)
    }

    enum Policy: String, CaseIterable {
        case equal = "equal split"
        case greedy = "ε-greedy (ε = 0.1)"
        case thompson = "Thompson sampling"
    }

    struct Outcome {
        var regret: [Double] = []
        var bestShareAtEnd: [Double] = []
        var movedMinimal: [Double] = []
        var movedContiguous: [Double] = []
    }
    var outcomes = Dictionary(uniqueKeysWithValues: Policy.allCases.map { ($0, Outcome()) })

    for policy in Policy.allCases {
        var random = SeededRandom(seed: seed)
        for run in 0..<runs {
            var units = [Int](repeating: 0, count: rates.count)
            var conversions = [Int](repeating: 0, count: rates.count)
            var regret = 0.0
            var weights = [Double](repeating: 1 / Double(rates.count), count: rates.count)
            var allocation = Allocation(names.map { ($0, total / rates.count) })!
            var lastBestShare = 0.0
            for interval in 0..<intervals {
                // This interval's weights, from what the intervals before it saw.
                var next = weights
                switch policy {
                case .equal: break
                case .greedy:
                    if units.allSatisfy({ $0 >= burnIn }) {
                        let observed = rates.indices.map { Double(conversions[$0]) / Double(units[$0]) }
                        let leader = observed.indices.max { observed[$0] < observed[$1] }!
                        next = rates.indices.map { $0 == leader ? 1 - epsilon + epsilon / 4 : epsilon / 4 }
                    }
                case .thompson:
                    if units.allSatisfy({ $0 >= burnIn }) {
                        let arms = rates.indices.map { Thompson.Posterior.conversions(conversions[$0], of: units[$0])! }
                        // The seed a reweight's audit entry would carry.
                        let drawSeed = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(run) << 32 ^ UInt64(interval)
                        let p = Thompson.probabilityBest(arms, draws: 1_000, seed: drawSeed)!
                        next = Thompson.weights(probabilityBest: p, floor: floor)!
                    }
                }
                // The users each reweight moves, as shares of the range.
                if next != weights,
                    let targets = Allocation.units(
                        for: Dictionary(uniqueKeysWithValues: zip(names, next)), total: total)
                {
                    let minimal = allocation.reweighted(to: targets)!
                    let contiguousBefore = Allocation(names.map { ($0, allocation.units(of: $0)) })!
                    let contiguousAfter = Allocation(names.map { ($0, targets[$0]!) })!
                    outcomes[policy]!.movedMinimal.append(
                        Double(allocation.unitsMoved(to: minimal)) / Double(total))
                    outcomes[policy]!.movedContiguous.append(
                        Double(contiguousBefore.unitsMoved(to: contiguousAfter)) / Double(total))
                    allocation = minimal
                }
                weights = next
                // This interval's users: a multinomial split by the weights, then their conversions.
                var left = perInterval
                var mass = 1.0
                for arm in rates.indices {
                    let n =
                        arm == rates.count - 1
                        ? left : random.binomial(left, min(1, max(0, weights[arm] / max(mass, 1e-12))))
                    left -= n
                    mass -= weights[arm]
                    units[arm] += n
                    conversions[arm] += random.binomial(n, rates[arm])
                    regret += Double(n) * (best - rates[arm])
                    if arm == rates.indices.last! { lastBestShare = Double(n) / Double(perInterval) }
                }
            }
            outcomes[policy]!.regret.append(regret)
            outcomes[policy]!.bestShareAtEnd.append(lastBestShare)
        }
    }

    func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
    func halfWidth(_ xs: [Double]) -> Double {
        let m = mean(xs)
        let variance = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, xs.count - 1))
        return 1.96 * (variance / Double(xs.count)).squareRoot()
    }
    func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
    print(
        "Bandit: \(rates.count) arms converting at \(rates.map { f($0 * 100, 0) + "%" }.joined(separator: ", ")); "
            + "\(intervals) intervals of \(perInterval) users; burn-in \(burnIn) units per arm; \(runs) runs; seed \(seed)"
    )
    print("")
    print("| Policy | Regret (conversions lost), mean ± 95% | × Thompson's | Best arm's share, last interval |")
    print("| --- | --- | --- | --- |")
    let thompson = mean(outcomes[.thompson]!.regret)
    for policy in Policy.allCases {
        let o = outcomes[policy]!
        print(
            "| \(policy.rawValue) | \(f(mean(o.regret))) ± \(f(halfWidth(o.regret))) | "
                + "\(f(mean(o.regret) / thompson, 2))× | \(f(mean(o.bestShareAtEnd) * 100))% |")
    }
    print("")
    print("| Policy | Reweights | Users moved per reweight: Allocation (minimum) | Contiguous re-split | Ratio |")
    print("| --- | --- | --- | --- | --- |")
    for policy in [Policy.greedy, .thompson] {
        let o = outcomes[policy]!
        print(
            "| \(policy.rawValue) | \(o.movedMinimal.count) | \(f(mean(o.movedMinimal) * 100, 2))% | "
                + "\(f(mean(o.movedContiguous) * 100, 2))% | \(f(mean(o.movedContiguous) / mean(o.movedMinimal), 2))× |"
        )
    }
}
