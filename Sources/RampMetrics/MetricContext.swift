public import RampCore

/// What a source knows about the rollout it is read for: passed to commands as `RAMP_*` environment variables.
public struct MetricContext: Sendable {
    public var flag: String
    public var gate: String
    public var canary: String
    public var baseline: String
    public var percent: Percent
    /// 1-based step number; 0 before the first step.
    public var step: Int
    public var state: String
    /// The tick's clock (injectable), not the wall clock.
    public var now: Instant
    /// The directory of the plan file: relative command paths resolve against it.
    public var baseDir: String

    public init(
        flag: String, gate: String, canary: String, baseline: String, percent: Percent, step: Int, state: String,
        now: Instant, baseDir: String
    ) {
        self.flag = flag
        self.gate = gate
        self.canary = canary
        self.baseline = baseline
        self.percent = percent
        self.step = step
        self.state = state
        self.now = now
        self.baseDir = baseDir
    }

    var environment: [String: String] {
        [
            "RAMP_FLAG": flag, "RAMP_GATE": gate, "RAMP_CANARY": canary, "RAMP_BASELINE": baseline,
            "RAMP_PERCENT": JSONValue.format(percent.value), "RAMP_STEP": String(step), "RAMP_STATE": state,
            "RAMP_NOW": now.description,
        ]
    }
}

/// Reads a metric source once. Implementations block the calling thread at most for their timeout.
public protocol MetricSource: Sendable {
    func read(_ context: MetricContext) -> Reading
}

/// Builds the source a plan's spec describes.
public enum MetricSources {
    public static func make(_ spec: SourceSpec) -> any MetricSource {
        switch spec {
        case .command(let argv, let timeout): CommandSource(argv: argv, timeout: timeout)
        }
    }
}
