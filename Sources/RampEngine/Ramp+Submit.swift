public import RampCore
import RampMetrics
import RampStore

/// What `submit` created.
public struct Submission: Sendable {
    public var plan: Plan
    public var digest: String
    public var rolloutID: Int64
    public var createdFlag: Bool
    public var entry: AuditEntry
}

extension Ramp {
    /// Validates a plan and starts a pending rollout for its flag, creating the flag if it is new.
    ///
    /// Refused when the flag already has an active rollout, is killed, disagrees with the plan's variants, or
    /// serves an experiment's split (a running experiment, or one that concluded holding its split).
    ///
    /// A new rollout starts its flag from 0%, so a flag that serves its canary (a completed rollout at 100%) is
    /// refused unless `restart` says to start it over.
    public func submit(
        text: String, file: String, baseDir: String, actor: String, reason: String?, now: Instant,
        restart: Bool = false
    ) throws(RampError) -> Submission {
        let plan = try Self.validate(text, file: file)
        let digest = PlanParser.digest(text)
        let result: Result<Submission, RampError> = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<Submission, RampError> in
                try submitting(
                    plan, digest: digest, text: text, file: file, baseDir: baseDir, actor: actor, reason: reason,
                    now: now, restart: restart)
            }
        }
        // Every refusal in `submitting` is found before its first write, so its (empty) transaction changed nothing.
        let submission = try result.get()
        exportAfterCommit()
        return submission
    }

    /// `submit`'s work, inside the caller's write transaction: a refusal is a failure (and the caller's transaction
    /// rolls back), found before anything is written.
    func submitting(
        _ plan: Plan, digest: String, text: String, file: String, baseDir: String, actor: String, reason: String?,
        now: Instant, restart: Bool
    ) throws(StoreError) -> Result<Submission, RampError> {
        // A target name means one target: the store's and a plan's may not share one.
        let storeNames = Set(try storeTargets().map(\.name))
        if let (index, clash) = plan.notify.enumerated().first(where: { storeNames.contains($0.element.name) }) {
            return .failure(
                .invalid(
                    PlanError(
                        file: file, path: "notify[\(index)].name",
                        message: "\"\(clash.name)\" names a store-wide target already (ramp config notify)")))
        }
        var created = false
        var reallocated: [String]?
        var flag: Flag
        if let existing = try store.flag(plan.flag) {
            flag = existing
            if let variants = plan.variants, variants != existing.variants {
                return .failure(
                    .invalid(
                        PlanError(
                            file: file, path: "variants",
                            message: "differ from flag \"\(plan.flag)\"'s stored variants "
                                + "(\(existing.variants.keys.sorted().joined(separator: ", "))); leave them out to use the stored ones"
                        )))
            }
            for (role, name) in [("canary", plan.canary), ("baseline", plan.baseline)]
            where existing.variants[name] == nil {
                return .failure(
                    .invalid(
                        PlanError(
                            file: file, path: role,
                            message: "flag \"\(plan.flag)\" has no variant \"\(name)\" "
                                + "(it has \(existing.variants.keys.sorted().joined(separator: ", ")))")))
            }
            // Releasing the switch by hand would serve the stored share again first; --restart starts the
            // flag over with the switch released and no one on the canary.
            for (off, verb) in [(existing.killed, "killed"), (existing.disabled, "disabled")]
            where off && !restart {
                let undo = verb == "killed" ? "unkill" : "enable"
                let stored =
                    existing.canaryPercent > .zero || !existing.canarySegments.isEmpty
                    ? "; `ramp \(undo) \(plan.flag)` would serve its canary to "
                        + (existing.canaryPercent > .zero
                            ? "\(existing.canaryPercent) of users"
                            : "segments \(existing.canarySegments.joined(separator: ", "))")
                        + " again"
                    : ""
                return .failure(
                    .conflict(
                        "flag \"\(plan.flag)\" is \(verb)\(stored): pass --restart to start it over from 0% "
                            + "(releasing the switch with no one on the canary), or run `ramp \(undo) \(plan.flag)` first"
                    ))
            }
            if let problem = Self.checkTargeting(plan, file: file, flag: existing) {
                return .failure(problem)
            }
            if let experiment = try store.latestExperiment(flag: plan.flag),
                experiment.state == .running || experiment.state == .concluded,
                let stored = try store.plan(digest: experiment.planDigest),
                let running = try? ExperimentPlan.parse(stored.body, file: stored.file),
                experiment.state == .running || Self.servesSplit(existing, running, experiment)
            {
                return .failure(
                    .conflict(
                        "flag \"\(plan.flag)\" serves experiment #\(experiment.id)'s split "
                            + "(\(experiment.state.rawValue)); ship a variant (`ramp experiment ship \(plan.flag) "
                            + "VARIANT --rollout \(file)`) or stop it (`ramp experiment stop \(plan.flag)`) first"
                    ))
            }
            if let active = try store.latestRollout(flag: plan.flag), active.state.isActive {
                return .failure(
                    .conflict(
                        "flag \"\(plan.flag)\" already has an active rollout (#\(active.id), \(active.state.rawValue)); "
                            + "it must complete, roll back or be aborted (`ramp abort \(plan.flag)`) before another plan"
                    ))
            }
            reallocated = Self.reallocated(existing, by: plan)
            if !restart, let moved = reallocated {
                return .failure(
                    .conflict(
                        "flag \"\(plan.flag)\"'s users would move between variants: the plan's weights, canary "
                            + "or baseline change the share of \(moved.map { "\"\($0)\"" }.joined(separator: ", ")) "
                            + "at 0%; pass --restart to reallocate them"))
            }
            if !restart, existing.canaryPercent > .zero || !existing.canarySegments.isEmpty {
                let share =
                    existing.canaryPercent > .zero
                    ? "\(existing.canaryPercent) of users"
                    : "segments \(existing.canarySegments.joined(separator: ", "))"
                return .failure(
                    .conflict(
                        "flag \"\(plan.flag)\" serves its canary \"\(existing.canary)\" to \(share); a new plan starts "
                            + "from 0% and would take it from them: pass --restart to start this flag over"))
            }
        } else {
            guard let variants = plan.variants else {
                return .failure(
                    .invalid(
                        PlanError(
                            file: file, path: "variants",
                            message: "is required to create the new flag \"\(plan.flag)\"")))
            }
            flag = Flag(key: plan.flag, variants: variants, baseline: plan.baseline, canary: plan.canary)
            if let problem = Self.checkTargeting(plan, file: file, flag: flag) { return .failure(problem) }
            try store.insertFlag(flag, now: now)
            created = true
        }
        let before = created ? Percent.zero : flag.servedPercent
        let released = [(flag.killed, "kill switch"), (flag.disabled, "disabled")].filter(\.0).map(\.1)
        flag.killed = false
        flag.disabled = false
        flag.baseline = plan.baseline
        flag.canary = plan.canary
        flag.canaryPercent = .zero
        flag.segments.merge(plan.segments) { _, new in new }
        flag.rules = plan.rules ?? flag.rules
        flag.metadata = plan.metadata ?? flag.metadata
        flag.weights = plan.weights ?? flag.weights
        let reached = flag.canarySegments
        flag.canarySegments = []
        try store.updateFlag(flag, now: now)
        try store.insertPlan(
            StoredPlan(
                digest: digest, flag: plan.flag, file: file, baseDir: baseDir, body: text, submittedAt: now))
        let id = try store.insertRollout(Rollout(id: 0, flag: plan.flag, planDigest: digest), now: now)
        var evidence: [String: JSONValue] = [
            "plan_file": .string(file), "plan_dir": .string(baseDir), "created_flag": .bool(created),
            "steps": .array(plan.steps.map { $0.segment.map(JSONValue.string) ?? .number($0.percent.value) }),
            "rules": .array(flag.rules.map(\.json)), "metadata": .object(flag.metadata),
            "weights": flag.weightsJSON,
            "segment_conditions": .object(flag.segments),
            "segments_reset": .array(reached.map(JSONValue.string)),
            "restart": .bool(restart && before > .zero),
        ]
        if !released.isEmpty { evidence["released"] = .array(released.map(JSONValue.string)) }
        if let reallocated { evidence["reallocated"] = .array(reallocated.map(JSONValue.string)) }
        let entry = try store.appendAudit(
            AuditEntry(
                seq: 0, at: now, actor: actor, rollout: id, flag: plan.flag, event: .known(.submit),
                fromState: nil, toState: .known(.pending), fromPercent: before, toPercent: .zero,
                reason: reason ?? "plan \(file) submitted", evidence: .object(evidence),
                planDigest: digest))
        return .success(
            Submission(plan: plan, digest: digest, rolloutID: id, createdFlag: created, entry: entry))
    }

    /// With base weights on either side, the variants whose share of the split a plan changes (the flag at its
    /// stored share against the plan's flag at 0%), by name; nil when none does. Flags without weights keep
    /// today's rule: a new plan may change the canary and baseline while the canary has no one.
    static func reallocated(_ flag: Flag, by plan: Plan) -> [String]? {
        let weights = plan.weights ?? flag.weights
        guard !flag.weights.isEmpty || !weights.isEmpty, !flag.killed else { return nil }
        func fractions(_ base: [String: Int], canary: String, baseline: String, basisPoints: Int)
            -> [String: (Int, Int)]
        {
            let shares =
                Flag.split(base: base, canary: canary, baseline: baseline, basisPoints: basisPoints) ?? []
            let total = shares.reduce(0) { $0 + $1.weight }
            var out: [String: (Int, Int)] = [:]
            for share in shares where share.weight > 0 { out[share.variant, default: (0, total)].0 += share.weight }
            return out
        }
        let before = fractions(
            flag.baseWeights, canary: flag.canary, baseline: flag.baseline,
            basisPoints: flag.canaryPercent.basisPoints)
        let after = fractions(
            weights.isEmpty ? [plan.baseline: 1] : weights, canary: plan.canary, baseline: plan.baseline,
            basisPoints: 0)
        let moved = Set(before.keys).union(after.keys).filter { name in
            let (a, x) = before[name] ?? (0, 1)
            let (b, y) = after[name] ?? (0, 1)
            return a * y != b * x
        }
        return moved.isEmpty ? nil : moved.sorted()
    }

    /// What a plan that creates its flag must hold: variants, and rules and steps that name only what it defines.
    public static func checkNewFlag(_ plan: Plan, file: String) throws(RampError) {
        guard let variants = plan.variants else {
            throw .invalid(
                PlanError(file: file, path: "variants", message: "is required to create the new flag \"\(plan.flag)\""))
        }
        let flag = Flag(key: plan.flag, variants: variants, baseline: plan.baseline, canary: plan.canary)
        if let problem = checkTargeting(plan, file: file, flag: flag) { throw problem }
    }

    /// Refuses rules and segment steps that name a segment neither the plan nor the flag defines, and rules that
    /// serve a variant the flag does not have.
    static func checkTargeting(_ plan: Plan, file: String, flag: Flag) -> RampError? {
        let segments = flag.segments.merging(plan.segments) { _, new in new }
        let known = segments.keys.sorted().joined(separator: ", ")
        func unknown(_ name: String, at path: String) -> RampError {
            .invalid(
                PlanError(
                    file: file, path: path,
                    message: "no segment \"\(name)\" in the plan or on flag \"\(plan.flag)\""
                        + (known.isEmpty ? " (define it under \"segments\")" : " (known: \(known))")))
        }
        for (i, rule) in (plan.rules ?? []).enumerated() {
            if case .segment(let name) = rule.when, segments[name] == nil {
                return unknown(name, at: "rules[\(i)].segment")
            }
            if let variant = rule.variant, flag.variants[variant] == nil {
                return .invalid(
                    PlanError(
                        file: file, path: "rules[\(i)].variant",
                        message: "flag \"\(plan.flag)\" has no variant \"\(variant)\" "
                            + "(it has \(flag.variants.keys.sorted().joined(separator: ", ")))"))
            }
        }
        for (i, step) in plan.steps.enumerated() {
            if let name = step.segment, segments[name] == nil { return unknown(name, at: "steps[\(i)].segment") }
        }
        // The weights the flag will have: the plan's (checked against its own variants when it has them), or the
        // stored ones, which must still give the new canary and baseline a pool to move.
        let weights = plan.weights ?? flag.weights
        for name in weights.keys.sorted() where flag.variants[name] == nil {
            return .invalid(
                PlanError(
                    file: file, path: "weights.\(name)",
                    message: "flag \"\(plan.flag)\" has no variant \"\(name)\" "
                        + "(it has \(flag.variants.keys.sorted().joined(separator: ", ")))"))
        }
        if !weights.isEmpty, weights[plan.canary, default: 0] + weights[plan.baseline, default: 0] == 0 {
            return .invalid(
                PlanError(
                    file: file, path: plan.weights == nil ? "canary" : "weights",
                    message: "flag \"\(plan.flag)\"'s weights give the canary \"\(plan.canary)\" and baseline "
                        + "\"\(plan.baseline)\" no weight: a rollout would move no one (give them weights)"))
        }
        if !weights.isEmpty,
            let step = plan.steps.first(where: {
                Flag.split(
                    base: weights, canary: plan.canary, baseline: plan.baseline, basisPoints: $0.percent.basisPoints)
                    == nil
            })
        {
            return .invalid(
                PlanError(
                    file: file, path: "weights",
                    message: "flag \"\(plan.flag)\"'s weights are too fine for a step at \(step.percent) "
                        + "(use smaller weights)"))
        }
        return nil
    }
}

extension Ramp {
    /// What can be seen wrong with a valid plan's sources and notification targets before they are used (see
    /// `SourceCheck`).
    public static func warnings(for plan: Plan, baseDir: String) -> [String] {
        warnings(sources: plan.sources, baseDir: baseDir)
            + plan.notify.flatMap { SourceCheck.warnings(target: $0, baseDir: baseDir) }
    }

    /// What `warnings(for:)` says of an experiment or bandit plan's sources.
    public static func warnings(for plan: ExperimentPlan, baseDir: String) -> [String] {
        warnings(sources: plan.sources, baseDir: baseDir)
    }

    static func warnings(sources: [String: SourceSpec], baseDir: String) -> [String] {
        sources.keys.sorted().flatMap { name in SourceCheck.warnings(source: name, sources[name]!, baseDir: baseDir) }
    }
}
