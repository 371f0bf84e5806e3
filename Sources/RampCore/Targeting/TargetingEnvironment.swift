/// Which bytes flagd's `fractional` hashes to place a targeting key. flagd changed this once; a store picks one so
/// that its exported file and every reader of the chosen generation agree key by key.
public enum BucketingGeneration: String, Sendable, CaseIterable {
    /// The string flagKey + targetingKey: the Go flagd of today and the Python provider 0.5.x.
    case concat
    /// The canonical CBOR encoding of the array [flagKey, targetingKey]: the next generation (Python provider 0.6.x).
    case cbor

    /// What a release engineer is told the generation means.
    public var summary: String {
        switch self {
        case .concat: "murmur3 of flagKey + targetingKey (Go flagd, Python flagd provider 0.5.x)"
        case .cbor: "murmur3 of CBOR [flagKey, targetingKey] (Python flagd provider 0.6.x)"
        }
    }
}

/// What a flag evaluation knows about its caller: the targeting key and any other attributes (OpenFeature's
/// evaluation context).
public struct EvaluationContext: Sendable, Equatable {
    public var targetingKey: String?
    public var attributes: [String: JSONValue]
    /// A `targetingKey` that is not a string (a number, a boolean, an object), as the context gave it: rules read
    /// it, nothing hashes it. flagd's `fractional` places only string keys, so such a context gets the flag's
    /// default variant from a split, as flagd's providers give it, rather than a refusal.
    public var otherTargetingKey: JSONValue?

    public init(targetingKey: String? = nil, attributes: [String: JSONValue] = [:]) {
        self.targetingKey = targetingKey
        self.attributes = attributes
    }

    /// `targetingKey` as rules read it: the string, the other value, or null.
    var targetingKeyValue: JSONValue { targetingKey.map(JSONValue.string) ?? otherTargetingKey ?? .null }

    /// A context from a JSON object as OpenFeature writes one: `targetingKey` and the attributes beside it.
    public init(json: JSONValue) throws(JsonLogicError) {
        guard case .object(var members) = json else {
            throw JsonLogicError(path: "", message: "a context is a JSON object, not \(json.typeName)")
        }
        switch members.removeValue(forKey: "targetingKey") {
        case nil, .null?: targetingKey = nil
        case .string(let key)?: targetingKey = key
        case let other?: otherTargetingKey = other
        }
        attributes = members
    }
}

/// Everything a targeting rule can read while one flag is evaluated: the context's attributes, and what flagd
/// injects over them — `targetingKey` (null when the context has none), `$flagd.flagKey`, `$flagd.timestamp` (Unix
/// seconds).
public struct TargetingEnvironment: Sendable {
    public var flagKey: String
    public var context: EvaluationContext
    public var timestamp: Int64
    public var bucketing: BucketingGeneration

    public init(flagKey: String, context: EvaluationContext, timestamp: Int64, bucketing: BucketingGeneration) {
        self.flagKey = flagKey
        self.context = context
        self.timestamp = timestamp
        self.bucketing = bucketing
    }

    /// The top-level value `name`, without building the whole document.
    func value(_ name: String) -> JSONValue? {
        switch name {
        case "targetingKey": context.targetingKeyValue
        case "$flagd": flagd
        default: context.attributes[name]
        }
    }

    private var flagd: JSONValue { ["flagKey": .string(flagKey), "timestamp": .number(Double(timestamp))] }

    /// The whole document a rule sees (`{"var": ""}`).
    var document: JSONValue {
        var members = context.attributes
        members["$flagd"] = flagd
        members["targetingKey"] = context.targetingKeyValue
        return .object(members)
    }
}
