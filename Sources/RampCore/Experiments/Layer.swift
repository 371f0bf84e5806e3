/// A layer of experiments: its own salt hashes every targeting key into `total` units, and each experiment in
/// the layer holds a range of them. Experiments in one layer are mutually exclusive when their ranges are
/// disjoint; experiments in different layers are independent, their salts hashing each key apart.
///
/// An experiment's membership is a flagd condition, so every provider evaluates it as ramp does:
/// `{"and": [{"!!": {"var": "targetingKey"}}, {"==": [{"fractional": [{"cat": ["layer:" + salt, {"var":
/// "targetingKey"}]}, ["out", lower], ["in", upper − lower], ["out", total − upper]]}, "in"]}]}` — `fractional`
/// bucketing the salted key, not the flag's own split. A context without a targeting key is in no experiment
/// (else every such user would share one bucket), and the `layer:` prefix keeps a salt from ever hashing like a
/// flag's own split (flag keys have no `:`).
public struct Layer: Sendable, Equatable {
    /// The units of a layer's range.
    public static let total = 10_000
    /// Before every salt: flag keys cannot hold `:`, so no salted key hashes like a flag's own split.
    public static let prefix = "layer:"

    public let salt: String

    /// Nil for an empty salt (every layer would share it) or one with a control character.
    public init?(salt: String) {
        guard !salt.isEmpty, !salt.unicodeScalars.contains(where: Escape.isControl) else { return nil }
        self.salt = salt
    }

    /// The unit of the layer's range that `targetingKey` falls in, as flagd's `fractional` places the salted key.
    public func unit(of targetingKey: String, generation: BucketingGeneration) -> Int {
        Bucketing.bucket(
            hash: Bucketing.hash(Self.prefix + salt + targetingKey, generation: generation), totalWeight: Self.total)
    }

    /// The condition that a key falls in `lower ..< upper`; nil unless 0 ≤ lower < upper ≤ total.
    public func condition(lower: Int, upper: Int) -> JSONValue? {
        guard 0 <= lower, lower < upper, upper <= Self.total else { return nil }
        var shares: [JSONValue] = []
        if lower > 0 { shares.append(["out", .number(Double(lower))]) }
        shares.append(["in", .number(Double(upper - lower))])
        if upper < Self.total { shares.append(["out", .number(Double(Self.total - upper))]) }
        let bucketBy: JSONValue = ["cat": [.string(Self.prefix + salt), ["var": "targetingKey"]]]
        return ["and": [["!!": ["var": "targetingKey"]], ["==": [["fractional": .array([bucketBy] + shares)], "in"]]]]
    }

    /// Whether the ranges (each `lower ..< upper`) share no unit.
    public static func disjoint(_ ranges: [(lower: Int, upper: Int)]) -> Bool {
        let sorted = ranges.sorted { $0.lower < $1.lower }
        return zip(sorted, sorted.dropFirst()).allSatisfy { $0.upper <= $1.lower }
    }
}
