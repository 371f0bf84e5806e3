public import RampCore
import RampStore

/// The result of `ramp audit verify`.
public struct AuditReport: Sendable {
    public var entries: Int64
    /// The first problem found, naming the entry; nil when the log and the store agree.
    public var problem: String?
    public var ok: Bool { problem == nil }
}

extension Ramp {
    /// Streams audit entries, oldest first.
    public func auditLog(flag: String?, since: Instant?, each: (AuditEntry) -> Void) throws(RampError) {
        try run { () throws(StoreError) in try store.auditEntries(flag: flag, since: since) { each($0) } }
    }

    /// Recomputes the chain, checks it ends at the recorded head, and checks that every rollout's state and every
    /// flag's served share equal what their last audit entry says.
    public func verifyAudit() throws(RampError) -> AuditReport {
        let integrity = try run { () throws(StoreError) in try store.integrityCheck() }
        if integrity != "ok" { return AuditReport(entries: 0, problem: "store integrity check failed: \(integrity)") }
        var chain = AuditChain()
        var broken: AuditChain.Broken?
        try run { () throws(StoreError) in
            try store.auditEntries { entry in
                guard broken == nil else { return }
                do throws(AuditChain.Broken) { try chain.append(entry) } catch { broken = error }
            }
        }
        if broken == nil {
            let head = try run { () throws(StoreError) in try store.auditHead() }
            do throws(AuditChain.Broken) {
                try chain.finish(head: head)
            } catch {
                broken = error
            }
        }
        if let broken { return AuditReport(entries: chain.count, problem: broken.description) }

        let (lastRolloutStates, lastFlagPercents) = try run { () throws(StoreError) in try store.lastAuditStates() }
        for rollout in try run({ () throws(StoreError) in try store.allRollouts() }) {
            let logged = lastRolloutStates[rollout.id] ?? nil
            if logged != rollout.state.rawValue {
                return AuditReport(
                    entries: chain.count,
                    problem:
                        "rollout #\(rollout.id) (\(rollout.flag)) is \(rollout.state.rawValue) but its last audit entry says \(logged ?? "nothing")"
                )
            }
        }
        for flag in try run({ () throws(StoreError) in try store.flags() }) {
            let served = Int64(flag.servedPercent.basisPoints)
            guard let logged = lastFlagPercents[flag.key] ?? nil else { continue }
            if logged != served {
                return AuditReport(
                    entries: chain.count,
                    problem:
                        "flag \(flag.key) serves \(Percent(basisPoints: Int(served))) but its last audit entry says \(Percent(basisPoints: Int(logged)))"
                )
            }
        }
        return AuditReport(entries: chain.count, problem: nil)
    }
}
