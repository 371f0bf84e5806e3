public import RampCore
import RampStore

extension Ramp {
    /// Applies an operator command (pause, resume, approve, promote, abort) to the flag's active rollout.
    public func command(
        _ command: OperatorCommand, flag key: String, actor: String, reason: String?, now: Instant
    ) throws(RampError) -> AuditEntry {
        let flag = try requireFlag(key)
        guard let rollout = try run({ () throws(StoreError) in try store.latestRollout(flag: key) }),
            rollout.state.isActive
        else {
            throw .conflict("cannot \(command.verb) \(key): it has no active rollout")
        }
        if flag.disabled, command.movesForward {
            throw .conflict("cannot \(command.verb) \(key): the flag is disabled; run `ramp enable \(key)` first")
        }
        let (plan, _) = try plan(for: rollout)
        let transition: Transition
        do {
            transition = try RolloutMachine.command(command, rollout, plan: plan, now: now, reason: reason)
        } catch {
            throw .conflict(error.message)
        }
        let evidence: JSONValue = ["command": .string(command.verb)]
        guard let entry = try commit(transition, plan: plan, actor: actor, evidence: evidence, now: now) else {
            throw .conflict("cannot \(command.verb) \(key): the rollout changed while this command ran; try again")
        }
        return entry
    }

    /// The kill switch: everyone gets the baseline at once, and an active rollout is rolled back.
    /// Returns nil when the flag was already killed (nothing to record).
    public func kill(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError) -> AuditEntry? {
        try turnOn(\.killed, .kill, flag: key, rollout: .kill, actor: actor, reason: reason ?? "kill switch", now: now)
    }

    /// Releases the kill switch: the flag serves its stored share again. Nil when it was not killed.
    public func unkill(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError) -> AuditEntry?
    {
        try turnOff(\.killed, .unkill, flag: key, actor: actor, reason: reason ?? "kill switch released", now: now)
    }

    /// Disables the flag (flagd's DISABLED state: applications use their own default). An active rollout is paused
    /// in the same transaction and cannot resume until the flag is enabled. Nil when it was already disabled.
    public func disable(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError)
        -> AuditEntry?
    {
        try turnOn(
            \.disabled, .disable, flag: key, rollout: .pause, actor: actor, reason: reason ?? "flag disabled", now: now)
    }

    /// Enables a disabled flag: it serves its stored share again; a paused rollout stays paused. Nil when enabled.
    ///
    /// A disabled flag serves no one, so that time is not bake time: the rollout's step clock moves forward by how
    /// long the flag was disabled, in the same transaction (the entry records the rollout after it).
    public func enable(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError) -> AuditEntry?
    {
        let said = reason ?? "flag enabled"
        guard try requireFlag(key).disabled else { return nil }
        guard let rollout = try run({ () throws(StoreError) in try store.latestRollout(flag: key) }),
            rollout.state.isActive, let entered = rollout.stepEnteredAt,
            let disabledAt = try run({ () throws(StoreError) in
                try store.lastAuditTime(flag: key, event: AuditEvent.disable.rawValue)
            }), now > disabledAt
        else { return try turnOff(\.disabled, .enable, flag: key, actor: actor, reason: said, now: now) }
        let (plan, _) = try plan(for: rollout)
        let away = now - max(disabledAt, entered)
        var after = rollout
        after.stepEnteredAt = entered + away
        after.version = rollout.version + 1
        let transition = Transition(
            event: .enable, before: rollout, after: after, fromPercent: rollout.percent(in: plan),
            toPercent: after.percent(in: plan),
            reason: said + "; \(away) disabled is not bake time: the step's bake resumes where it stopped")
        let evidence: JSONValue = ["command": .string(AuditEvent.enable.rawValue), "bake_paused": .string("\(away)")]
        guard
            let entry = try commit(
                transition, plan: plan, actor: actor, evidence: evidence, now: now, flagSwitch: (\.disabled, false))
        else { throw .conflict("cannot enable \(key): the rollout changed while this command ran; try again") }
        return entry
    }

    /// Sets a switch (killed, disabled); an active rollout gets `command` (rollback, pause) in the same transaction
    /// unless it is paused already and the command is a pause.
    private func turnOn(
        _ key: WritableKeyPath<Flag, Bool>, _ event: AuditEvent, flag name: String, rollout command: OperatorCommand,
        actor: String, reason: String, now: Instant
    ) throws(RampError) -> AuditEntry? {
        let flag = try requireFlag(name)
        if flag[keyPath: key] { return nil }
        if let rollout = try run({ () throws(StoreError) in try store.latestRollout(flag: name) }),
            rollout.state.isActive, !(command == .pause && rollout.state == .paused)
        {
            let (plan, _) = try plan(for: rollout)
            var transition: Transition
            do {
                transition = try RolloutMachine.command(command, rollout, plan: plan, now: now, reason: reason)
            } catch {
                throw .conflict(error.message)
            }
            transition.event = event
            let evidence: JSONValue = ["command": .string(event.rawValue)]
            guard
                let entry = try commit(
                    transition, plan: plan, actor: actor, evidence: evidence, now: now, flagSwitch: (key, true))
            else {
                throw .conflict(
                    "cannot \(event.rawValue) \(name): the rollout changed while this command ran; try again")
            }
            return entry
        }
        return try setSwitch(key, true, event, flag: name, actor: actor, reason: reason, now: now)
    }

    private func turnOff(
        _ key: WritableKeyPath<Flag, Bool>, _ event: AuditEvent, flag name: String, actor: String, reason: String,
        now: Instant
    ) throws(RampError) -> AuditEntry? {
        guard try requireFlag(name)[keyPath: key] else { return nil }
        return try setSwitch(key, false, event, flag: name, actor: actor, reason: reason, now: now)
    }

    private func setSwitch(
        _ key: WritableKeyPath<Flag, Bool>, _ on: Bool, _ event: AuditEvent, flag name: String, actor: String,
        reason: String, now: Instant
    ) throws(RampError) -> AuditEntry? {
        let entry = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<AuditEntry?, RampError> in
                guard var current = try store.flag(name), current[keyPath: key] != on else { return .success(nil) }
                // A rollout submitted since this command looked must be paused or rolled back with the switch.
                if on, let active = try store.latestRollout(flag: name), active.state.isActive,
                    !(key == \Flag.disabled && active.state == .paused)
                {
                    return .failure(
                        .conflict(
                            "cannot \(event.rawValue) \(name): a rollout started while this command ran; try again"))
                }
                let before = current.servedPercent
                current[keyPath: key] = on
                try store.updateFlag(current, now: now)
                return .success(
                    try store.appendAudit(
                        AuditEntry(
                            seq: 0, at: now, actor: actor, rollout: nil, flag: name, event: .known(event),
                            fromState: nil, toState: nil, fromPercent: before, toPercent: current.servedPercent,
                            reason: reason, evidence: ["command": .string(event.rawValue)], planDigest: nil)))
            }
        }.get()
        if entry != nil { exportAfterCommit() }
        return entry
    }
}
