import RampCore
import Testing

@Suite struct LayerTests {
    static let keys = (0..<100_000).map { "user-\($0 &* 7_919 % 1_000_003)" }

    static func member(_ condition: JSONValue, _ key: String, _ generation: BucketingGeneration) throws -> Bool {
        let logic = try JsonLogic(condition)
        let environment = TargetingEnvironment(
            flagKey: "any", context: EvaluationContext(targetingKey: key, attributes: [:]), timestamp: 0,
            bucketing: generation)
        return logic.matches(environment)
    }

    /// Three experiments with disjoint ranges of one layer: every key is in exactly one, by the flagd condition.
    @Test(arguments: BucketingGeneration.allCases)
    func experimentsInOneLayerNeverShareAUser(_ generation: BucketingGeneration) throws {
        let layer = try #require(Layer(salt: "checkout-layer"))
        let ranges = [(0, 3_000), (3_000, 7_000), (7_000, 10_000)]
        #expect(Layer.disjoint(ranges.map { (lower: $0.0, upper: $0.1) }))
        let conditions = try ranges.map { try #require(layer.condition(lower: $0.0, upper: $0.1)) }
        let logics = try conditions.map { try JsonLogic($0) }
        var counts = [0, 0, 0]
        for key in Self.keys {
            let environment = TargetingEnvironment(
                flagKey: "any", context: EvaluationContext(targetingKey: key, attributes: [:]), timestamp: 0,
                bucketing: generation)
            let memberships = logics.map { $0.matches(environment) }
            // Overlap exactly zero, and nobody left out.
            #expect(memberships.filter { $0 }.count == 1, "\(key)")
            let unit = layer.unit(of: key, generation: generation)
            for (i, range) in ranges.enumerated() where memberships[i] {
                #expect((range.0..<range.1).contains(unit))
                counts[i] += 1
            }
        }
        // The shares follow the ranges (30%, 40%, 30%) within sampling error.
        for (count, share) in zip(counts, [0.3, 0.4, 0.3]) {
            #expect(abs(Double(count) / Double(Self.keys.count) - share) < 0.006, "\(counts)")
        }
    }

    /// The chi-square statistic of a 2×2 table of memberships, and its p-value (1 degree of freedom).
    static func independence(_ a: [Bool], _ b: [Bool]) -> (statistic: Double, p: Double) {
        var table = [[0.0, 0.0], [0.0, 0.0]]
        for (x, y) in zip(a, b) { table[x ? 1 : 0][y ? 1 : 0] += 1 }
        let n = Double(a.count)
        var statistic = 0.0
        for i in 0...1 {
            for j in 0...1 {
                let expected = (table[i][0] + table[i][1]) * (table[0][j] + table[1][j]) / n
                statistic += (table[i][j] - expected) * (table[i][j] - expected) / expected
            }
        }
        return (statistic, ChiSquare.sf(statistic, df: 1))
    }

    /// Experiments in different layers are independent: who is in one says nothing of who is in the other. The
    /// same ranges in one layer are as dependent as can be, so the test can tell.
    @Test(arguments: BucketingGeneration.allCases)
    func experimentsInDifferentLayersAreIndependent(_ generation: BucketingGeneration) throws {
        let first = try #require(Layer(salt: "layer-1"))
        let second = try #require(Layer(salt: "layer-2"))
        let x = try #require(first.condition(lower: 0, upper: 5_000))
        let y = try #require(second.condition(lower: 0, upper: 2_000))
        let sameLayerY = try #require(first.condition(lower: 0, upper: 2_000))
        let inX = try Self.keys.map { try Self.member(x, $0, generation) }
        let inY = try Self.keys.map { try Self.member(y, $0, generation) }
        let inSameLayerY = try Self.keys.map { try Self.member(sameLayerY, $0, generation) }
        let across = Self.independence(inX, inY)
        #expect(across.p > 0.01, "chi-square \(across.statistic), p \(across.p)")
        let within = Self.independence(inX, inSameLayerY)
        #expect(within.p < 1e-100, "chi-square \(within.statistic), p \(within.p)")
    }

    @Test func badLayersAndRangesAreRefused() throws {
        #expect(Layer(salt: "") == nil)
        #expect(Layer(salt: "a\nb") == nil)
        let layer = try #require(Layer(salt: "l"))
        #expect(layer.condition(lower: 5, upper: 5) == nil)
        #expect(layer.condition(lower: -1, upper: 5) == nil)
        #expect(layer.condition(lower: 0, upper: 10_001) == nil)
        #expect(!Layer.disjoint([(lower: 0, upper: 10), (lower: 9, upper: 20)]))
        #expect(Layer.disjoint([(lower: 10, upper: 20), (lower: 0, upper: 10)]))
        #expect(
            layer.condition(lower: 0, upper: 10_000)
                == [
                    "and": [
                        ["!!": ["var": "targetingKey"]],
                        [
                            "==": [
                                ["fractional": [["cat": ["layer:l", ["var": "targetingKey"]]], ["in", 10_000]]], "in",
                            ]
                        ],
                    ]
                ])
        // A context without a targeting key is in no experiment of the layer.
        let whole = try JsonLogic(try #require(layer.condition(lower: 0, upper: 10_000)))
        for key: String? in [nil, ""] {
            let environment = TargetingEnvironment(
                flagKey: "any", context: EvaluationContext(targetingKey: key, attributes: [:]), timestamp: 0,
                bucketing: .concat)
            #expect(!whole.matches(environment))
        }
    }
}
