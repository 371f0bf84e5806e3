public import RampCore
import RampMetrics
import RampStore

/// What one tick did to one rollout.
public struct TickOutcome: Sendable {
    public enum Kind: Sendable {
        /// The rollout moved; the audit entry records it.
        case transition(AuditEntry)
        /// Checked, nothing changed.
        case hold(String)
        /// Checked less than its interval ago: skipped without polling.
        case notDue(next: Instant)
        /// Another tick moved the rollout between this tick's read and its commit: nothing written.
        case lostRace
        /// The rollout could not be evaluated (its stored plan is unreadable); nothing written.
        case failed(String)
    }

    public var flag: String
    public var rolloutID: Int64
    public var kind: Kind
}

extension Ramp {
    /// Evaluates every active rollout once: read (one indexed query) → poll (outside any transaction) → decide →
    /// commit each decision in its own `BEGIN IMMEDIATE` transaction with compare-and-set.
    ///
    /// Gate checks older than `checkRetention` are deleted (the audit log keeps those behind every transition).
    public func tick(
        now: Instant, actor: String, concurrency: Int = 8, checkRetention: TimeSpan? = Ramp.defaultCheckRetention
    ) throws(RampError) -> [TickOutcome] {
        let active = try run { () throws(StoreError) in try store.activeRollouts() }
        var outcomes: [TickOutcome] = []
        var due: [(rollout: Rollout, plan: Plan, stored: StoredPlan)] = []
        for (rollout, lastChecked) in active {
            let planPair: (Plan, StoredPlan)
            do {
                planPair = try plan(for: rollout)
            } catch {
                outcomes.append(
                    TickOutcome(flag: rollout.flag, rolloutID: rollout.id, kind: .failed(error.description)))
                continue
            }
            let (plan, stored) = planPair
            if let lastChecked, !Self.isDue(lastChecked: lastChecked, interval: plan.interval, now: now) {
                outcomes.append(
                    TickOutcome(
                        flag: rollout.flag, rolloutID: rollout.id, kind: .notDue(next: lastChecked + plan.interval)))
                continue
            }
            due.append((rollout, plan, stored))
        }

        // Poll: one reading per threshold gate, two (canary and baseline) per relative gate.
        var jobs: [Poller.Job] = []
        for item in due {
            for gate in item.plan.gates {
                let variants = gate.isRelative ? [item.plan.canary, item.plan.baseline] : [item.plan.canary]
                for variant in variants {
                    let context = MetricContext(
                        flag: item.rollout.flag, gate: gate.name, variant: variant, canary: item.plan.canary,
                        baseline: item.plan.baseline, percent: item.rollout.percent(in: item.plan),
                        step: item.rollout.step + 1, state: item.rollout.state.rawValue, now: now,
                        baseDir: item.stored.baseDir)
                    jobs.append(
                        Poller.Job(
                            source: MetricSources.make(item.plan.sources[gate.source]!),
                            query: gate.query.map(context.render),
                            context: context))
                }
            }
        }
        var readings = Poller.poll(jobs, concurrency: concurrency)[...]

        for item in due {
            var checks: [GateCheck] = []
            for gate in item.plan.gates {
                let first = readings.removeFirst()
                var check: GateCheck
                var seconds = first.seconds
                if gate.isRelative {
                    let second = readings.removeFirst()
                    check = gate.judge(canary: first.reading, baseline: second.reading)
                    seconds = max(seconds, second.seconds)
                } else {
                    check = gate.judge(first.reading)
                }
                check.query = first.query
                check.seconds = seconds
                check.streak = try streak(of: check, rollout: item.rollout.id)
                checks.append(check)
            }
            outcomes.append(try decideAndCommit(item.rollout, plan: item.plan, checks: checks, now: now, actor: actor))
        }
        if let retention = checkRetention {
            _ = try run { () throws(StoreError) in
                try store.pruneChecks(before: Instant(seconds: now.seconds - retention.seconds))
            }
        }
        // Re-checked every tick, so a crash between a commit and its export heals here.
        exportAfterCommit()
        return outcomes.sorted { $0.flag < $1.flag }
    }

    /// Gate checks are kept this long by default.
    public static let defaultCheckRetention = TimeSpan(seconds: 14 * 86_400)

    /// How many checks in a row this gate has had this outcome, this one included (from the stored history).
    private func streak(of check: GateCheck, rollout: Int64) throws(RampError) -> Int {
        let history = try run { () throws(StoreError) in
            try store.recentOutcomes(rollout: rollout, gate: check.gate, limit: 999)
        }
        return 1 + (history.firstIndex { $0 != check.outcome } ?? history.count)
    }

    /// Decides one rollout and commits the decision with its checks: a transition with its audit entry, or a
    /// hold as an observation. Nothing is written when another tick moved or checked the rollout first.
    private func decideAndCommit(
        _ rollout: Rollout, plan: Plan, checks: [GateCheck], now: Instant, actor: String
    ) throws(RampError) -> TickOutcome {
        let decision = RolloutMachine.tick(rollout, plan: plan, checks: checks, now: now)
        let evidence = JSONValue.object(["checks": .array(checks.map(\.json))])
        let observation = Observation(checkedAt: now, reason: decision.reason, evidence: evidence)
        let kind: TickOutcome.Kind
        switch decision {
        case .transition(let transition):
            let entry = try commit(
                transition, plan: plan, actor: actor, evidence: evidence, now: now, observation: observation,
                checks: checks)
            kind = entry.map { .transition($0) } ?? .lostRace
        case .hold(let reason):
            let recorded = try run { () throws(StoreError) in
                try store.immediate { () throws(StoreError) -> Bool in
                    guard try store.rollout(id: rollout.id)?.version == rollout.version,
                        (try store.observation(rollout: rollout.id)?.checkedAt).map({ $0 < now }) ?? true
                    else { return false }
                    try store.recordObservation(rollout: rollout.id, observation)
                    try store.recordChecks(rollout: rollout.id, step: rollout.step, at: now, checks)
                    return true
                }
            }
            kind = recorded ? .hold(reason) : .lostRace
        }
        return TickOutcome(flag: rollout.flag, rolloutID: rollout.id, kind: kind)
    }

    /// A rollout is due once its interval has passed since its last check, less a tenth of the interval
    /// (at most 10 s) so that a cron minute that fires a second early does not skip a whole interval.
    static func isDue(lastChecked: Instant, interval: TimeSpan, now: Instant) -> Bool {
        let slack = min(10, max(1, interval.seconds / 10))
        return (now - lastChecked).seconds + slack >= interval.seconds
    }

    /// Whether any rollout can still move without an operator (pending or progressing).
    public func hasMovingRollouts() throws(RampError) -> Bool {
        try run { () throws(StoreError) in
            try store.activeRollouts().contains { $0.rollout.state == .pending || $0.rollout.state == .progressing }
        }
    }

    /// When the next active, moving rollout is due to be checked (for a simulated clock to jump to).
    public func nextDue(after now: Instant) throws(RampError) -> Instant? {
        var next: Instant?
        for (rollout, lastChecked) in try run({ () throws(StoreError) in try store.activeRollouts() }) {
            guard let lastChecked, let (plan, _) = try? plan(for: rollout) else { return now }
            let due = lastChecked + plan.interval
            next = min(next ?? due, due)
        }
        return next
    }
}
