/// A feature flag as applications read it: variants, the baseline/canary pair, the canary's share, the kill switch.
public struct Flag: Sendable, Equatable {
    public var key: String
    /// Variant name → the value served.
    public var variants: [String: JSONValue]
    /// The safe variant: what everyone gets when the canary share is 0 or the flag is killed.
    public var baseline: String
    /// The new variant being rolled out.
    public var canary: String
    /// The canary's share of targeting keys.
    public var canaryPercent: Percent
    /// The kill switch: when set, everyone gets the baseline whatever the share.
    public var killed: Bool

    public init(
        key: String, variants: [String: JSONValue], baseline: String, canary: String,
        canaryPercent: Percent = .zero, killed: Bool = false
    ) {
        self.key = key
        self.variants = variants
        self.baseline = baseline
        self.canary = canary
        self.canaryPercent = canaryPercent
        self.killed = killed
    }

    /// The weights in flagd `fractional` order: canary first, so a growing share never removes a canary user.
    public var weights: [(variant: String, weight: Int)] {
        let canaryWeight = killed ? 0 : canaryPercent.basisPoints
        return [(canary, canaryWeight), (baseline, Percent.scale - canaryWeight)]
    }

    /// The variant served to `targetingKey`.
    public func variant(for targetingKey: String) -> String {
        if killed { return baseline }
        return Bucketing.pick(flagKey: key, targetingKey: targetingKey, weights: weights)
    }

    /// The variant and its value served to `targetingKey`.
    public func evaluate(_ targetingKey: String) -> (variant: String, value: JSONValue) {
        let name = variant(for: targetingKey)
        return (name, variants[name] ?? .null)
    }
}

/// flagd's `fractional` bucketing: murmur3 x86_32 (seed 0) of flagKey + targetingKey, scaled to the total weight.
public enum Bucketing {
    /// The bucket in `0..<totalWeight` of a targeting key.
    public static func bucket(flagKey: String, targetingKey: String, totalWeight: Int) -> Int {
        let hash = Murmur3.x86_32(flagKey + targetingKey)
        return Int((UInt64(hash) &* UInt64(totalWeight)) >> 32)
    }

    /// The first variant whose running weight total exceeds the key's bucket.
    public static func pick(flagKey: String, targetingKey: String, weights: [(variant: String, weight: Int)]) -> String
    {
        let total = weights.reduce(0) { $0 + $1.weight }
        guard total > 0, let last = weights.last else { return weights.first?.variant ?? "" }
        let bucket = bucket(flagKey: flagKey, targetingKey: targetingKey, totalWeight: total)
        var sum = 0
        for entry in weights {
            sum += entry.weight
            if bucket < sum { return entry.variant }
        }
        return last.variant
    }
}
