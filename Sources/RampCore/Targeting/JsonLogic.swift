/// A JsonLogic rule (https://jsonlogic.com) in flagd's dialect, compiled once into a tree and then applied to many
/// contexts without parsing again.
///
/// The standard operations behave as the reference implementation (json-logic-js) does, JavaScript coercions
/// included: `[]` is false and `"0"` true, `1 == "1"`, `1 / 0` is Infinity (written as null in JSON). flagd's
/// operations are `starts_with`, `ends_with`, `sem_ver` and `fractional`. Applying a rule never fails: a malformed
/// argument gives null or false, as in flagd; only compiling refuses an unknown operation.
public struct JsonLogic: Sendable, Equatable, CustomStringConvertible {
    /// The rule as written.
    public let source: JSONValue
    let root: Node

    public init(_ source: JSONValue) throws(JsonLogicError) {
        self.source = source
        root = try Node.compile(source, path: "")
    }

    public static func == (a: JsonLogic, b: JsonLogic) -> Bool { a.source == b.source }
    public var description: String { source.canonical }

    /// The rule's result for a plain data document (`{"var": "a.b"}` reads `data.a.b`).
    public func apply(_ data: JSONValue) -> JSONValue {
        Evaluation(environment: nil).eval(root, .value(data))
    }

    /// The rule's result for a flag evaluation: `var` reads the context's attributes, `targetingKey`, and flagd's
    /// `$flagd.flagKey` and `$flagd.timestamp`.
    public func apply(_ environment: TargetingEnvironment) -> JSONValue {
        Evaluation(environment: environment).eval(root, .root)
    }

    /// Whether the rule's result is truthy for this evaluation.
    public func matches(_ environment: TargetingEnvironment) -> Bool { JS.truthy(apply(environment)) }
}

/// Why a JsonLogic rule cannot be compiled; `path` locates the part, as `if[1].in`.
public struct JsonLogicError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// The error's path inside `prefix` (`rules[0]` + `when.if` → `rules[0].when.if`).
    public func path(under prefix: String) -> String { path.isEmpty ? prefix : "\(prefix).\(path)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// The operations a rule may use.
enum Operation: String, CaseIterable, Sendable {
    case `if`, ternary = "?:", equal = "==", strictEqual = "===", notEqual = "!=", strictNotEqual = "!=="
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
    case not = "!", truthy = "!!", and, or
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", min, max
    case cat, substr, `in`, merge, missing, missingSome = "missing_some"
    case `var`, map, filter, reduce, all, some, none
    case startsWith = "starts_with", endsWith = "ends_with", semVer = "sem_ver", fractional
}

/// A compiled rule.
indirect enum Node: Sendable {
    /// A value with no operation inside.
    case value(JSONValue)
    /// An array with operations inside: each element is applied.
    case list([Node])
    /// `var` with a constant path, split at the dots once.
    case path([String], fallback: Node?)
    /// `fractional` with constant shares, read once; `bucketBy` is a custom bucketing value.
    case split(FlagdOperators.Split, bucketBy: Node?)
    case operation(Operation, [Node])

    static func compile(_ json: JSONValue, path: String) throws(JsonLogicError) -> Node {
        switch json {
        case .array(let items):
            var nodes: [Node] = []
            var constant = true
            for (i, item) in items.enumerated() {
                let node = try compile(item, path: "\(path)[\(i)]")
                if case .value = node {} else { constant = false }
                nodes.append(node)
            }
            return constant ? .value(json) : .list(nodes)
        case .object(let members) where members.count == 1:
            let (name, argument) = members.first!
            let here = path.isEmpty ? name : "\(path).\(name)"
            guard let operation = Operation(rawValue: name) else {
                throw JsonLogicError(path: here, message: "unknown operation \"\(name)\"")
            }
            // A single argument that is not an array stands for a list of one, as in json-logic-js.
            let arguments: [JSONValue] = if case .array(let items) = argument { items } else { [argument] }
            var nodes: [Node] = []
            for (i, item) in arguments.enumerated() {
                nodes.append(try compile(item, path: "\(here)[\(i)]"))
            }
            if operation == .var, case .value(let first)? = nodes.first, first != .null,
                case .value = nodes.count > 1 ? nodes[1] : .value(.null)
            {
                let key = JS.string(first)
                return .path(
                    key.isEmpty ? [] : key.split(separator: ".", omittingEmptySubsequences: false).map(String.init),
                    fallback: nodes.count > 1 ? nodes[1] : nil)
            }
            if operation == .fractional, let first = nodes.first {
                let custom: Node? = if case .value(.array) = first { nil } else { first }
                let constant = nodes.dropFirst(custom == nil ? 0 : 1).compactMap { node -> JSONValue? in
                    if case .value(let value) = node { value } else { nil }
                }
                if constant.count == nodes.count - (custom == nil ? 0 : 1),
                    let split = FlagdOperators.Split(constant[...])
                {
                    return .split(split, bucketBy: custom)
                }
            }
            return .operation(operation, nodes)
        default:
            // Scalars, and objects that are not one operation, are data.
            return .value(json)
        }
    }
}

/// Where `var` reads: the flag evaluation's context, or a value (an item inside `map`, `filter`, `reduce`, ...).
enum Scope {
    case root
    case value(JSONValue)
}

/// One application of a rule.
struct Evaluation {
    let environment: TargetingEnvironment?

    func eval(_ node: Node, _ scope: Scope) -> JSONValue {
        switch node {
        case .value(let value): return value
        case .list(let nodes): return .array(nodes.map { eval($0, scope) })
        case .path(let path, let fallback):
            return lookup(path, scope) ?? fallback.map { eval($0, scope) } ?? .null
        case .operation(let operation, let nodes): return apply(operation, nodes, scope)
        case .split(let split, let bucketBy):
            return split.choose(bucketBy: bucketBy.map { eval($0, scope) }, environment: environment)
        }
    }

    /// The value at `path` (already split at the dots), or nil when a step is missing. An explicit null is null.
    func lookup(_ path: [String], _ scope: Scope) -> JSONValue? {
        var current: JSONValue
        var rest = path[...]
        switch scope {
        case .value(let value): current = value
        case .root:
            guard let environment else { return nil }
            guard let first = rest.popFirst() else { return environment.document }
            guard let value = environment.value(first) else { return nil }
            current = value
        }
        for step in rest {
            switch current {
            case .object(let members):
                guard let next = members[step] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(step), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    private func path(of key: JSONValue) -> [String] {
        if key == .null { return [] }
        let text = JS.string(key)
        return text.isEmpty ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    // swiftlint:disable:next cyclomatic_complexity
    private func apply(_ operation: Operation, _ nodes: [Node], _ scope: Scope) -> JSONValue {
        switch operation {
        // Lazy operations: only the arguments they need are applied.
        case .if, .ternary:
            var i = 0
            while i + 1 < nodes.count {
                if JS.truthy(eval(nodes[i], scope)) { return eval(nodes[i + 1], scope) }
                i += 2
            }
            return i < nodes.count ? eval(nodes[i], scope) : .null
        case .and, .or:
            var current = JSONValue.null
            for node in nodes {
                current = eval(node, scope)
                if JS.truthy(current) != (operation == .and) { return current }
            }
            return current
        case .map, .filter, .all, .some, .none:
            guard case .array(let items) = nodes.first.map({ eval($0, scope) }) ?? .null else {
                return operation == .map || operation == .filter ? .array([]) : .bool(operation == .none)
            }
            let logic = nodes.count > 1 ? nodes[1] : .value(.null)
            switch operation {
            case .map: return .array(items.map { eval(logic, .value($0)) })
            case .filter: return .array(items.filter { JS.truthy(eval(logic, .value($0))) })
            case .all: return .bool(!items.isEmpty && items.allSatisfy { JS.truthy(eval(logic, .value($0))) })
            case .some: return .bool(items.contains { JS.truthy(eval(logic, .value($0))) })
            default: return .bool(!items.contains { JS.truthy(eval(logic, .value($0))) })
            }
        case .reduce:
            let initial = nodes.count > 2 ? eval(nodes[2], scope) : .null
            guard case .array(let items) = nodes.first.map({ eval($0, scope) }) ?? .null else { return initial }
            let logic = nodes.count > 1 ? nodes[1] : .value(.null)
            return items.reduce(initial) { accumulator, item in
                eval(logic, .value(.object(["current": item, "accumulator": accumulator])))
            }
        // The usual two-argument comparisons of targeting rules, without building an argument array.
        case .equal, .notEqual, .strictEqual, .strictNotEqual, .greater, .greaterOrEqual, .in, .startsWith, .endsWith,
            .less, .lessOrEqual:
            guard nodes.count == 2 else { return strict(operation, nodes.map { eval($0, scope) }, scope) }
            return binary(operation, eval(nodes[0], scope), eval(nodes[1], scope))
        default:
            return strict(operation, nodes.map { eval($0, scope) }, scope)
        }
    }

    private func binary(_ operation: Operation, _ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch operation {
        case .equal: return .bool(JS.looseEquals(a, b))
        case .notEqual: return .bool(!JS.looseEquals(a, b))
        case .strictEqual: return .bool(JS.strictEquals(a, b))
        case .strictNotEqual: return .bool(!JS.strictEquals(a, b))
        case .greater: return .bool(JS.greater(a, b))
        case .greaterOrEqual: return .bool(JS.greaterOrEqual(a, b))
        case .less: return .bool(JS.less(a, b))
        case .lessOrEqual: return .bool(JS.lessOrEqual(a, b))
        case .in:
            switch b {
            case .string(let haystack): return .bool(contains(haystack, JS.string(a)))
            case .array(let items): return .bool(items.contains { JS.strictEquals($0, a) })
            default: return .bool(false)
            }
        case .startsWith, .endsWith:
            guard case .string(let text) = a, case .string(let affix) = b else { return .null }
            return .bool(
                operation == .startsWith
                    ? text.utf8.starts(with: affix.utf8) : text.utf8.reversed().starts(with: affix.utf8.reversed()))
        default: return .null
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private func strict(_ operation: Operation, _ args: [JSONValue], _ scope: Scope) -> JSONValue {
        func arg(_ i: Int) -> JSONValue { i < args.count ? args[i] : .null }
        switch operation {
        case .var:
            return lookup(path(of: arg(0)), scope) ?? (args.count > 1 ? args[1] : .null)
        case .equal, .notEqual, .strictEqual, .strictNotEqual, .greater, .greaterOrEqual, .in:
            return binary(operation, arg(0), arg(1))
        case .less, .lessOrEqual:
            if args.count > 2 {
                return .bool(
                    JS.truthy(binary(operation, args[0], args[1])) && JS.truthy(binary(operation, args[1], args[2])))
            }
            return binary(operation, arg(0), arg(1))
        case .not: return .bool(!JS.truthy(arg(0)))
        case .truthy: return .bool(JS.truthy(arg(0)))
        case .add: return .number(args.reduce(0) { $0 + JS.parseFloat($1) })
        case .multiply:
            guard let first = args.first else { return .null }
            if args.count == 1 { return first }
            return .number(args.dropFirst().reduce(JS.parseFloat(first)) { $0 * JS.parseFloat($1) })
        case .subtract:
            if args.count < 2 { return .number(-JS.toNumber(arg(0))) }
            return .number(JS.toNumber(args[0]) - JS.toNumber(args[1]))
        case .divide: return .number(JS.toNumber(arg(0)) / JS.toNumber(arg(1)))
        case .modulo: return .number(JS.toNumber(arg(0)).truncatingRemainder(dividingBy: JS.toNumber(arg(1))))
        case .min, .max:
            var result: Double = operation == .min ? .infinity : -.infinity
            for value in args {
                let n = JS.toNumber(value)
                if n.isNaN { return .number(.nan) }
                result = operation == .min ? Swift.min(result, n) : Swift.max(result, n)
            }
            return .number(result)
        case .cat: return .string(args.map(JS.string).joined())
        case .substr:
            return .string(substring(JS.string(arg(0)), start: arg(1), length: args.count > 2 ? args[2] : nil))
        case .merge:
            return .array(
                args.flatMap { value -> [JSONValue] in if case .array(let items) = value { items } else { [value] } })
        case .missing:
            let keys: [JSONValue] = if case .array(let items) = arg(0) { items } else { args }
            return .array(
                keys.filter { key in
                    let value = lookup(path(of: key), scope) ?? .null
                    return value == .null || value == .string("")
                })
        case .missingSome:
            let need = JS.toNumber(arg(0))
            guard case .array(let keys) = arg(1) else { return .array([]) }
            let missing = keys.filter { key in
                let value = lookup(path(of: key), scope) ?? .null
                return value == .null || value == .string("")
            }
            return Double(keys.count - missing.count) >= need ? .array([]) : .array(missing)
        case .startsWith, .endsWith: return args.count == 2 ? binary(operation, args[0], args[1]) : .null
        case .semVer: return FlagdOperators.semVer(args)
        case .fractional: return FlagdOperators.fractional(args, environment: environment)
        case .if, .ternary, .and, .or, .map, .filter, .all, .some, .none, .reduce:
            return .null  // handled lazily in apply
        }
    }

    /// `String.prototype.substr(start, length)` in UTF-16 code units; a negative length drops that many from the end.
    private func substring(_ text: String, start: JSONValue, length: JSONValue?) -> String {
        let units = Array(text.utf16)
        func integer(_ value: JSONValue) -> Int {
            let n = JS.toNumber(value)
            if n.isNaN { return 0 }
            // Any position past the text is the same as its end: clamp before converting, which traps out of range.
            let bound = Double(Int32.max)
            return Int(Swift.min(Swift.max(n.rounded(.towardZero), -bound), bound))
        }
        var from = integer(start)
        from = from < 0 ? Swift.max(units.count + from, 0) : Swift.min(from, units.count)
        var count = units.count - from
        if let length, length != .null {
            let n = integer(length)
            count = n < 0 ? Swift.max(count + n, 0) : Swift.min(n, count)
        }
        return String(decoding: units[from..<(from + count)], as: UTF16.self)
    }

    private func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8)
        let n = Array(needle.utf8)
        if n.isEmpty { return true }
        guard n.count <= h.count else { return false }
        for i in 0...(h.count - n.count) where h[i] == n[0] && h[i..<(i + n.count)].elementsEqual(n) { return true }
        return false
    }
}
