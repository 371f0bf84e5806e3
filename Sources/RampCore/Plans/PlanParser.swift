/// Turns a plan document into a `Plan`, refusing anything malformed with the file and field path.
public enum PlanParser {
    /// The longest name (variant, source, gate, input) a plan may give, in bytes of UTF-8.
    public static let nameLimit = 200

    /// Parses and validates a plan. `file` is only used in error messages.
    public static func parse(_ text: String, file: String) throws(PlanError) -> Plan {
        var fields = try Self.fields(text, file: file)
        return try fields.plan()
    }

    /// A plan document's top-level fields, or the error naming the line and column where it is not JSON.
    static func fields(_ text: String, file: String) throws(PlanError) -> Fields {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw PlanError(file: file, path: "line \(error.line), column \(error.column)", message: error.message)
        }
        return try Fields(file: file, path: "", value: document)
    }

    /// The SHA-256 of the plan file's exact bytes: a plan is kept verbatim and named by this digest.
    public static func digest(_ text: String) -> String { SHA256.hex(text) }

    /// Store-wide notification targets (`ramp config notify`): a JSON array of targets, as in a plan's `notify`.
    /// Relative command paths resolve against `baseDir`.
    public static func notifyTargets(_ text: String, baseDir: String) throws(PlanError) -> [NotifyTarget] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw PlanError(
                file: "config", path: "notify: line \(error.line), column \(error.column)", message: error.message)
        }
        var fields = try Fields(file: "config", path: "", value: ["notify": document])
        var targets = try fields.notify()
        for index in targets.indices { targets[index].baseDir = baseDir }
        return targets
    }
}

/// The plan document, field by field.
extension Fields {
    /// Refuses keys outside `known` up front, so a misspelt key is named rather than reported as missing.
    func allow(_ known: Set<String>) throws(PlanError) {
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted().first {
            throw fail(unknown, "unknown field" + Spelling.hint(for: unknown, among: known))
        }
    }

    mutating func plan() throws(PlanError) -> Plan {
        try allow([
            "$schema", "flag", "description", "variants", "canary", "baseline", "segments", "rules", "metadata",
            "weights", "steps", "sources", "gates", "on", "max_hold", "interval", "notify", "alerts",
        ])
        _ = value("$schema")
        let flag = try requiredString("flag")
        guard Self.isValidKey(flag) else {
            throw fail("flag", "\"\(flag)\" is not a valid flag key (letters, digits, '.', '_', '-'; at most 128)")
        }
        let description = try string("description")
        let canary = try requiredString("canary")
        let baseline = try requiredString("baseline")
        try checkName(canary, at: "canary", what: "variant name")
        try checkName(baseline, at: "baseline", what: "variant name")
        guard canary != baseline else { throw fail("baseline", "must differ from the canary \"\(canary)\"") }
        var variants: [String: JSONValue]?
        if let v = value("variants") {
            guard case .object(let object) = v else {
                throw fail("variants", "expected an object of variant name to value, found \(v.typeName)")
            }
            for name in object.keys.sorted() { try checkName(name, at: "variants", what: "variant name") }
            for name in [canary, baseline] where object[name] == nil {
                throw fail(
                    "variants", "has no variant \"\(name)\" (named as \(name == canary ? "canary" : "baseline"))")
            }
            variants = object
        }
        let segments = try self.segments()
        let rules = try self.rules(variants: variants)
        let metadata = try self.metadata()
        let steps = try self.steps()
        let weights = try self.weights(variants: variants, canary: canary, baseline: baseline, steps: steps)
        let sources = try self.sources()
        let gates = try self.gates(sources: sources)
        let policy = try self.policy()
        let maxHold = try self.maxHold()
        if let maxHold, let longest = steps.map(\.bake).max(), maxHold.after <= longest {
            throw fail("max_hold.after", "\(maxHold.after) is not longer than the longest bake (\(longest))")
        }
        // A gate that compares with the baseline is not checked at 100% (Plan.gates(at:)): with no step before it, it
        // would never be checked at all.
        if let first = steps.first, first.segment == nil, first.percent == .full,
            let i = gates.firstIndex(where: \.comparesWithBaseline)
        {
            throw fail(
                "gates[\(i)]",
                "a \(gates[i].kind) gate would never be checked: the first step is 100%, where no unit gets the "
                    + "baseline to compare with (add a step below 100%)")
        }
        let interval = try span("interval", minimum: TimeSpan(seconds: 1)) ?? TimeSpan(seconds: 60)
        if interval > TimeSpan(seconds: 86_400) {
            throw fail(
                "interval", "\(interval) is longer than the maximum 1d (gates unchecked for longer protect nothing)")
        }
        let notify = try self.notify()
        let alerts = try self.alerts()
        try rejectUnknown()
        return Plan(
            flag: flag, description: description, variants: variants, canary: canary, baseline: baseline,
            segments: segments, rules: rules, metadata: metadata, weights: weights, steps: steps, sources: sources,
            gates: gates,
            policy: policy,
            maxHold: maxHold, interval: interval, notify: notify, alerts: alerts)
    }

    /// Refuses a name with a control character (a newline would forge a line of `ramp audit log`, a tab a
    /// column of `ramp eval`), naming it escaped.
    func checkName(_ name: String, at key: String, what: String) throws(PlanError) {
        if name.unicodeScalars.contains(where: Escape.isControl) {
            throw fail(key, "\(what) \"\(Escape.line(name))\" has a control character")
        }
        // Names are stored in indexed columns, whose entries PostgreSQL bounds (about 2.7 kB): the same limit on
        // both backends.
        if name.utf8.count > PlanParser.nameLimit {
            throw fail(key, "\(what) is \(name.utf8.count) bytes long; at most \(PlanParser.nameLimit) are allowed")
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 128
            && key.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    mutating func array(_ key: String) throws(PlanError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw fail(key, "expected an array, found \(v.typeName)") }
        return items
    }

    /// `segments`: name → JsonLogic condition, each compiled to refuse what cannot be evaluated.
    mutating func segments() throws(PlanError) -> [String: JSONValue] {
        guard let v = value("segments") else { return [:] }
        guard case .object(let object) = v else {
            throw fail("segments", "expected an object of segment name to JsonLogic condition, found \(v.typeName)")
        }
        for name in object.keys.sorted() {
            guard Self.isValidKey(name) else {
                throw fail("segments", "\"\(name)\" is not a valid segment name (letters, digits, '.', '_', '-')")
            }
            do {
                _ = try JsonLogic(object[name]!)
            } catch {
                throw fail(error.path(under: "segments.\(name)"), error.message)
            }
        }
        return object
    }

    /// `metadata`: flagd's flag metadata, name → string, finite number or boolean; names starting with `ramp` are
    /// ramp's own in the export. Nil when the plan leaves the flag's metadata as it is.
    mutating func metadata() throws(PlanError) -> [String: JSONValue]? {
        guard let v = value("metadata") else { return nil }
        guard case .object(let object) = v else {
            throw fail("metadata", "expected an object of name to string, number or boolean, found \(v.typeName)")
        }
        for name in object.keys.sorted() {
            guard !name.isEmpty else { throw fail("metadata", "a name is empty") }
            try checkName(name, at: "metadata", what: "metadata name")
            if name.hasPrefix("ramp") {
                throw fail("metadata.\(name)", "names starting with \"ramp\" are ramp's own in the export")
            }
            switch object[name]! {
            case .string(let text):
                if text.unicodeScalars.contains(where: Escape.isControl) {
                    throw fail("metadata.\(name)", "\"\(Escape.line(text))\" has a control character")
                }
            case .number, .bool: break
            case let other:
                throw fail("metadata.\(name)", "expected a string, number or boolean, found \(other.typeName)")
            }
        }
        return object
    }

    /// `weights`: the flag's base allocation, variant → integer weight (total at most 2^31 − 1); nil leaves the
    /// flag's as they are, `{}` goes back to the default (the baseline alone). The canary and baseline must hold some weight between them (the pool a rollout moves),
    /// and every step's share of that pool must be writable within flagd's total (`Flag.split`).
    mutating func weights(variants: [String: JSONValue]?, canary: String, baseline: String, steps: [Plan.Step])
        throws(PlanError) -> [String: Int]?
    {
        guard let v = value("weights") else { return nil }
        guard case .object(let object) = v else {
            throw fail("weights", "expected an object of variant name to integer weight, found \(v.typeName)")
        }
        if object.isEmpty { return [:] }
        var weights: [String: Int] = [:]
        var total = 0
        for name in object.keys.sorted() {
            if let variants, variants[name] == nil {
                throw fail(
                    "weights.\(name)",
                    "\"\(Escape.line(name))\" is not a variant (\(variants.keys.sorted().joined(separator: ", ")))")
            }
            try checkName(name, at: "weights", what: "variant name")
            guard case .number(let n) = object[name]!, n.isFinite, n == n.rounded(), n >= 0,
                n <= Double(Flag.maximumTotalWeight)
            else {
                throw fail(
                    "weights.\(name)",
                    "expected a whole number from 0 to \(Flag.maximumTotalWeight), found \(object[name]!.canonical)")
            }
            weights[name] = Int(n)
            total += Int(n)
        }
        guard total <= Flag.maximumTotalWeight else {
            throw fail("weights", "total \(total) is more than flagd's largest, \(Flag.maximumTotalWeight)")
        }
        guard weights[canary, default: 0] + weights[baseline, default: 0] > 0 else {
            throw fail(
                "weights",
                "the canary \"\(canary)\" and baseline \"\(baseline)\" hold no weight: a rollout would move no one")
        }
        for (i, step) in steps.enumerated() {
            for percent in [step.percent, .zero, .full]
            where Flag.split(base: weights, canary: canary, baseline: baseline, basisPoints: percent.basisPoints) == nil
            {
                throw fail(
                    "weights",
                    "are too fine for steps[\(i)]: \(percent) of the canary and baseline's pool cannot be written "
                        + "within flagd's total \(Flag.maximumTotalWeight) (use smaller weights)")
            }
        }
        return weights
    }

    /// `rules`: ordered targeting rules; nil when the plan leaves the flag's rules as they are.
    mutating func rules(variants: [String: JSONValue]?) throws(PlanError) -> [TargetingRule]? {
        guard let items = try array("rules") else { return nil }
        var rules: [TargetingRule] = []
        for (i, item) in items.enumerated() {
            let rule: TargetingRule
            do {
                rule = try TargetingRule(json: item)
            } catch {
                throw fail(error.path(under: "rules[\(i)]"), error.message)
            }
            if let variants, let variant = rule.variant, variants[variant] == nil {
                throw fail(
                    "rules[\(i)].variant",
                    "\"\(variant)\" is not a variant (\(variants.keys.sorted().joined(separator: ", ")))")
            }
            rules.append(rule)
        }
        return rules
    }

    mutating func steps() throws(PlanError) -> [Plan.Step] {
        guard let items = try array("steps") else { throw fail("steps", "is required") }
        guard !items.isEmpty else { throw fail("steps", "needs at least one step") }
        var steps: [Plan.Step] = []
        for (i, item) in items.enumerated() {
            var step = try Fields(file: file, path: join("steps[\(i)]"), value: item)
            let segment = try step.string("segment")
            let percent: Percent
            switch (segment, try step.number("percent")) {
            case (nil, nil): throw step.fail("percent", "is required (or name a segment: {\"segment\": \"internal\"})")
            case (.some, .some): throw step.fail("segment", "a step targets a segment or a percentage, not both")
            case (let name?, nil):
                guard Self.isValidKey(name) else {
                    throw step.fail("segment", "\"\(name)\" is not a valid segment name")
                }
                if steps.contains(where: { $0.segment == name }) {
                    throw step.fail("segment", "\"\(name)\" already has a step")
                }
                // The share stays where the previous step left it: segments add to it.
                percent = steps.last?.percent ?? .zero
            case (nil, let number?):
                guard number > 0, number <= 100, let value = Percent(number) else {
                    throw step.fail(
                        "percent",
                        "\(JSONValue.format(number)) is not a percentage in (0, 100] with at most two decimals")
                }
                if let previous = steps.last, value <= previous.percent {
                    throw step.fail(
                        "percent",
                        "\(value.description.dropLast()) is not above the previous step's \(previous.percent.description.dropLast())"
                    )
                }
                percent = value
            }
            let bake = try step.span("bake", minimum: .zero) ?? .zero
            let approval = try step.bool("approval") ?? false
            try step.rejectUnknown()
            steps.append(Plan.Step(percent: percent, segment: segment, bake: bake, approval: approval))
        }
        return steps
    }

    mutating func sources() throws(PlanError) -> [String: SourceSpec] {
        guard let v = value("sources") else { return [:] }
        guard case .object(let object) = v else {
            throw fail("sources", "expected an object of source name to source, found \(v.typeName)")
        }
        var sources: [String: SourceSpec] = [:]
        for name in object.keys.sorted() {
            try checkName(name, at: "sources", what: "source name")
            var source = try Fields(file: file, path: join("sources.\(name)"), value: object[name]!)
            let type = try source.requiredString("type")
            switch type {
            case "command":
                try source.allow(["type", "command", "timeout"])
                guard let argv = try source.array("command") else { throw source.fail("command", "is required") }
                guard !argv.isEmpty else { throw source.fail("command", "needs at least the executable") }
                var words: [String] = []
                for (i, word) in argv.enumerated() {
                    guard case .string(let s) = word else {
                        throw source.fail("command[\(i)]", "expected a string, found \(word.typeName)")
                    }
                    try source.checkTemplates(s, "command[\(i)]")
                    words.append(s)
                }
                guard !words[0].isEmpty else { throw source.fail("command[0]", "the executable is empty") }
                let timeout = try source.span("timeout", minimum: TimeSpan(seconds: 1)) ?? TimeSpan(seconds: 10)
                sources[name] = .command(argv: words, timeout: timeout)
            case "prometheus", "http":
                try source.allow([
                    "type", "url", "timeout", "headers", "bearer_token_env", "bearer_token_file", "basic_auth",
                ])
                let endpoint = try source.endpoint()
                // ramp adds Prometheus' API path and query to the URL: it is the server's base, nothing after it.
                if type == "prometheus", endpoint.url.contains(where: { $0 == "?" || $0 == "#" }) {
                    throw source.fail(
                        "url", "a prometheus url is the server's base URL (ramp adds /api/v1/query?…): no ? or #")
                }
                sources[name] = type == "prometheus" ? .prometheus(endpoint) : .http(endpoint)
            case "events":
                try source.allow(["type"])
                sources[name] = .events
            default:
                throw source.fail(
                    "type", "unknown source type \"\(type)\" (known: \(SourceSpec.typeNames.joined(separator: ", ")))")
            }
            try source.rejectUnknown()
        }
        return sources
    }

    func checkTemplates(_ text: String, _ key: String) throws(PlanError) {
        if let unknown = QueryTemplate.unknownName(in: text) {
            throw fail(
                key,
                "unknown template {{\(unknown)}} (known: \(QueryTemplate.names.sorted().map { "{{\($0)}}" }.joined(separator: ", ")))"
            )
        }
    }

    mutating func endpoint() throws(PlanError) -> HTTPEndpoint {
        let url = try requiredString("url")
        let rest = url.hasPrefix("http://") ? url.dropFirst(7) : url.hasPrefix("https://") ? url.dropFirst(8) : nil
        guard let rest, let host = rest.split(separator: "/", omittingEmptySubsequences: false).first, !host.isEmpty
        else {
            throw fail("url", "\"\(url)\" is not an http:// or https:// URL")
        }
        if host.contains("@") {
            throw fail(
                "url",
                "a user or password in the URL would be written into the plan: use basic_auth with password_env, "
                    + "or bearer_token_env")
        }
        try checkTemplates(url, "url")
        var endpoint = HTTPEndpoint(url: url)
        endpoint.timeout = try span("timeout", minimum: TimeSpan(seconds: 1)) ?? TimeSpan(seconds: 10)
        if let v = value("headers") {
            var headers = try Fields(file: file, path: join("headers"), value: v)
            for key in headers.members.keys.sorted() {
                guard let text = try headers.string(key) else { continue }
                if ["authorization", "proxy-authorization"].contains(key.lowercased()) {
                    throw headers.fail(
                        key, "put credentials in bearer_token_env, bearer_token_file or basic_auth, not in the plan")
                }
                // A header is sent as written: a name HTTP allows (RFC 9110's token) and a value without a line
                // break or other control character, which would end or forge the header.
                let tchar = "!#$%&'*+-.^_`|~"
                guard !key.isEmpty,
                    key.unicodeScalars.allSatisfy({
                        $0.isASCII
                            && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                || tchar.unicodeScalars.contains($0))
                    })
                else { throw headers.fail(key, "\"\(Escape.line(key))\" is not an HTTP header name") }
                if text.unicodeScalars.contains(where: { $0 != "\t" && Escape.isControl($0) }) {
                    throw headers.fail(key, "the value has a control character")
                }
                endpoint.headers[key] = text
            }
        }
        endpoint.bearerTokenEnv = try string("bearer_token_env")
        endpoint.bearerTokenFile = try string("bearer_token_file")
        if endpoint.bearerTokenEnv != nil && endpoint.bearerTokenFile != nil {
            throw fail("bearer_token_file", "give bearer_token_env or bearer_token_file, not both")
        }
        if let v = value("basic_auth") {
            var auth = try Fields(file: file, path: join("basic_auth"), value: v)
            endpoint.basicAuthUser = try auth.requiredString("username")
            endpoint.basicAuthPasswordEnv = try auth.requiredString("password_env")
            try auth.rejectUnknown()
            if endpoint.bearerTokenEnv != nil || endpoint.bearerTokenFile != nil {
                throw fail("basic_auth", "give a bearer token or basic_auth, not both")
            }
        }
        return endpoint
    }

    mutating func gates(sources: [String: SourceSpec]) throws(PlanError) -> [Gate] {
        guard let items = try array("gates") else { return [] }
        var gates: [Gate] = []
        for (i, item) in items.enumerated() {
            var gate = try Fields(file: file, path: join("gates[\(i)]"), value: item)
            let kind = try gate.string("kind") ?? "threshold"
            let ruleKeys: Set<String> =
                switch kind {
                case "threshold": ["min", "max"]
                case "relative": ["direction", "max_ratio", "max_delta"]
                case "statistical":
                    [
                        "test", "metric", "direction", "alpha", "tolerance", "min_samples", "expected_samples",
                        "mixture", "spending", "looks", "pass", "inputs",
                    ]
                default:
                    throw gate.fail("kind", "\"\(kind)\" is not a gate kind (threshold, relative or statistical)")
                }
            try gate.allow(
                Set(["name", "source", "kind", "query", "pointer", "failure_limit", "shadow"]).union(ruleKeys))
            let name = try gate.requiredString("name")
            guard !name.isEmpty else { throw gate.fail("name", "must not be empty") }
            try gate.checkName(name, at: "name", what: "gate name")
            if gates.contains(where: { $0.name == name }) {
                throw gate.fail("name", "\"\(name)\" is used by another gate")
            }
            let sourceName = try gate.requiredString("source")
            guard let source = sources[sourceName] else {
                let known = sources.keys.sorted().joined(separator: ", ")
                throw gate.fail(
                    "source", "unknown source \"\(sourceName)\" (defined: \(known.isEmpty ? "none" : known))")
            }
            let query = try gate.string("query")
            let pointer = try gate.string("pointer")
            let selector: String?
            switch source {
            case _ where kind == "statistical":
                selector = try gate.statisticalSelector(source: source, query: query, pointer: pointer)
            case .events:
                throw gate.fail("source", "the events source serves statistical gates only (kind \"statistical\")")
            case .prometheus:
                guard let query, pointer == nil else {
                    throw gate.fail(
                        pointer != nil ? "pointer" : "query",
                        pointer != nil
                            ? "a prometheus gate takes a query, not a pointer"
                            : "is required for a prometheus source (PromQL)")
                }
                selector = query
            case .http:
                guard let pointer, query == nil else {
                    throw gate.fail(
                        query != nil ? "query" : "pointer",
                        query != nil
                            ? "an http gate takes a JSON pointer (\"pointer\"), not a query"
                            : "is required for an http source (a JSON Pointer like /error_rate)")
                }
                guard pointer.isEmpty || pointer.hasPrefix("/") else {
                    throw gate.fail("pointer", "\"\(pointer)\" is not a JSON Pointer (it starts with /)")
                }
                selector = pointer
            case .command:
                if query != nil || pointer != nil {
                    throw gate.fail(
                        query != nil ? "query" : "pointer",
                        "a command gate takes neither query nor pointer (template the command's arguments instead)")
                }
                selector = nil
            }
            if let selector { try gate.checkTemplates(selector, query != nil ? "query" : "pointer") }
            let rule: Gate.Rule
            if kind == "statistical" {
                rule = .statistical(try gate.statisticalSpec(source: source, query: query))
            } else if kind == "relative" {
                let directionText = try gate.string("direction") ?? Gate.Direction.higherIsWorse.rawValue
                guard let direction = Gate.Direction(rawValue: directionText) else {
                    throw gate.fail(
                        "direction", "\"\(directionText)\" is not a direction (higher_is_worse or lower_is_worse)")
                }
                let ratio = try gate.number("max_ratio")
                let delta = try gate.number("max_delta")
                if ratio == nil && delta == nil {
                    throw gate.fail(nil, "a relative gate needs \"max_ratio\", \"max_delta\" or both")
                }
                if let ratio, ratio < 1 {
                    throw gate.fail("max_ratio", "\(JSONValue.format(ratio)) is below 1 (1.2 allows 20% worse)")
                }
                if let delta, delta < 0 { throw gate.fail("max_delta", "\(JSONValue.format(delta)) is negative") }
                if !source.usesVariant(selector: selector) {
                    throw gate.fail(
                        query != nil ? "query" : (pointer != nil ? "pointer" : "source"),
                        "a relative gate reads the same metric for canary and baseline, so it must use {{variant}}")
                }
                rule = .relative(direction: direction, maxRatio: ratio, maxDelta: delta)
            } else {
                let min = try gate.number("min")
                let max = try gate.number("max")
                if min == nil && max == nil { throw gate.fail(nil, "needs \"min\", \"max\" or both") }
                if let lo = min, let hi = max, lo > hi {
                    throw gate.fail("min", "\(JSONValue.format(lo)) is above max \(JSONValue.format(hi))")
                }
                rule = .threshold(min: min, max: max)
            }
            var failureLimit = 1
            if let limit = try gate.number("failure_limit") {
                guard limit >= 1, limit <= 1000, limit == limit.rounded() else {
                    throw gate.fail("failure_limit", "\(JSONValue.format(limit)) is not a whole number from 1 to 1000")
                }
                failureLimit = Int(limit)
            }
            let shadow = try gate.bool("shadow") ?? false
            try gate.rejectUnknown()
            gates.append(
                Gate(
                    name: name, source: sourceName, query: selector, rule: rule, failureLimit: failureLimit,
                    shadow: shadow))
        }
        return gates
    }

    /// A statistical gate's query: for the events source, the outcome it compares (none for `srm`); other sources
    /// take theirs per input, in `inputs`.
    func statisticalSelector(source: SourceSpec, query: String?, pointer: String?) throws(PlanError) -> String? {
        if pointer != nil { throw fail("pointer", "a statistical gate takes its pointers in \"inputs\"") }
        switch source {
        case .events:
            return query
        case .command:
            throw fail(
                "source", "a statistical gate reads several inputs per arm: use a prometheus, http or events source")
        case .prometheus, .http:
            if query != nil { throw fail("query", "a statistical gate takes its queries in \"inputs\"") }
            return nil
        }
    }

    /// The test, metric, direction, alpha, tolerance, sample sizes, pass rule and inputs of a statistical gate.
    mutating func statisticalSpec(source: SourceSpec, query: String?) throws(PlanError) -> StatisticalSpec {
        typealias Spec = StatisticalSpec
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T?) throws(PlanError) -> T
        where T.RawValue == String {
            let known = T.allCases.map(\.rawValue).joined(separator: ", ")
            guard let text = try string(key) else {
                guard let fallback else { throw fail(key, "is required (\(known))") }
                return fallback
            }
            guard let value = T(rawValue: text) else { throw fail(key, "\"\(text)\" is not one of \(known)") }
            return value
        }
        let test: Spec.Test = try choice("test", nil)
        let metric: Spec.Metric = try choice(
            "metric", test == .srm ? .exposures : test == .mannWhitney ? .distribution : test == .z ? .proportion : nil)
        let fits: [Spec.Test: Set<Spec.Metric>] = [
            .sequential: [.proportion, .mean], .groupSequential: [.proportion, .mean], .z: [.proportion],
            .welch: [.mean], .mannWhitney: [.distribution],
            .srm: [.exposures],
        ]
        guard fits[test]!.contains(metric) else {
            throw fail(
                "metric",
                "test \(test.rawValue) takes \(fits[test]!.map(\.rawValue).sorted().joined(separator: " or ")), not \(metric.rawValue)"
            )
        }
        var spec = Spec(test: test, metric: metric)
        spec.worse = try choice("direction", Worse.higher)
        spec.alpha = try number("alpha") ?? (test == .srm ? 0.001 : 0.05)
        guard spec.alpha > 0, spec.alpha < 0.5 else {
            throw fail("alpha", "\(JSONValue.format(spec.alpha)) is not between 0 and 0.5")
        }
        spec.tolerance = try number("tolerance") ?? 0
        guard spec.tolerance >= 0 else { throw fail("tolerance", "is negative: it is how much worse may pass") }
        spec.minSamples = try number("min_samples") ?? 100
        guard spec.minSamples >= 1 else { throw fail("min_samples", "must be at least 1") }
        spec.expectedSamples = try number("expected_samples")
        if let n = spec.expectedSamples, n < spec.minSamples {
            throw fail(
                "expected_samples", "\(JSONValue.format(n)) is below min_samples \(JSONValue.format(spec.minSamples))")
        }
        spec.mixture = try number("mixture")
        if let tau = spec.mixture, tau <= 0 { throw fail("mixture", "must be positive (the effect size to tune for)") }
        if test == .groupSequential {
            if spec.mixture != nil { throw fail("mixture", "is for the sequential test (mSPRT), not group_sequential") }
            spec.spending = try choice("spending", AlphaSpending.obrienFleming)
            if let looks = try number("looks") {
                guard looks >= 1, looks <= 100, looks.rounded() == looks else {
                    throw fail("looks", "\(JSONValue.format(looks)) is not a whole number from 1 to 100")
                }
                spec.looks = Int(looks)
            }
            if spec.expectedSamples == nil {
                throw fail("expected_samples", "is required by group_sequential (the planned maximum sample per arm)")
            }
        } else {
            for key in ["spending", "looks"] where value(key) != nil {
                throw fail(key, "is only for test group_sequential")
            }
        }
        // A group-sequential test passes only at its planned sample: it has no non-inferiority boundary.
        let passByDefault: Spec.PassRule = spec.tolerance > 0 && test != .groupSequential ? .nonInferiority : .samples
        spec.pass = try choice("pass", passByDefault)
        if test == .groupSequential, spec.pass != .samples {
            throw fail("pass", "group_sequential passes at its planned sample (samples), not by non_inferiority")
        }
        if spec.pass == .nonInferiority, spec.tolerance == 0, [.sequential, .z, .welch].contains(test) {
            throw fail("pass", "non_inferiority needs a tolerance above 0 (how much worse may still pass)")
        }
        if test == .sequential, spec.mixture == nil, spec.expectedSamples == nil {
            throw fail(nil, "a sequential gate needs \"expected_samples\" (per arm) or \"mixture\" to tune its test")
        }
        if spec.pass == .samples, spec.expectedSamples == nil, [.sequential, .z, .welch].contains(test) {
            throw fail("expected_samples", "is required by the samples pass rule (the planned sample per arm)")
        }
        if case .events = source {
            if value("inputs") != nil { throw fail("inputs", "the events source needs no inputs") }
            if metric != .exposures, query == nil {
                throw fail("query", "is required: the outcome metric to compare (as `ramp record` names it)")
            }
            return spec
        }
        spec.inputs = try inputs(from: source, metric: metric)
        if metric == .distribution {
            throw fail("source", "distributions (lists of values) come from the events source in this version")
        }
        return spec
    }

    /// The `inputs` of something read once per arm from `source` (a statistical gate, an experiment's metric):
    /// input name → query, each using `{{variant}}` (a JSON Pointer for an HTTP source), one of the sets `metric`
    /// takes.
    mutating func inputs(from source: SourceSpec, metric: StatisticalSpec.Metric) throws(PlanError) -> [String: String]
    {
        guard let v = value("inputs"), case .object(let inputs) = v else {
            throw fail("inputs", "is required: an object of input name to query (\(Self.inputHelp(metric)))")
        }
        var out: [String: String] = [:]
        for (name, query) in inputs {
            try checkName(name, at: "inputs", what: "input name")
            guard case .string(let text) = query else {
                throw fail("inputs.\(name)", "expected a query string, found \(query.typeName)")
            }
            try checkTemplates(text, "inputs.\(name)")
            if case .http = source, !text.isEmpty, !text.hasPrefix("/") {
                throw fail("inputs.\(name)", "\"\(text)\" is not a JSON Pointer (it starts with /)")
            }
            if !source.usesVariant(selector: text) {
                throw fail("inputs.\(name)", "is read once per arm, so it must use {{variant}}")
            }
            out[name] = text
        }
        guard StatisticalSpec.inputNames(metric).contains(where: { Set($0) == Set(inputs.keys) }) else {
            throw fail(
                "inputs",
                "\(metric.rawValue) takes \(Self.inputHelp(metric)), found \(inputs.keys.sorted().joined(separator: ", "))"
            )
        }
        return out
    }

    static func inputHelp(_ metric: StatisticalSpec.Metric) -> String {
        StatisticalSpec.inputNames(metric).map { $0.joined(separator: ", ") }.joined(separator: "; or ")
    }

    mutating func maxHold() throws(PlanError) -> Plan.MaxHold? {
        guard let v = value("max_hold") else { return nil }
        var hold = try Fields(file: file, path: join("max_hold"), value: v)
        guard let after = try hold.span("after", minimum: TimeSpan(seconds: 1)) else {
            throw hold.fail("after", "is required")
        }
        let thenText = try hold.string("then") ?? "pause"
        guard let then = Plan.Action(rawValue: thenText), then != .hold else {
            throw hold.fail("then", "\"\(thenText)\" is not pause or rollback")
        }
        try hold.rejectUnknown()
        return Plan.MaxHold(after: after, then: then)
    }

    mutating func policy() throws(PlanError) -> Plan.Policy {
        guard let v = value("on") else { return Plan.Policy() }
        var on = try Fields(file: file, path: join("on"), value: v)
        func action(_ key: String, _ fallback: Plan.Action) throws(PlanError) -> Plan.Action {
            guard let text = try on.string(key) else { return fallback }
            guard let action = Plan.Action(rawValue: text) else {
                throw on.fail(key, "\"\(text)\" is not an action (rollback, pause or hold)")
            }
            return action
        }
        let policy = Plan.Policy(
            fail: try action("fail", .rollback), noData: try action("no_data", .hold), error: try action("error", .hold)
        )
        try on.rejectUnknown()
        return policy
    }
}
