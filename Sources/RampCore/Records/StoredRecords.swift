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

/// A rollout's latest decision as a tick writes it: the evidence already in canonical JSON, and beside it what
/// the next tick needs — what a hold waits on and each gate's streak — so that it never parses the evidence.
public struct ObservationRecord: Sendable {
    public var checkedAt: Instant
    public var reason: String
    /// Canonical JSON: `{"checks":[…],"hold_cause":"…"}`.
    public var evidence: String
    public var holdCause: String
    public var streaks: [String: GateStreak]

    public init(checkedAt: Instant, reason: String, evidence: String, holdCause: String, streaks: [String: GateStreak])
    {
        self.checkedAt = checkedAt
        self.reason = reason
        self.evidence = evidence
        self.holdCause = holdCause
        self.streaks = streaks
    }

    /// The evidence's canonical JSON from checks already encoded: the same bytes as
    /// `JSONValue.object(["checks": .array(checks), "hold_cause": .string(holdCause)]).canonical`, with
    /// `"group_sequential_state"` (each group-sequential gate's state) between them when there is any.
    public static func evidence(checks: [String], holdCause: String, sequential: [String: JSONValue] = [:]) -> String {
        var out = Array(#"{"checks":["#.utf8)
        for (i, check) in checks.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += check.utf8
        }
        out += "]".utf8
        if !sequential.isEmpty {
            out += #","group_sequential_state":"#.utf8
            out += JSONValue.object(sequential).canonical.utf8
        }
        out += #","hold_cause":"#.utf8
        JSONValue.quote(holdCause, into: &out)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a tick reads of a rollout's latest observation: when it was made, what a hold waited on, and each gate's
/// outcome with how many checks in a row gave it.
public struct LastCheck: Sendable, Equatable {
    public var checkedAt: Instant
    public var holdCause: String?
    public var streaks: [String: GateStreak]
    /// Each group-sequential gate's state (`GroupSequentialState`'s JSON), as the observation's evidence keeps it.
    public var sequential: [String: JSONValue]

    public init(
        checkedAt: Instant, holdCause: String?, streaks: [String: GateStreak], sequential: [String: JSONValue] = [:]
    ) {
        self.checkedAt = checkedAt
        self.holdCause = holdCause
        self.streaks = streaks
        self.sequential = sequential
    }

    /// From an observation's evidence (rows written before the streaks had their own column).
    public init(checkedAt: Instant, evidence: JSONValue) {
        self.init(
            checkedAt: checkedAt, holdCause: evidence["hold_cause"]?.stringValue,
            streaks: GateStreak.of((evidence["checks"]?.arrayValue ?? []).compactMap(GateCheck.init(json:))),
            sequential: Self.sequential(evidence))
    }

    /// The group-sequential gates' states in an observation's evidence.
    public static func sequential(_ evidence: JSONValue) -> [String: JSONValue] {
        guard case .object(let states)? = evidence[Self.sequentialKey] else { return [:] }
        return states
    }

    /// Where an observation's evidence keeps the group-sequential gates' states.
    public static let sequentialKey = "group_sequential_state"
}

/// One gate's outcome and how many checks in a row gave it.
public struct GateStreak: Sendable, Equatable {
    public var outcome: GateOutcome
    public var count: Int

    public init(outcome: GateOutcome, count: Int) {
        self.outcome = outcome
        self.count = count
    }

    /// Each checked gate's outcome and streak.
    public static func of(_ checks: [GateCheck]) -> [String: GateStreak] {
        var streaks: [String: GateStreak] = [:]
        for check in checks { streaks[check.gate] = GateStreak(outcome: check.outcome, count: check.streak) }
        return streaks
    }

    /// The streaks as stored: canonical JSON, `{"gate":["fail",3]}`.
    public static func encode(_ streaks: [String: GateStreak]) -> String {
        JSONValue.object(streaks.mapValues { [.string($0.outcome.rawValue), .number(Double($0.count))] }).canonical
    }

    /// The stored streaks, or nil when the text is not what `encode` writes.
    public static func decode(_ text: String) -> [String: GateStreak]? {
        guard case .object(let members)? = try? JSONParser.parse(text) else { return nil }
        var streaks: [String: GateStreak] = [:]
        for (gate, value) in members {
            guard case .array(let pair) = value, pair.count == 2, let word = pair[0].stringValue,
                let outcome = GateOutcome(rawValue: word), let number = pair[1].numberValue,
                let count = Int(exactly: number), count >= 1
            else { return nil }
            streaks[gate] = GateStreak(outcome: outcome, count: count)
        }
        return streaks
    }
}

/// What a transition reads and writes of its flag: the canary's share and reached segments, and the switches that
/// decide what is served. The rest of the flag (variants, rules, segments) stays as stored.
public struct FlagShare: Sendable, Equatable {
    public var canaryPercent: Percent
    public var canarySegments: [String]
    public var killed: Bool
    public var disabled: Bool

    public init(canaryPercent: Percent, canarySegments: [String], killed: Bool, disabled: Bool) {
        self.canaryPercent = canaryPercent
        self.canarySegments = canarySegments
        self.killed = killed
        self.disabled = disabled
    }

    /// What users are served: nothing while killed or disabled (`Flag.servedPercent`).
    public var servedPercent: Percent { killed || disabled ? .zero : canaryPercent }
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
