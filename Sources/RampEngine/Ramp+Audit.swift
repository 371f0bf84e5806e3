public import RampCore
import RampStore

/// The result of `ramp audit verify`.
public struct AuditReport: Sendable {
    public var entries: Int64
    /// The first problem found, naming the entry; nil when the log and the store agree.
    public var problem: String?
    public var ok: Bool { problem == nil }
}

/// The head of the audit chain, to publish outside the store: a later rewrite of the whole log (which its own
/// hashes cannot reveal) no longer passes through it.
public struct AuditCheckpoint: Sendable, Equatable {
    public var seq: Int64
    public var hash: String
    /// The entry's time exactly as stored.
    public var at: String

    public init(seq: Int64, hash: String, at: String) {
        self.seq = seq
        self.hash = hash
        self.at = at
    }

    /// `{"at":"…","hash":"…","seq":N}`: one line, canonical JSON.
    public var json: JSONValue { ["seq": .number(Double(seq)), "hash": .string(hash), "at": .string(at)] }

    /// Reads one line of a checkpoint file.
    public init(line: String) throws(RampError) {
        let object: JSONValue
        do { object = try JSONParser.parse(line) } catch { throw .badInput("not JSON: \(error)") }
        guard case .object(let members) = object, Set(members.keys) == ["seq", "hash", "at"],
            let number = members["seq"]?.numberValue, let seq = Int64(exactly: number), seq >= 1,
            let hash = members["hash"]?.stringValue, hash.utf8.count == 64,
            hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
            let at = members["at"]?.stringValue, Instant(rfc3339: at)?.description == at
        else {
            throw .badInput(
                "expected {\"seq\": N, \"hash\": \"<64 lowercase hex digits>\", \"at\": \"<time like 2026-01-01T00:00:00Z>\"}"
            )
        }
        self.init(seq: seq, hash: hash, at: at)
    }
}

extension Ramp {
    /// The newest entry as a checkpoint; nil while the log is empty.
    public func auditCheckpoint() throws(RampError) -> AuditCheckpoint? {
        var last: AuditEntry?
        try run { () throws(StoreError) in try store.auditEntries { last = $0 } }
        guard let last else { return nil }
        return AuditCheckpoint(seq: last.seq, hash: last.hash, at: last.storedAt ?? last.at.description)
    }

    /// Streams audit entries, oldest first.
    public func auditLog(flag: String?, since: Instant?, each: (AuditEntry) -> Void) throws(RampError) {
        try run { () throws(StoreError) in try store.auditEntries(flag: flag, since: since) { each($0) } }
    }

    /// Recomputes the chain, checks it ends at the recorded head, and checks that every rollout's state and every
    /// flag's served share equal what their last audit entry says.
    ///
    /// With `checkpoints` (heads published earlier), the chain must also pass through each of them: entry N must
    /// still exist with exactly that hash and time, which catches a consistent rewrite of the log before them.
    ///
    /// Everything is read in one read transaction, so ticks and commands committing meanwhile cannot look like
    /// tampering.
    public func verifyAudit(checkpoints: [AuditCheckpoint] = []) throws(RampError) -> AuditReport {
        var report: Result<AuditReport, RampError> = .failure(.badInput("not verified"))
        try run { () throws(StoreError) in
            try store.reading { () throws(StoreError) in
                do throws(RampError) {
                    report = .success(try verifyAuditInSnapshot(checkpoints: checkpoints))
                } catch {
                    report = .failure(error)
                }
            }
        }
        return try report.get()
    }

    /// Entries checked side by side at a time by `audit verify` (memory stays at one batch, whatever the log).
    static let verifyBatch = 2_048

    private func verifyAuditInSnapshot(checkpoints: [AuditCheckpoint]) throws(RampError) -> AuditReport {
        let integrity = try run { () throws(StoreError) in try store.integrityCheck() }
        if integrity != "ok" { return AuditReport(entries: 0, problem: "store integrity check failed: \(integrity)") }
        var chain = AuditChain()
        var broken: AuditChain.Broken?
        let wanted = Set(checkpoints.map(\.seq))
        var found: [Int64: AuditCheckpoint] = [:]
        // An edited plan is named as such before the replay, which would only find it missing. Read one at a
        // time: none is kept.
        var edited: StoredPlan?
        try run { () throws(StoreError) in
            try store.plans { stored in
                if edited == nil, PlanParser.digest(stored.body) != stored.digest { edited = stored }
            }
        }
        if let stored = edited {
            return AuditReport(
                entries: 0,
                problem:
                    "plan \(stored.digest.prefix(12))… (\(stored.file)) was edited: its text no longer has that digest")
        }
        // Plans are parsed when a batch submits them (side by side) and dropped when their rollout ends (one flag
        // has one active rollout, and a plan names its flag): memory follows the rollouts in flight, not the length
        // of the log. Every stored plan matched its digest above, in this same read transaction.
        var plans: [String: Plan] = [:]
        func plan(_ digest: String) -> Plan? {
            if let known = plans[digest] { return known }
            guard let stored = try? store.plan(digest: digest),
                let parsed = try? PlanParser.parse(stored.body, file: stored.file)
            else { return nil }
            plans[digest] = parsed
            return parsed
        }
        var served = ServedState()
        var replayProblem: String?
        // Entries go in batches: each entry's hash and evidence side by side (pure work), then the chain's links
        // and the replay in order.
        var batch: [AuditEntry] = []
        func check(_ entries: [AuditEntry]) {
            guard broken == nil, !entries.isEmpty else { return }
            var submitted: [StoredPlan] = []
            for entry in entries where entry.event == .known(.submit) {
                if let digest = entry.planDigest, plans[digest] == nil, let stored = try? store.plan(digest: digest) {
                    submitted.append(stored)
                }
            }
            let parsed = concurrentMap(submitted) { try? PlanParser.parse($0.body, file: $0.file) }
            for (stored, plan) in zip(submitted, parsed) { plans[stored.digest] = plan }
            let checked = concurrentMap(entries) { entry in
                let text = entry.storedEvidence ?? ""
                return (
                    hashMatches: entry.computeHash() == entry.hash,
                    evidence: (try? JSONParser.parse(text)) ?? JSONValue.string(text)
                )
            }
            for (stored, (hashMatches, evidence)) in zip(entries, checked) {
                guard broken == nil else { return }
                var entry = stored
                entry.evidence = evidence
                do throws(AuditChain.Broken) { try chain.append(entry, hashMatches: hashMatches) } catch {
                    broken = error
                }
                if replayProblem == nil {
                    do throws(ServedState.Problem) { try served.apply(entry, plan: plan) } catch {
                        replayProblem = error.description
                    }
                }
                if let state = entry.toState?.value, state == .completed || state == .rolledBack,
                    let digest = entry.planDigest
                {
                    plans[digest] = nil
                }
                if wanted.contains(entry.seq) {
                    found[entry.seq] = AuditCheckpoint(
                        seq: entry.seq, hash: entry.hash, at: entry.storedAt ?? entry.at.description)
                }
            }
        }
        try run { () throws(StoreError) in
            try store.auditEntries(parseEvidence: false) { entry in
                guard broken == nil else { return }
                batch.append(entry)
                if batch.count == Self.verifyBatch {
                    check(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        check(batch)
        if broken == nil {
            for checkpoint in checkpoints {
                guard let entry = found[checkpoint.seq] else {
                    broken = AuditChain.Broken(
                        seq: checkpoint.seq, message: "is missing, but a checkpoint records it (the log was cut back)")
                    break
                }
                if entry != checkpoint {
                    broken = AuditChain.Broken(
                        seq: checkpoint.seq,
                        message: "does not match its checkpoint (hash \(entry.hash.prefix(12))… at \(entry.at), "
                            + "checkpoint \(checkpoint.hash.prefix(12))… at \(checkpoint.at)): the log was rewritten")
                    break
                }
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
        if let replayProblem { return AuditReport(entries: chain.count, problem: replayProblem) }
        if let mismatch = try compare(served, plan: plan) {
            return AuditReport(entries: chain.count, problem: mismatch)
        }

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

    /// The first field in which the store differs from what the log says is served, in words. (Plan texts are
    /// checked against their digests before the replay.)
    private func compare(_ served: ServedState, plan: (String) -> Plan?) throws(RampError) -> String? {
        let (flags, rollouts, settings) = try run { () throws(StoreError) in
            (try store.flags(), try store.allRollouts(), try store.settings())
        }
        let suffix = "but the audit log says"
        for flag in flags {
            guard let logged = served.flags[flag.key] else {
                return "flag \(flag.key) is not in the audit log (made behind its back)"
            }
            let fields: [(String, String, String)] = [
                ("variants", JSONValue.object(flag.variants).canonical, JSONValue.object(logged.variants).canonical),
                ("baseline", flag.baseline, logged.baseline), ("canary", flag.canary, logged.canary),
                ("canary share", flag.canaryPercent.description, logged.canaryPercent.description),
                ("kill switch", String(flag.killed), String(logged.killed)),
                ("disabled", String(flag.disabled), String(logged.disabled)),
                (
                    "rules", JSONValue.array(flag.rules.map(\.json)).canonical,
                    JSONValue.array(logged.rules.map(\.json)).canonical
                ),
                ("segments", JSONValue.object(flag.segments).canonical, JSONValue.object(logged.segments).canonical),
                (
                    "canary segments", flag.canarySegments.joined(separator: ","),
                    logged.canarySegments.joined(separator: ",")
                ),
                ("metadata", JSONValue.object(flag.metadata).canonical, JSONValue.object(logged.metadata).canonical),
                ("weights", flag.weightsJSON.canonical, logged.weightsJSON.canonical),
            ]
            for (name, store, log) in fields where store != log {
                if name == "canary segments", served.inexactSegments.contains(flag.key) { continue }
                return "flag \(flag.key)'s \(name) is \(Escape.line(store)) \(suffix) \(Escape.line(log))"
            }
        }
        let experiments = try run { () throws(StoreError) in try store.allExperiments() }
        for experiment in experiments {
            guard let logged = served.experiments[experiment.id] else {
                return
                    "experiment #\(experiment.id) (\(experiment.flag)) is not in the audit log (made behind its back)"
            }
            let fields: [(String, String, String)] = [
                ("flag", experiment.flag, logged.flag), ("plan", experiment.planDigest, logged.planDigest),
                ("state", experiment.state.rawValue, logged.state.rawValue),
                ("split", experiment.allocation.json.canonical, logged.allocation.json.canonical),
            ]
            for (name, store, log) in fields where store != log {
                return "experiment #\(experiment.id) (\(experiment.flag))'s \(name) is \(Escape.line(store)) \(suffix) "
                    + Escape.line(log)
            }
        }
        if let missing = Set(served.experiments.keys).subtracting(experiments.map(\.id)).min() {
            return "experiment #\(missing) is in the audit log but not in the store (deleted behind its back)"
        }
        let flagKeys = Set(flags.map(\.key))
        for flag in served.flags.keys.sorted() where !flagKeys.contains(flag) {
            return "flag \(flag) is in the audit log but not in the store (deleted behind its back)"
        }
        for rollout in rollouts {
            guard let logged = served.rollouts[rollout.id] else {
                return "rollout #\(rollout.id) (\(rollout.flag)) is not in the audit log (made behind its back)"
            }
            var fields: [(String, String, String)] = [
                ("flag", rollout.flag, logged.flag), ("plan", rollout.planDigest, logged.planDigest),
                ("state", rollout.state.rawValue, logged.state.rawValue),
            ]
            if served.snapshotted.contains(rollout.id) {
                fields += [
                    ("step", String(rollout.step + 1), String(logged.step + 1)),
                    (
                        "step entered at", rollout.stepEnteredAt?.description ?? "never",
                        logged.stepEnteredAt?.description ?? "never"
                    ),
                    (
                        "paused from", rollout.pausedFrom?.rawValue ?? "nothing",
                        logged.pausedFrom?.rawValue ?? "nothing"
                    ),
                ]
            }
            for (name, store, log) in fields where store != log {
                return "rollout #\(rollout.id) (\(rollout.flag))'s \(name) is \(store) \(suffix) \(log)"
            }
        }
        let rolloutIDs = Set(rollouts.map(\.id))
        for id in served.rollouts.keys.sorted() where !rolloutIDs.contains(id) {
            return "rollout #\(id) is in the audit log but not in the store (deleted behind its back)"
        }
        for key in Set(settings.keys).union(served.settings.keys).sorted() where settings[key] != served.settings[key] {
            return "setting \(key) is \(settings[key] ?? "(unset)") \(suffix) \(served.settings[key] ?? "(unset)")"
        }
        return try compareWorkingState(served, plan: plan)
    }

    /// What the store keeps beside the log that would change what a later tick runs or when: the folder a plan's
    /// relative commands run in, each active rollout's next check (its last check plus its plan's interval), and
    /// the targets queued notifications go to.
    /// `plan` is the replay's own lookup: an active rollout's plan was parsed there already.
    private func compareWorkingState(_ served: ServedState, plan: (String) -> Plan?) throws(RampError) -> String? {
        var problem: String?
        try run { () throws(StoreError) in
            try store.plans { stored in
                if problem == nil, let dir = served.planDirs[stored.digest], dir != stored.baseDir {
                    problem =
                        "plan \(stored.digest.prefix(12))… runs its commands in \(Escape.line(stored.baseDir)) "
                        + "but the audit log says \(Escape.line(dir))"
                }
            }
        }
        if let problem { return problem }
        for row in try run({ () throws(StoreError) in try store.activeSchedules() }) {
            var expected = (next: Instant(seconds: 0), due: Instant(seconds: 0))
            if let checked = row.checkedAt {
                guard let interval = plan(row.planDigest)?.interval else { continue }
                expected = Self.schedule(checkedAt: checked, interval: interval)
            }
            if row.next != expected.next || row.due != expected.due {
                return "rollout #\(row.id)'s next check is \(row.next) (due \(row.due)), but its last check "
                    + (row.checkedAt.map { "at \($0) and its plan's interval give \(expected.next)" }
                        ?? "is none, so it is due at once")
            }
        }
        var allowed = Set<String>()
        for text in served.notifySettings {
            for target in (try? PlanParser.notifyTargets(text, baseDir: "/")) ?? [] {
                allowed.insert(target.json.canonical)
            }
        }
        // Each flag's plans, gathered in one pass over the rollouts (not one pass per flag).
        var digestsOf: [String: Set<String>] = [:]
        var planTargetsOf: [String: Set<String>] = [:]
        for (flag, name, spec) in try run({ () throws(StoreError) in try store.queuedTargets() })
        where !allowed.contains(spec) {
            if digestsOf.isEmpty {
                for rollout in served.rollouts.values {
                    digestsOf[rollout.flag, default: []].insert(rollout.planDigest)
                }
            }
            if planTargetsOf[flag] == nil {
                var specs = Set<String>()
                for digest in digestsOf[flag] ?? [] {
                    for target in try run({ () throws(StoreError) in try planTargets(digest: digest) }) {
                        specs.insert(target.json.canonical)
                    }
                }
                planTargetsOf[flag] = specs
            }
            if planTargetsOf[flag]?.contains(spec) != true {
                return "a notification of \(Escape.line(flag)) is queued for target \(Escape.line(name)) as "
                    + "\(Escape.line(spec)), which neither the notify setting nor a plan in the audit log configured"
            }
        }
        return nil
    }
}
