/// A validated rollout plan: which flag, which variants, the steps, the metric sources and the gates over them.
public struct Plan: Sendable, Equatable {
    public var flag: String
    public var description: String?
    /// The flag's variants, required when the plan creates the flag.
    public var variants: [String: JSONValue]?
    public var canary: String
    public var baseline: String
    /// Named JsonLogic conditions; submitting the plan stores them on the flag (beside any it already has).
    public var segments: [String: JSONValue]
    /// Targeting rules for the flag; nil leaves the flag's rules as they are.
    public var rules: [TargetingRule]?
    /// The flag's metadata (flagd's flag metadata: names to strings, numbers, booleans); nil leaves the flag's
    /// metadata as it is.
    public var metadata: [String: JSONValue]?
    /// The flag's base weights (variant → integer); nil leaves the flag's as they are.
    public var weights: [String: Int]?
    public var steps: [Step]
    public var sources: [String: SourceSpec]
    public var gates: [Gate]
    public var policy: Policy
    /// How long a step may go without advancing before the plan's `then` action, so nothing is stuck forever.
    public var maxHold: MaxHold?
    /// How often gates are checked; a tick skips a rollout checked less than this long ago.
    public var interval: TimeSpan
    /// Who hears about this rollout (beside the store-wide targets of `ramp config notify`).
    public var notify: [NotifyTarget]
    /// When the alerts that are not transitions fire.
    public var alerts: Alerts

    public init(
        flag: String, description: String? = nil, variants: [String: JSONValue]?, canary: String, baseline: String,
        segments: [String: JSONValue] = [:], rules: [TargetingRule]? = nil, metadata: [String: JSONValue]? = nil,
        weights: [String: Int]? = nil, steps: [Step],
        sources: [String: SourceSpec] = [:], gates: [Gate] = [], policy: Policy = Policy(),
        maxHold: MaxHold? = nil, interval: TimeSpan = TimeSpan(seconds: 60), notify: [NotifyTarget] = [],
        alerts: Alerts = Alerts()
    ) {
        self.flag = flag
        self.description = description
        self.variants = variants
        self.canary = canary
        self.baseline = baseline
        self.segments = segments
        self.rules = rules
        self.metadata = metadata
        self.weights = weights
        self.steps = steps
        self.sources = sources
        self.gates = gates
        self.policy = policy
        self.maxHold = maxHold
        self.interval = interval
        self.notify = notify
        self.alerts = alerts
    }

    /// The `max_hold` in force: the plan's, or else the default, so that no rollout is held forever.
    public var effectiveMaxHold: MaxHold { maxHold ?? Self.defaultMaxHold(steps: steps) }

    /// The default `max_hold`: pause after 24h at one step, or after the longest bake plus 24h when a bake is a day
    /// or longer.
    public static func defaultMaxHold(steps: [Step]) -> MaxHold {
        let day = TimeSpan(seconds: 86_400)
        let longest = steps.map(\.bake).max() ?? .zero
        return MaxHold(after: longest >= day ? TimeSpan(seconds: longest.seconds + day.seconds) : day, then: .pause)
    }

    /// The gates checked while the canary serves `percent`. At 100% no unit gets the baseline, so a gate that
    /// compares the canary with the baseline (relative, statistical) has nothing to compare and is not checked:
    /// the move to 100% was decided on those gates at the step before, and leaving 100% changes no one's variant.
    public func gates(at percent: Percent) -> [Gate] {
        percent < .full ? gates : gates.filter { !$0.comparesWithBaseline }
    }

    /// The canary's share at a step index; -1 (not started) is 0%.
    public func percent(atStep index: Int) -> Percent {
        steps.indices.contains(index) ? steps[index].percent : .zero
    }

    /// The segments that get the canary at a step index: every segment step reached so far.
    public func segments(atStep index: Int) -> [String] {
        index < 0 ? [] : steps.prefix(index + 1).compactMap(\.segment)
    }

    public struct Step: Sendable, Equatable {
        /// The canary's share at this step; a segment step keeps the previous step's share.
        public var percent: Percent
        /// A segment step gives the canary to this segment (and keeps it there for the steps after).
        public var segment: String?
        /// How long the step must run with passing gates before it may advance.
        public var bake: TimeSpan
        /// When set, leaving this step needs `ramp approve` after its bake and gates pass.
        public var approval: Bool

        public init(percent: Percent, segment: String? = nil, bake: TimeSpan = .zero, approval: Bool = false) {
            self.percent = percent
            self.segment = segment
            self.bake = bake
            self.approval = approval
        }

        /// `5%`, or `segment internal` for a segment step.
        public var target: String { segment.map { "segment \($0)" } ?? percent.description }
    }

    /// The plan's `max_hold`: after this long at one step without advancing, pause or roll back.
    public struct MaxHold: Sendable, Equatable {
        public var after: TimeSpan
        public var then: Action

        public init(after: TimeSpan, then: Action) {
            self.after = after
            self.then = then
        }
    }

    /// The plan's `alerts`: when the notifications that are not transitions fire (each once per occurrence).
    public struct Alerts: Sendable, Equatable {
        /// `gate_unhealthy` when a gate has been `error` or `no_data` this many checks in a row.
        public var unhealthyChecks: Int
        /// `max_hold_near` when a held step's `max_hold` is this close (at most half the `max_hold`).
        public var maxHoldWarning: TimeSpan
        /// `approval_waiting` when a rollout has awaited `ramp approve` this long.
        public var approvalWaiting: TimeSpan

        public init(
            unhealthyChecks: Int = 5, maxHoldWarning: TimeSpan = TimeSpan(seconds: 3600),
            approvalWaiting: TimeSpan = TimeSpan(seconds: 4 * 3600)
        ) {
            self.unhealthyChecks = unhealthyChecks
            self.maxHoldWarning = maxHoldWarning
            self.approvalWaiting = approvalWaiting
        }
    }

    /// What a gate outcome other than pass does.
    public enum Action: String, Sendable, CaseIterable {
        case rollback, pause, hold
    }

    /// The plan's `on` block: what fail, no_data and error do. An inconclusive statistical gate always holds.
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
            case .inconclusive: .hold
            }
        }
    }
}
