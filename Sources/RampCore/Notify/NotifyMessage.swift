/// One event to tell a target about: a transition (from its audit entry), an alert, or a test message.
///
/// `key` is the idempotency key: a transition's is its audit sequence number; an alert's names the rollout, the
/// alert, its gate if any, and a time that tells one occurrence from the next. The same event sent to several targets, or retried, carries the same key.
public struct NotifyMessage: Sendable, Equatable {
    public var key: String
    public var event: NotifyEvent
    public var flag: String
    public var rollout: Int64?
    public var fromState: String?
    public var toState: String?
    public var fromPercent: Percent?
    public var toPercent: Percent?
    public var reason: String
    /// The gate checks behind it (the audit entry's, or the latest).
    public var checks: JSONValue
    public var actor: String
    public var at: Instant
    public var auditSeq: Int64?

    public init(
        key: String, event: NotifyEvent, flag: String, rollout: Int64?, fromState: String? = nil,
        toState: String? = nil, fromPercent: Percent? = nil, toPercent: Percent? = nil, reason: String,
        checks: JSONValue = .array([]), actor: String, at: Instant, auditSeq: Int64? = nil
    ) {
        self.key = key
        self.event = event
        self.flag = flag
        self.rollout = rollout
        self.fromState = fromState
        self.toState = toState
        self.fromPercent = fromPercent
        self.toPercent = toPercent
        self.reason = reason
        self.checks = checks
        self.actor = actor
        self.at = at
        self.auditSeq = auditSeq
    }

    /// The notification of an audit entry, or nil for an event no target can hear.
    public init?(entry: AuditEntry) {
        guard let event = NotifyEvent(rawValue: entry.event.text) else { return nil }
        self.init(
            key: String(entry.seq), event: event, flag: entry.flag, rollout: entry.rollout,
            fromState: entry.fromState?.text, toState: entry.toState?.text, fromPercent: entry.fromPercent,
            toPercent: entry.toPercent, reason: entry.reason, checks: entry.evidence["checks"] ?? .array([]),
            actor: entry.actor, at: entry.at, auditSeq: entry.seq)
    }

    /// A notification back from its document (as `document(target:)` wrote it).
    public init?(document: JSONValue) {
        guard let key = document["id"]?.stringValue,
            let event = document["event"]?.stringValue.flatMap(NotifyEvent.init),
            let flag = document["flag"]?.stringValue, let reason = document["reason"]?.stringValue,
            let actor = document["actor"]?.stringValue,
            let at = document["at"]?.stringValue.flatMap(Instant.init(rfc3339:))
        else { return nil }
        func percent(_ side: String) -> Percent? { document[side]?["percent"]?.numberValue.flatMap(Percent.init) }
        self.init(
            key: key, event: event, flag: flag,
            rollout: document["rollout"]?.numberValue.flatMap { Int64(exactly: $0) },
            fromState: document["from"]?["state"]?.stringValue, toState: document["to"]?["state"]?.stringValue,
            fromPercent: percent("from"), toPercent: percent("to"), reason: reason,
            checks: document["checks"] ?? .array([]), actor: actor, at: at,
            auditSeq: document["audit_seq"]?.numberValue.flatMap { Int64(exactly: $0) })
    }

    /// One line a person reads at a glance: flag, event, the share's move, why.
    public var text: String {
        var line = "\(flag): \(event.rawValue.split(separator: "_").joined(separator: " "))"
        if let from = fromPercent, let to = toPercent {
            line += from == to ? " at \(to)" : " \(from) → \(to)"
        }
        if let from = fromState, let to = toState, from != to { line += " (\(from) → \(to))" }
        return line + ": " + reason
    }

    /// The JSON document sent to a webhook or a command (`docs` show an example), for the target named.
    public func document(target: String) -> JSONValue {
        func state(_ name: String?, _ percent: Percent?) -> JSONValue {
            ["state": name.map(JSONValue.string) ?? .null, "percent": percent.map { .number($0.value) } ?? .null]
        }
        return [
            "version": 1, "id": .string(key), "event": .string(event.rawValue), "alert": .bool(event.isAlert),
            "flag": .string(flag), "rollout": rollout.map { .number(Double($0)) } ?? .null,
            "from": state(fromState, fromPercent), "to": state(toState, toPercent), "reason": .string(reason),
            "checks": checks, "actor": .string(actor), "at": .string(at.description),
            "audit_seq": auditSeq.map { .number(Double($0)) } ?? .null, "text": .string(text),
            "target": .string(target),
        ]
    }

    /// Slack's incoming-webhook message: the line with an emoji for the kind of news, then the failing gates.
    public var slackMessage: JSONValue {
        var lines = ["\(emoji) *\(Self.slackEscape(flag))* \(Self.slackEscape(String(text.dropFirst(flag.count + 2))))"]
        for check in (checks.arrayValue ?? []).compactMap(GateCheck.init(json:)) where check.outcome != .pass {
            let value = check.value.map { " \(JSONValue.format($0)) (\(check.bound))" } ?? ""
            lines.append(
                "• `\(Self.slackEscape(check.gate))` \(check.outcome.rawValue)\(Self.slackEscape(value))"
                    + (check.shadow ? " (shadow)" : ""))
        }
        let context =
            (auditSeq.map { "audit #\($0) · " } ?? "") + "\(Self.slackEscape(actor)) · \(at.description)"
        return [
            "text": .string(Self.slackEscape(text)),
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": .string(lines.joined(separator: "\n"))]],
                ["type": "context", "elements": [["type": "mrkdwn", "text": .string(context)]]],
            ],
        ]
    }

    private var emoji: String {
        switch event {
        case .rollback, .abort, .kill, .experimentStop: ":rotating_light:"
        case .complete, .experimentShip: ":white_check_mark:"
        case .awaitApproval, .approvalWaiting: ":raised_hand:"
        case .gateUnhealthy, .maxHoldNear: ":warning:"
        case .pause, .disable: ":double_vertical_bar:"
        case .test: ":wave:"
        default: ":arrow_forward:"
        }
    }

    /// Slack's three control characters in message text.
    static func slackEscape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The alerts that are not transitions, decided from one check of a held rollout. Each fires once per occurrence:
/// when its condition becomes true between the previous check and this one.
public enum Alerts {
    /// - Parameters:
    ///   - previous: when the rollout was last checked before now (nil: never).
    ///   - waitingSince: when it began to await approval (for `approval_waiting`).
    public static func due(
        rollout: Rollout, plan: Plan, checks: [GateCheck], previous: Instant?, waitingSince: Instant?, now: Instant
    ) -> [NotifyMessage] {
        var out: [NotifyMessage] = []
        func alert(_ event: NotifyEvent, _ what: String, at moment: Instant, _ reason: String) {
            out.append(
                NotifyMessage(
                    key: "\(rollout.id)-\(event.rawValue)\(what.isEmpty ? "" : "-" + what)-\(moment.seconds)",
                    event: event, flag: rollout.flag, rollout: rollout.id, fromState: rollout.state.rawValue,
                    toState: rollout.state.rawValue, fromPercent: rollout.percent(in: plan),
                    toPercent: rollout.percent(in: plan), reason: reason, checks: .array(checks.map(\.json)),
                    actor: "tick", at: now))
        }
        for check in checks
        where !check.shadow && (check.outcome == .error || check.outcome == .noData)
            && check.streak == plan.alerts.unhealthyChecks
        {
            alert(
                .gateUnhealthy, check.gate, at: now,
                "gate \(check.gate) has been \(check.outcome.rawValue) for \(check.streak) checks in a row: \(check.message)"
            )
        }
        func crossed(_ moment: Instant) -> Bool { moment <= now && (previous.map { $0 < moment } ?? true) }
        if rollout.state == .progressing, let entered = rollout.stepEnteredAt {
            let hold = plan.effectiveMaxHold
            let warning = TimeSpan(seconds: min(plan.alerts.maxHoldWarning.seconds, hold.after.seconds / 2))
            let acts = entered + hold.after
            let warnAt = Instant(seconds: acts.seconds - warning.seconds)
            if crossed(warnAt), now < acts {
                alert(
                    .maxHoldNear, "", at: entered,
                    "step \(rollout.step + 1) has been held \(now - entered); max_hold will \(hold.then.rawValue) it at \(acts)"
                )
            }
        }
        if rollout.state == .awaitingApproval, let since = waitingSince {
            let wait = plan.alerts.approvalWaiting
            if crossed(since + wait) {
                alert(
                    .approvalWaiting, "", at: since,
                    "awaiting an operator's approval for \(now - since) (ramp approve \(rollout.flag))")
            }
        }
        return out
    }
}
