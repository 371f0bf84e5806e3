/// Reads a flagd flag file (https://flagd.dev/reference/flag-definitions/) into ramp flags: each flag's variants
/// (any JSON values, any number), `defaultVariant` as the baseline (and canary, until a plan names one), `state`,
/// `targeting` as one rule that chooses the variant itself (with every `$ref` replaced by its `$evaluators` entry),
/// and the flag set's metadata under the flag's own. What ramp cannot represent is refused, naming the flag and
/// the field, before anything is imported.
public enum FlagdImport {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// Where in the file: `flags.checkout.targeting`, `$evaluators.beta`.
        public var path: String
        public var message: String
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    /// Every flag of `text`, by key, or the first thing ramp cannot represent.
    public static func flags(from text: String) throws(Problem) -> [Flag] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw Problem(path: "", message: "not JSON: \(error)")
        }
        guard case .object(let top) = document else {
            throw Problem(path: "", message: "a flagd file is a JSON object, not \(document.typeName)")
        }
        let known = ["$schema", "flags", "$evaluators", "metadata"]
        if let unknown = top.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem(
                path: Escape.line(unknown),
                message: "is not a flagd file field (\(known.joined(separator: ", ")))"
                    + Spelling.hint(for: unknown, among: known))
        }
        guard case .object(let flags)? = top["flags"], !flags.isEmpty else {
            throw Problem(path: "flags", message: "is required: an object of flag key to flag, with at least one")
        }
        var evaluators: [String: JSONValue] = [:]
        if let given = top["$evaluators"] {
            guard case .object(let object) = given else {
                throw Problem(
                    path: "$evaluators", message: "expected an object of name to JsonLogic, found \(given.typeName)")
            }
            evaluators = object
        }
        let setMetadata = try metadata(top["metadata"], at: "metadata")
        return try flags.keys.sorted().map { key throws(Problem) in
            try flag(key, flags[key]!, evaluators: evaluators, setMetadata: setMetadata)
        }
    }

    private static func flag(
        _ key: String, _ value: JSONValue, evaluators: [String: JSONValue], setMetadata: [String: JSONValue]
    ) throws(Problem) -> Flag {
        let at = "flags.\(Escape.line(key))"
        guard Fields.isValidKey(key) else {
            throw Problem(
                path: at, message: "is not a key ramp can hold (letters, digits, '.', '_', '-'; at most 128 bytes)")
        }
        guard case .object(let fields) = value else {
            throw Problem(path: at, message: "a flag is an object, not \(value.typeName)")
        }
        let known = ["state", "variants", "defaultVariant", "targeting", "metadata"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem(
                path: "\(at).\(Escape.line(unknown))",
                message: "is not a flag field (\(known.joined(separator: ", ")))"
                    + Spelling.hint(for: unknown, among: known))
        }
        let disabled: Bool
        switch fields["state"] {
        case .string("ENABLED")?: disabled = false
        case .string("DISABLED")?: disabled = true
        case let other:
            throw Problem(
                path: "\(at).state",
                message: "expected \"ENABLED\" or \"DISABLED\", found \(other?.canonical ?? "nothing")")
        }
        guard case .object(let variants)? = fields["variants"], !variants.isEmpty else {
            throw Problem(path: "\(at).variants", message: "is required: an object of variant name to value")
        }
        for name in variants.keys.sorted() {
            if variants[name] == .null {
                throw Problem(
                    path: "\(at).variants.\(Escape.line(name))",
                    message: "is null: a flagd variant is a boolean, string, number or object")
            }
            if name.unicodeScalars.contains(where: Escape.isControl) || name.utf8.count > PlanParser.nameLimit
                || name.isEmpty
            {
                throw Problem(
                    path: "\(at).variants",
                    message: "variant name \"\(Escape.line(name))\" is empty, has a control character or is longer "
                        + "than \(PlanParser.nameLimit) bytes")
            }
        }
        guard case .string(let defaultVariant)? = fields["defaultVariant"] else {
            throw Problem(
                path: "\(at).defaultVariant",
                message: "is required by ramp: a ramp flag always serves a variant (found "
                    + "\(fields["defaultVariant"]?.canonical ?? "none"))")
        }
        guard variants[defaultVariant] != nil else {
            throw Problem(
                path: "\(at).defaultVariant",
                message: "\"\(Escape.line(defaultVariant))\" is not one of the flag's variants "
                    + "(\(variants.keys.sorted().map { Escape.line($0) }.joined(separator: ", ")))")
        }
        var rules: [TargetingRule] = []
        // flagd reads an absent or empty targeting as none.
        if let targeting = fields["targeting"], targeting != .object([:]) {
            var budget = Self.nodeLimit
            let resolved = try resolveReferences(
                targeting, evaluators: evaluators, at: "\(at).targeting", depth: 0, budget: &budget)
            do {
                _ = try JsonLogic(resolved)
            } catch {
                throw Problem(path: "\(at).\(error.path(under: "targeting"))", message: error.message)
            }
            rules = [TargetingRule(choose: resolved)]
        }
        var metadata = setMetadata
        metadata.merge(try self.metadata(fields["metadata"], at: "\(at).metadata")) { _, flag in flag }
        let flag = Flag(
            key: key, variants: variants, baseline: defaultVariant, canary: defaultVariant, rules: rules,
            disabled: disabled, metadata: metadata)
        // What is stored must read back: the rules column, and the audit entry that records the definition (with
        // a level to spare for the entry around it).
        let stored: [JSONValue] = [
            .array(rules.map(\.json)), ["entry": ["evidence": ["flag": definition(flag)]]],
        ]
        for value in stored where (try? JSONParser.parse(value.canonical)) == nil {
            throw Problem(
                path: "\(at).targeting", message: "is nested too deeply for ramp to keep (at most about 250 levels)")
        }
        return flag
    }

    /// What an `import` audit entry records of its flag: everything a replay needs to rebuild it
    /// (`flag(_:definition:)` reads it back).
    public static func definition(_ flag: Flag) -> JSONValue {
        [
            "variants": .object(flag.variants), "baseline": .string(flag.baseline), "canary": .string(flag.canary),
            "disabled": .bool(flag.disabled), "rules": .array(flag.rules.map(\.json)),
            "metadata": .object(flag.metadata), "weights": flag.weightsJSON,
        ]
    }

    /// Metadata as ramp keeps it: names to strings, finite numbers or booleans, none named `ramp…` (ramp's own in
    /// the export).
    private static func metadata(_ value: JSONValue?, at path: String) throws(Problem) -> [String: JSONValue] {
        guard let value else { return [:] }
        guard case .object(let object) = value else {
            throw Problem(
                path: path, message: "expected an object of name to string, number or boolean, found \(value.typeName)")
        }
        for name in object.keys.sorted() {
            let at = "\(path).\(Escape.line(name))"
            if name.isEmpty || name.unicodeScalars.contains(where: Escape.isControl)
                || name.utf8.count > PlanParser.nameLimit
            {
                throw Problem(path: at, message: "is not a metadata name ramp can hold")
            }
            if name.hasPrefix("ramp") {
                throw Problem(path: at, message: "names starting with \"ramp\" are ramp's own in the export")
            }
            switch object[name]! {
            case .string(let text) where !text.unicodeScalars.contains(where: Escape.isControl): break
            case .number, .bool: break
            case let other:
                throw Problem(
                    path: at,
                    message:
                        "expected a string (without control characters), number or boolean, found \(other.typeName)")
            }
        }
        return object
    }

    /// The flag `definition` records, or nil when any part of it cannot be read: what `audit verify` replays.
    public static func flag(_ key: String, definition: JSONValue?) -> Flag? {
        guard case .object(let fields)? = definition, case .object(let variants)? = fields["variants"],
            case .string(let baseline)? = fields["baseline"], case .string(let canary)? = fields["canary"],
            case .bool(let disabled)? = fields["disabled"], case .array(let ruleList)? = fields["rules"],
            case .object(let metadata)? = fields["metadata"], case .object(let weightValues)? = fields["weights"],
            let weights = Flag.weights(from: weightValues)
        else { return nil }
        var rules: [TargetingRule] = []
        for rule in ruleList {
            guard let read = try? TargetingRule(json: rule) else { return nil }
            rules.append(read)
        }
        return Flag(
            key: key, variants: variants, baseline: baseline, canary: canary, rules: rules, disabled: disabled,
            metadata: metadata, weights: weights)
    }

    /// The most JSON values one flag's targeting may hold once its `$ref`s are replaced: evaluators that refer to
    /// each other twice over would otherwise double at every level.
    public static let nodeLimit = 100_000

    /// `value` with every `{"$ref": name}` replaced by the named evaluator (itself resolved), as flagd does, within
    /// `budget` values.
    private static func resolveReferences(
        _ value: JSONValue, evaluators: [String: JSONValue], at path: String, depth: Int, budget: inout Int
    ) throws(Problem) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw Problem(
                path: path, message: "holds more than \(nodeLimit) JSON values once its $refs are replaced")
        }
        // Evaluators that refer to each other in a ring would never end.
        guard depth < 64 else {
            throw Problem(path: path, message: "$ref evaluators refer to each other too deeply (a cycle?)")
        }
        switch value {
        case .object(let members):
            if members.count == 1, let reference = members["$ref"] {
                guard case .string(let name) = reference, let evaluator = evaluators[name] else {
                    throw Problem(
                        path: path,
                        message: "$ref \(reference.canonical) names no evaluator under $evaluators"
                            + (evaluators.isEmpty ? " (the file has none)" : ""))
                }
                return try resolveReferences(
                    evaluator, evaluators: evaluators, at: path, depth: depth + 1, budget: &budget)
            }
            var resolved: [String: JSONValue] = [:]
            for (key, member) in members {
                resolved[key] = try resolveReferences(
                    member, evaluators: evaluators, at: path, depth: depth, budget: &budget)
            }
            return .object(resolved)
        case .array(let items):
            var resolved: [JSONValue] = []
            for item in items {
                resolved.append(
                    try resolveReferences(
                        item, evaluators: evaluators, at: path, depth: depth, budget: &budget))
            }
            return .array(resolved)
        default:
            return value
        }
    }
}
