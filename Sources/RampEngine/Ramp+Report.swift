public import RampCore
import RampStore

extension Ramp {
    /// Everything `ramp report` draws for a flag: each rollout's plan, audit entries and gate checks (the stored
    /// checks, and the checks behind each transition from the audit log, which outlive the checks' retention),
    /// with the audit log's verification. `rollout` limits it to one rollout of the flag.
    public func reportInput(flag key: String, rollout only: Int64?, now: Instant) throws(RampError) -> ReportInput {
        let flag = try requireFlag(key)
        let verification = try verifyAudit()
        let verified = ReportInput.Verification(
            ok: verification.ok,
            text: verification.problem.map { "audit verify FAILED: \($0)" }
                ?? "audit verify: OK — \(verification.entries) entries, the chain and the replay agree with the store")
        var entriesByRollout: [Int64: [AuditEntry]] = [:]
        try auditLog(flag: key, since: nil) { entry in
            if let id = entry.rollout { entriesByRollout[id, default: []].append(entry) }
        }
        let rollouts = try run { () throws(StoreError) in try store.allRollouts() }
            .filter { $0.flag == key && (only == nil || $0.id == only) }.sorted { $0.id < $1.id }
        if let only, rollouts.isEmpty { throw .notFound("flag \(key) has no rollout #\(only)") }
        var parts: [ReportInput.Part] = []
        for rollout in rollouts {
            let (plan, stored) = try plan(for: rollout)
            let entries = entriesByRollout[rollout.id] ?? []
            let stored_checks = try run { () throws(StoreError) in
                try store.checks(rollout: rollout.id, limit: 100_000)
            }
            var checks = stored_checks.reversed().map {
                ReportInput.TimedCheck(at: $0.checkedAt, step: $0.step, check: $0.check)
            }
            // The checks behind each transition, where retention has removed the stored ones.
            let seen = Set(checks.map { "\($0.at.seconds) \($0.check.gate)" })
            var step = -1
            for entry in entries {
                if case .array(let list)? = entry.evidence["checks"] {
                    for check in list.compactMap(GateCheck.init(json:))
                    where !seen.contains("\(entry.at.seconds) \(check.gate)") {
                        checks.append(ReportInput.TimedCheck(at: entry.at, step: step, check: check))
                    }
                }
                step = entry.evidence["rollout"]?["step"]?.numberValue.flatMap { Int(exactly: $0) } ?? step
            }
            checks.sort { $0.at < $1.at }
            parts.append(
                ReportInput.Part(
                    id: rollout.id, plan: plan, planText: stored.body, planDigest: rollout.planDigest,
                    state: rollout.state.rawValue, entries: entries, checks: checks))
        }
        return ReportInput(
            flag: key, canary: flag.canary, baseline: flag.baseline, generatedAt: now, verification: verified,
            rollouts: parts)
    }
}
