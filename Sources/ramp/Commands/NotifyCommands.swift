import Foundation
import RampCore
import RampEngine

enum NotifyCommands {
    static let list = Command(
        name: "notify list", usage: "notify list [--all] [--json]",
        summary: "Show the notification targets and the pending and failed deliveries",
        details: """
            Targets come from `ramp config notify` (origin "store") and from each flag's latest plan ("notify").
            Each delivery shows its id, state, target, event, flag, idempotency key, attempts, when it is tried
            again (pending) or gave up (failed), and the last error. --all includes the delivered ones (kept as
            long as gate checks, tick --check-retention). --json prints {"targets": [...], "deliveries": [...]}.
            """,
        switches: ["all", "json"]
    ) { context in
        try context.args.expect([])
        let ramp = try context.open()
        let targets = try ramp.notifyTargets()
        let states: [OutboxItem.State] =
            context.args.flag("all") ? [.pending, .failed, .delivered] : [.pending, .failed]
        let items = try ramp.notifications(states: states)
        if context.json {
            Output.json(
                JSONValue.object([
                    "targets": .array(
                        targets.map {
                            var object = $0.target.json.objectValue ?? [:]
                            object["origin"] = .string($0.origin)
                            return .object(object)
                        }),
                    "deliveries": .array(items.map(json)),
                ]).canonical)
            return ExitCode.ok
        }
        if targets.isEmpty {
            Output.print("no targets (a plan's \"notify\", or ramp config notify)")
        } else {
            Output.print("targets:")
            for t in targets {
                let events =
                    t.target.events == NotifyEvent.defaults
                    ? "default events" : t.target.events.sorted().map(\.rawValue).joined(separator: ",")
                Output.print(Escape.line("  \(t.target.name)  \(t.target.kind.rawValue)  \(t.origin)  \(events)"))
            }
        }
        if items.isEmpty {
            Output.print(context.args.flag("all") ? "no deliveries" : "no deliveries pending or failed")
        } else {
            Output.print("deliveries:")
        }
        for item in items {
            var line =
                "  #\(item.id) \(item.state.rawValue)  \(item.target)  \(item.event)  \(item.flag)  key \(item.key)"
            line += "  attempts \(item.attempts)"
            switch item.state {
            case .pending: line += "  next \(item.nextAt)"
            case .failed: line += "  gave up \(item.doneAt.map(\.description) ?? "?")"
            case .delivered: line += "  at \(item.doneAt.map(\.description) ?? "?")"
            }
            if let error = item.lastError, item.state != .delivered { line += "  (\(error))" }
            Output.print(Escape.line(line))
        }
        return ExitCode.ok
    }

    static func json(_ item: OutboxItem) -> JSONValue {
        [
            "id": .number(Double(item.id)), "state": .string(item.state.rawValue), "target": .string(item.target),
            "event": .string(item.event), "flag": .string(item.flag), "key": .string(item.key),
            "attempts": .number(Double(item.attempts)), "created_at": .string(item.createdAt.description),
            "next_at": item.state == .pending ? .string(item.nextAt.description) : .null,
            "done_at": item.doneAt.map { .string($0.description) } ?? .null,
            "last_error": item.lastError.map(JSONValue.string) ?? .null,
        ]
    }

    static let test = Command(
        name: "notify test", usage: "notify test TARGET [--flag FLAG]",
        summary: "Send a test message to a notification target now",
        details: """
            Sends a "test" event (whatever the target's events) at once, outside the outbox: nothing is queued or
            recorded. TARGET is a target's name (see ramp notify list); --flag FLAG picks that flag's plan's target
            when several plans name different targets alike (--flag store: the store-wide one). Exits 0 when the target took it, 1 with the reason when not.
            """,
        values: ["flag", "actor"]
    ) { context in
        guard context.args.positionals.count == 1 else {
            throw Arguments.UsageError(description: "expected one TARGET")
        }
        let ramp = try context.open()
        let (target, error) = try ramp.notifyTest(
            target: context.args.positionals[0], flag: context.args["flag"], actor: context.actor,
            now: try context.now())
        if let error {
            Output.error("notify test \(target.target.name) (\(target.origin)): \(error)")
            return ExitCode.failure
        }
        Output.print(
            Escape.line(
                "sent a test message to \(target.target.name) (\(target.target.kind.rawValue), \(target.origin))"))
        return ExitCode.ok
    }

    static let retry = Command(
        name: "notify retry", usage: "notify retry [TARGET]",
        summary: "Queue failed notifications again (all, or one target's) and deliver what is due",
        details: """
            A notification that could not be delivered within its retry window is marked failed; once the target
            is fixed, this puts the failed ones back in the queue and delivers them now (same idempotency keys).
            """,
        values: []
    ) { context in
        guard context.args.positionals.count <= 1 else {
            throw Arguments.UsageError(description: "expected at most one TARGET")
        }
        let ramp = try context.open()
        let (count, deliveries) = try ramp.retryNotifications(
            target: context.args.positionals.first, now: try context.now())
        let delivered = deliveries.filter(\.delivered).count
        Output.print("queued \(count) failed notification\(count == 1 ? "" : "s") again; delivered \(delivered) now")
        return ExitCode.ok
    }

    /// One line on stderr for a delivery that did not go through (the CLI's `onDelivery`).
    static func report(_ delivery: Delivery) {
        guard let error = delivery.error else { return }
        let item = delivery.item
        let next = delivery.retryAt.map { "retrying at \($0)" } ?? "gave up (ramp notify retry)"
        Output.error(
            "notify \(item.target): \(item.event) \(item.flag) (key \(item.key)) not delivered, \(next): \(error)")
    }
}
