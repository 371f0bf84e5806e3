import Dispatch
public import RampCore
import RampMetrics
import RampStore

/// What one tick did to one rollout.
public struct TickOutcome: Sendable {
    public enum Kind: Sendable {
        /// The rollout moved; the audit entry records it.
        case transition(AuditEntry)
        /// Checked, nothing changed. `changed` is set when the hold's cause differs from the last check's (a
        /// gate's outcome, the bake, the state), so that a cron log can say why a rollout is stuck without a line
        /// per minute.
        case hold(String, changed: Bool)
        /// Checked less than its interval ago: skipped without polling.
        case notDue(next: Instant)
        /// Another tick moved the rollout between this tick's read and its commit: nothing written.
        case lostRace
        /// The rollout could not be evaluated (its stored plan is unreadable); nothing written.
        case failed(String)
        /// The whole tick was skipped: another tick holds the store's tick lease (PostgreSQL). The only outcome
        /// of such a tick, with an empty flag.
        case leaseHeld
    }

    public var flag: String
    public var rolloutID: Int64
    public var kind: Kind
}

extension Ramp {
    /// Evaluates every due rollout once, chunk by chunk: read (indexed queries) → poll (outside any transaction) →
    /// decide → commit the chunk's decisions in batched `BEGIN IMMEDIATE` transactions, each rollout guarded by
    /// compare-and-set.
    ///
    /// Gate checks older than `checkRetention` are deleted (the audit log keeps those behind every transition).
    ///
    /// Only the rollouts due at `now` are read (an index on their next check time); with `reportNotDue` the others
    /// are listed too, as `.notDue` with their next check, from the same index and without reading their plans.
    ///
    /// On PostgreSQL, where ticks may run on several hosts, a tick first takes the store's tick lease (with
    /// `lease`): only one polls the metric sources at a time, and a tick that finds it held does nothing and
    /// returns one `.leaseHeld` outcome. Without the lease the compare-and-set alone keeps racing ticks from
    /// writing a transition twice.
    public func tick(
        now: Instant, actor: String, concurrency: Int = 8, checkRetention: TimeSpan? = Ramp.defaultCheckRetention,
        reportNotDue: Bool = true, lease: Bool = true
    ) throws(RampError) -> [TickOutcome] {
        let started = DispatchTime.now().uptimeNanoseconds
        try admit(time: now)
        if !clampsEarlierTimes, let newest = try run({ () throws(StoreError) in try store.newestAuditTime() }),
            now < newest
        {
            // A given time before the log's newest entry would record checks in the past.
            throw .store(.timeBeforeLog(path: store.path, at: now, newest: newest))
        }
        if lease {
            guard try run({ () throws(StoreError) in try store.takeTickLease() }) else {
                return [TickOutcome(flag: "", rolloutID: 0, kind: .leaseHeld)]
            }
        }
        defer { if lease { try? store.releaseTickLease() } }
        let active = try run { () throws(StoreError) in try store.dueRollouts(now: now) }
        var outcomes: [TickOutcome] = []
        if reportNotDue {
            let due = Set(active.map(\.rollout.id))
            for (flag, id, next) in try run({ () throws(StoreError) in try store.notDueRollouts(now: now) })
            where !due.contains(id) {
                outcomes.append(TickOutcome(flag: flag, rolloutID: id, kind: .notDue(next: next)))
            }
        }
        try parsePlans(active.map(\.rollout.planDigest))
        var due: [DueItem] = []
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
            due.append(DueItem(rollout: rollout, plan: plan, stored: stored, lastChecked: lastChecked))
        }

        // Due rollouts go through in chunks (read → judge → decide → commit), each chunk about two polls per
        // thread, so that a tick's work is committed as it goes rather than all at its end, and each chunk's
        // polls still run side by side.
        var chunk: [(reads: RolloutReads, item: DueItem)] = []
        var polls = 0
        for (index, item) in due.enumerated() {
            let reads = try self.reads(for: item, now: now)
            chunk.append((reads, item))
            polls += reads.jobCount
            if index == due.count - 1 || polls >= 2 * max(1, concurrency)
                || chunk.count >= Self.decisionsPerTransaction
            {
                outcomes += try judgeAndCommit(chunk, concurrency: concurrency, now: now, actor: actor)
                chunk.removeAll()
                polls = 0
            }
        }
        // Experiments and bandits after the rollouts: their guardrails, reweights and conclusions.
        outcomes += try tickExperiments(now: now, actor: actor)
        if let retention = checkRetention {
            _ = try run { () throws(StoreError) in
                try store.pruneChecks(before: Instant(seconds: now.seconds - retention.seconds))
                try store.pruneDelivered(before: Instant(seconds: now.seconds - retention.seconds))
            }
        }
        // Re-checked every tick, so a crash between a commit and its export heals here.
        exportAfterCommit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        // After every decision is committed: delivery never delays or fails one.
        deliverNotifications(now: now)
        recordTick(now: now, seconds: seconds)
        return outcomes.sorted { $0.flag < $1.flag }
    }

    /// Parses side by side the plans among `digests` that this process has not parsed yet (a cron tick's fresh
    /// process has parsed none). A plan that does not parse is left out: `plan(for:)` parses it again and says why.
    func parsePlans(_ digests: [String]) throws(RampError) {
        var missing: [StoredPlan] = []
        var seen: Set<String> = []
        for digest in digests where planCache[digest] == nil && seen.insert(digest).inserted {
            if let stored = try run({ () throws(StoreError) in try store.plan(digest: digest) }) {
                missing.append(stored)
            }
        }
        let parsed = concurrentMap(missing) { try? PlanParser.parse($0.body, file: $0.file) }
        for (stored, plan) in zip(missing, parsed) {
            if let plan { planCache[stored.digest] = (plan, stored) }
        }
    }

    /// A rollout due at this tick, with its plan.
    /// A class: a plan is a large value, and the tick hands each item through several steps without copying it.
    final class DueItem: Sendable {
        let rollout: Rollout
        let plan: Plan
        let stored: StoredPlan
        let lastChecked: Instant?

        init(rollout: Rollout, plan: Plan, stored: StoredPlan, lastChecked: Instant?) {
            self.rollout = rollout
            self.plan = plan
            self.stored = stored
            self.lastChecked = lastChecked
        }
    }

    /// What one gate reads at this tick, and how its answers come back to it: a threshold gate one reading, a
    /// relative gate two (canary, baseline), a statistical gate each input per arm (canary inputs, then the
    /// baseline's, in input-name order), a statistical gate over ramp's events its two arms from the store.
    struct GateReads {
        enum Kind {
            case threshold
            case relative
            case statistical(StatisticalSpec, inputs: [String])
            case events(canary: ArmReading, baseline: ArmReading)
        }
        var gate: Gate
        var kind: Kind
        var jobs: [Poller.Job]
    }

    /// Every gate's reads for one rollout.
    struct RolloutReads {
        var gates: [GateReads]
        var jobCount: Int { gates.reduce(0) { $0 + $1.jobs.count } }
    }

    /// The reads of every gate checked at the rollout's current share (`Plan.gates(at:)`).
    private func reads(for item: DueItem, now: Instant) throws(RampError) -> RolloutReads {
        var gates: [GateReads] = []
        // Read once per rollout: every source's credentials, for every source to keep out of what it stores.
        var secrets: [String]?
        for gate in item.plan.gates(at: item.rollout.percent(in: item.plan)) {
            if let spec = gate.statistical, item.plan.sources[gate.source] == .events {
                let (canary, baseline) = try eventReadings(
                    spec, query: gate.query, rollout: item.rollout, plan: item.plan, now: now)
                gates.append(GateReads(gate: gate, kind: .events(canary: canary, baseline: baseline), jobs: []))
                continue
            }
            guard let spec = item.plan.sources[gate.source] else {
                throw .store(.notAStore(path: store.path, message: "gate \(gate.name) names a missing source"))
            }
            let source = MetricSources.make(spec)
            if secrets == nil { secrets = MetricSources.secrets(of: item.plan.sources.values) }
            func job(_ variant: String, _ query: String?) -> Poller.Job {
                var context = MetricContext(
                    flag: item.rollout.flag, gate: gate.name, variant: variant, canary: item.plan.canary,
                    baseline: item.plan.baseline, percent: item.rollout.percent(in: item.plan),
                    step: item.rollout.step + 1, state: item.rollout.state.rawValue, now: now,
                    baseDir: item.stored.baseDir)
                context.secrets = secrets ?? []
                return Poller.Job(source: source, query: query.map(context.render), context: context)
            }
            if let statistical = gate.statistical {
                let names = statistical.inputs.keys.sorted()
                let jobs = [item.plan.canary, item.plan.baseline].flatMap { variant in
                    names.map { job(variant, statistical.inputs[$0]) }
                }
                gates.append(GateReads(gate: gate, kind: .statistical(statistical, inputs: names), jobs: jobs))
            } else if gate.isRelative {
                gates.append(
                    GateReads(
                        gate: gate, kind: .relative,
                        jobs: [job(item.plan.canary, gate.query), job(item.plan.baseline, gate.query)]))
            } else {
                gates.append(GateReads(gate: gate, kind: .threshold, jobs: [job(item.plan.canary, gate.query)]))
            }
        }
        return RolloutReads(gates: gates)
    }

    /// Polls a chunk's reads at once, gives each gate its own answers, decides each rollout, commits the chunk.
    ///
    /// Deciding is pure work (judging each gate, the state machine, encoding each check once), so a chunk's
    /// rollouts are decided side by side; the store is read before and written after, on this thread.
    private func judgeAndCommit(
        _ chunk: [(reads: RolloutReads, item: DueItem)], concurrency: Int, now: Instant, actor: String
    ) throws(RampError) -> [TickOutcome] {
        let jobs = chunk.flatMap { $0.reads.gates.flatMap(\.jobs) }
        let results = Poller.poll(jobs, concurrency: concurrency)
        // Each gate's streak continues from the rollout's last observation.
        let previous = try run { () throws(StoreError) in
            try chunk.map { (entry) throws(StoreError) in
                try store.lastCheck(
                    rollout: entry.item.rollout.id,
                    sequential: entry.item.plan.gates.contains { $0.statistical?.test == .groupSequential })
            }
        }
        var inputs: [(reads: RolloutReads, answers: ArraySlice<Poller.Result>, item: DueItem, previous: LastCheck?)] =
            []
        var next = 0
        for (i, (reads, item)) in chunk.enumerated() {
            inputs.append((reads, results[next..<(next + reads.jobCount)], item, previous[i]))
            next += reads.jobCount
        }
        let decided = concurrentMap(inputs) { Self.decide($0.reads, $0.answers, $0.item, $0.previous, now: now) }
        return try commit(decided, now: now, actor: actor)
    }

    /// One rollout's decision from its gates' own answers (each gate takes as many as it has jobs, in order).
    private static func decide(
        _ reads: RolloutReads, _ answers: ArraySlice<Poller.Result>, _ item: DueItem, _ previous: LastCheck?,
        now: Instant
    ) -> Decided {
        var next = answers.startIndex
        var checks: [GateCheck] = []
        var sequential: [String: JSONValue] = [:]
        for gateReads in reads.gates {
            let gate = gateReads.gate
            let context = SequentialContext(
                step: item.rollout.step, stepEnteredAt: item.rollout.stepEnteredAt,
                previous: previous?.sequential[gate.name])
            var check = judge(gateReads, Array(answers[next..<(next + gateReads.jobs.count)]), item, context)
            next += gateReads.jobs.count
            if let before = previous?.streaks[check.gate], before.outcome == check.outcome {
                check.streak = before.count + 1
            }
            // A group-sequential gate's looks so far go on to its next check; a check that could not read its
            // inputs (or had too few samples to look) keeps the state it was given.
            if case .statistical(let spec) = gate.rule, spec.test == .groupSequential {
                sequential[gate.name] =
                    check.statistics.flatMap(GroupSequentialState.init(json:))?.json ?? context.previous
            }
            checks.append(check)
        }
        return Decided(
            rollout: item.rollout, plan: item.plan, checks: checks, checksJSON: checks.map(\.json.canonical),
            sequential: sequential, lastChecked: item.lastChecked, previous: previous,
            decision: RolloutMachine.tick(item.rollout, plan: item.plan, checks: checks, now: now))
    }

    /// One gate's check from its own answers (in the order of its `jobs`).
    private static func judge(
        _ reads: GateReads, _ answers: [Poller.Result], _ item: DueItem, _ context: SequentialContext
    ) -> GateCheck {
        let gate = reads.gate
        var check: GateCheck
        switch reads.kind {
        case .events(let canary, let baseline):
            check = gate.judge(
                canary: canary, baseline: baseline, share: share(item.rollout, item.plan), sequential: context)
            check.query = gate.query
        case .statistical(let spec, let names):
            let canary = arm(spec, names, Array(answers.prefix(names.count)))
            let baseline = arm(spec, names, Array(answers.dropFirst(names.count)))
            check = gate.judge(
                canary: canary.0, baseline: baseline.0, share: share(item.rollout, item.plan), sequential: context)
            check.seconds = max(canary.1, baseline.1)
        case .relative:
            check = gate.judge(canary: answers[0].reading, baseline: answers[1].reading)
            check.query = answers[0].query
            check.seconds = max(answers[0].seconds, answers[1].seconds)
        case .threshold:
            check = gate.judge(answers[0].reading)
            check.query = answers[0].query
            check.seconds = answers[0].seconds
        }
        return check
    }

    /// The canary's planned share of units now, for the sample ratio check.
    private static func share(_ rollout: Rollout, _ plan: Plan) -> Double { rollout.percent(in: plan).value / 100 }

    /// One arm of a statistical gate from its polled inputs (in `names` order), and how long the slowest took.
    private static func arm(_ spec: StatisticalSpec, _ names: [String], _ results: [Poller.Result])
        -> (ArmReading, Double)
    {
        let seconds = results.map(\.seconds).max() ?? 0
        var values: [String: Double] = [:]
        for (name, result) in zip(names, results) {
            switch result.reading.finite {
            case .value(let v): values[name] = v
            case .noData(let why): return (.unusable(.noData, "\(name): \(why)"), seconds)
            case .error(let why): return (.unusable(.error, "\(name): \(why)"), seconds)
            }
        }
        // Inputs that no real arm can have (a negative count, more successes than trials, a negative variance)
        // are an error, never a verdict.
        if let impossible = Self.impossibleInputs(values, metric: spec.metric) {
            return (.unusable(.error, "impossible inputs: \(impossible)"), seconds)
        }
        let summary: ArmSummary
        switch spec.metric {
        case .proportion:
            summary = .proportion(successes: values["count"] ?? 0, trials: values["total"] ?? 0)
        case .mean:
            // The plan gives either count, sum and sum_squares, or count, mean and variance (PlanParser checks).
            if let count = values["count"], let sum = values["sum"], let squares = values["sum_squares"] {
                summary = .moments(count: count, sum: sum, sumOfSquares: squares)
            } else if let count = values["count"], let mean = values["mean"], let variance = values["variance"] {
                summary = ArmSummary(count: count, mean: mean, variance: variance)
            } else {
                return (.unusable(.error, "the gate's inputs are incomplete"), seconds)
            }
        case .exposures, .distribution:
            summary = ArmSummary(count: values["total"] ?? 0, mean: 0, variance: 0)
        }
        return (.summary(summary), seconds)
    }

    /// What makes a statistical gate's polled inputs impossible, in words; nil when they are possible.
    static func impossibleInputs(_ values: [String: Double], metric: StatisticalSpec.Metric) -> String? {
        let f = JSONValue.format
        for name in ["count", "total", "sum_squares", "variance"] {
            if let v = values[name], v < 0 { return "\(name) \(f(v)) is negative" }
        }
        if metric == .proportion, let count = values["count"], let total = values["total"], count > total {
            return "count \(f(count)) is more than total \(f(total))"
        }
        return nil
    }

    /// Both arms of a statistical gate over ramp's own events, since the rollout entered its current step.
    private func eventReadings(
        _ spec: StatisticalSpec, query: String?, rollout: Rollout, plan: Plan, now: Instant
    ) throws(RampError) -> (ArmReading, ArmReading) {
        let window = EventWindow(since: rollout.stepEnteredAt ?? Instant(seconds: 0), until: now)
        func arm(_ variant: String) throws(StoreError) -> ArmReading {
            let flag = rollout.flag
            switch spec.metric {
            case .exposures:
                let units = try store.exposedUnits(flag: flag, variant: variant, in: window)
                return .summary(ArmSummary(count: units, mean: 0, variance: 0))
            case .proportion:
                let trials = try store.exposedUnits(flag: flag, variant: variant, in: window)
                let successes = try store.outcomeUnits(flag: flag, metric: query ?? "", variant: variant, in: window)
                return .summary(.proportion(successes: min(successes, trials), trials: trials))
            case .mean:
                let m = try store.outcomeMoments(flag: flag, metric: query ?? "", variant: variant, in: window)
                return .summary(.moments(count: m.count, sum: m.sum, sumOfSquares: m.sumOfSquares))
            case .distribution:
                return .samples(
                    try store.outcomeSamples(
                        flag: flag, metric: query ?? "", variant: variant, in: window, limit: MannWhitney.sampleLimit))
            }
        }
        return try run { () throws(StoreError) in (try arm(plan.canary), try arm(plan.baseline)) }
    }

    /// Gate checks are kept this long by default.
    public static let defaultCheckRetention = TimeSpan(seconds: 14 * 86_400)

    /// One rollout's decision, waiting to be committed with the others of its tick.
    /// A class, like `DueItem`, so that batching decisions moves references, not plans.
    final class Decided: Sendable {
        let rollout: Rollout
        let plan: Plan
        let checks: [GateCheck]
        /// Each check's canonical JSON, encoded once: for the observation's evidence, gate_checks and the audit
        /// entry.
        let checksJSON: [String]
        /// Each group-sequential gate's state after this check, for the observation's evidence.
        let sequential: [String: JSONValue]
        let lastChecked: Instant?
        /// The latest observation when this tick read it (it gave the streaks); still the latest if its time is.
        let previous: LastCheck?
        let decision: Decision

        init(
            rollout: Rollout, plan: Plan, checks: [GateCheck], checksJSON: [String], sequential: [String: JSONValue],
            lastChecked: Instant?, previous: LastCheck?, decision: Decision
        ) {
            self.rollout = rollout
            self.plan = plan
            self.checks = checks
            self.checksJSON = checksJSON
            self.sequential = sequential
            self.lastChecked = lastChecked
            self.previous = previous
            self.decision = decision
        }
    }

    /// A tick writes its decisions in few transactions: at most this many decisions each, and each transaction
    /// closed after `writeBudget` so that a long tick never locks operators out for long.
    static let decisionsPerTransaction = 500
    static let writeBudget: UInt64 = 200_000_000  // nanoseconds

    /// Commits decisions in batched `BEGIN IMMEDIATE` transactions. Each rollout is still guarded on its own — a
    /// transition by compare-and-set on its version, all-or-nothing with its audit entry; a hold only if no other
    /// tick moved or checked the rollout since this one read it — so one that lost a race writes nothing and the
    /// rest of its batch stands.
    func commit(_ decided: [Decided], now: Instant, actor: String) throws(RampError) -> [TickOutcome] {
        var outcomes: [TickOutcome] = []
        var rest = decided[...]
        while !rest.isEmpty {
            let started = DispatchTime.now().uptimeNanoseconds
            let batch = try run { () throws(StoreError) in
                try store.immediate { () throws(StoreError) -> [TickOutcome] in
                    var done: [TickOutcome] = []
                    while let item = rest.first, done.count < Self.decisionsPerTransaction,
                        done.isEmpty || DispatchTime.now().uptimeNanoseconds - started < Self.writeBudget
                    {
                        rest.removeFirst()
                        done.append(try commitInTransaction(item, now: now, actor: actor))
                    }
                    return done
                }
            }
            outcomes += batch
        }
        return outcomes
    }

    /// One decision, inside the batch's transaction: a transition with its audit entry, or a hold as an
    /// observation (with any alert it raises). Nothing is written when another tick moved or checked it first.
    private func commitInTransaction(_ item: Decided, now: Instant, actor: String) throws(StoreError) -> TickOutcome {
        let (rollout, plan, checks) = (item.rollout, item.plan, item.checks)
        let encoded = Array(zip(checks, item.checksJSON))
        let streaks = GateStreak.of(checks)
        func observation(holdCause: String) -> ObservationRecord {
            ObservationRecord(
                checkedAt: now, reason: item.decision.reason,
                evidence: ObservationRecord.evidence(
                    checks: item.checksJSON, holdCause: holdCause, sequential: item.sequential),
                holdCause: holdCause, streaks: streaks)
        }
        let kind: TickOutcome.Kind
        switch item.decision {
        case .transition(let transition):
            // A step just entered bakes first: that hold is expected, not news for the cron log.
            let entry = try apply(
                transition, plan: plan, actor: actor, evidence: ["checks": .array(checks.map(\.json))], now: now,
                observation: observation(holdCause: Self.holdCause(transition.after, checks: [], reason: "bake:")),
                checks: encoded)
            kind = entry.map { .transition($0) } ?? .lostRace
        case .hold(let reason):
            let cause = Self.holdCause(rollout, checks: checks, reason: reason)
            // Another tick that checked this rollout since this one read it has newer news: this hold, and any
            // alert it would raise, are dropped (so an alert is raised once). Otherwise the observation this tick
            // read is still the latest.
            guard let current = try store.versionAndCheckTime(rollout: rollout.id),
                current.version == rollout.version, current.checkedAt != now,
                current.checkedAt == item.lastChecked, current.checkedAt == item.previous?.checkedAt
            else { return TickOutcome(flag: rollout.flag, rolloutID: rollout.id, kind: .lostRace) }
            let previous = item.previous
            let (next, due) = Self.schedule(checkedAt: now, interval: plan.interval)
            try store.recordObservation(rollout: rollout.id, observation(holdCause: cause), next: next, due: due)
            try store.recordChecks(rollout: rollout.id, step: rollout.step, at: now, encoded)
            // Alerts commit with the check that raised them.
            let waitingSince =
                rollout.state == .awaitingApproval ? try store.latestAuditTime(rollout: rollout.id) : nil
            for alert in Alerts.due(
                rollout: rollout, plan: plan, checks: checks, previous: previous?.checkedAt,
                waitingSince: waitingSince, now: now)
            {
                try enqueue(alert, digest: rollout.planDigest)
            }
            kind = .hold(reason, changed: previous?.holdCause != cause)
        }
        return TickOutcome(flag: rollout.flag, rolloutID: rollout.id, kind: kind)
    }

    /// What a hold is waiting on, without the numbers that change from check to check (bake left, streaks,
    /// values): the state, the bake, and each gate that did not pass with its outcome.
    static func holdCause(_ rollout: Rollout, checks: [GateCheck], reason: String) -> String {
        var parts = [rollout.state.rawValue]
        if reason.hasPrefix("bake:") { parts.append("bake") }
        parts += checks.filter { $0.outcome != .pass && !$0.shadow }.map { "\($0.gate)=\($0.outcome.rawValue)" }
            .sorted()
        return parts.joined(separator: " ")
    }

    /// A rollout is due once its interval has passed since its last check, less a tenth of the interval
    /// (at most 10 s) so that a cron minute that fires a second early does not skip a whole interval.
    /// A check stored in the future (the clock stepped back) makes the rollout due, so gates keep being checked.
    static func isDue(lastChecked: Instant, interval: TimeSpan, now: Instant) -> Bool {
        if lastChecked > now { return true }
        return now >= schedule(checkedAt: lastChecked, interval: interval).due
    }

    /// After a check at `checkedAt`: when the interval has passed (`next`), and from when a tick takes the rollout
    /// (`due`: `next` less a tenth of the interval, at least 1 s and at most 10 s, for cron's jitter).
    static func schedule(checkedAt: Instant, interval: TimeSpan) -> (next: Instant, due: Instant) {
        let slack = min(10, max(1, interval.seconds / 10))
        let next = checkedAt + interval
        return (next, Instant(seconds: next.seconds - slack))
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
        if let experiment = try nextExperimentDue() { next = min(next ?? experiment, experiment) }
        return next
    }
}
