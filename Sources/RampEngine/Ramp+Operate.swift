public import RampCore
import RampStore

extension Ramp {
    /// Applies an operator command (pause, resume, approve, promote, abort) to the flag's active rollout.
    public func command(
        _ command: OperatorCommand, flag key: String, actor: String, reason: String?, now: Instant
    ) throws(RampError) -> AuditEntry {
        _ = try requireFlag(key)
        guard let rollout = try run({ () throws(StoreError) in try store.latestRollout(flag: key) }),
            rollout.state.isActive
        else {
            throw .conflict("cannot \(command.verb) \(key): it has no active rollout")
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
        let flag = try requireFlag(key)
        if flag.killed { return nil }
        if let rollout = try run({ () throws(StoreError) in try store.latestRollout(flag: key) }),
            rollout.state.isActive
        {
            let (plan, _) = try plan(for: rollout)
            let transition: Transition
            do {
                transition = try RolloutMachine.command(.kill, rollout, plan: plan, now: now, reason: reason)
            } catch {
                throw .conflict(error.message)
            }
            guard
                let entry = try commit(
                    transition, plan: plan, actor: actor, evidence: ["command": "kill"], now: now, killFlag: true)
            else {
                throw .conflict("cannot kill \(key): the rollout changed while this command ran; try again")
            }
            return entry
        }
        return try setKilled(flag, true, actor: actor, reason: reason ?? "kill switch", now: now)
    }

    /// Releases the kill switch: the flag serves its stored share again. Nil when it was not killed.
    public func unkill(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError) -> AuditEntry?
    {
        let flag = try requireFlag(key)
        guard flag.killed else { return nil }
        return try setKilled(flag, false, actor: actor, reason: reason ?? "kill switch released", now: now)
    }

    private func setKilled(_ flag: Flag, _ killed: Bool, actor: String, reason: String, now: Instant) throws(RampError)
        -> AuditEntry?
    {
        let entry = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> AuditEntry? in
                guard var current = try store.flag(flag.key), current.killed != killed else { return nil }
                current.killed = killed
                try store.updateFlag(current, now: now)
                let served = current.canaryPercent
                return try store.appendAudit(
                    AuditEntry(
                        seq: 0, at: now, actor: actor, rollout: nil, flag: flag.key,
                        event: (killed ? AuditEvent.kill : .unkill).rawValue, fromState: nil, toState: nil,
                        fromPercent: killed ? served : .zero, toPercent: killed ? .zero : served, reason: reason,
                        evidence: ["command": .string(killed ? "kill" : "unkill")], planDigest: nil))
            }
        }
        if entry != nil { exportAfterCommit() }
        return entry
    }
}
