/// A feature flag as applications read it: variants and their base weights, the baseline/canary pair, the canary's
/// share and segments, targeting rules, the kill switch.
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
    /// The kill switch: when set, everyone gets the baseline whatever the share, segments and rules.
    public var killed: Bool
    /// Switched off (`ramp disable`): flagd's DISABLED state. Applications get the default in their own code, no
    /// variant from ramp, until `ramp enable`.
    public var disabled: Bool
    /// Ordered rules: the first that matches decides the variant, before segments and the split.
    public var rules: [TargetingRule]
    /// Named JsonLogic conditions (segments) that rules and plan steps refer to.
    public var segments: [String: JSONValue]
    /// The segments that get the canary now, in the order the rollout reached them.
    public var canarySegments: [String]
    /// flagd's flag metadata from the flag's plan: name → string, number or boolean.
    public var metadata: [String: JSONValue]
    /// The base allocation: variant → integer weight, for the users no rule or segment chooses. Empty means the
    /// baseline alone. A rollout moves users only within the pool the canary and baseline hold between them (see
    /// `split`); every other variant keeps its weight, and so exactly its users.
    public var weights: [String: Int]

    public init(
        key: String, variants: [String: JSONValue], baseline: String, canary: String,
        canaryPercent: Percent = .zero, killed: Bool = false, rules: [TargetingRule] = [],
        segments: [String: JSONValue] = [:], canarySegments: [String] = [], disabled: Bool = false,
        metadata: [String: JSONValue] = [:], weights: [String: Int] = [:]
    ) {
        self.key = key
        self.variants = variants
        self.baseline = baseline
        self.canary = canary
        self.canaryPercent = canaryPercent
        self.killed = killed
        self.rules = rules
        self.segments = segments
        self.canarySegments = canarySegments
        self.disabled = disabled
        self.metadata = metadata
        self.weights = weights
    }

    /// The canary share applications get now: 0 when the flag is killed or disabled.
    public var servedPercent: Percent { killed || disabled ? .zero : canaryPercent }

    /// The weights as plans, the store and the audit log write them: `{"variant": weight}`.
    public var weightsJSON: JSONValue { .object(weights.mapValues { .number(Double($0)) }) }

    /// Weights read back from `weightsJSON`'s members; nil unless each is a whole number from 0 and they total at
    /// most `maximumTotalWeight` (what the store and the audit log hold is only ever that).
    public static func weights(from members: [String: JSONValue]) -> [String: Int]? {
        var weights: [String: Int] = [:]
        for (name, value) in members {
            guard case .number(let n) = value, let weight = Int(exactly: n), (0...maximumTotalWeight).contains(weight)
            else { return nil }
            weights[name] = weight
        }
        return weights.values.reduce(0, +) <= maximumTotalWeight ? weights : nil
    }

    /// The base weights, with the default (the baseline alone) spelled out.
    public var baseWeights: [String: Int] { weights.isEmpty ? [baseline: 1] : weights }

    /// The `fractional` shares: the canary first (so a growing share never moves a canary user), then the baseline,
    /// then every other variant with a weight, by name. The canary holds `canaryPercent` of the pool the canary
    /// and baseline hold between them (none when the flag is killed), the baseline the rest of it; each other
    /// variant keeps its base weight. Weights are scaled by `Percent.scale` so a share in basis points is exact,
    /// and divided by their greatest common divisor only when the total would pass flagd's 2^31 − 1; a flag with
    /// the default weights gives `[canary, basis points], [baseline, 10,000 − basis points]`. Scaling never changes
    /// an assignment: a bucket is below a cumulative weight at one scale exactly when it is at any other.
    public var split: [(variant: String, weight: Int)] {
        Self.split(
            base: baseWeights, canary: canary, baseline: baseline, basisPoints: killed ? 0 : canaryPercent.basisPoints)
            ?? []
    }

    /// flagd's largest `fractional` total.
    public static let maximumTotalWeight = Int(Int32.max)

    /// The shares for `base` weights with the canary at `basisPoints` of its pool; nil when they cannot be written
    /// within `maximumTotalWeight` (plans with such weights and steps are refused).
    public static func split(base: [String: Int], canary: String, baseline: String, basisPoints: Int)
        -> [(variant: String, weight: Int)]?
    {
        let scale = Percent.scale
        // Weights outside flagd's range (a store edited by hand, a caller's own Flag) give no split rather than
        // overflow.
        guard (0...scale).contains(basisPoints),
            base.values.allSatisfy({ (0...maximumTotalWeight).contains($0) }),
            base.values.reduce(0, +) <= maximumTotalWeight
        else { return nil }
        let pool = base[baseline, default: 0] + (canary == baseline ? 0 : base[canary, default: 0])
        var shares: [(variant: String, weight: Int)] =
            canary == baseline
            ? [(baseline, pool * scale)] : [(canary, pool * basisPoints), (baseline, pool * (scale - basisPoints))]
        for (name, weight) in base.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        where name != canary && name != baseline && weight > 0 {
            shares.append((name, weight * scale))
        }
        if shares.reduce(0, { $0 + $1.weight }) > maximumTotalWeight {
            let divisor = shares.reduce(0) { gcd($0, $1.weight) }
            guard divisor > 0 else { return nil }
            shares = shares.map { ($0.variant, $0.weight / divisor) }
            guard shares.reduce(0, { $0 + $1.weight }) <= maximumTotalWeight else { return nil }
        }
        return shares
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Whether the split chooses among more than one variant: the canary has a share, or another variant a weight.
    public var hasSplit: Bool {
        !killed && (canaryPercent > .zero || split.dropFirst(canary == baseline ? 1 : 2).contains { $0.weight > 0 })
    }

    /// The flag's targeting as a flagd JsonLogic rule, or nil when everyone gets the baseline (killed, or no rules,
    /// no segments and no split): the rules in order, then the canary's segments, then the `fractional` split.
    /// When no branch applies the rule gives null, which flagd answers with the default variant (the baseline).
    /// A rule that chooses its variant by its own logic (`choose`) comes in whole when nothing follows it, else as
    /// `{"if": [{"!==": [logic, null]}, logic, what follows]}`: its answer when it gives one, the rest when null
    /// (strictly: `false` and `0` are answers, which the loose `!=` of some JsonLogic libraries would pass on).
    public var targeting: JSONValue? {
        if killed { return nil }
        var tail: JSONValue? =
            hasSplit ? ["fractional": .array(split.map { [.string($0.variant), .number(Double($0.weight))] })] : nil
        // Condition branches in reverse, written out as one flat `if` before what follows them.
        var flat: [JSONValue] = []
        func close() {
            guard !flat.isEmpty else { return }
            tail = ["if": .array(flat.reversed() + (tail.map { [$0] } ?? []))]
            flat = []
        }
        let reached = canarySegments.compactMap { segments[$0] }
        if !reached.isEmpty {
            flat += [.string(canary), reached.count == 1 ? reached[0] : ["or": .array(reached)]]
        }
        for rule in rules.reversed() {
            if case .choose(let logic) = rule.when {
                close()
                tail = tail.map { ["if": [["!==": [logic, .null]], logic, $0]] } ?? logic
            } else if let condition = rule.condition(in: segments), let variant = rule.variant {
                flat += [.string(variant), condition]
            }
        }
        close()
        return tail
    }
}

/// One targeting rule: when its condition holds, the flag serves `variant`; or its logic chooses the variant.
public struct TargetingRule: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        /// A JsonLogic condition written in the rule.
        case logic(JSONValue)
        /// A segment of the flag, by name.
        case segment(String)
        /// JsonLogic that gives the variant's name itself (as a flagd flag's targeting does); null passes to what
        /// follows.
        case choose(JSONValue)
    }

    public var when: Condition
    /// The variant served when the condition holds; nil for a rule that chooses it (`choose`).
    public var variant: String?

    public init(when: Condition, variant: String) {
        self.when = when
        self.variant = variant
    }

    /// A rule whose logic gives the variant's name.
    public init(choose logic: JSONValue) {
        self.when = .choose(logic)
        self.variant = nil
    }

    /// The JsonLogic condition, with a segment looked up among `segments`; nil for a rule that chooses.
    public func condition(in segments: [String: JSONValue]) -> JSONValue? {
        switch when {
        case .logic(let logic): logic
        case .segment(let name): segments[name]
        case .choose: nil
        }
    }

    /// `{"when": …, "variant": …}`, `{"segment": …, "variant": …}` or `{"choose": …}`, as plans and the store write
    /// a rule.
    public var json: JSONValue {
        switch when {
        case .logic(let logic): ["when": logic, "variant": variant.map(JSONValue.string) ?? .null]
        case .segment(let name): ["segment": .string(name), "variant": variant.map(JSONValue.string) ?? .null]
        case .choose(let logic): ["choose": logic]
        }
    }
}

/// flagd's `fractional` bucketing: murmur3 x86_32 (seed 0) of the bucketing value, scaled to the total weight.
public enum Bucketing {
    /// The hash that places `targetingKey` for `flagKey` under a bucketing generation, without building the bytes.
    public static func hash(flagKey: String, targetingKey: String, generation: BucketingGeneration) -> UInt32 {
        var hasher = Murmur3.Hasher()
        switch generation {
        case .concat:
            hasher.combine(flagKey)
            hasher.combine(targetingKey)
        case .cbor:
            hasher.combine(CBOR.arrayHeader(count: 2))
            hasher.combine(CBOR.textHeader(byteCount: flagKey.utf8.count))
            hasher.combine(flagKey)
            hasher.combine(CBOR.textHeader(byteCount: targetingKey.utf8.count))
            hasher.combine(targetingKey)
        }
        return hasher.finalize()
    }

    /// The hash of a custom bucketing value (`fractional`'s first argument).
    public static func hash(_ value: String, generation: BucketingGeneration) -> UInt32 {
        var hasher = Murmur3.Hasher()
        if generation == .cbor { hasher.combine(CBOR.textHeader(byteCount: value.utf8.count)) }
        hasher.combine(value)
        return hasher.finalize()
    }

    /// The next generation's hash of any JSON bucketing value: murmur3 of its canonical CBOR encoding, an integral
    /// number encoded as an integer (flagd's CBOR `fractional` design, as the Python provider 0.6.x implements it).
    public static func cborHash(_ value: JSONValue) -> UInt32 {
        var bytes: [UInt8] = []
        CBOR.encode(value, into: &bytes)
        var hasher = Murmur3.Hasher()
        hasher.combine(bytes)
        return hasher.finalize()
    }

    /// The bucket in `0..<totalWeight` of a hash: (hash × totalWeight) >> 32.
    public static func bucket(hash: UInt32, totalWeight: Int) -> Int {
        Int((UInt64(hash) &* UInt64(totalWeight)) >> 32)
    }

    /// The bucket of a targeting key under the current Go flagd's generation.
    public static func bucket(flagKey: String, targetingKey: String, totalWeight: Int) -> Int {
        bucket(hash: hash(flagKey: flagKey, targetingKey: targetingKey, generation: .concat), totalWeight: totalWeight)
    }
}

/// The canonical CBOR (RFC 8949) encoding of JSON values that the next bucketing generation hashes: shortest
/// heads, integral numbers in [−2^63, 2^64) as integers, other numbers as the shortest float that holds them exactly
/// (half, single, double), map keys in length-first then bytewise order (RFC 7049 canonical, as Python's cbor2
/// `canonical=True` sorts them).
enum CBOR {
    static func arrayHeader(count: Int) -> [UInt8] { header(major: 4, UInt64(count)) }
    static func textHeader(byteCount: Int) -> [UInt8] { header(major: 3, UInt64(byteCount)) }

    static func header(major: UInt8, _ n: UInt64) -> [UInt8] {
        let type = major << 5
        switch n {
        case ..<24: return [type | UInt8(n)]
        case ..<0x100: return [type | 24, UInt8(n)]
        case ..<0x1_0000: return [type | 25, UInt8(n >> 8), UInt8(n & 0xff)]
        case ..<0x1_0000_0000:
            return [type | 26] + (0..<4).reversed().map { UInt8(n >> (8 * UInt64($0)) & 0xff) }
        default:
            return [type | 27] + (0..<8).reversed().map { UInt8(n >> (8 * UInt64($0)) & 0xff) }
        }
    }

    static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xf6)
        case .bool(let b): out.append(b ? 0xf5 : 0xf4)
        case .string(let text):
            out += header(major: 3, UInt64(text.utf8.count))
            out += text.utf8
        case .number(let n): number(n, into: &out)
        case .array(let items):
            out += header(major: 4, UInt64(items.count))
            for item in items { encode(item, into: &out) }
        case .object(let members):
            out += header(major: 5, UInt64(members.count))
            let keyed = members.map { key, value -> ([UInt8], JSONValue) in
                (header(major: 3, UInt64(key.utf8.count)) + Array(key.utf8), value)
            }
            for (key, value) in keyed.sorted(by: { a, b in
                a.0.count != b.0.count ? a.0.count < b.0.count : a.0.lexicographicallyPrecedes(b.0)
            }) {
                out += key
                encode(value, into: &out)
            }
        }
    }

    private static func number(_ n: Double, into out: inout [UInt8]) {
        // 2^64 and −2^63 as doubles; every integral double in between converts exactly.
        if n == n.rounded(), n >= -9_223_372_036_854_775_808, n < 18_446_744_073_709_551_616 {
            if n >= 0 {
                out += header(major: 0, UInt64(n))
            } else {
                out += header(major: 1, UInt64(-n) - 1)
            }
            return
        }
        if n.isNaN {
            out += [0xf9, 0x7e, 0x00]
        } else if let half = halfBits(n) {
            out += [0xf9, UInt8(half >> 8), UInt8(half & 0xff)]
        } else if Double(Float(n)) == n {
            let bits = Float(n).bitPattern
            out += [0xfa] + (0..<4).reversed().map { UInt8(bits >> (8 * UInt32($0)) & 0xff) }
        } else {
            let bits = n.bitPattern
            out += [0xfb] + (0..<8).reversed().map { UInt8(bits >> (8 * UInt64($0)) & 0xff) }
        }
    }

    /// The IEEE 754 half-precision bits of `x` when it holds `x` exactly (infinities included), else nil.
    static func halfBits(_ x: Double) -> UInt16? {
        if x.isInfinite { return x > 0 ? 0x7c00 : 0xfc00 }
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let magnitude = abs(x)
        if magnitude == 0 { return sign }
        // Subnormal halves are multiples of 2^−24 below 2^−14; normal ones have 11 significant bits, exponent ≤ 15.
        if magnitude < 0x1p-14 {
            let units = magnitude * 0x1p24
            guard units == units.rounded() else { return nil }
            return sign | UInt16(units)
        }
        let exponent = Int(magnitude.exponent)
        guard exponent <= 15 else { return nil }
        let scaled = magnitude * Double(sign: .plus, exponent: 10 - exponent, significand: 1)
        guard scaled == scaled.rounded() else { return nil }
        let fraction = UInt16(scaled) - 0x400
        return sign | UInt16(exponent + 15) << 10 | fraction
    }
}

extension TargetingRule {
    /// Reads `{"when": <JsonLogic>, "variant": name}`, `{"segment": name, "variant": name}` or
    /// `{"choose": <JsonLogic giving a variant name>}`, compiling the logic to refuse what cannot be evaluated.
    public init(json: JSONValue) throws(JsonLogicError) {
        guard case .object(let members) = json else {
            throw JsonLogicError(path: "", message: "a rule is an object, not \(json.typeName)")
        }
        let fields = ["when", "segment", "variant", "choose"]
        if let unknown = members.keys.sorted().first(where: { !fields.contains($0) }) {
            throw JsonLogicError(
                path: unknown,
                message: "is not a rule field (when, segment, variant, choose)"
                    + Spelling.hint(for: unknown, among: fields))
        }
        func compiled(_ logic: JSONValue, at path: String) throws(JsonLogicError) {
            do {
                _ = try JsonLogic(logic)
            } catch {
                throw JsonLogicError(path: error.path(under: path), message: error.message)
            }
        }
        if let logic = members["choose"] {
            if let other = ["when", "segment", "variant"].first(where: { members[$0] != nil }) {
                throw JsonLogicError(
                    path: other, message: "a rule that chooses its variant (\"choose\") takes no \"\(other)\"")
            }
            try compiled(logic, at: "choose")
            self.init(choose: logic)
            return
        }
        guard case .string(let variant)? = members["variant"] else {
            throw JsonLogicError(path: "variant", message: "is required: the variant the rule serves")
        }
        switch (members["when"], members["segment"]) {
        case (let logic?, nil):
            try compiled(logic, at: "when")
            self.init(when: .logic(logic), variant: variant)
        case (nil, .string(let name)?):
            self.init(when: .segment(name), variant: variant)
        case (nil, let other?):
            throw JsonLogicError(path: "segment", message: "expected a segment name, found \(other.typeName)")
        default:
            throw JsonLogicError(
                path: "",
                message: "give exactly one of \"when\" (a JsonLogic condition), \"segment\" or \"choose\"")
        }
    }
}
