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
///
/// The targeting ramp writes itself — each rule's condition in order, then the canary's reached segments, then the
/// percentage split (`Flag.targeting`) — is compiled to typed branches: conditions evaluated one by one, the split
/// hashed straight from the flag key and targeting key, variants and their values found at compile time. So the hot
/// path builds no JSON; it answers exactly what the general JsonLogic evaluation of
/// `Flag.targeting` answers (tests compare the two).
public final class CompiledFlag: Sendable {
    public let flag: Flag
    /// nil when the flag has no targeting; an error when its stored targeting cannot be compiled.
    private let targeting: Result<JsonLogic, JsonLogicError>?
    /// The typed form of `targeting`, when every part of it compiled and names a variant of the flag.
    private let branches: Branches?

    /// `Flag.targeting` as typed branches: the first condition that holds chooses its variant; else the split.
    /// Every answer is built at compile time, so an evaluation only picks one. A class, so that an evaluation
    /// reads it in place instead of copying it.
    final class Branches: Sendable {
        /// Each rule's condition (then the reached segments') with the answer it gives.
        let conditions: [(logic: JsonLogic, result: Resolution)]
        /// The split's shares: the first whose cumulative weight passes the bucket chooses; empty: no split.
        let shares: [(end: Int, match: Resolution)]
        /// The split's total weight.
        let total: Int
        /// The answer when nothing chooses: the baseline, by default (or statically, without any targeting).
        let fallback: Resolution

        init(
            conditions: [(logic: JsonLogic, result: Resolution)], shares: [(end: Int, match: Resolution)],
            fallback: Resolution
        ) {
            self.conditions = conditions
            self.shares = shares
            self.total = shares.last?.end ?? 0
            self.fallback = fallback
        }
    }

    public init(_ flag: Flag) {
        self.flag = flag
        targeting = flag.targeting.map { json in Result { () throws(JsonLogicError) in try JsonLogic(json) } }
        branches = Self.branches(flag)
    }

    /// The typed branches of `flag.targeting`, or nil when any part does not compile (the general path then says
    /// why) or names a variant the flag does not have.
    private static func branches(_ flag: Flag) -> Branches? {
        guard !flag.killed else { return nil }
        func match(_ name: String) -> Resolution? {
            flag.variants[name].map { Resolution(value: $0, variant: name, reason: .targetingMatch) }
        }
        var conditions: [(logic: JsonLogic, result: Resolution)] = []
        for rule in flag.rules {
            // A rule that chooses its own variant is evaluated by the general path.
            if case .choose = rule.when { return nil }
            guard let condition = rule.condition(in: flag.segments) else { continue }
            guard let logic = try? JsonLogic(condition), let variant = rule.variant, let result = match(variant)
            else { return nil }
            conditions.append((logic, result))
        }
        let reached = flag.canarySegments.compactMap { flag.segments[$0] }
        if !reached.isEmpty {
            guard let logic = try? JsonLogic(reached.count == 1 ? reached[0] : ["or": .array(reached)]),
                let result = match(flag.canary)
            else { return nil }
            conditions.append((logic, result))
        }
        guard flag.hasSplit else {
            // No split: with conditions, none held (JsonLogic's `if` gives null); without, no targeting at all.
            let fallback = Resolution(
                value: flag.variants[flag.baseline], variant: flag.baseline,
                reason: conditions.isEmpty ? .static : .default
            ).orMissingVariant(flag)
            return Branches(conditions: conditions, shares: [], fallback: fallback)
        }
        var shares: [(end: Int, match: Resolution)] = []
        var end = 0
        for share in flag.split {
            guard let result = match(share.variant) else { return nil }
            end += share.weight
            shares.append((end, result))
        }
        guard end > 0, let baseline = match(flag.baseline) else { return nil }
        // `fractional` with nothing to hash gives null: the default variant.
        var fallback = baseline
        fallback.reason = .default
        return Branches(conditions: conditions, shares: shares, fallback: fallback)
    }

    /// The variant, value and reason for one caller, as a flagd provider of `bucketing`'s generation answers
    /// for the exported flag. `timestamp` (Unix seconds) is what `$flagd.timestamp` reads. A disabled flag
    /// answers reason DISABLED with no value and no variant, whatever type the caller expects.
    public func resolve(
        _ context: EvaluationContext, timestamp: Int64, bucketing: BucketingGeneration = .concat
    ) -> Resolution {
        if flag.disabled { return Resolution(value: nil, variant: nil, reason: .disabled) }
        if let branches { return resolve(branches, context, timestamp: timestamp, bucketing: bucketing) }
        return resolveByLogic(context, timestamp: timestamp, bucketing: bucketing)
    }

    /// The typed path: conditions in order, then the split, as `Flag.targeting`'s `if` and `fractional` decide.
    private func resolve(
        _ branches: Branches, _ context: EvaluationContext, timestamp: Int64, bucketing: BucketingGeneration
    ) -> Resolution {
        if !branches.conditions.isEmpty {
            let environment = TargetingEnvironment(
                flagKey: flag.key, context: context, timestamp: timestamp, bucketing: bucketing)
            for (logic, result) in branches.conditions where logic.matches(environment) { return result }
        }
        // `fractional` without a bucketing value: nothing to hash without a targeting key (or with an empty one).
        guard branches.total > 0, let key = context.targetingKey, !key.isEmpty else { return branches.fallback }
        let hash = Bucketing.hash(flagKey: flag.key, targetingKey: key, generation: bucketing)
        let bucket = Bucketing.bucket(hash: hash, totalWeight: branches.total)
        for share in branches.shares where bucket < share.end { return share.match }
        return branches.fallback
    }

    /// The general path: the stored targeting as JsonLogic (also what the typed path must agree with).
    public func resolveByLogic(
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

extension Resolution {
    /// This resolution, or the general path's error when its variant is not one of the flag's.
    fileprivate func orMissingVariant(_ flag: Flag) -> Resolution {
        guard value == nil, let variant else { return self }
        return .error(.general, "flag \"\(flag.key)\" has no variant \"\(variant)\"")
    }

    /// The value when it is a boolean, else `fallback` (also for an error, a disabled flag, another type).
    public func bool(default fallback: Bool) -> Bool {
        if case .bool(let b)? = value { b } else { fallback }
    }

    /// The value when it is a string, else `fallback`.
    public func string(default fallback: String) -> String {
        if case .string(let s)? = value { s } else { fallback }
    }

    /// The value when it is a number that is exactly an `Int`, else `fallback`.
    public func int(default fallback: Int) -> Int {
        if case .number(let n)? = value, let exact = Int(exactly: n) { exact } else { fallback }
    }

    /// The value when it is a number, else `fallback`.
    public func double(default fallback: Double) -> Double {
        if case .number(let n)? = value { n } else { fallback }
    }
}
