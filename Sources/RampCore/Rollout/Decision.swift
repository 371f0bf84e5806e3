/// What happened, as the audit log names it.
public enum AuditEvent: String, Sendable, CaseIterable {
    case submit, start, advance, complete
    case awaitApproval = "await_approval"
    case approve, promote, pause, resume, rollback, abort, kill, unkill
    /// `ramp disable` / `ramp enable`: the flag's flagd state.
    case disable, enable
    /// A store-wide setting changed (`ramp config`); its flag is `*`.
    case configure
    /// `ramp import`: a flag brought under ramp from another tool's file, its whole definition in the evidence.
    case `import`
    /// Experiments and bandits (`rollout` is null): started by `ramp submit` of an experiment plan, a bandit's
    /// reweight, stopped (a guardrail failed, or `ramp experiment stop`), concluded at the planned sample, and a
    /// variant shipped (`ramp experiment ship`). Each records the flag after it (`evidence.flag`).
    case experimentStart = "experiment_start"
    case experimentReweight = "experiment_reweight"
    case experimentStop = "experiment_stop"
    case experimentConclude = "experiment_conclude"
    case experimentShip = "experiment_ship"

    /// The events of experiments.
    public static let experimentEvents: Set<AuditEvent> = [
        .experimentStart, .experimentReweight, .experimentStop, .experimentConclude, .experimentShip,
    ]
}

/// An operator's command, as the state machine sees it.
public enum OperatorCommand: Sendable, Equatable {
    case pause, resume, approve, abort, kill
    case promote(full: Bool)

    public var verb: String {
        switch self {
        case .pause: "pause"
        case .resume: "resume"
        case .approve: "approve"
        case .abort: "abort"
        case .kill: "kill"
        case .promote(let full): full ? "promote --full" : "promote"
        }
    }

    /// Whether the command moves a rollout on (resume, approve, promote), which a disabled flag refuses.
    public var movesForward: Bool {
        switch self {
        case .resume, .approve, .promote: true
        case .pause, .abort, .kill: false
        }
    }
}

/// A change of a rollout's state: exactly what one audit entry records.
public struct Transition: Sendable, Equatable {
    public var event: AuditEvent
    public var before: Rollout
    public var after: Rollout
    public var fromPercent: Percent
    public var toPercent: Percent
    public var reason: String

    public init(
        event: AuditEvent, before: Rollout, after: Rollout, fromPercent: Percent, toPercent: Percent, reason: String
    ) {
        self.event = event
        self.before = before
        self.after = after
        self.fromPercent = fromPercent
        self.toPercent = toPercent
        self.reason = reason
    }
}

/// The state machine's answer for one rollout at one moment.
public enum Decision: Sendable, Equatable {
    /// Nothing changes; the reason says why (bake left, a gate without data, waiting for approval).
    case hold(reason: String)
    case transition(Transition)

    public var transition: Transition? { if case .transition(let t) = self { t } else { nil } }
    public var reason: String {
        switch self {
        case .hold(let reason): reason
        case .transition(let t): t.reason
        }
    }
}

/// An operator command that does not fit the rollout's state.
public struct CommandRefused: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}
