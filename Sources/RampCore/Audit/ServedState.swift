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
    /// Every experiment the log started: its flag, plan, state and split, as its entries leave them.
    public private(set) var experiments: [Int64: LoggedExperiment] = [:]

    public struct LoggedExperiment: Sendable, Equatable {
        public var flag: String
        public var planDigest: String
        public var state: ExperimentState
        public var allocation: Allocation
    }
    /// The first entry that recorded who wrote it: every entry since is of that form, so an entry without it (or a
    /// rollout's transition without the rollout after it) was stripped to look older than it is.
    private var recordsWriterSince: Int64?
    /// The newest entry's time: times in the log never go backwards.
    private var newest: Instant?
    /// When each flag was last disabled: enabling moves the step's bake clock forward by the time since.
    private var disabledAt: [String: Instant] = [:]
    /// The folder each plan was first submitted from (relative commands run there), as its submit entry recorded
    /// it; entries written before ramp recorded it give none.
    public private(set) var planDirs: [String: String] = [:]
    private var submittedDigests: Set<String> = []
    /// Every value the `notify` setting has had: notifications may only ever be queued for these targets (or a
    /// plan's).
    public private(set) var notifySettings: Set<String> = []

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
        try checkForm(entry)
        if entry.flag == "*" {
            guard entry.event == .known(.configure), let key = entry.evidence["setting"]?.stringValue
            else { throw problem("a store-wide entry that is not a setting") }
            settings[key] = entry.evidence["to"]?.stringValue
            if key == "notify", let value = settings[key] { notifySettings.insert(value) }
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
            // `submit --restart` of a killed or disabled flag releases the switch.
            for released in entry.evidence["released"]?.arrayValue ?? [] {
                if released == "kill switch" { flag.killed = false }
                if released == "disabled" { flag.disabled = false }
            }
            flag.segments.merge(plan.segments) { _, new in new }
            flag.rules = plan.rules ?? flag.rules
            flag.metadata = plan.metadata ?? flag.metadata
            flag.weights = plan.weights ?? flag.weights
            flag.canarySegments = []
            flags[entry.flag] = flag
            rollouts[id] = Rollout(id: id, flag: entry.flag, planDigest: digest)
            snapshotted.insert(id)
            // The store keeps the folder of a plan's first submit (a later submit of the same text adds no row).
            if submittedDigests.insert(digest).inserted, let dir = entry.evidence["plan_dir"]?.stringValue {
                planDirs[digest] = dir
            }
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
                guard entry.toState?.value == after.state else {
                    throw problem(
                        "moves to \(entry.toState?.text ?? "no state") but records the rollout \(after.state)")
                }
                if snapshotted.contains(id) {
                    guard entry.fromState?.value == rollout.state, entry.fromPercent == flag.servedPercent else {
                        throw problem(
                            "starts from \(entry.fromState?.text ?? "no state") at \(entry.fromPercent?.description ?? "–"), "
                                + "but the log before it leaves rollout #\(id) \(rollout.state) at \(flag.servedPercent)"
                        )
                    }
                }
                // Every transition is replayed: a tick's through the state machine on the checks it recorded, an
                // operator's through the command it records.
                let command = entry.evidence["command"]
                if Self.tickOnly.contains(event), command != nil {
                    throw problem("\(event) is a tick's transition, but it records an operator's command")
                }
                if Self.tickOnly.contains(event) || (command == nil && (event == "pause" || event == "rollback")) {
                    guard case .array(let recorded)? = entry.evidence["checks"] else {
                        throw problem("a tick's \(event) without the checks behind it")
                    }
                    if snapshotted.contains(id) {
                        try Self.replayDecision(entry, before: rollout, after: after, plan: plan, checks: recorded)
                    }
                } else if snapshotted.contains(id) {
                    try replayCommand(entry, before: rollout, after: after, plan: plan)
                }
                rollout = after
                snapshotted.insert(id)
                everSnapshotted.insert(id)
            } else if snapshotted.contains(id), everSnapshotted.contains(id) {
                throw problem("lacks the rollout record that every earlier entry of rollout #\(id) carries")
            } else if let since = recordsWriterSince {
                throw problem("lacks the rollout record that every transition records since entry #\(since)")
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
            if event == AuditEvent.disable.rawValue {
                flag.disabled = true
                disabledAt[entry.flag] = entry.at
            }
            if event == AuditEvent.enable.rawValue { flag.disabled = false }
            flags[entry.flag] = flag
        case (let event, nil) where AuditEvent(rawValue: event).map(AuditEvent.experimentEvents.contains) == true:
            if event != AuditEvent.experimentStart.rawValue, flags[entry.flag] == nil {
                throw problem("names flag \(entry.flag), which the log never made")
            }
            guard let served = entry.evidence["flag"],
                let flag = Flag.applyingServed(served, to: flags[entry.flag], key: entry.flag)
            else { throw problem("records the flag after it in a form this ramp cannot read") }
            try applyExperiment(entry, event: AuditEvent(rawValue: event)!)
            flags[entry.flag] = flag
        case (AuditEvent.import.rawValue, nil):
            guard flags[entry.flag] == nil else {
                throw problem("imports flag \(entry.flag), which the log already has")
            }
            guard let flag = FlagdImport.flag(entry.flag, definition: entry.evidence["flag"]) else {
                throw problem("imports flag \(entry.flag) with a definition this ramp cannot read")
            }
            flags[entry.flag] = flag
        case (let event, nil):
            guard var flag = flags[entry.flag] else {
                throw problem("names flag \(entry.flag), which the log never made")
            }
            guard entry.fromPercent == nil || entry.fromPercent == flag.servedPercent else {
                throw problem(
                    "starts from \(entry.fromPercent!) but the log before it has \(entry.flag) serving \(flag.servedPercent)"
                )
            }
            switch AuditEvent(rawValue: event) {
            case .kill?: flag.killed = true
            case .unkill?: flag.killed = false
            case .disable?:
                flag.disabled = true
                disabledAt[entry.flag] = entry.at
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
    /// An experiment entry moves its experiment: a start makes it (running), a reweight keeps it running from the
    /// split its record says it had, a conclusion ends a running one, a stop or a ship ends a running or
    /// concluded one. Anything else could not have happened.
    private mutating func applyExperiment(_ entry: AuditEntry, event: AuditEvent) throws(Problem) {
        func problem(_ message: String) -> Problem { Problem(seq: entry.seq, message: message) }
        guard case .number(let n)? = entry.evidence["experiment"], let id = Int64(exactly: n), id > 0 else {
            throw problem("names no experiment")
        }
        guard let allocation = entry.evidence["allocation"].flatMap(Allocation.init(json:)) else {
            throw problem("records no split for experiment #\(id)")
        }
        let after: ExperimentState
        if event == .experimentStart {
            guard experiments[id] == nil, let digest = entry.planDigest else {
                throw problem("starts experiment #\(id), which the log started already, or without its plan")
            }
            experiments[id] = LoggedExperiment(
                flag: entry.flag, planDigest: digest, state: .running, allocation: allocation)
            return
        }
        guard let logged = experiments[id], logged.flag == entry.flag, logged.planDigest == entry.planDigest else {
            throw problem("moves experiment #\(id) of \(entry.flag), which the log never started")
        }
        let from: [ExperimentState]
        switch event {
        case .experimentReweight:
            (from, after) = ([.running], .running)
            try Self.replayReweight(entry)
            guard entry.evidence["bandit"]?["allocation_before"].flatMap(Allocation.init(json:)) == logged.allocation
            else { throw problem("reweights experiment #\(id) from a split the log before it does not leave") }
        case .experimentConclude: (from, after) = ([.running], .concluded)
        case .experimentStop: (from, after) = ([.running, .concluded], .stopped)
        default: (from, after) = ([.running, .concluded], .shipped)
        }
        guard from.contains(logged.state) else {
            throw problem("\(event.rawValue) of experiment #\(id), which the log leaves \(logged.state.rawValue)")
        }
        experiments[id]?.state = after
        experiments[id]?.allocation = allocation
    }

    /// A bandit's reweight is recomputed from what its entry records — the posteriors, the seed and draws, the
    /// floor, top-two's β and the split before it — and must give exactly the probabilities, weights and split
    /// after it that the entry records.
    static func replayReweight(_ entry: AuditEntry) throws(Problem) {
        guard let record = entry.evidence["bandit"], let (recorded, replayed) = BanditReweight.replay(record) else {
            throw Problem(seq: entry.seq, message: "a bandit reweight without a record this ramp can replay")
        }
        guard replayed.after == recorded, replayed.json.canonical == record.canonical,
            entry.evidence["allocation"].flatMap(Allocation.init(json:)) == recorded
        else {
            throw Problem(
                seq: entry.seq,
                message: "does not follow from its record: replayed from its seed and posteriors, the reweight gives "
                    + "\(replayed.json.canonical)")
        }
    }

    /// The transitions only a tick makes.
    static let tickOnly: Set<String> = ["start", "advance", "complete", "await_approval"]

    /// What every entry must be, whatever it records: its time written canonically and never before the entry
    /// before it, and, once the log records who wrote its entries, who wrote it.
    private mutating func checkForm(_ entry: AuditEntry) throws(Problem) {
        func problem(_ message: String) -> Problem { Problem(seq: entry.seq, message: message) }
        if let stored = entry.storedAt, stored != entry.at.description || Instant(rfc3339: stored) == nil {
            throw problem(
                "its time \(Escape.line(stored)) is not a time written as ramp writes it (2026-01-01T00:00:00Z)")
        }
        if let newest, entry.at < newest {
            throw problem(
                "is dated \(entry.at), before the entry before it (\(newest)): times in the log never go back")
        }
        newest = entry.at
        if entry.osUser != nil || entry.host != nil {
            guard entry.osUser != nil, entry.host != nil else {
                throw problem("records a user without a host, or a host without a user")
            }
            recordsWriterSince = recordsWriterSince ?? entry.seq
        } else if let since = recordsWriterSince {
            throw problem("does not record who wrote it, as every entry since #\(since) does")
        }
        if let decided = entry.evidence["decided_at"] {
            guard let text = decided.stringValue, let at = Instant(rfc3339: text), at <= entry.at else {
                throw problem(
                    "records a decision time \(Escape.line(decided.canonical)) that is not a time before its own")
            }
        }
    }

    /// Re-runs an operator's command (the one its evidence records) on the rollout before it, and requires the same
    /// rollout after it: a move no command could have made — an approval of a rollout that was not awaiting one, a
    /// resume that skips a step — fails.
    private func replayCommand(_ entry: AuditEntry, before: Rollout, after: Rollout, plan: Plan) throws(Problem) {
        func problem(_ message: String) -> Problem { Problem(seq: entry.seq, message: message) }
        let event = entry.event.text
        guard let verb = entry.evidence["command"]?.stringValue else {
            throw problem("\(event) is an operator's transition, but it records no command")
        }
        let now = entry.evidence["decided_at"]?.stringValue.flatMap(Instant.init(rfc3339:)) ?? entry.at
        var expected: Rollout
        if verb == AuditEvent.enable.rawValue, event == verb {
            // Time spent disabled is not bake time: the step's clock moves forward by it.
            expected = before
            if let entered = before.stepEnteredAt, let disabled = disabledAt[entry.flag], now > disabled {
                expected.stepEnteredAt = entered + (now - max(disabled, entered))
            }
        } else {
            let commands: [String: (OperatorCommand, AuditEvent)] = [
                "pause": (.pause, .pause), "resume": (.resume, .resume), "approve": (.approve, .approve),
                "promote": (.promote(full: false), .promote), "promote --full": (.promote(full: true), .promote),
                "abort": (.abort, .abort), "kill": (.kill, .kill), "disable": (.pause, .disable),
            ]
            guard let (command, recorded) = commands[verb], event == recorded.rawValue else {
                throw problem("\(event) records the command \(Escape.line(verb)), which does not make it")
            }
            do throws(CommandRefused) {
                expected = try RolloutMachine.command(command, before, plan: plan, now: now, reason: nil).after
            } catch {
                throw problem("could not have happened: \(error.message)")
            }
        }
        guard expected.state == after.state, expected.step == after.step,
            expected.stepEnteredAt == after.stepEnteredAt, expected.pausedFrom == after.pausedFrom
        else {
            throw problem(
                "does not follow from its command under its plan: replayed, \(verb) gives "
                    + "\(expected.snapshot.canonical) where the entry says \(after.snapshot.canonical)")
        }
    }

    /// Re-runs the pure state machine on a tick's transition — the rollout before it, its plan, the checks it
    /// recorded, its time — and requires the same decision: the same event and the same rollout after it.
    static func replayDecision(
        _ entry: AuditEntry, before: Rollout, after: Rollout, plan: Plan, checks recorded: [JSONValue]
    ) throws(Problem) {
        func problem(_ message: String) -> Problem { Problem(seq: entry.seq, message: message) }
        // One check per gate the plan checks at the rollout's share, each judged again from the values it recorded
        // under the plan's own bounds; whether a gate is a shadow is the plan's to say.
        let gates = plan.gates(at: before.percent(in: plan))
        var checks: [GateCheck] = []
        for json in recorded {
            guard var check = GateCheck(json: json) else {
                throw problem("a recorded check cannot be read: \(json.canonical)")
            }
            guard let gate = gates.first(where: { $0.name == check.gate }), gate.source == check.source else {
                throw problem("records a check of gate \(Escape.line(check.gate)) that its plan does not check here")
            }
            check.shadow = gate.shadow
            if let judged = Self.rejudge(check, gate) {
                guard judged == check.outcome else {
                    throw problem(
                        "records gate \(gate.name) as \(check.outcome.rawValue), but its recorded values under its "
                            + "plan's bound are \(judged.rawValue)")
                }
            }
            checks.append(check)
        }
        let names = checks.map(\.gate)
        guard names.count == Set(names).count, Set(names) == Set(gates.map(\.name)) else {
            throw problem(
                "records checks of \(names.isEmpty ? "no gate" : names.map { Escape.line($0) }.joined(separator: ", ")) "
                    + "where its plan checks "
                    + (gates.isEmpty ? "no gate" : gates.map(\.name).joined(separator: ", ")))
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

extension ServedState {
    /// A threshold or relative check's outcome judged again from the values it recorded; nil where the values do
    /// not decide it (a statistical test's verdict, a source that could not be read).
    static func rejudge(_ check: GateCheck, _ gate: Gate) -> GateOutcome? {
        switch gate.rule {
        case .threshold:
            guard let value = check.value else {
                return check.outcome == .pass || check.outcome == .fail ? .noData : nil
            }
            return gate.judge(.value(value)).outcome
        case .relative:
            guard let value = check.value, let baseline = check.baseline else {
                return check.outcome == .pass || check.outcome == .fail ? .noData : nil
            }
            return gate.judge(canary: .value(value), baseline: .value(baseline)).outcome
        case .statistical:
            return nil
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
