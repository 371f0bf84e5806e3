/// Where a gate's number comes from.
public enum SourceSpec: Sendable, Equatable {
    /// An executable run without a shell; its stdout is one number. Arguments may use query templates.
    case command(argv: [String], timeout: TimeSpan)
    /// A Prometheus server's instant-query API; each gate gives the PromQL `query`.
    case prometheus(HTTPEndpoint)
    /// A URL answering JSON; each gate gives a JSON Pointer to the number. The URL may use query templates.
    case http(HTTPEndpoint)
    /// ramp's own exposures and outcomes (`ramp record`), for statistical gates; a gate's query names the outcome.
    case events

    public var typeName: String {
        switch self {
        case .command: "command"
        case .prometheus: "prometheus"
        case .http: "http"
        case .events: "events"
        }
    }

    public static let typeNames = ["command", "prometheus", "http", "events"]

    /// Whether reading this source with `selector` (a gate's query or pointer) depends on `{{variant}}`.
    public func usesVariant(selector: String?) -> Bool {
        let mark = "{{variant}}"
        switch self {
        case .command(let argv, _): return argv.contains { $0.contains(mark) }
        case .prometheus: return selector?.contains(mark) ?? false
        case .http(let endpoint): return endpoint.url.contains(mark) || (selector?.contains(mark) ?? false)
        case .events: return true
        }
    }
}

/// An HTTP(S) endpoint with its credentials named, never included: tokens and passwords come from the
/// environment or a file when the source is read, so they are in neither the plan, the store nor the audit log.
public struct HTTPEndpoint: Sendable, Equatable {
    public var url: String
    public var timeout: TimeSpan
    public var headers: [String: String]
    /// Environment variable holding a bearer token.
    public var bearerTokenEnv: String?
    /// File holding a bearer token (surrounding white space is trimmed).
    public var bearerTokenFile: String?
    public var basicAuthUser: String?
    /// Environment variable holding the basic-auth password.
    public var basicAuthPasswordEnv: String?

    public init(
        url: String, timeout: TimeSpan = TimeSpan(seconds: 10), headers: [String: String] = [:],
        bearerTokenEnv: String? = nil, bearerTokenFile: String? = nil, basicAuthUser: String? = nil,
        basicAuthPasswordEnv: String? = nil
    ) {
        self.url = url
        self.timeout = timeout
        self.headers = headers
        self.bearerTokenEnv = bearerTokenEnv
        self.bearerTokenFile = bearerTokenFile
        self.basicAuthUser = basicAuthUser
        self.basicAuthPasswordEnv = basicAuthPasswordEnv
    }
}

/// Fills `{{flag}}`, `{{variant}}`, `{{canary}}`, `{{baseline}}` and `{{percent}}` into queries, URLs and
/// command arguments, so one gate definition can be evaluated for the canary and for the baseline.
public enum QueryTemplate {
    public static let names: Set<String> = ["flag", "variant", "canary", "baseline", "percent"]

    public static func render(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("{{") else { return text }
        var out = text
        for (name, value) in values { out = out.replacing("{{\(name)}}", with: value) }
        return out
    }

    /// The first `{{name}}` in `text` that is not a known template, if any.
    public static func unknownName(in text: String) -> String? {
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstRange(of: "}}") else { return String(rest.prefix(20)) }
            let name = String(rest[..<close.lowerBound])
            if !names.contains(name) { return name }
            rest = rest[close.upperBound...]
        }
        return nil
    }
}
