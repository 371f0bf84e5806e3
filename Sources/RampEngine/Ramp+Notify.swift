import Dispatch
import Foundation
public import RampCore
import RampMetrics
import RampStore

/// One attempt to deliver one notification.
public struct Delivery: Sendable {
    public var item: OutboxItem
    /// nil when the target took it.
    public var error: String?
    /// When it will be tried again (pending), or nil (delivered, or failed for good).
    public var retryAt: Instant?

    public var delivered: Bool { error == nil }
    public var failed: Bool { error != nil && retryAt == nil }
}

/// Where a target was configured.
public struct ConfiguredTarget: Sendable {
    /// `store` (`ramp config notify`) or the flag whose plan names it.
    public var origin: String
    public var target: NotifyTarget
}

extension Ramp {
    /// Failed deliveries are retried with exponential backoff (30 s, 1 m, 2 m, … at most an hour apart) for this
    /// long after the event, then marked failed.
    public static let notificationRetryWindow = TimeSpan(seconds: 24 * 3600)
    /// How long one run of ramp spends delivering, at most, beyond the delivery in progress.
    public static let deliveryBudget = TimeSpan(seconds: 30)

    /// The wait before the next attempt after `attempts` failed ones.
    public static func backoff(attempts: Int) -> TimeSpan {
        let exponent = min(max(attempts - 1, 0), 20)
        return TimeSpan(seconds: min(30 * (Int64(1) << Int64(exponent)), 3600))
    }

    /// Store-wide targets (`ramp config notify`); none when the setting is unset or unreadable.
    func storeTargets() throws(StoreError) -> [NotifyTarget] {
        guard let text = try store.setting(Setting.notify.rawValue) else { return [] }
        if let cached = storeTargetsCache, cached.text == text { return cached.targets }
        let targets = (try? PlanParser.notifyTargets(text, baseDir: "/")) ?? []
        storeTargetsCache = (text, targets)
        return targets
    }

    /// A stored plan's targets, with relative command paths resolving against the plan's folder.
    func planTargets(digest: String) throws(StoreError) -> [NotifyTarget] {
        guard case .success(let (plan, stored))? = try cachedPlan(digest: digest) else { return [] }
        return plan.notify.map {
            var target = $0
            target.baseDir = stored.baseDir
            return target
        }
    }

    /// Queues `notification` for every target that hears its event: the store's, and the plan's (`digest`, else
    /// the flag's latest rollout's). Called inside the transaction that writes the event.
    func enqueue(_ notification: NotifyMessage, digest: String?) throws(StoreError) {
        var targets = try storeTargets()
        var digest = digest
        if digest == nil { digest = try store.latestRollout(flag: notification.flag)?.planDigest }
        if let digest { targets += try planTargets(digest: digest) }
        var items: [OutboxItem] = []
        var seen: Set<String> = []
        for target in targets where target.events.contains(notification.event) && seen.insert(target.name).inserted {
            items.append(
                OutboxItem(
                    key: notification.key, target: target.name, spec: target.json.canonical,
                    event: notification.event.rawValue, flag: notification.flag,
                    body: notification.document(target: target.name).canonical, createdAt: notification.at))
        }
        try store.enqueue(items)
        if !items.isEmpty { queuedNotifications = true }
    }

    /// The notifications of an audit entry (the store's `onAppend` hook).
    func enqueueNotifications(for entry: AuditEntry) throws(StoreError) {
        guard let notification = NotifyMessage(entry: entry) else { return }
        try enqueue(notification, digest: entry.planDigest)
    }

    /// Delivers what is due at `now`: one notification at a time, each claimed first (so two processes never send
    /// it at once), sent outside any transaction within its target's timeout, then marked delivered, to retry, or
    /// failed. Stops after `budget`; what is left waits for the next run.
    @discardableResult
    public func deliverNotifications(now: Instant, budget: TimeSpan = Ramp.deliveryBudget) -> [Delivery] {
        queuedNotifications = false
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, min(budget.seconds, 3600))) * 1_000_000_000
        var deliveries: [Delivery] = []
        while DispatchTime.now().uptimeNanoseconds < deadline {
            // The lease outlasts the longest timeout (60 s): a claim expires only when its process died.
            guard let item = try? store.claimDue(now: now, lease: TimeSpan(seconds: 90), limit: 1).first else {
                break
            }
            let delivery = deliver(item, now: now)
            do {
                try store.finishDelivery(
                    id: item.id, state: delivery.delivered ? .delivered : (delivery.failed ? .failed : .pending),
                    error: delivery.error, retryAt: delivery.retryAt, at: now)
            } catch {
                break  // the claim expires and the notification is sent again: at least once
            }
            deliveries.append(delivery)
            onDelivery?(delivery)
        }
        return deliveries
    }

    private func deliver(_ item: OutboxItem, now: Instant) -> Delivery {
        var delivery = Delivery(item: item, error: nil, retryAt: nil)
        guard let spec = try? JSONParser.parse(item.spec), let target = NotifyTarget(stored: spec),
            let body = try? JSONParser.parse(item.body), let notification = NotifyMessage(document: body),
            target.kind != .command || !(target.command.first ?? "").isEmpty
        else {
            delivery.error = "the stored notification is unreadable"
            return delivery
        }
        delivery.error = Notifier.send(target, notification: notification)
        if delivery.error != nil, now < item.createdAt + Self.notificationRetryWindow {
            delivery.retryAt = now + Self.backoff(attempts: item.attempts)
        }
        return delivery
    }

    /// Every target configured: the store's, then each flag's latest plan's.
    public func notifyTargets() throws(RampError) -> [ConfiguredTarget] {
        try run { () throws(StoreError) in
            var out = try storeTargets().map { ConfiguredTarget(origin: "store", target: $0) }
            for flag in try store.flags() {
                guard let rollout = try store.latestRollout(flag: flag.key) else { continue }
                out += try planTargets(digest: rollout.planDigest).map {
                    ConfiguredTarget(origin: flag.key, target: $0)
                }
            }
            return out
        }
    }

    /// Sends a `test` notification to the target named, now, whatever its events; nothing is queued or recorded.
    public func notifyTest(target name: String, flag: String?, actor: String, now: Instant) throws(RampError)
        -> (ConfiguredTarget, String?)
    {
        let configured = try notifyTargets()
        let all = configured.filter { $0.target.name == name && (flag == nil || $0.origin == flag) }
        guard let chosen = all.first else {
            throw Self.unknownTarget(
                name, for: flag, known: configured.map(\.target.name), listed: "configured")
        }
        if all.count > 1, Set(all.map { $0.target.json.canonical }).count > 1 {
            throw .badInput(
                "\"\(name)\" names targets of \(all.map(\.origin).joined(separator: ", ")): choose one with --flag")
        }
        let notification = NotifyMessage(
            key: "test-\(now.seconds)", event: .test, flag: chosen.origin == "store" ? "*" : chosen.origin,
            rollout: nil, reason: "a test message from ramp notify test (\(chosen.origin) target \(name))",
            actor: actor, at: now)
        return (chosen, Notifier.send(chosen.target, notification: notification))
    }

    /// "no notification target …", with a did-you-mean and the names there are (`listed` says which).
    private static func unknownTarget(_ name: String, for flag: String?, known: [String], listed: String) -> RampError {
        .notFound(
            "no notification target \"\(name)\"" + (flag.map { " for flag \($0)" } ?? "")
                + Spelling.hint(for: name, among: Set(known))
                + (known.isEmpty ? " (none configured)" : " (\(listed): \(known.joined(separator: ", ")))"))
    }

    /// Notifications in the given states.
    public func notifications(states: [OutboxItem.State]) throws(RampError) -> [OutboxItem] {
        try run { () throws(StoreError) in try store.outbox(states: states) }
    }

    /// How many notifications failed, by flag (`*` for store-wide events).
    public func failedNotifications() throws(RampError) -> [String: Int] {
        try run { () throws(StoreError) in try store.failedNotifications() }
    }

    /// How many notifications are pending, delivered and failed.
    public func notificationCounts() throws(RampError) -> [OutboxItem.State: Int] {
        try run { () throws(StoreError) in try store.outboxCounts() }
    }

    /// Puts failed notifications back in the queue (all, or one target's) and delivers what is due.
    public func retryNotifications(target: String?, now: Instant) throws(RampError) -> (Int, [Delivery]) {
        // Retry times are the command's: one before the newest audit entry (a mistaken --now) would date them in
        // the past of what the log already says happened.
        if !clampsEarlierTimes, let newest = try run({ () throws(StoreError) in try store.newestAuditTime() }),
            now < newest
        {
            throw .store(.timeBeforeLog(path: store.path, at: now, newest: newest))
        }
        if let target {
            let known = Set(try notifyTargets().map(\.target.name))
                .union(try run { () throws(StoreError) in try store.outboxTargets() })
            guard known.contains(target) else {
                throw Self.unknownTarget(target, for: nil, known: known.sorted(), listed: "known")
            }
        }
        let count = try run { () throws(StoreError) in try store.retryFailed(target: target, now: now) }
        return (count, deliverNotifications(now: now))
    }
}
