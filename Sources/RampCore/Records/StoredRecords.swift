// What the store keeps, as plain values: RampStore reads and writes them, the engine and the CLI use them
// without importing RampStore.

/// A plan as submitted: its exact text, and where it came from (relative command paths resolve against `baseDir`).
public struct StoredPlan: Sendable {
    public var digest: String
    public var flag: String
    public var file: String
    public var baseDir: String
    public var body: String
    public var submittedAt: Instant

    public init(digest: String, flag: String, file: String, baseDir: String, body: String, submittedAt: Instant) {
        self.digest = digest
        self.flag = flag
        self.file = file
        self.baseDir = baseDir
        self.body = body
        self.submittedAt = submittedAt
    }
}

/// The latest check of a rollout: when, why it held or moved, and the gate evidence.
public struct Observation: Sendable {
    public var checkedAt: Instant
    public var reason: String
    public var evidence: JSONValue

    public init(checkedAt: Instant, reason: String, evidence: JSONValue) {
        self.checkedAt = checkedAt
        self.reason = reason
        self.evidence = evidence
    }
}

/// A stored gate check with when and at which step it was made.
public struct StoredCheck: Sendable {
    public var checkedAt: Instant
    public var step: Int
    public var check: GateCheck

    public init(checkedAt: Instant, step: Int, check: GateCheck) {
        self.checkedAt = checkedAt
        self.step = step
        self.check = check
    }
}

/// One notification to one target, as the outbox keeps it.
public struct OutboxItem: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, delivered, failed
    }

    public var id: Int64
    /// The idempotency key: a transition's audit seq, or an alert's name.
    public var key: String
    public var target: String
    /// The target as it was when the event happened (`NotifyTarget.json`).
    public var spec: String
    public var event: String
    public var flag: String
    /// The notification's document (canonical JSON).
    public var body: String
    public var createdAt: Instant
    public var state: State
    public var attempts: Int
    public var nextAt: Instant
    public var lastError: String?
    public var doneAt: Instant?

    public init(
        key: String, target: String, spec: String, event: String, flag: String, body: String, createdAt: Instant
    ) {
        self.id = 0
        self.key = key
        self.target = target
        self.spec = spec
        self.event = event
        self.flag = flag
        self.body = body
        self.createdAt = createdAt
        self.state = .pending
        self.attempts = 0
        self.nextAt = createdAt
    }
}

/// What went wrong in the store, said so a user can act on it.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, message: String)
    case missing(path: String)
    case notAStore(path: String, message: String)
    case newerSchema(path: String, found: Int, known: Int)
    /// SQLite refused: its message and its extended result code (`SQLITE_BUSY` is 5, a full disk 13, …; 0 when
    /// the failure did not come from SQLite).
    case sql(path: String, message: String, code: Int32 = 0)
    /// An audit entry dated before the newest one: audit times never go backwards.
    case timeBeforeLog(path: String, at: Instant, newest: Instant)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let message): "\(path): cannot open the store: \(message)"
        case .missing(let path): "\(path): no store here (submit a plan to create one, or pass --store)"
        case .notAStore(let path, let message): "\(path): not a usable ramp store: \(message)"
        case .newerSchema(let path, let found, let known):
            "\(path): store schema version \(found) is newer than this ramp understands (\(known)); upgrade ramp"
        case .sql(let path, let message, let code): "\(path): \(message)" + (code == 0 ? "" : " (SQLite code \(code))")
        case .timeBeforeLog(let path, let at, let newest):
            "\(path): the time \(at) is before the newest audit entry's (\(newest)); audit times never go backwards, "
                + "so nothing was written"
        }
    }
}
