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
    public func tick(now: Instant, actor: String, concurrency: Int = 8) throws(RampError) -> [TickOutcome] {
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

        var jobs: [Poller.Job] = []
        var gateIndex: [(rollout: Int, gate: Gate)] = []
        for (i, item) in due.enumerated() {
            for gate in item.plan.gates {
                let context = MetricContext(
                    flag: item.rollout.flag, gate: gate.name, canary: item.plan.canary, baseline: item.plan.baseline,
                    percent: item.rollout.percent(in: item.plan), step: item.rollout.step + 1,
                    state: item.rollout.state.rawValue, now: now, baseDir: item.stored.baseDir)
                jobs.append(Poller.Job(source: MetricSources.make(item.plan.sources[gate.source]!), context: context))
                gateIndex.append((i, gate))
            }
        }
        let readings = Poller.poll(jobs, concurrency: concurrency)
        var checks = Array(repeating: [GateCheck](), count: due.count)
        for (j, (reading, _)) in readings.enumerated() {
            checks[gateIndex[j].rollout].append(gateIndex[j].gate.judge(reading))
        }

        for (i, item) in due.enumerated() {
            let decision = RolloutMachine.tick(item.rollout, plan: item.plan, checks: checks[i], now: now)
            let evidence = JSONValue.object(["checks": .array(checks[i].map(\.json))])
            let observation = Observation(checkedAt: now, reason: decision.reason, evidence: evidence)
            let kind: TickOutcome.Kind
            switch decision {
            case .transition(let transition):
                if let entry = try commit(
                    transition, plan: item.plan, actor: actor, evidence: evidence, now: now, observation: observation)
                {
                    kind = .transition(entry)
                } else {
                    kind = .lostRace
                }
            case .hold(let reason):
                let recorded = try run { () throws(StoreError) in
                    try store.immediate { () throws(StoreError) -> Bool in
                        guard try store.rollout(id: item.rollout.id)?.version == item.rollout.version else {
                            return false
                        }
                        try store.recordObservation(rollout: item.rollout.id, observation)
                        return true
                    }
                }
                kind = recorded ? .hold(reason) : .lostRace
            }
            outcomes.append(TickOutcome(flag: item.rollout.flag, rolloutID: item.rollout.id, kind: kind))
        }
        return outcomes.sorted { $0.flag < $1.flag }
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
