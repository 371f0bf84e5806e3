/// How a flag's `fractional` range is shared among variants, as segments in order: a variant may hold several.
///
/// Reweighting moves the fewest users possible. A contiguous split (`[a, 50], [b, 50]` → `[a, 30], [b, 70]`)
/// moves every user whose bucket lies between the old and new boundaries of every variant after the first
/// change, which with three or more variants can be more than the weights' difference. Here each variant that
/// shrinks gives up units from its last segments, and the freed units go to the variants that grow, so exactly
/// Σ max(0, old − new) units change owner: the total-variation distance between the two splits, times the total.
/// flagd's `fractional` takes the same variant more than once, so the segments export as they are.
public struct Allocation: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var variant: String
        public var weight: Int
    }

    /// The segments in bucket order, adjacent ones of one variant merged, none empty.
    public private(set) var segments: [Segment]

    /// The units of the range, the `fractional` total: unchanged by reweighting.
    public var total: Int { segments.reduce(0) { $0 + $1.weight } }

    /// A contiguous split in the given order; nil when a weight is negative or the total is 0 or past flagd's.
    public init?(_ weights: [(variant: String, weight: Int)]) {
        guard weights.allSatisfy({ (0...Flag.maximumTotalWeight).contains($0.weight) }),
            weights.count <= 1_000_000,
            weights.reduce(0, { $0 + $1.weight }) > 0,
            weights.reduce(0, { $0 + $1.weight }) <= Flag.maximumTotalWeight
        else { return nil }
        segments = []
        for (variant, weight) in weights { append(Segment(variant: variant, weight: weight)) }
    }

    /// The units `variant` holds.
    public func units(of variant: String) -> Int {
        segments.reduce(0) { $0 + ($1.variant == variant ? $1.weight : 0) }
    }

    /// Every variant's units.
    public var units: [String: Int] {
        segments.reduce(into: [:]) { $0[$1.variant, default: 0] += $1.weight }
    }

    /// The variant that owns `bucket` (0 ..< total).
    public func variant(atBucket bucket: Int) -> String? {
        var end = 0
        for segment in segments {
            end += segment.weight
            if bucket < end { return segment.variant }
        }
        return nil
    }

    /// This allocation with each variant holding `targets[variant]` units (0 for a variant not named), moving
    /// the fewest units: each variant that shrinks frees units from its last segments, and the freed ranges go,
    /// in bucket order, to the variants that grow, in name order. Nil unless the targets are non-negative and add
    /// up to `total`.
    public func reweighted(to targets: [String: Int]) -> Allocation? {
        guard targets.values.allSatisfy({ (0...Flag.maximumTotalWeight).contains($0) }), targets.count <= 1_000_000,
            targets.values.reduce(0, +) == total
        else { return nil }
        // Free each shrinking variant's excess from its last segments: nil marks a freed unit range.
        var excess: [String: Int] = [:]
        for (name, held) in units { excess[name] = max(0, held - targets[name, default: 0]) }
        var pieces: [(variant: String?, weight: Int)] = []
        for segment in segments.reversed() {
            let free = min(excess[segment.variant, default: 0], segment.weight)
            excess[segment.variant, default: 0] -= free
            // Reversed: the freed tail of this segment comes after its kept head.
            if free > 0 { pieces.append((nil, free)) }
            if segment.weight - free > 0 { pieces.append((segment.variant, segment.weight - free)) }
        }
        pieces.reverse()
        // Fill the freed ranges, in bucket order, with the growing variants' deficits.
        let current = units
        var deficits = targets.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).compactMap {
            name -> (String, Int)? in
            let need = targets[name]! - current[name, default: 0]
            return need > 0 ? (name, need) : nil
        }
        var result = Allocation(segments: [])
        for piece in pieces {
            guard piece.variant == nil else {
                result.append(Segment(variant: piece.variant!, weight: piece.weight))
                continue
            }
            var left = piece.weight
            while left > 0, !deficits.isEmpty {
                let take = min(left, deficits[0].1)
                result.append(Segment(variant: deficits[0].0, weight: take))
                left -= take
                deficits[0].1 -= take
                if deficits[0].1 == 0 { deficits.removeFirst() }
            }
        }
        return result
    }

    /// The units that change owner from `self` to `other` over the whole range (both of one total).
    public func unitsMoved(to other: Allocation) -> Int {
        var moved = 0
        var i = 0
        var j = 0
        var left = segments.first?.weight ?? 0
        var right = other.segments.first?.weight ?? 0
        while i < segments.count, j < other.segments.count {
            let step = min(left, right)
            if segments[i].variant != other.segments[j].variant { moved += step }
            left -= step
            right -= step
            if left == 0 {
                i += 1
                left = i < segments.count ? segments[i].weight : 0
            }
            if right == 0 {
                j += 1
                right = j < other.segments.count ? other.segments[j].weight : 0
            }
        }
        return moved
    }

    /// `fractional`'s shares: `[[variant, weight], …]`, a variant as often as it has segments.
    public var fractional: [JSONValue] {
        segments.map { [.string($0.variant), .number(Double($0.weight))] }
    }

    /// Integer units for `probabilities` (non-negative, summing to about 1) that add up to exactly `total`: the
    /// largest remainders get the units rounding left over, ties in name order. Nil for a probability that is not
    /// finite or is negative, a sum of 0, or a total outside 1 ... 2^31 − 1.
    public static func units(for probabilities: [String: Double], total: Int) -> [String: Int]? {
        let sum = probabilities.values.reduce(0, +)
        guard total > 0, total <= Flag.maximumTotalWeight,
            probabilities.values.allSatisfy({ $0.isFinite && $0 >= 0 }), sum > 0, sum.isFinite
        else { return nil }
        let names = probabilities.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        let exact = names.map { probabilities[$0]! / sum * Double(total) }
        var floors = exact.map { Int($0.rounded(.down)) }
        var left = total - floors.reduce(0, +)
        let order = names.indices.sorted { a, b in
            let (ra, rb) = (exact[a] - Double(floors[a]), exact[b] - Double(floors[b]))
            return ra != rb ? ra > rb : a < b
        }
        for index in order where left > 0 {
            floors[index] += 1
            left -= 1
        }
        return Dictionary(uniqueKeysWithValues: zip(names, floors))
    }

    private init(segments: [Segment]) { self.segments = segments }

    private mutating func append(_ segment: Segment) {
        guard segment.weight > 0 else { return }
        if let last = segments.last, last.variant == segment.variant {
            segments[segments.count - 1].weight += segment.weight
        } else {
            segments.append(segment)
        }
    }
}
