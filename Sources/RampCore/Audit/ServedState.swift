/// What the audit log says is served: every flag (variants, canary and baseline, share, segments, rules, kill
/// switch, disabled), every rollout (plan, state, step, when the step was entered) and every setting, rebuilt by
/// replaying the log entry by entry. `ramp audit verify` compares the store with it field by field, so nothing
/// outside the log can change what users are served without being caught.
public struct ServedState: Sendable {
    public private(set) var flags: [String: Flag] = [:]
    public private(set) var rollouts: [Int64: Rollout] = [:]
    /// Rollouts whose step and step time the log recorded (entries written before ramp recorded the rollout with
    /// each transition carry its state only).
    public private(set) var snapshotted: Set<Int64> = []
    /// Rollouts that have had a snapshot since their last submit-free legacy entry.
    private var everSnapshotted: Set<Int64> = []
    /// Flags moved by such older entries: their share comes from the entries' served share, their reached
    /// segments cannot be rebuilt.
    public private(set) var inexactSegments: Set<String> = []
    public private(set) var settings: [String: String] = [:]

    public init() {}

    /// Why an entry cannot be replayed, naming it.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var seq: Int64
        public var message: String
        public var description: String { "audit entry #\(seq): \(message)" }
    }

    /// Applies one entry. `plan` gives the plan a digest names (checked against its digest by the caller).
    public mutating func apply(_ entry: AuditEntry, plan: (String) -> Plan?) throws(Problem) {
        func problem(_ message: String) -> Problem { Problem(seq: entry.seq, message: message) }
        if entry.flag == "*" {
            guard entry.event == .known(.configure), let key = entry.evidence["setting"]?.stringValue
            else { throw problem("a store-wide entry that is not a setting") }
            settings[key] = entry.evidence["to"]?.stringValue
            if let owner = entry.evidence["store"] { settings[key + ".store"] = owner.stringValue }
            return
        }
        switch (entry.event.text, entry.rollout) {
        case (AuditEvent.submit.rawValue, let id?):
            guard let digest = entry.planDigest, let plan = plan(digest) else {
                throw problem(
                    "its plan \(entry.planDigest ?? "(none)") is not in the store, or cannot be read by this ramp")
            }
            var flag: Flag
            if let existing = flags[entry.flag] {
                flag = existing
            } else {
                guard let variants = plan.variants else { throw problem("creates flag \(entry.flag) without variants") }
                flag = Flag(key: entry.flag, variants: variants, baseline: plan.baseline, canary: plan.canary)
            }
            flag.baseline = plan.baseline
            flag.canary = plan.canary
            flag.canaryPercent = .zero
            flag.segments.merge(plan.segments) { _, new in new }
            flag.rules = plan.rules ?? flag.rules
            flag.canarySegments = []
            flags[entry.flag] = flag
            rollouts[id] = Rollout(id: id, flag: entry.flag, planDigest: digest)
            snapshotted.insert(id)
        case (let event, let id?):
            guard var flag = flags[entry.flag], var rollout = rollouts[id], rollout.flag == entry.flag else {
                throw problem("moves rollout #\(id) of \(entry.flag), which the log never submitted")
            }
            guard let plan = plan(rollout.planDigest) else {
                throw problem("rollout #\(id)'s plan \(rollout.planDigest) is not in the store")
            }
            if let snapshot = entry.evidence["rollout"] {
                // Before the first step a rollout is pending, or was paused or rolled back while pending.
                guard let after = Rollout(snapshot: snapshot, of: rollout),
                    (-1..<plan.steps.count).contains(after.step),
                    after.state == .pending
                        ? after.step == -1 : after.step >= 0 || after.state == .paused || after.state == .rolledBack
                else { throw problem("records a rollout that its plan cannot have: \(snapshot.canonical)") }
                // Transitions only a tick makes are replayed through the state machine, always; so are a tick's
                // pauses and rollbacks (an operator's carry the command).
                let tickOnly = Self.tickOnly
                let command = entry.evidence["command"]
                if tickOnly.contains(event), command != nil {
                    throw problem("\(event) is a tick's transition, but it records an operator's command")
                }
                if tickOnly.contains(event) || (command == nil && (event == "pause" || event == "rollback")) {
                    guard case .array(let recorded)? = entry.evidence["checks"] else {
                        throw problem("a tick's \(event) without the checks behind it")
                    }
                    if snapshotted.contains(id) {
                        try Self.replayDecision(entry, before: rollout, after: after, plan: plan, checks: recorded)
                    }
                }
                rollout = after
                snapshotted.insert(id)
                everSnapshotted.insert(id)
            } else if snapshotted.contains(id), everSnapshotted.contains(id) {
                throw problem("lacks the rollout record that every earlier entry of rollout #\(id) carries")
            } else {
                guard let state = entry.toState?.value else {
                    throw problem("has no state to move rollout #\(id) to")
                }
                rollout.state = state
                snapshotted.remove(id)
            }
            rollouts[id] = rollout
            if snapshotted.contains(id) {
                flag.canaryPercent = rollout.percent(in: plan)
                flag.canarySegments = rollout.segments(in: plan)
            } else {
                // An older entry: the share it served is the canary's, unless it switched the flag off.
                if rollout.state == .rolledBack {
                    flag.canaryPercent = .zero
                } else if let served = entry.toPercent, event != AuditEvent.disable.rawValue,
                    event != AuditEvent.kill.rawValue, !flag.killed, !flag.disabled
                {
                    flag.canaryPercent = served
                }
                inexactSegments.insert(entry.flag)
            }
            if event == AuditEvent.kill.rawValue { flag.killed = true }
            if event == AuditEvent.disable.rawValue { flag.disabled = true }
            if event == AuditEvent.enable.rawValue { flag.disabled = false }
            flags[entry.flag] = flag
        case (let event, nil):
            guard var flag = flags[entry.flag] else {
                throw problem("names flag \(entry.flag), which the log never made")
            }
            switch AuditEvent(rawValue: event) {
            case .kill?: flag.killed = true
            case .unkill?: flag.killed = false
            case .disable?: flag.disabled = true
            case .enable?: flag.disabled = false
            default: throw problem("event \(event) without a rollout")
            }
            flags[entry.flag] = flag
        }
        if let logged = entry.toPercent, let flag = flags[entry.flag], logged != flag.servedPercent,
            snapshotted.contains(entry.rollout ?? -1) || entry.rollout == nil
        {
            throw problem("says \(entry.flag) serves \(logged), but its own history gives \(flag.servedPercent)")
        }
    }
}

extension ServedState {
    /// The transitions only a tick makes.
    static let tickOnly: Set<String> = ["start", "advance", "complete", "await_approval"]

    /// Re-runs the pure state machine on a tick's transition — the rollout before it, its plan, the checks it
    /// recorded, its time — and requires the same decision: the same event and the same rollout after it.
    static func replayDecision(
        _ entry: AuditEntry, before: Rollout, after: Rollout, plan: Plan, checks recorded: [JSONValue]
    ) throws(Problem) {
        var checks: [GateCheck] = []
        for json in recorded {
            guard let check = GateCheck(json: json) else {
                throw Problem(seq: entry.seq, message: "a recorded check cannot be read: \(json.canonical)")
            }
            checks.append(check)
        }
        let now = entry.evidence["decided_at"]?.stringValue.flatMap(Instant.init(rfc3339:)) ?? entry.at
        let decision = RolloutMachine.tick(before, plan: plan, checks: checks, now: now)
        guard let replayed = decision.transition else {
            throw Problem(
                seq: entry.seq,
                message: "does not follow from its evidence under its plan: replayed, the state machine holds "
                    + "(\(decision.reason)) where the entry says \(entry.event)")
        }
        // The fields of the snapshot, compared as values (equal exactly when the recorded snapshots are).
        let (a, b) = (replayed.after, after)
        guard entry.event == .known(replayed.event), a.state == b.state, a.step == b.step,
            a.stepEnteredAt == b.stepEnteredAt, a.pausedFrom == b.pausedFrom
        else {
            throw Problem(
                seq: entry.seq,
                message: "does not follow from its evidence under its plan: replayed, the state machine says "
                    + "\(replayed.event.rawValue) to \(replayed.after.snapshot.canonical) where the entry says "
                    + "\(entry.event) to \(after.snapshot.canonical)")
        }
    }
}

extension Rollout {
    /// What a transition's audit entry records of the rollout after it: the fields that decide what is served.
    public var snapshot: JSONValue {
        [
            "state": .string(state.rawValue), "step": .number(Double(step)),
            "step_entered_at": stepEnteredAt.map { .string($0.description) } ?? .null,
            "paused_from": pausedFrom.map { .string($0.rawValue) } ?? .null,
        ]
    }

    /// `base` with a recorded snapshot's fields; nil when the snapshot is malformed.
    init?(snapshot: JSONValue, of base: Rollout) {
        guard let stateText = snapshot["state"]?.stringValue, let state = RolloutState(rawValue: stateText),
            let stepNumber = snapshot["step"]?.numberValue, let step = Int(exactly: stepNumber), step >= -1
        else { return nil }
        self = base
        self.state = state
        self.step = step
        switch snapshot["step_entered_at"] {
        case .string(let text)?:
            guard let at = Instant(rfc3339: text) else { return nil }
            stepEnteredAt = at
        default: stepEnteredAt = nil
        }
        switch snapshot["paused_from"] {
        case .string(let text)?:
            guard let from = RolloutState(rawValue: text) else { return nil }
            pausedFrom = from
        default: pausedFrom = nil
        }
    }
}
