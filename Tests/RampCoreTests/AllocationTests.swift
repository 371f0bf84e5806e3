import RampCore
import Testing

@Suite struct AllocationTests {
    /// A seeded generator, so every run reweights alike.
    struct Seeded {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
    }

    /// The units that change owner, counted bucket by bucket.
    static func moved(_ a: Allocation, _ b: Allocation) -> Int {
        (0..<a.total).filter { a.variant(atBucket: $0) != b.variant(atBucket: $0) }.count
    }

    @Test func everyReweightMovesExactlyTheTotalVariationDistance() throws {
        var random = Seeded(state: 7)
        let names = ["a", "b", "c", "d"]
        var allocation = try #require(Allocation(names.map { ($0, 2_500) }))
        var contiguousMovedMore = 0
        for _ in 0..<120 {
            // Random targets over 10,000 units, some variants at 0.
            var cuts = (0..<3).map { _ in random.next(10_001) }.sorted()
            cuts = [0] + cuts + [10_000]
            let targets = Dictionary(uniqueKeysWithValues: names.indices.map { (names[$0], cuts[$0 + 1] - cuts[$0]) })
            let next = try #require(allocation.reweighted(to: targets))
            #expect(next.total == 10_000)
            #expect(names.allSatisfy { next.units(of: $0) == targets[$0] })
            let minimum = names.reduce(0) { $0 + max(0, allocation.units(of: $1) - targets[$1]!) }
            // The least any reweight can move, counted both by the segment walk and unit by unit.
            #expect(allocation.unitsMoved(to: next) == minimum)
            #expect(Self.moved(allocation, next) == minimum)
            let contiguous = try #require(Allocation(names.map { ($0, targets[$0]!) }))
            #expect(Self.moved(allocation, contiguous) >= minimum)
            if Self.moved(allocation, contiguous) > minimum { contiguousMovedMore += 1 }
            allocation = next
        }
        // A contiguous re-split is not minimal: it moved more in most of these reweights.
        #expect(contiguousMovedMore > 60)
    }

    @Test func aContiguousSplitMovesMoreThanNeededAndTheAllocationDoesNot() throws {
        // Four variants at a quarter each; a gives 10 units to d. Re-splitting contiguously shifts every boundary
        // after a's, so 30 units change owner where 10 must.
        let start = try #require(Allocation([("a", 25), ("b", 25), ("c", 25), ("d", 25)]))
        let targets = ["a": 15, "b": 25, "c": 25, "d": 35]
        let contiguous = try #require(Allocation([("a", 15), ("b", 25), ("c", 25), ("d", 35)]))
        let minimal = try #require(start.reweighted(to: targets))
        #expect(Self.moved(start, contiguous) == 30)
        #expect(Self.moved(start, minimal) == 10)
        #expect(minimal.segments.map(\.variant) == ["a", "d", "b", "c", "d"])
        #expect(minimal.fractional == [["a", 15], ["d", 10], ["b", 25], ["c", 25], ["d", 25]])
    }

    @Test func refusesTargetsThatDoNotCoverTheRange() throws {
        let start = try #require(Allocation([("a", 50), ("b", 50)]))
        #expect(start.reweighted(to: ["a": 50, "b": 49]) == nil)
        #expect(start.reweighted(to: ["a": 101, "b": -1]) == nil)
        #expect(Allocation([("a", -1), ("b", 2)]) == nil)
        #expect(Allocation([("a", 0)]) == nil)
        #expect(Allocation([("a", Int(Int32.max)), ("b", 1)]) == nil)
        // Weights and totals far past flagd's are refused, not overflowed.
        #expect(Allocation([("a", .max), ("b", 1)]) == nil)
        #expect(start.reweighted(to: ["a": .max, "b": 1]) == nil)
        #expect(Allocation.units(for: ["a": 1], total: .max) == nil)
        // A variant not named gives up everything.
        #expect(start.reweighted(to: ["b": 100])?.fractional == [["b", 100]])
    }

    @Test func probabilitiesBecomeUnitsThatAddUpExactly() {
        #expect(Allocation.units(for: ["a": 1, "b": 1, "c": 1], total: 100) == ["a": 34, "b": 33, "c": 33])
        #expect(Allocation.units(for: ["a": 0.2, "b": 0.8], total: 10_000) == ["a": 2_000, "b": 8_000])
        #expect(Allocation.units(for: ["a": 0, "b": 0], total: 10) == nil)
        #expect(Allocation.units(for: ["a": .nan, "b": 1], total: 10) == nil)
        #expect(Allocation.units(for: ["a": -0.1, "b": 1], total: 10) == nil)
        var random = Seeded(state: 3)
        for _ in 0..<500 {
            let p = (0..<5).map { _ in Double(random.next(1_000)) / 999 }
            guard p.reduce(0, +) > 0 else { continue }
            let units = Allocation.units(
                for: Dictionary(uniqueKeysWithValues: p.enumerated().map { ("v\($0.offset)", $0.element) }),
                total: 2_147_483_647)
            #expect(units?.values.reduce(0, +) == 2_147_483_647)
        }
    }

    /// Over hashed keys, the share of users whose variant changes is the distance between the two splits.
    @Test func theUsersMovedAreTheDistanceBetweenTheSplits() throws {
        let start = try #require(Allocation([("a", 4_000), ("b", 3_000), ("c", 3_000)]))
        let next = try #require(start.reweighted(to: ["a": 2_000, "b": 3_000, "c": 5_000]))
        var changed = 0
        let keys = 50_000
        for i in 0..<keys {
            let hash = Bucketing.hash(flagKey: "model", targetingKey: "user-\(i)", generation: .concat)
            let bucket = Bucketing.bucket(hash: hash, totalWeight: 10_000)
            if start.variant(atBucket: bucket) != next.variant(atBucket: bucket) { changed += 1 }
        }
        // 20% of the range changed owner; 50,000 keys put the share within about ±0.6% of it.
        #expect(abs(Double(changed) / Double(keys) - 0.2) < 0.006, "\(changed)")
    }
}
