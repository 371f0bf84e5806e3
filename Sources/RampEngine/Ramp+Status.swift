public import RampCore
import RampStore

/// One flag's state as `ramp status` shows it.
public struct FlagStatus: Sendable {
    public var flag: Flag
    public var rollout: Rollout?
    public var plan: Plan?
    /// The canary share served now (0 when killed or disabled).
    public var servedPercent: Percent
    /// Time left in the current step's bake, when it is still baking.
    public var bakeLeft: TimeSpan?
    public var lastCheck: Observation?
    public var nextCheck: Instant?
    /// The flag's latest experiment or bandit, if it ever had one.
    public var experiment: ExperimentRecord?
    /// Whether the flag serves that experiment's split now (running, or concluded holding it).
    public var servesExperimentSplit = false

    /// Why the rollout is not moving, if it is active: its state, the bake clock, and any gate that did not pass
    /// at the last check.
    public var why: String? {
        guard let rollout, rollout.state.isActive else { return nil }
        let gates = gateProblems
        switch rollout.state {
        case .pending: return lastCheck == nil ? "waiting for the first tick" : gates ?? "waiting for the next tick"
        case .paused: return "paused (ramp resume \(flag.key))" + (gates.map { "; " + $0 } ?? "")
        case .awaitingApproval:
            return "awaiting an operator's approval to \(nextMove) (ramp approve \(flag.key))"
                + (gates.map { "; " + $0 } ?? "")
        default: break
        }
        if let gates { return gates }
        if let bakeLeft { return "bake: \(bakeLeft) left" }
        return lastCheck == nil ? nil : "due at the next check"
    }

    /// `move from 25% to 100%`, or `complete the rollout`: what leaving the current step does.
    var nextMove: String {
        guard let rollout, let plan, plan.steps.indices.contains(rollout.step) else { return "move on" }
        let next = rollout.step + 1
        return next < plan.steps.count
            ? "move from \(plan.steps[rollout.step].target) to \(plan.steps[next].target)" : "complete the rollout"
    }

    /// When the step's `max_hold` acts if the rollout is still held then (a progressing rollout only).
    public var maxHoldAt: Instant? {
        guard let rollout, rollout.state == .progressing, let plan, let entered = rollout.stepEnteredAt else {
            return nil
        }
        return entered + plan.effectiveMaxHold.after
    }

    /// The gates that did not pass at the last check, as `name: outcome (message)`.
    public var gateProblems: String? {
        guard case .array(let checks)? = lastCheck?.evidence["checks"] else { return nil }
        let problems = checks.compactMap(GateCheck.init(json:)).filter { $0.outcome != .pass && !$0.shadow }
            .map { check in
                check.problemDescription(failureLimit: plan?.gates.first { $0.name == check.gate }?.failureLimit ?? 1)
            }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "flag": .string(flag.key), "killed": .bool(flag.killed), "disabled": .bool(flag.disabled),
            "percent": .number(servedPercent.value),
            "canary": .string(flag.canary), "baseline": .string(flag.baseline),
        ]
        if let rollout {
            object["rollout"] = .number(Double(rollout.id))
            object["state"] = .string(rollout.state.rawValue)
            object["step"] = .number(Double(rollout.step + 1))
            object["steps"] = .number(Double(plan?.steps.count ?? 0))
            object["plan_digest"] = .string(rollout.planDigest)
            if let plan {
                let hold = plan.effectiveMaxHold
                object["max_hold"] = [
                    "after_seconds": .number(Double(hold.after.seconds)), "then": .string(hold.then.rawValue),
                    "default": .bool(plan.maxHold == nil), "at": maxHoldAt.map { .string($0.description) } ?? .null,
                ]
            }
        } else {
            object["state"] = .null
        }
        object["experiment"] =
            experiment.map {
                [
                    "id": .number(Double($0.id)), "state": .string($0.state.rawValue), "split": $0.allocation.json,
                    "started_at": .string($0.startedAt.description),
                ]
            } ?? .null
        object["bake_left_seconds"] = bakeLeft.map { .number(Double($0.seconds)) } ?? .null
        object["why"] = why.map { .string($0) } ?? .null
        object["last_check"] = lastCheck.map { .string($0.checkedAt.description) } ?? .null
        object["next_check"] = nextCheck.map { .string($0.description) } ?? .null
        object["checks"] = lastCheck?.evidence["checks"] ?? .array([])
        return .object(object)
    }
}

extension Ramp {
    /// The status of one flag, or of every flag when `key` is nil.
    public func status(flag key: String?, now: Instant) throws(RampError) -> [FlagStatus] {
        let flags: [Flag]
        if let key {
            flags = [try requireFlag(key)]
        } else {
            flags = try run { () throws(StoreError) in try store.flags() }
        }
        // Many flags: every latest rollout and observation in one query each; one flag: just its own.
        let many = flags.count > 1
        let (latest, rows) = try run { () throws(StoreError) in
            many ? (try store.latestRollouts(), try store.observationRows()) : ([:], [])
        }
        let experiments = try run { () throws(StoreError) in
            many
                ? try store.latestExperiments()
                : [flags[0].key: try store.latestExperiment(flag: flags[0].key)].compactMapValues { $0 }
        }
        // Many evidences and plans to parse (a fresh process has parsed none): side by side.
        let observations = Self.parseObservations(rows)
        if many { try parsePlans(latest.values.map(\.planDigest)) }
        var out: [FlagStatus] = []
        for flag in flags {
            let rollout =
                many ? latest[flag.key] : try run { () throws(StoreError) in try store.latestRollout(flag: flag.key) }
            var status = FlagStatus(
                flag: flag, rollout: rollout, plan: nil, servedPercent: flag.servedPercent)
            status.experiment = experiments[flag.key]
            if let e = status.experiment, e.state == .running || e.state == .concluded,
                let plan = try? experimentPlan(e)
            {
                status.servesExperimentSplit = Self.servesSplit(flag, plan, e)
            }
            if let rollout {
                let (plan, _) = try plan(for: rollout)
                status.plan = plan
                if rollout.state.isActive {
                    status.lastCheck =
                        many
                        ? observations[rollout.id]
                        : try run { () throws(StoreError) in try store.observation(rollout: rollout.id) }
                    // A last check ahead of the clock (it stepped back) makes the rollout due at once, as the tick does.
                    status.nextCheck = status.lastCheck.map { $0.checkedAt > now ? now : $0.checkedAt + plan.interval }
                    if rollout.state == .progressing, let entered = rollout.stepEnteredAt,
                        plan.steps.indices.contains(rollout.step)
                    {
                        let left = plan.steps[rollout.step].bake.seconds - (now - entered).seconds
                        if left > 0 { status.bakeLeft = TimeSpan(seconds: left) }
                    }
                }
            }
            out.append(status)
        }
        return out
    }

    /// Observations from their stored rows, the evidence of each parsed side by side.
    static func parseObservations(_ rows: [(rollout: Int64, checkedAt: Instant, reason: String, evidence: String)])
        -> [Int64: Observation]
    {
        let parsed = concurrentMap(rows.map(\.evidence)) { (try? JSONParser.parse($0)) ?? .null }
        var out: [Int64: Observation] = [:]
        for (row, evidence) in zip(rows, parsed) {
            out[row.rollout] = Observation(checkedAt: row.checkedAt, reason: row.reason, evidence: evidence)
        }
        return out
    }

    /// Why the flag's rollout is where it is: its last decision, the audit entry that last moved it, and the
    /// latest check of every gate.
    public func explain(flag key: String, now: Instant) throws(RampError) -> Explanation {
        guard let status = try status(flag: key, now: now).first else { throw .notFound("unknown flag \"\(key)\"") }
        var explanation = Explanation(status: status, lastTransition: nil, checks: [])
        try run { () throws(StoreError) in
            try store.auditEntries(flag: key) { entry in explanation.lastTransition = entry }
        }
        if let rollout = status.rollout, let plan = status.plan {
            let recent = try run { () throws(StoreError) in
                try store.checks(rollout: rollout.id, limit: 50 * max(1, plan.gates.count))
            }
            for gate in plan.gates {
                if let latest = recent.first(where: { $0.check.gate == gate.name }) {
                    explanation.checks.append((gate, latest))
                }
            }
        }
        return explanation
    }
}

/// What `ramp explain` shows.
public struct Explanation: Sendable {
    public var status: FlagStatus
    public var lastTransition: AuditEntry?
    /// Each gate with its latest stored check.
    public var checks: [(gate: Gate, latest: StoredCheck)]

    public var json: JSONValue {
        var object: [String: JSONValue] = ["status": status.json]
        object["last_transition"] = lastTransition?.json ?? .null
        object["gates"] = .array(
            checks.map { item in
                var check = item.latest.check.json
                if case .object(var fields) = check {
                    fields["checked_at"] = .string(item.latest.checkedAt.description)
                    fields["failure_limit"] = .number(Double(item.gate.failureLimit))
                    fields["kind"] = .string(item.gate.kind)
                    check = .object(fields)
                }
                return check
            })
        return .object(object)
    }
}
