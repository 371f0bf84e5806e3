/// A validated rollout plan: which flag, which variants, the steps, the metric sources and the gates over them.
public struct Plan: Sendable, Equatable {
    public var flag: String
    public var description: String?
    /// The flag's variants, required when the plan creates the flag.
    public var variants: [String: JSONValue]?
    public var canary: String
    public var baseline: String
    public var steps: [Step]
    public var sources: [String: SourceSpec]
    public var gates: [Gate]
    public var policy: Policy
    /// How often gates are checked; a tick skips a rollout checked less than this long ago.
    public var interval: TimeSpan

    public init(
        flag: String, description: String? = nil, variants: [String: JSONValue]?, canary: String, baseline: String,
        steps: [Step], sources: [String: SourceSpec] = [:], gates: [Gate] = [], policy: Policy = Policy(),
        interval: TimeSpan = TimeSpan(seconds: 60)
    ) {
        self.flag = flag
        self.description = description
        self.variants = variants
        self.canary = canary
        self.baseline = baseline
        self.steps = steps
        self.sources = sources
        self.gates = gates
        self.policy = policy
        self.interval = interval
    }

    /// The canary's share at a step index; -1 (not started) is 0%.
    public func percent(atStep index: Int) -> Percent {
        steps.indices.contains(index) ? steps[index].percent : .zero
    }

    public struct Step: Sendable, Equatable {
        public var percent: Percent
        /// How long the step must run with passing gates before it may advance.
        public var bake: TimeSpan
        /// When set, leaving this step needs `ramp approve` after its bake and gates pass.
        public var approval: Bool

        public init(percent: Percent, bake: TimeSpan = .zero, approval: Bool = false) {
            self.percent = percent
            self.bake = bake
            self.approval = approval
        }
    }

    /// What a gate outcome other than pass does.
    public enum Action: String, Sendable, CaseIterable {
        case rollback, pause, hold
    }

    /// The plan's `on` block: what fail, no_data and error do.
    public struct Policy: Sendable, Equatable {
        public var fail: Action
        public var noData: Action
        public var error: Action

        public init(fail: Action = .rollback, noData: Action = .hold, error: Action = .hold) {
            self.fail = fail
            self.noData = noData
            self.error = error
        }

        public func action(for outcome: GateOutcome) -> Action? {
            switch outcome {
            case .pass: nil
            case .fail: fail
            case .noData: noData
            case .error: error
            }
        }
    }
}

/// Where a gate's number comes from.
public enum SourceSpec: Sendable, Equatable {
    /// An executable run without a shell; its stdout is one number.
    case command(argv: [String], timeout: TimeSpan)

    public var typeName: String {
        switch self {
        case .command: "command"
        }
    }
}

/// A health gate: a source's value against bounds.
public struct Gate: Sendable, Equatable {
    public var name: String
    public var source: String
    public var min: Double?
    public var max: Double?

    public init(name: String, source: String, min: Double? = nil, max: Double? = nil) {
        self.name = name
        self.source = source
        self.min = min
        self.max = max
    }

    /// The bound in words: `≤ 0.01`, `≥ 0.99`, `in [0.5, 2]`.
    public var boundDescription: String {
        switch (min, max) {
        case (let lo?, let hi?): "in [\(JSONValue.format(lo)), \(JSONValue.format(hi))]"
        case (let lo?, nil): "≥ \(JSONValue.format(lo))"
        case (nil, let hi?): "≤ \(JSONValue.format(hi))"
        case (nil, nil): "any"
        }
    }

    /// Judges one reading of the gate's source.
    public func judge(_ reading: Reading) -> GateCheck {
        switch reading {
        case .value(let v) where v.isNaN:
            return check(value: nil, .noData, "value is NaN")
        case .value(let v):
            if let hi = max, v > hi {
                return check(value: v, .fail, "\(JSONValue.format(v)) > max \(JSONValue.format(hi))")
            }
            if let lo = min, v < lo {
                return check(value: v, .fail, "\(JSONValue.format(v)) < min \(JSONValue.format(lo))")
            }
            return check(value: v, .pass, "\(JSONValue.format(v)) \(boundDescription)")
        case .noData(let why): return check(value: nil, .noData, why)
        case .error(let why): return check(value: nil, .error, why)
        }
    }

    private func check(value: Double?, _ outcome: GateOutcome, _ message: String) -> GateCheck {
        GateCheck(gate: name, source: source, value: value, bound: boundDescription, outcome: outcome, message: message)
    }
}

/// What a metric source returned for one check.
public enum Reading: Sendable, Equatable {
    case value(Double)
    case noData(String)
    case error(String)
}

/// Exactly one outcome per gate check.
public enum GateOutcome: String, Sendable, CaseIterable {
    case pass, fail
    case noData = "no_data"
    case error
}

/// One gate checked once: the evidence that a decision carries.
public struct GateCheck: Sendable, Equatable {
    public var gate: String
    public var source: String
    public var value: Double?
    public var bound: String
    public var outcome: GateOutcome
    public var message: String

    public init(gate: String, source: String, value: Double?, bound: String, outcome: GateOutcome, message: String) {
        self.gate = gate
        self.source = source
        self.value = value
        self.bound = bound
        self.outcome = outcome
        self.message = message
    }

    public var json: JSONValue {
        [
            "gate": .string(gate), "source": .string(source), "value": value.map { .number($0) } ?? .null,
            "bound": .string(bound), "verdict": .string(outcome.rawValue), "message": .string(message),
        ]
    }

    public init?(json: JSONValue) {
        guard let gate = json["gate"]?.stringValue, let source = json["source"]?.stringValue,
            let bound = json["bound"]?.stringValue, let verdict = json["verdict"]?.stringValue,
            let outcome = GateOutcome(rawValue: verdict), let message = json["message"]?.stringValue
        else { return nil }
        self.init(
            gate: gate, source: source, value: json["value"]?.numberValue, bound: bound, outcome: outcome,
            message: message)
    }
}
