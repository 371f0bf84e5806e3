/// The answer to one flag evaluation, as OpenFeature and flagd give it: the value, the variant, and why.
public struct Resolution: Sendable, Equatable {
    /// Why this value (OpenFeature's resolution reasons, with flagd's meanings).
    public enum Reason: String, Sendable, CaseIterable {
        /// The flag has no targeting: everyone gets the default variant.
        case `static` = "STATIC"
        /// A targeting rule, a segment or the percentage split chose the variant.
        case targetingMatch = "TARGETING_MATCH"
        /// The flag has targeting, but none of it applied: the default variant.
        case `default` = "DEFAULT"
        /// The flag is disabled: no value or variant; the caller uses its own default.
        case disabled = "DISABLED"
        /// No value: see the error code.
        case error = "ERROR"
    }

    /// What went wrong when the reason is `ERROR`.
    public enum ErrorCode: String, Sendable, CaseIterable {
        case flagNotFound = "FLAG_NOT_FOUND"
        /// The flag's definition (its targeting) cannot be read.
        case parseError = "PARSE_ERROR"
        /// The value is not of the type the caller asked for.
        case typeMismatch = "TYPE_MISMATCH"
        /// The targeting chose something that is not one of the flag's variants, or another failure.
        case general = "GENERAL"
    }

    public var value: JSONValue?
    public var variant: String?
    public var reason: Reason
    public var errorCode: ErrorCode?
    public var errorMessage: String?

    public init(
        value: JSONValue?, variant: String?, reason: Reason, errorCode: ErrorCode? = nil, errorMessage: String? = nil
    ) {
        self.value = value
        self.variant = variant
        self.reason = reason
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    public static func error(_ code: ErrorCode, _ message: String) -> Resolution {
        Resolution(value: nil, variant: nil, reason: .error, errorCode: code, errorMessage: message)
    }

    /// The JSON types a caller may ask for (OpenFeature's typed evaluations).
    public enum ValueType: String, Sendable, CaseIterable {
        case boolean, string, number, object

        public func admits(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.boolean, .bool), (.string, .string), (.number, .number), (.object, .object), (.object, .array): true
            default: false
            }
        }
    }

    /// This resolution, or a `TYPE_MISMATCH` error when its value is not of `type`.
    public func expecting(_ type: ValueType?) -> Resolution {
        guard let type, let value, !type.admits(value) else { return self }
        return .error(.typeMismatch, "the flag's value \(value.canonical) is \(value.typeName), not \(type.rawValue)")
    }

    /// `{"value", "variant", "reason", "errorCode"?, "errorMessage"?}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "value": value ?? .null, "variant": variant.map(JSONValue.string) ?? .null,
            "reason": .string(reason.rawValue),
        ]
        if let errorCode { object["errorCode"] = .string(errorCode.rawValue) }
        if let errorMessage { object["errorMessage"] = .string(errorMessage) }
        return .object(object)
    }
}

/// A flag ready to evaluate many times: its targeting compiled once.
public struct CompiledFlag: Sendable {
    public let flag: Flag
    /// nil when the flag has no targeting; an error when its stored targeting cannot be compiled.
    private let targeting: Result<JsonLogic, JsonLogicError>?

    public init(_ flag: Flag) {
        self.flag = flag
        targeting = flag.targeting.map { json in Result { () throws(JsonLogicError) in try JsonLogic(json) } }
    }

    /// The variant, value and reason for one caller, as a flagd provider of `bucketing`'s generation answers
    /// for the exported flag. `timestamp` (Unix seconds) is what `$flagd.timestamp` reads. A disabled flag
    /// answers reason DISABLED with no value and no variant, whatever type the caller expects.
    public func resolve(
        _ context: EvaluationContext, timestamp: Int64, bucketing: BucketingGeneration = .concat
    ) -> Resolution {
        if flag.disabled { return Resolution(value: nil, variant: nil, reason: .disabled) }
        let chosen: String
        let reason: Resolution.Reason
        switch targeting {
        case nil:
            chosen = flag.baseline
            reason = .static
        case .failure(let error)?:
            return .error(.parseError, "flag \"\(flag.key)\" has targeting that cannot be read: \(error)")
        case .success(let logic)?:
            let environment = TargetingEnvironment(
                flagKey: flag.key, context: context, timestamp: timestamp, bucketing: bucketing)
            switch logic.apply(environment) {
            case .null:
                chosen = flag.baseline
                reason = .default
            case .string(let name):
                chosen = name
                reason = .targetingMatch
            case .bool(let b):
                // flagd names a boolean result's variant "true" or "false".
                chosen = b ? "true" : "false"
                reason = .targetingMatch
            case .number(let n):
                chosen = JSONValue.format(n)
                reason = .targetingMatch
            case let other:
                return .error(.general, "flag \"\(flag.key)\"'s targeting gave \(other.canonical), not a variant name")
            }
        }
        guard let value = flag.variants[chosen] else {
            return .error(.general, "flag \"\(flag.key)\" has no variant \"\(chosen)\"")
        }
        return Resolution(value: value, variant: chosen, reason: reason)
    }
}
