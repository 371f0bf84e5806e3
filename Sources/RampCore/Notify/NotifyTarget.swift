/// Where a notification goes: a webhook (a POST of the JSON document), a Slack incoming webhook (Slack's message
/// format), or a command (the JSON document on its stdin).
///
/// A target holds no secret: a URL that is one comes from `url_env` or `url_file` when the message is sent, and
/// a signing key from `secret_env`. So a target's JSON can be stored with each notification.
public struct NotifyTarget: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case webhook, slack, command
    }

    /// Where the URL comes from.
    public enum URLSource: Sendable, Equatable {
        /// Written in the plan or setting: only for a webhook whose URL is not a secret.
        case literal(String)
        /// An environment variable read when sending.
        case env(String)
        /// A file read when sending (first line, surrounding white space removed).
        case file(String)
    }

    public var name: String
    public var kind: Kind
    public var url: URLSource?
    /// The command's argv (a `command` target).
    public var command: [String]
    /// The environment variable that holds the HMAC-SHA-256 key for `X-Ramp-Signature-256` (webhook only).
    public var secretEnv: String?
    /// The events this target hears.
    public var events: Set<NotifyEvent>
    /// How long one delivery may take.
    public var timeout: TimeSpan
    /// Where a relative command path resolves, and the command's working folder (the plan's folder; `/` for a
    /// store-wide target, whose relative path is made absolute when it is set).
    public var baseDir: String

    public init(
        name: String, kind: Kind, url: URLSource? = nil, command: [String] = [], secretEnv: String? = nil,
        events: Set<NotifyEvent> = NotifyEvent.defaults, timeout: TimeSpan = NotifyTarget.defaultTimeout,
        baseDir: String = "."
    ) {
        self.name = name
        self.kind = kind
        self.url = url
        self.command = command
        self.secretEnv = secretEnv
        self.events = events
        self.timeout = timeout
        self.baseDir = baseDir
    }

    public static let defaultTimeout = TimeSpan(seconds: 10)

    /// The target as stored with each notification (no secrets: only where they come from).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "type": .string(kind.rawValue),
            "events": .array(events.map(\.rawValue).sorted().map(JSONValue.string)),
            "timeout": .string(timeout.description), "base_dir": .string(baseDir),
        ]
        switch url {
        case .literal(let text)?: object["url"] = .string(text)
        case .env(let name)?: object["url_env"] = .string(name)
        case .file(let path)?: object["url_file"] = .string(path)
        case nil: break
        }
        if !command.isEmpty { object["command"] = .array(command.map(JSONValue.string)) }
        if let secretEnv { object["secret_env"] = .string(secretEnv) }
        return .object(object)
    }

    /// A target back from its stored JSON (as `json` wrote it).
    public init?(stored: JSONValue) {
        guard let name = stored["name"]?.stringValue, let kind = stored["type"]?.stringValue.flatMap(Kind.init),
            let timeout = stored["timeout"]?.stringValue.flatMap(TimeSpan.init(parsing:))
        else { return nil }
        self.name = name
        self.kind = kind
        self.timeout = timeout
        baseDir = stored["base_dir"]?.stringValue ?? "."
        if let text = stored["url"]?.stringValue {
            url = .literal(text)
        } else if let env = stored["url_env"]?.stringValue {
            url = .env(env)
        } else if let path = stored["url_file"]?.stringValue {
            url = .file(path)
        }
        command = stored["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        secretEnv = stored["secret_env"]?.stringValue
        events = Set(stored["events"]?.arrayValue?.compactMap { $0.stringValue.flatMap(NotifyEvent.init) } ?? [])
    }
}

/// What a target can hear: every audit event, the alerts that are not transitions, and `ramp notify test`.
public enum NotifyEvent: String, Sendable, CaseIterable, Comparable {
    case submit, start, advance, complete
    case awaitApproval = "await_approval"
    case approve, promote, pause, resume, rollback, abort, kill, unkill, disable, enable
    case configure
    /// An experiment or bandit: started, reweighted, stopped (a guardrail failed, or `ramp experiment stop`),
    /// concluded at its planned sample, a variant shipped.
    case experimentStart = "experiment_start"
    case experimentReweight = "experiment_reweight"
    case experimentStop = "experiment_stop"
    case experimentConclude = "experiment_conclude"
    case experimentShip = "experiment_ship"
    /// A gate in `error` or `no_data` for `alerts.unhealthy_checks` checks in a row.
    case gateUnhealthy = "gate_unhealthy"
    /// A held step's `max_hold` is `alerts.max_hold_warning` away.
    case maxHoldNear = "max_hold_near"
    /// A rollout has waited `alerts.approval_waiting` for `ramp approve`.
    case approvalWaiting = "approval_waiting"
    /// `ramp notify test TARGET`; always sent to the target named, whatever its filter.
    case test

    /// The alerts: not transitions, so they have no audit entry.
    public static let alerts: [NotifyEvent] = [.gateUnhealthy, .maxHoldNear, .approvalWaiting]

    /// A target without `events` hears every transition of a rollout or flag and every alert; not `configure`
    /// (store-wide settings) nor `test`.
    public static let defaults: Set<NotifyEvent> = Set(allCases.filter { $0 != .configure && $0 != .test })

    public var isAlert: Bool { Self.alerts.contains(self) }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
