import Foundation
public import RampCore
import RampStore

/// ramp's use cases over one store: submit plans, tick rollouts, operate them, evaluate flags, read the audit log.
///
/// Owns a store connection, so it is not Sendable: one per thread or process.
public final class Ramp {
    let store: Store
    /// Set when a change was committed but the configured flagd export could not be rewritten (see `configure`).
    public internal(set) var exportFailure: String?
    /// Plans parsed from their stored text, by digest (a stored plan never changes).
    var planCache: [String: (plan: Plan, stored: StoredPlan)] = [:]
    /// The store-wide targets, parsed once per setting text.
    var storeTargetsCache: (text: String, targets: [NotifyTarget])?
    /// Set when this connection queued a notification, so that the command delivers before it exits.
    public internal(set) var queuedNotifications = false
    /// Told about every delivery attempt (the CLI prints the failures).
    public var onDelivery: ((Delivery) -> Void)?

    /// Opens the store at `path`. Commands that only read pass `create: false` so a typo never makes a new file.
    public init(storePath: String, create: Bool) throws(RampError) {
        do {
            store = try Store(path: storePath, create: create)
        } catch {
            throw .store(error)
        }
        store.writer = Self.writer
        store.onAppend = { [unowned self] (entry) throws(StoreError) in try self.enqueueNotifications(for: entry) }
    }

    /// The operating-system user (by effective uid, not `$USER`, which anyone can set) and the host name.
    static let writer: (user: String, host: String) = {
        let uid = geteuid()
        let user = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(uid)"
        return (user, ProcessInfo.processInfo.hostName)
    }()

    /// Runs a store call, wrapping its error.
    func run<T>(_ body: () throws(StoreError) -> T) throws(RampError) -> T {
        do {
            return try body()
        } catch {
            throw .store(error)
        }
    }

    /// Parses and validates a plan without touching the store.
    public static func validate(_ text: String, file: String) throws(RampError) -> Plan {
        do {
            return try PlanParser.parse(text, file: file)
        } catch {
            throw .invalid(error)
        }
    }

    /// The flag named `key`, or a not-found error that says so.
    public func requireFlag(_ key: String) throws(RampError) -> Flag {
        guard let flag = try run({ () throws(StoreError) in try store.flag(key) }) else {
            throw .notFound("unknown flag \"\(key)\"")
        }
        return flag
    }

    /// The plan a rollout follows, parsed from its stored text.
    func plan(for rollout: Rollout) throws(RampError) -> (Plan, StoredPlan) {
        switch try run({ () throws(StoreError) in try cachedPlan(digest: rollout.planDigest) }) {
        case .success(let found)?: return found
        case .failure(let error)?: throw .invalid(error)
        case nil: throw .store(.notAStore(path: store.path, message: "rollout \(rollout.id) names a missing plan"))
        }
    }

    /// A stored plan and its parse, nil when the store has none with this digest. Parsed once per digest per
    /// process: a stored plan never changes (its digest names its bytes).
    func cachedPlan(digest: String) throws(StoreError) -> Result<(plan: Plan, stored: StoredPlan), PlanError>? {
        if let cached = planCache[digest] { return .success(cached) }
        guard let stored = try store.plan(digest: digest) else { return nil }
        do {
            let plan = try PlanParser.parse(stored.body, file: stored.file)
            planCache[digest] = (plan, stored)
            return .success((plan, stored))
        } catch {
            return .failure(error)
        }
    }

    /// The evidence with the rollout after the transition (state, step, step time, paused from): what replaying
    /// the log needs to rebuild what is served.
    private static func adding(rollout: Rollout, to evidence: JSONValue) -> JSONValue {
        guard case .object(var members) = evidence else { return evidence }
        members["rollout"] = rollout.snapshot
        return .object(members)
    }

    /// The evidence with the canary's segments before and after, when the transition changed them.
    private static func adding(segments: (before: [String], after: [String]), to evidence: JSONValue) -> JSONValue {
        guard segments.before != segments.after, case .object(var members) = evidence else { return evidence }
        members["segments"] = [
            "from": .array(segments.before.map(JSONValue.string)), "to": .array(segments.after.map(JSONValue.string)),
        ]
        return .object(members)
    }

    /// Commits a transition: compare-and-set on the rollout, the flag's share, and the audit entry, all or nothing.
    /// `flagSwitch` (the kill switch or disabled, and its new value) is set on the flag in the same transaction.
    /// Returns the entry, or nil when another writer moved the rollout first.
    func commit(
        _ transition: Transition, plan: Plan, actor: String, evidence: JSONValue, now: Instant,
        flagSwitch: (WritableKeyPath<Flag, Bool>, Bool)? = nil, observation: ObservationRecord? = nil,
        checks: [(check: GateCheck, json: String)] = []
    ) throws(RampError) -> AuditEntry? {
        let entry = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> AuditEntry? in
                try apply(
                    transition, plan: plan, actor: actor, evidence: evidence, now: now, flagSwitch: flagSwitch,
                    observation: observation, checks: checks)
            }
        }
        if entry != nil { exportAfterCommit() }
        return entry
    }

    /// `commit`'s writes, inside a transaction the caller holds (a tick batches many).
    func apply(
        _ transition: Transition, plan: Plan, actor: String, evidence: JSONValue, now: Instant,
        flagSwitch: (WritableKeyPath<Flag, Bool>, Bool)? = nil, observation: ObservationRecord? = nil,
        checks: [(check: GateCheck, json: String)] = []
    ) throws(StoreError) -> AuditEntry? {
        guard try store.compareAndSet(transition.after, expectedVersion: transition.before.version, now: now)
        else { return nil }
        let (served, servedAfter): (Percent, Percent)
        let segments: (before: [String], after: [String])
        if let (key, value) = flagSwitch {
            guard var flag = try store.flag(transition.after.flag) else { return nil }
            served = flag.servedPercent
            segments = (flag.canarySegments, transition.after.segments(in: plan))
            flag.canaryPercent = transition.toPercent
            flag.canarySegments = segments.after
            flag[keyPath: key] = value
            try store.updateFlag(flag, now: now)
            servedAfter = flag.servedPercent
        } else {
            // Only the share moves: written without reading or rewriting the flag's variants and rules.
            guard var share = try store.flagShare(transition.after.flag) else { return nil }
            served = share.servedPercent
            segments = (share.canarySegments, transition.after.segments(in: plan))
            share.canaryPercent = transition.toPercent
            share.canarySegments = segments.after
            try store.setFlagShare(transition.after.flag, share, now: now)
            servedAfter = share.servedPercent
        }
        if let observation {
            let (next, due) = Self.schedule(checkedAt: observation.checkedAt, interval: plan.interval)
            try store.recordObservation(rollout: transition.after.id, observation, next: next, due: due)
        }
        try store.recordChecks(rollout: transition.after.id, step: transition.before.step, at: now, checks)
        var draft = AuditEntry(
            seq: 0, at: now, actor: actor, rollout: transition.after.id, flag: transition.after.flag,
            event: .known(transition.event), fromState: .known(transition.before.state),
            toState: .known(transition.after.state), fromPercent: served,
            toPercent: servedAfter, reason: transition.reason,
            evidence: Self.adding(rollout: transition.after, to: Self.adding(segments: segments, to: evidence)),
            planDigest: transition.after.planDigest)
        // The checks are encoded already (a tick encodes each once): the evidence's text is spliced from them.
        if !checks.isEmpty, case .object(var members) = draft.evidence, members["checks"] != nil {
            members["checks"] = nil
            let encoded = "[" + checks.map(\.json).joined(separator: ",") + "]"
            draft.storedEvidence = JSONValue.canonicalObject(members, encoded: ["checks": encoded])
        }
        return try store.appendAudit(draft)
    }
}

/// Ramp owns a store connection: one per thread or process. It is not Sendable, said in code.
@available(*, unavailable)
extension Ramp: Sendable {}
