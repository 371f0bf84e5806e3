public import RampCore
import RampMetrics
import RampStore

/// An experiment's readout as `ramp experiment report` shows it.
public struct ExperimentReport: Sendable {
    public var plan: ExperimentPlan
    public var record: ExperimentRecord
    public var readout: ExperimentReadout
    /// Per cohort attribute, per value (most units first): the primary metric's readout within it.
    public var cohorts: [(attribute: String, values: [(value: String, readout: ExperimentReadout)])]
    /// A bandit's latest reweight, as its audit entry records it.
    public var lastReweight: JSONValue?
    public var window: EventWindow
}

extension Ramp {
    /// An experiment or bandit plan, parsed and validated without touching the store.
    public static func validateExperiment(_ text: String, file: String) throws(RampError) -> ExperimentPlan {
        do {
            return try ExperimentPlan.parse(text, file: file)
        } catch {
            throw .invalid(error)
        }
    }

    /// Whether a plan text is an experiment or bandit plan (its `kind` says so).
    public static func isExperimentPlan(_ text: String) -> Bool {
        guard let document = try? JSONParser.parse(text) else { return false }
        return ExperimentPlan.isExperiment(document)
    }

    func experimentPlan(_ record: ExperimentRecord) throws(RampError) -> ExperimentPlan {
        guard let stored = try run({ () throws(StoreError) in try store.plan(digest: record.planDigest) }) else {
            throw .store(.notAStore(path: store.path, message: "experiment #\(record.id)'s plan is missing"))
        }
        return try Self.validateExperiment(stored.body, file: stored.file)
    }

    /// Whether the flag's last rule is the experiment's split (running, or concluded and holding it).
    static func servesSplit(_ flag: Flag, _ plan: ExperimentPlan, _ record: ExperimentRecord) -> Bool {
        flag.rules.last == TargetingRule(choose: plan.logic(record.allocation))
    }

    /// The experiment on `flag` that still serves its split, if any (the store's latest, running or holding).
    func splitServing(_ flag: Flag) throws(RampError) -> (ExperimentRecord, ExperimentPlan)? {
        guard let record = try run({ () throws(StoreError) in try store.latestExperiment(flag: flag.key) }),
            record.state == .running || record.state == .concluded
        else { return nil }
        let plan = try experimentPlan(record)
        return Self.servesSplit(flag, plan, record) ? (record, plan) : nil
    }

    /// Starts an experiment or bandit: the flag (created when new) serves the plan's split to its users (inside
    /// its layer range, if any), the control to everyone else, and an `experiment_start` entry records it. An
    /// earlier experiment of the flag that concluded holding its split is stopped first (its own entry).
    ///
    /// Refused when the flag has an active rollout, a running experiment, a canary share or base weights, is
    /// killed or disabled, or serves its variants other values than the plan's; or when the plan's layer range
    /// overlaps that of an experiment in the same layer that still serves its split. Every check is made in the
    /// transaction that starts it.
    public func startExperiment(
        text: String, file: String, baseDir: String, actor: String, reason: String?, now: Instant
    ) throws(RampError) -> (plan: ExperimentPlan, record: ExperimentRecord, entry: AuditEntry) {
        try admit(time: now)
        let plan = try Self.validateExperiment(text, file: file)
        let digest = PlanParser.digest(text)
        let allocation = plan.initialAllocation
        let result: Result<(ExperimentRecord, AuditEntry), RampError> = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<(ExperimentRecord, AuditEntry), RampError> in
                // The experiments that still serve a split, each with its plan.
                var open: [(ExperimentRecord, ExperimentPlan)] = []
                for record in try store.openExperiments() {
                    guard let stored = try store.plan(digest: record.planDigest),
                        let parsed = try? ExperimentPlan.parse(stored.body, file: stored.file),
                        let flag = try store.flag(record.flag),
                        record.state == .running || Self.servesSplit(flag, parsed, record)
                    else { continue }
                    open.append((record, parsed))
                }
                if let layer = plan.layer {
                    for (other, otherPlan) in open where other.flag != plan.flag {
                        guard let range = otherPlan.layer, range.name == layer.name,
                            !Layer.disjoint([(layer.lower, layer.upper), (range.lower, range.upper)])
                        else { continue }
                        return .failure(
                            .conflict(
                                "layer \"\(layer.name)\": range [\(layer.lower), \(layer.upper)) overlaps experiment "
                                    + "\"\(other.flag)\"'s [\(range.lower), \(range.upper)); experiments in one "
                                    + "layer must not share units"))
                    }
                }
                if let active = try store.latestRollout(flag: plan.flag), active.state.isActive {
                    return .failure(
                        .conflict(
                            "flag \"\(plan.flag)\" has an active rollout (#\(active.id), \(active.state.rawValue)); "
                                + "it must complete, roll back or be aborted before an experiment"))
                }
                var flag: Flag
                let existing = try store.flag(plan.flag)
                if let existing {
                    if existing.killed || existing.disabled {
                        return .failure(
                            .conflict(
                                "flag \"\(plan.flag)\" is \(existing.killed ? "killed" : "disabled"); release it first "
                                    + "(`ramp \(existing.killed ? "unkill" : "enable") \(plan.flag)`)"))
                    }
                    for name in plan.variants.keys.sorted() where existing.variants[name] != plan.variants[name] {
                        return .failure(
                            .invalid(
                                PlanError(
                                    file: file, path: "variants.\(name)",
                                    message: existing.variants[name] == nil
                                        ? "flag \"\(plan.flag)\" has no variant \"\(name)\""
                                        : "flag \"\(plan.flag)\" serves \"\(name)\" as "
                                            + "\(existing.variants[name]!.canonical), not \(plan.variants[name]!.canonical)"
                                )))
                    }
                    let held = open.first { $0.0.flag == plan.flag && $0.0.state == .concluded }
                    if existing.rules.count > (held == nil ? 0 : 1) {
                        return .failure(
                            .conflict(
                                "flag \"\(plan.flag)\" has targeting rules; an experiment's split decides alone, so "
                                    + "users no rule of it chose are in no arm (submit a rollout plan with \"rules\": [] "
                                    + "first, or use another flag)"))
                    }
                    if existing.canaryPercent > .zero || !existing.canarySegments.isEmpty || existing.hasSplit {
                        return .failure(
                            .conflict(
                                "flag \"\(plan.flag)\" already splits its users (a rollout's canary share or base "
                                    + "weights); an experiment starts from everyone on one variant"))
                    }
                    flag = existing
                } else {
                    flag = Flag(key: plan.flag, variants: plan.variants, baseline: plan.control, canary: plan.control)
                    try store.insertFlag(flag, now: now)
                }
                if let (held, heldPlan) = open.first(where: { $0.0.flag == plan.flag }) {
                    guard held.state == .concluded else {
                        return .failure(
                            .conflict(
                                "flag \"\(plan.flag)\" already has a running experiment (#\(held.id)); stop it or ship "
                                    + "a variant first (`ramp experiment stop \(plan.flag)`)"))
                    }
                    // The concluded experiment's split comes down first, recorded as its stop.
                    var stopped = held
                    stopped.state = .stopped
                    stopped.checkedAt = max(now, held.checkedAt)
                    guard try store.updateExperiment(stopped, from: held.state, checkedBefore: held.checkedAt) else {
                        return .failure(.conflict("flag \"\(plan.flag)\"'s experiment changed meanwhile; try again"))
                    }
                    flag.rules.removeLast()
                    try store.updateFlag(flag, now: now)
                    _ = try store.appendAudit(
                        AuditEntry(
                            seq: 0, at: now, actor: actor, rollout: nil, flag: plan.flag,
                            event: .known(.experimentStop),
                            fromState: nil, toState: nil, fromPercent: nil, toPercent: flag.servedPercent,
                            reason: "experiment #\(held.id)'s split is replaced by \(heldPlan.kind.rawValue) \(file)",
                            evidence: [
                                "experiment": .number(Double(held.id)), "command": "replace",
                                "flag": flag.servedJSON, "allocation": held.allocation.json,
                            ],
                            planDigest: held.planDigest))
                }
                flag.baseline = plan.control
                flag.canary = plan.control
                flag.canaryPercent = .zero
                flag.canarySegments = []
                flag.weights = [:]
                flag.rules.append(TargetingRule(choose: plan.logic(allocation)))
                try store.updateFlag(flag, now: now)
                try store.insertPlan(
                    StoredPlan(
                        digest: digest, flag: plan.flag, file: file, baseDir: baseDir, body: text, submittedAt: now))
                var record = ExperimentRecord(
                    id: 0, flag: plan.flag, planDigest: digest, state: .running, startedAt: now, checkedAt: now,
                    endedAt: nil, allocation: allocation, reweights: 0)
                record.id = try store.insertExperiment(record)
                let entry = try store.appendAudit(
                    AuditEntry(
                        seq: 0, at: now, actor: actor, rollout: nil, flag: plan.flag, event: .known(.experimentStart),
                        fromState: nil, toState: nil, fromPercent: nil, toPercent: flag.servedPercent,
                        reason: reason ?? "\(plan.kind.rawValue) \(file) started",
                        evidence: [
                            "experiment": .number(Double(record.id)), "kind": .string(plan.kind.rawValue),
                            "plan_file": .string(file), "created_flag": .bool(existing == nil),
                            "allocation": allocation.json, "flag": flag.servedJSON,
                        ],
                        planDigest: digest))
                return .success((record, entry))
            }
        }
        let (record, entry) = try result.get()
        exportAfterCommit()
        return (plan, record, entry)
    }

    /// Each arm's totals for the plan's metrics: ramp's events over `window`, and the metrics read from a source
    /// polled now (each input once per arm, side by side). An arm's units are its exposed units, or, when the
    /// primary metric is read from a source, its count there.
    func armTotals(_ plan: ExperimentPlan, record: ExperimentRecord, window: EventWindow, now: Instant)
        throws(RampError) -> [String: ArmTotals]
    {
        var out: [String: ArmTotals] = try run { () throws(StoreError) in
            var out: [String: ArmTotals] = [:]
            for arm in plan.arms {
                let units = Int(try store.exposedUnits(flag: record.flag, variant: arm, in: window))
                var metrics: [String: (count: Int, sum: Double, sumOfSquares: Double)] = [:]
                for metric in [plan.primary] + plan.guardrails
                where metric.source == nil && metrics[metric.metric] == nil {
                    switch metric.type {
                    case .proportion:
                        let successes = try store.outcomeUnits(
                            flag: record.flag, metric: metric.metric, variant: arm, in: window, exposedInWindow: true)
                        metrics[metric.metric] = (units, successes, successes)
                    case .mean:
                        let m = try store.outcomeMoments(
                            flag: record.flag, metric: metric.metric, variant: arm, in: window, exposedInWindow: true)
                        metrics[metric.metric] = (Int(m.count), m.sum, m.sumOfSquares)
                    }
                }
                out[arm] = ArmTotals(units: units, metrics: metrics)
            }
            return out
        }
        var external: [ExperimentPlan.Metric] = []
        for metric in [plan.primary] + plan.guardrails
        where metric.source != nil && !external.contains(where: { $0.metric == metric.metric }) {
            external.append(metric)
        }
        guard !external.isEmpty else { return out }
        let baseDir =
            try run { () throws(StoreError) in try store.plan(digest: record.planDigest) }?.baseDir ?? "."
        let secrets = MetricSources.secrets(of: plan.sources.values)
        var jobs: [Poller.Job] = []
        var slots: [(arm: String, metric: ExperimentPlan.Metric, names: [String])] = []
        for arm in plan.arms {
            for metric in external {
                guard let name = metric.source, let spec = plan.sources[name] else { continue }
                let source = MetricSources.make(spec)
                var context = MetricContext(
                    flag: record.flag, gate: metric.metric, variant: arm, canary: arm, baseline: plan.control,
                    percent: .zero, step: 0, state: "experiment", now: now, baseDir: baseDir)
                context.secrets = secrets
                let names = metric.inputs.keys.sorted()
                for input in names {
                    jobs.append(
                        Poller.Job(source: source, query: metric.inputs[input].map(context.render), context: context))
                }
                slots.append((arm, metric, names))
            }
        }
        let results = Poller.poll(jobs, concurrency: Self.experimentPollers)
        var next = 0
        for (arm, metric, names) in slots {
            let answers = results[next..<(next + names.count)]
            next += names.count
            var values: [String: Double] = [:]
            var problem: String?
            for (input, result) in zip(names, answers) {
                switch result.reading.finite {
                case .value(let v): values[input] = v
                case .noData(let why): problem = problem ?? "\(input): no data (\(why))"
                case .error(let why): problem = problem ?? "\(input): \(why)"
                }
            }
            let statistical: StatisticalSpec.Metric = metric.type == .proportion ? .proportion : .mean
            if problem == nil, let impossible = Self.impossibleInputs(values, metric: statistical) {
                problem = "impossible inputs: \(impossible)"
            }
            if problem == nil, let totals = Self.totals(metric.type, values) {
                out[arm]?.metrics[metric.metric] = totals
            } else {
                out[arm]?.errors[metric.metric] =
                    problem ?? "counts that are not whole numbers from 0 to 1e15, or inputs that do not fit"
            }
        }
        // Without ramp's events, an arm's units are the primary metric's count.
        if plan.primary.source != nil {
            for arm in plan.arms {
                let count = out[arm]?.metrics[plan.primary.metric]?.count ?? 0
                out[arm]?.units = count
            }
        }
        return out
    }

    /// Sources read at once for an experiment's metrics.
    static let experimentPollers = 8

    /// A metric's totals from its polled inputs: a proportion's `total` and `count`, a mean's `count` with `sum`
    /// and `sum_squares` or with `mean` and `variance`; nil when a count is not a whole number from 0 to 1e15
    /// (within rounding) or the sums are not finite.
    static func totals(_ type: ArmData.Metric, _ v: [String: Double]) -> (
        count: Int, sum: Double, sumOfSquares: Double
    )? {
        func whole(_ x: Double?) -> Int? {
            guard let x, x.isFinite, x >= 0, x <= 1e15 else { return nil }
            return Int(x.rounded())
        }
        switch type {
        case .proportion:
            guard let total = whole(v["total"]), let count = v["count"], count.isFinite else { return nil }
            return (total, min(count, Double(total)), min(count, Double(total)))
        case .mean:
            guard let n = whole(v["count"]), n > 0 else { return nil }
            if let sum = v["sum"], let squares = v["sum_squares"] {
                return sum.isFinite && squares.isFinite ? (n, sum, squares) : nil
            }
            guard let mean = v["mean"], let variance = v["variance"] else { return nil }
            let sum = mean * Double(n)
            let squares = variance * Double(n - 1) + sum * sum / Double(n)
            return sum.isFinite && squares.isFinite ? (n, sum, squares) : nil
        }
    }

    /// The share of the split each arm holds now.
    static func shares(_ allocation: Allocation) -> [String: Double] {
        allocation.units.mapValues { Double($0) / Double(allocation.total) }
    }

    /// Checks, reweights and concludes every running experiment that is due (its interval since its last check):
    /// a guardrail shown worse than its margin (`ExperimentReadout.marginTest`, always-valid) stops it, everyone
    /// back to the control; one that reached its planned sample, every metric read, concludes; a bandit past its
    /// burn-in is reweighted.
    func tickExperiments(now: Instant, actor: String) throws(RampError) -> [TickOutcome] {
        var outcomes: [TickOutcome] = []
        for record in try run({ () throws(StoreError) in try store.runningExperiments() }) {
            let plan: ExperimentPlan
            do {
                plan = try experimentPlan(record)
            } catch {
                outcomes.append(TickOutcome(flag: record.flag, rolloutID: 0, kind: .failed(error.description)))
                continue
            }
            guard Self.isDue(lastChecked: record.checkedAt, interval: plan.interval, now: now) else {
                outcomes.append(
                    TickOutcome(flag: record.flag, rolloutID: 0, kind: .notDue(next: record.checkedAt + plan.interval)))
                continue
            }
            // A killed or disabled flag serves no split: its experiment waits, unchecked, until it is released.
            if let flag = try run({ () throws(StoreError) in try store.flag(record.flag) }),
                flag.killed || flag.disabled
            {
                outcomes.append(
                    TickOutcome(
                        flag: record.flag, rolloutID: 0,
                        kind: .hold("the flag is \(flag.killed ? "killed" : "disabled")", changed: false)))
                continue
            }
            let window = record.window(now: now)
            let totals = try armTotals(plan, record: record, window: window, now: now)
            let readout = ExperimentReadout.make(
                plan: plan, totals: totals, shares: Self.shares(record.allocation), window: .open)
            var next = record
            next.checkedAt = now
            var event: AuditEvent?
            var evidence: [String: JSONValue] = ["experiment": .number(Double(record.id))]
            var reason = ""
            let failing = readout.arms.dropFirst().flatMap { arm in
                zip(plan.guardrails, arm.guardrails).filter { $0.1.beyondMargin }.map { (arm, $0.0, $0.1) }
            }
            if let (arm, guardrail, result) = failing.first {
                event = .experimentStop
                next.state = .stopped
                next.endedAt = now
                let k =
                    guardrail.better == .lower
                    ? "1 + \(JSONValue.format(guardrail.margin))" : "1 − \(JSONValue.format(guardrail.margin))"
                reason =
                    "guardrail \(guardrail.metric) failed: \(arm.variant) is shown worse than \(plan.control) by more "
                    + "than its margin \(Self.percentText(guardrail.margin))"
                    + (result.marginInterval.map {
                        " (\(arm.variant) − (\(k)) × \(plan.control): always-valid interval "
                            + "[\(ExperimentReadout.format($0.lower)), \(ExperimentReadout.format($0.upper))])"
                    } ?? "")
                evidence["guardrails"] = .array(
                    failing.map { arm, guardrail, result in
                        [
                            "variant": .string(arm.variant), "metric": .string(guardrail.metric),
                            "lift": result.lift?.json ?? .null, "units": .number(Double(result.units)),
                            "margin_interval": result.marginInterval.map { [.number($0.lower), .number($0.upper)] }
                                ?? .null,
                        ]
                    })
            } else if readout.sampleReached >= plan.sample, totals.values.allSatisfy(\.errors.isEmpty) {
                event = .experimentConclude
                next.state = .concluded
                next.endedAt = now
                let closed = ExperimentReadout.make(
                    plan: plan, totals: totals, shares: Self.shares(record.allocation), window: .closed)
                reason =
                    "planned sample reached (\(closed.sampleReached) of \(plan.sample) units): "
                    + "\(closed.verdict.rawValue)\(closed.winner.map { " \($0)" } ?? "") — \(closed.reason)"
                evidence["verdict"] = .string(closed.verdict.rawValue)
                evidence["winner"] = closed.winner.map(JSONValue.string) ?? .null
                evidence["end"] = .string(plan.end.rawValue)
            } else if plan.kind == .bandit,
                plan.arms.allSatisfy({ (totals[$0]?.units ?? 0) >= plan.burnIn })
            {
                var posteriors: [Thompson.Posterior] = []
                for arm in plan.arms {
                    guard let data = totals[arm]?.data(plan.primary),
                        let posterior = BanditReweight.posterior(data, better: plan.primary.better)
                    else { break }
                    posteriors.append(posterior)
                }
                if posteriors.count == plan.arms.count,
                    let reweight = BanditReweight.make(
                        arms: plan.arms, posteriors: posteriors, before: record.allocation,
                        seed: BanditReweight.seed(
                            flag: record.flag, experiment: record.id, reweight: record.reweights + 1),
                        draws: plan.draws, floor: plan.floor, topTwo: plan.topTwo),
                    reweight.after != record.allocation
                {
                    event = .experimentReweight
                    next.allocation = reweight.after
                    next.reweights += 1
                    evidence["bandit"] = reweight.json
                    evidence["reweight"] = .number(Double(next.reweights))
                    let best = plan.arms.indices.max { reweight.probabilityBest[$0] < reweight.probabilityBest[$1] }!
                    reason =
                        "reweight \(next.reweights): \(plan.arms[best]) leads (P(best) "
                        + "\(ExperimentReadout.format(reweight.probabilityBest[best]))); "
                        + "\(Self.percentText(Double(reweight.moved) / Double(reweight.before.total))) of users moved"
                }
            }
            let outcome = try commitExperiment(
                record, next, plan: plan, event: event, reason: reason, evidence: evidence, actor: actor, now: now)
            outcomes.append(outcome)
        }
        return outcomes
    }

    static func percentText(_ share: Double) -> String { ExperimentReadout.percentText(share) }

    /// Writes one experiment's check: the new state and split, the flag's split when it changes, and the audit
    /// entry when something happened — only if no other tick or command moved the experiment since it was read.
    private func commitExperiment(
        _ record: ExperimentRecord, _ next: ExperimentRecord, plan: ExperimentPlan, event: AuditEvent?,
        reason: String, evidence: [String: JSONValue], actor: String, now: Instant
    ) throws(RampError) -> TickOutcome {
        let result: Result<TickOutcome, RampError> = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<TickOutcome, RampError> in
                guard try store.updateExperiment(next, from: record.state, checkedBefore: record.checkedAt) else {
                    return .failure(.conflict("lost race"))
                }
                guard let event else {
                    return .success(
                        TickOutcome(flag: record.flag, rolloutID: 0, kind: .hold("checked", changed: false)))
                }
                guard var flag = try store.flag(record.flag) else { return .failure(.notFound(record.flag)) }
                let split = Self.servesSplit(flag, plan, record)
                switch event {
                case .experimentReweight where split:
                    flag.rules[flag.rules.count - 1] = TargetingRule(choose: plan.logic(next.allocation))
                case .experimentStop where split:
                    flag.rules.removeLast()
                case .experimentConclude where split && plan.end == .control:
                    flag.rules.removeLast()
                default: break
                }
                try store.updateFlag(flag, now: now)
                var evidence = evidence
                evidence["flag"] = flag.servedJSON
                evidence["allocation"] = next.allocation.json
                let entry = try store.appendAudit(
                    AuditEntry(
                        seq: 0, at: now, actor: actor, rollout: nil, flag: record.flag, event: .known(event),
                        fromState: nil, toState: nil, fromPercent: nil, toPercent: flag.servedPercent, reason: reason,
                        evidence: .object(evidence), planDigest: record.planDigest))
                return .success(TickOutcome(flag: record.flag, rolloutID: 0, kind: .transition(entry)))
            }
        }
        switch result {
        case .success(let outcome): return outcome
        case .failure(.conflict): return TickOutcome(flag: record.flag, rolloutID: 0, kind: .lostRace)
        case .failure(let error): throw error
        }
    }

    /// Stops the flag's running experiment (or takes down the split of one that concluded holding it): everyone
    /// back to the control, an `experiment_stop` entry.
    public func stopExperiment(flag key: String, actor: String, reason: String?, now: Instant) throws(RampError)
        -> AuditEntry
    {
        try admit(time: now)
        let flag = try requireFlag(key)
        guard let (record, plan) = try splitServing(flag) else {
            throw .conflict("flag \"\(key)\" has no running experiment, nor one whose split it still serves")
        }
        var next = record
        next.state = .stopped
        next.endedAt = record.endedAt ?? now
        next.checkedAt = max(now, record.checkedAt)
        let outcome = try commitExperiment(
            record, next, plan: plan, event: .experimentStop, reason: reason ?? "stopped by \(actor)",
            evidence: ["experiment": .number(Double(record.id)), "command": "stop"], actor: actor, now: now)
        guard case .transition(let entry) = outcome.kind else {
            throw .conflict("flag \"\(key)\"'s experiment changed meanwhile; try again")
        }
        exportAfterCommit()
        return entry
    }

    /// Ships `variant` of the flag's experiment: everyone gets it (it becomes the flag's baseline), or, with a
    /// rollout plan, everyone goes back to the control and the plan's rollout of `variant` is submitted — in the
    /// same transaction, so a plan `submit` refuses leaves the experiment as it was.
    public func shipExperiment(
        flag key: String, variant: String, rollout: (text: String, file: String, baseDir: String)?, actor: String,
        reason: String?, now: Instant
    ) throws(RampError) -> (entry: AuditEntry, submission: Submission?) {
        try admit(time: now)
        _ = try requireFlag(key)
        guard let record = try run({ () throws(StoreError) in try store.latestExperiment(flag: key) }),
            record.state == .running || record.state == .concluded
        else { throw .conflict("flag \"\(key)\" has no running or concluded experiment to ship") }
        let plan = try experimentPlan(record)
        guard plan.variants[variant] != nil else {
            throw .notFound(
                "experiment \"\(key)\" has no variant \"\(Escape.line(variant))\" (it has "
                    + "\(plan.arms.joined(separator: ", ")))")
        }
        var rolloutPlan: Plan?
        if let rollout {
            let parsed = try Self.validate(rollout.text, file: rollout.file)
            guard parsed.flag == key, parsed.canary == variant, parsed.baseline == plan.control else {
                throw .invalid(
                    PlanError(
                        file: rollout.file, path: "",
                        message: "shipping \(variant) of \(key) takes a rollout plan of flag \"\(key)\" with canary "
                            + "\"\(variant)\" and baseline \"\(plan.control)\""))
            }
            rolloutPlan = parsed
        }
        let result: Result<(AuditEntry, Submission?), RampError> = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<(AuditEntry, Submission?), RampError> in
                guard var flag = try store.flag(key) else { return .failure(.notFound("unknown flag \"\(key)\"")) }
                // A rollout since the experiment owns what the flag serves now.
                if let active = try store.latestRollout(flag: key), active.state.isActive {
                    return .failure(
                        .conflict(
                            "flag \"\(key)\" has an active rollout (#\(active.id)) since its experiment; it decides "
                                + "what the flag serves"))
                }
                if flag.canaryPercent > .zero || !flag.canarySegments.isEmpty {
                    return .failure(
                        .conflict(
                            "flag \"\(key)\" serves its canary \"\(flag.canary)\" from a rollout since its experiment; "
                                + "submit a plan to change it"))
                }
                var next = record
                next.state = .shipped
                next.endedAt = record.endedAt ?? now
                next.checkedAt = max(now, record.checkedAt)
                guard try store.updateExperiment(next, from: record.state, checkedBefore: record.checkedAt) else {
                    return .failure(.conflict("flag \"\(key)\"'s experiment changed meanwhile; try again"))
                }
                if Self.servesSplit(flag, plan, record) { flag.rules.removeLast() }
                if rolloutPlan == nil {
                    flag.baseline = variant
                    flag.canary = variant
                }
                try store.updateFlag(flag, now: now)
                let entry = try store.appendAudit(
                    AuditEntry(
                        seq: 0, at: now, actor: actor, rollout: nil, flag: key, event: .known(.experimentShip),
                        fromState: nil, toState: nil, fromPercent: nil, toPercent: flag.servedPercent,
                        reason: reason
                            ?? (rollout.map { "\(variant) shipped through the rollout of \($0.file)" }
                                ?? "\(variant) shipped to everyone"),
                        evidence: [
                            "experiment": .number(Double(record.id)), "variant": .string(variant),
                            "rollout_plan": rollout.map { .string($0.file) } ?? .null, "flag": flag.servedJSON,
                            "allocation": record.allocation.json,
                        ],
                        planDigest: record.planDigest))
                guard let rollout, let rolloutPlan else { return .success((entry, nil)) }
                switch try submitting(
                    rolloutPlan, digest: PlanParser.digest(rollout.text), text: rollout.text, file: rollout.file,
                    baseDir: rollout.baseDir, actor: actor,
                    reason: reason ?? "shipping \(variant) of experiment #\(record.id)", now: now, restart: false)
                {
                case .success(let submission): return .success((entry, submission))
                case .failure(let refusal): return .failure(refusal)
                }
            }
        }
        let (entry, submission) = try result.get()
        exportAfterCommit()
        return (entry, submission)
    }

    /// The flag's latest experiment's readout over its window (its start to its end, or now).
    public func experimentReport(flag key: String, now: Instant) throws(RampError) -> ExperimentReport {
        _ = try requireFlag(key)
        guard let record = try run({ () throws(StoreError) in try store.latestExperiment(flag: key) }) else {
            throw .notFound("flag \"\(key)\" has no experiment")
        }
        let plan = try experimentPlan(record)
        let window = record.window(now: now)
        let totals = try armTotals(plan, record: record, window: window, now: window.until)
        let shares = Self.shares(record.allocation)
        // Fixed-horizon only for the one planned look: the window closed at the planned sample.
        // What the log says of it: whether it concluded (its window closed at the planned sample), and a bandit's
        // latest reweight.
        var concluded = false
        var lastReweight: JSONValue?
        try run { () throws(StoreError) in
            try store.auditEntries(flag: key, since: record.startedAt) { entry in
                guard entry.evidence["experiment"]?.numberValue == Double(record.id) else { return }
                if entry.event == .known(.experimentConclude) { concluded = true }
                if entry.event == .known(.experimentReweight) { lastReweight = entry.evidence["bandit"] }
            }
        }
        let look: ExperimentReadout.Window =
            record.state == .running ? .open : concluded ? .closed : .stopped
        let readout = ExperimentReadout.make(plan: plan, totals: totals, shares: shares, window: look)
        var cohorts: [(String, [(String, ExperimentReadout)])] = []
        if !plan.cohorts.isEmpty {
            let exposures = try run { () throws(StoreError) in try store.exposureAttributes(flag: key, in: window) }
            let outcomes = try run { () throws(StoreError) in
                try store.keyedOutcomes(flag: key, metric: plan.primary.metric, in: window)
            }
            var primaryOnly = plan
            primaryOnly.guardrails = []
            for attribute in plan.cohorts {
                // Each unit by its first exposure in the window: its variant and its value of the attribute.
                var unit: [String: (variant: String, value: String)] = [:]
                for e in exposures where unit[e.key] == nil {
                    let attributes = e.attributes.flatMap { try? JSONParser.parse($0) }
                    let value = attributes?[attribute].map { $0.stringValue ?? $0.canonical } ?? "(none)"
                    unit[e.key] = (e.variant, value)
                }
                var sums:
                    [String: [String: (units: Int, count: Int, sum: Double, squares: Double, hits: Set<String>)]] =
                        [:]
                for (_, u) in unit { sums[u.value, default: [:]][u.variant, default: (0, 0, 0, 0, [])].units += 1 }
                for o in outcomes {
                    guard let u = unit[o.key] else { continue }
                    var s = sums[u.value]![u.variant]!
                    s.count += 1
                    s.sum += o.value
                    s.squares += o.value * o.value
                    if o.value != 0 { s.hits.insert(o.key) }
                    sums[u.value]![u.variant] = s
                }
                let ordered = sums.sorted {
                    let a = $0.value.values.reduce(0) { $0 + $1.units }
                    let b = $1.value.values.reduce(0) { $0 + $1.units }
                    return a != b ? a > b : $0.key < $1.key
                }.prefix(Self.cohortLimit)
                var values: [(String, ExperimentReadout)] = []
                for (value, arms) in ordered {
                    var t: [String: ArmTotals] = [:]
                    for (arm, s) in arms {
                        let metric =
                            plan.primary.type == .proportion
                            ? (s.units, Double(s.hits.count), Double(s.hits.count)) : (s.count, s.sum, s.squares)
                        t[arm] = ArmTotals(units: s.units, metrics: [plan.primary.metric: metric])
                    }
                    values.append(
                        (value, ExperimentReadout.make(plan: primaryOnly, totals: t, shares: shares, window: look)))
                }
                cohorts.append((attribute, values))
            }
        }
        return ExperimentReport(
            plan: plan, record: record, readout: readout, cohorts: cohorts, lastReweight: lastReweight,
            window: window)
    }

    /// The most values of a cohort attribute a report shows (those with the most units).
    public static let cohortLimit = 20

    /// Whether any experiment is still running (a rehearsal runs until none is).
    public func hasRunningExperiments() throws(RampError) -> Bool {
        try !run { () throws(StoreError) in try store.runningExperiments() }.isEmpty
    }

    /// When the next running experiment is due.
    func nextExperimentDue() throws(RampError) -> Instant? {
        var next: Instant?
        for record in try run({ () throws(StoreError) in try store.runningExperiments() }) {
            guard let plan = try? experimentPlan(record) else { continue }
            let due = record.checkedAt + plan.interval
            next = min(next ?? due, due)
        }
        return next
    }
}
