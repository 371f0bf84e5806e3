import Foundation
public import RampCore

/// What a source knows about the rollout it is read for: passed to commands as `RAMP_*` environment variables,
/// and filled into queries, URLs and arguments as `{{flag}}`, `{{variant}}`, `{{canary}}`, `{{baseline}}`,
/// `{{percent}}`.
public struct MetricContext: Sendable {
    public var flag: String
    public var gate: String
    /// The variant this reading is for: the canary, or the baseline for the second reading of a relative gate.
    public var variant: String
    public var canary: String
    public var baseline: String
    public var percent: Percent
    /// 1-based step number; 0 before the first step.
    public var step: Int
    public var state: String
    /// The tick's clock (injectable), not the wall clock: Prometheus is queried at this time.
    public var now: Instant
    /// The directory of the plan file: relative command paths resolve against it.
    public var baseDir: String
    /// The credential values of every source of the plan: a source takes them out of any text it keeps (a
    /// server's body, a command's stderr) before it shortens it, so no part of one survives.
    public var secrets: [String] = []

    public init(
        flag: String, gate: String, variant: String, canary: String, baseline: String, percent: Percent, step: Int,
        state: String, now: Instant, baseDir: String
    ) {
        self.flag = flag
        self.gate = gate
        self.variant = variant
        self.canary = canary
        self.baseline = baseline
        self.percent = percent
        self.step = step
        self.state = state
        self.now = now
        self.baseDir = baseDir
    }

    /// The values of the query templates.
    public var templateValues: [String: String] {
        [
            "flag": flag, "variant": variant, "canary": canary, "baseline": baseline,
            "percent": JSONValue.format(percent.value),
        ]
    }

    /// Fills the query templates into `text`.
    public func render(_ text: String) -> String { QueryTemplate.render(text, templateValues) }

    /// Fills the templates into a URL, each value percent-encoded (all but RFC 3986's unreserved characters), so
    /// a variant named `a b#c` stays one path segment instead of ending the path.
    public func renderURL(_ text: String) -> String {
        QueryTemplate.render(text, templateValues.mapValues(HTTPClient.encode))
    }

    var environment: [String: String] {
        [
            "RAMP_FLAG": flag, "RAMP_GATE": gate, "RAMP_VARIANT": variant, "RAMP_CANARY": canary,
            "RAMP_BASELINE": baseline, "RAMP_PERCENT": JSONValue.format(percent.value), "RAMP_STEP": String(step),
            "RAMP_STATE": state, "RAMP_NOW": now.description,
        ]
    }
}

/// Reads a metric source once. Implementations block the calling thread at most for their timeout.
public protocol MetricSource: Sendable {
    /// One reading; `query` is the gate's query or pointer with its templates filled in (nil for commands).
    func read(query: String?, context: MetricContext) -> Reading
}

/// Builds the source a plan's spec describes.
public enum MetricSources {
    /// The credential values the sources are configured to read (from the environment or a file), now, and the
    /// store's own (`storeSecrets`).
    public static func secrets(of specs: some Sequence<SourceSpec>) -> [String] {
        specs.flatMap { spec -> [String] in
            switch spec {
            case .prometheus(let endpoint), .http(let endpoint): HTTPClient.secrets(endpoint)
            case .command, .events: []
            }
        } + storeSecrets
    }

    /// The store's database password as this process has it — PGPASSWORD, and one inside RAMP_STORE — which the
    /// commands ramp runs inherit with the rest of its environment: taken out of everything they say, so a script
    /// that prints its environment cannot put it in the store or the audit log.
    public static var storeSecrets: [String] {
        let environment = ProcessInfo.processInfo.environment
        var out: [String] = []
        if let password = environment["PGPASSWORD"], !password.isEmpty { out.append(password) }
        if let store = environment["RAMP_STORE"] { out += ConnectionString.secrets(in: store) }
        return out
    }

    public static func make(_ spec: SourceSpec) -> any MetricSource {
        switch spec {
        case .command(let argv, let timeout): CommandSource(argv: argv, timeout: timeout)
        case .prometheus(let endpoint): PrometheusSource(endpoint: endpoint)
        case .http(let endpoint): HTTPJSONSource(endpoint: endpoint)
        case .events: UnreadableSource(why: "the events source is read from the store by the engine")
        }
    }
}

/// A source that cannot be read here; every reading is an error saying why.
struct UnreadableSource: MetricSource {
    let why: String
    func read(query: String?, context: MetricContext) -> Reading { .error(why) }
}
