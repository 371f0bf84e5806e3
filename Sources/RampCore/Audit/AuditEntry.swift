/// One entry of the append-only, hash-chained audit log.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Instant
    /// Who or what did it: an operator's login, or `tick@host`.
    public var actor: String
    public var rollout: Int64?
    public var flag: String
    /// What happened (`advance`, `kill`, …): typed when this ramp knows the word, kept verbatim when it does not.
    public var event: Recorded<AuditEvent>
    public var fromState: Recorded<RolloutState>?
    public var toState: Recorded<RolloutState>?
    public var fromPercent: Percent?
    public var toPercent: Percent?
    public var reason: String
    /// The gate checks behind the decision, or other facts (a submitted plan's digest).
    public var evidence: JSONValue
    public var planDigest: String?
    /// The operating-system user and host that wrote the entry (the actor is only what the caller declared).
    /// Nil in entries written before ramp recorded them.
    public var osUser: String?
    public var host: String?
    public var prevHash: String
    public var hash: String
    /// The time and evidence exactly as stored, when read back from a store: the hash is checked over these
    /// bytes, so a stored text that was re-spaced or re-dated — the same value, other bytes — is caught.
    public var storedAt: String?
    public var storedEvidence: String?

    public init(
        seq: Int64, at: Instant, actor: String, rollout: Int64?, flag: String, event: Recorded<AuditEvent>,
        fromState: Recorded<RolloutState>?, toState: Recorded<RolloutState>?, fromPercent: Percent?,
        toPercent: Percent?, reason: String, evidence: JSONValue,
        planDigest: String?, prevHash: String = "", hash: String = ""
    ) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.rollout = rollout
        self.flag = flag
        self.event = event
        self.fromState = fromState
        self.toState = toState
        self.fromPercent = fromPercent
        self.toPercent = toPercent
        self.reason = reason
        self.evidence = evidence
        self.planDigest = planDigest
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The entry's fields as hashed (all but the hashes themselves); percentages in basis points. `os_user` and
    /// `host` are present only when recorded, so older entries keep their hashes.
    public var body: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func opt(_ p: Percent?) -> JSONValue { p.map { .number(Double($0.basisPoints)) } ?? .null }
        var members: [String: JSONValue] = [
            "seq": .number(Double(seq)), "at": .string(at.description), "actor": .string(actor),
            "rollout": rollout.map { .number(Double($0)) } ?? .null, "flag": .string(flag),
            "event": .string(event.text),
            "from_state": opt(fromState?.text), "to_state": opt(toState?.text), "from_bp": opt(fromPercent),
            "to_bp": opt(toPercent), "reason": .string(reason), "evidence": evidence, "plan_digest": opt(planDigest),
        ]
        if let osUser { members["os_user"] = .string(osUser) }
        if let host { members["host"] = .string(host) }
        return .object(members)
    }

    /// The canonical body as hashed: `body.canonical`, except that an entry read from a store uses its stored time
    /// and evidence text verbatim (docs/audit.md).
    public var hashedBody: String { String(decoding: hashedBodyBytes, as: UTF8.self) }

    /// `hashedBody`'s UTF-8 bytes, written straight to a buffer from the typed fields (no JSON tree but the
    /// evidence's, and not even that for an entry read from a store): the same bytes as `body.canonicalBytes`.
    public var hashedBodyBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320 + (storedEvidence?.utf8.count ?? 512))
        writeHashedBody(to: &out)
        return out
    }

    /// Writes the canonical body: keys in UTF-8 order (`actor`, `at`, `event`, `evidence`, `flag`, `from_bp`,
    /// `from_state`, `host`, `os_user`, `plan_digest`, `reason`, `rollout`, `seq`, `to_bp`, `to_state`).
    public func writeHashedBody(to out: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func string(_ text: String?) {
            if let text { JSONValue.quote(text, into: &out) } else { out += "null".utf8 }
        }
        func integer(_ value: Int64?) {
            guard let value else { return out += "null".utf8 }
            JSONValue.writeInteger(value, into: &out)
        }
        key("actor")
        string(actor)
        key("at")
        string(storedAt ?? at.description)
        key("event")
        string(event.text)
        key("evidence")
        if let storedEvidence { out += storedEvidence.utf8 } else { evidence.write(to: &out) }
        key("flag")
        string(flag)
        key("from_bp")
        integer(fromPercent.map { Int64($0.basisPoints) })
        key("from_state")
        string(fromState?.text)
        if let host {
            key("host")
            string(host)
        }
        if let osUser {
            key("os_user")
            string(osUser)
        }
        key("plan_digest")
        string(planDigest)
        key("reason")
        string(reason)
        key("rollout")
        integer(rollout)
        key("seq")
        integer(seq)
        key("to_bp")
        integer(toPercent.map { Int64($0.basisPoints) })
        key("to_state")
        string(toState?.text)
        out.append(UInt8(ascii: "}"))
    }

    /// The JSON line `ramp audit log --json` prints: the body with readable percentages and both hashes.
    public var json: JSONValue {
        guard case .object(var object) = body else { return body }
        object["from_bp"] = nil
        object["to_bp"] = nil
        object["from_percent"] = fromPercent.map { .number($0.value) } ?? .null
        object["to_percent"] = toPercent.map { .number($0.value) } ?? .null
        object["prev_hash"] = .string(prevHash)
        if osUser == nil { object["os_user"] = .null }
        if host == nil { object["host"] = .null }
        object["hash"] = .string(hash)
        return .object(object)
    }

    /// SHA-256(previous hash ‖ canonical body), hex.
    public func computeHash() -> String {
        AuditChain.hash(prev: prevHash, bodyBytes: hashedBodyBytes)
    }

    /// This entry linked after `prev` (nil for the first), with its hash filled in.
    public func chained(after prev: (seq: Int64, hash: String)?) -> AuditEntry {
        var entry = self
        entry.seq = (prev?.seq ?? 0) + 1
        entry.prevHash = prev?.hash ?? AuditChain.genesis
        entry.hash = entry.computeHash()
        return entry
    }
}

/// Verifies the audit chain entry by entry.
public struct AuditChain: Sendable {
    /// The previous hash of the first entry: 32 zero bytes.
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(prev: String, body: String) -> String { hash(prev: prev, bodyBytes: Array(body.utf8)) }

    public static func hash(prev: String, bodyBytes: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(Hex.decode(prev) ?? Array(prev.utf8))
        hasher.update(bodyBytes)
        return Hex.encode(hasher.finalize())
    }

    /// Why the chain is broken, naming the first bad entry.
    public struct Broken: Error, Sendable, Equatable, CustomStringConvertible {
        public var seq: Int64
        public var message: String
        public var description: String { "audit entry #\(seq): \(message)" }

        public init(seq: Int64, message: String) {
            self.seq = seq
            self.message = message
        }
    }

    private var expectedSeq: Int64 = 1
    private var lastHash = AuditChain.genesis
    public private(set) var count: Int64 = 0

    public init() {}

    /// Checks the next entry in storage order.
    public mutating func append(_ entry: AuditEntry) throws(Broken) {
        try append(entry, hashMatches: entry.computeHash() == entry.hash)
    }

    /// Checks the next entry in storage order, its own hash already checked (`hashMatches`: by a caller that
    /// hashes many entries side by side).
    public mutating func append(_ entry: AuditEntry, hashMatches: Bool) throws(Broken) {
        if entry.seq > expectedSeq {
            throw Broken(
                seq: expectedSeq, message: "is missing (the log jumps from #\(expectedSeq - 1) to #\(entry.seq))")
        }
        guard entry.seq == expectedSeq else {
            throw Broken(seq: entry.seq, message: "is out of order (found after #\(expectedSeq - 1))")
        }
        guard entry.prevHash == lastHash else {
            throw Broken(seq: entry.seq, message: "previous hash does not match entry #\(entry.seq - 1)'s hash")
        }
        guard hashMatches else {
            throw Broken(seq: entry.seq, message: "contents do not match its hash (altered)")
        }
        expectedSeq += 1
        lastHash = entry.hash
        count += 1
    }

    /// Checks that the chain ends at the recorded head (so removing the newest entries is noticed).
    public func finish(head: (seq: Int64, hash: String)?) throws(Broken) {
        let headSeq = head?.seq ?? 0
        if headSeq != expectedSeq - 1 {
            let problem =
                headSeq > expectedSeq - 1
                ? "is missing: the log ends at #\(expectedSeq - 1) but the recorded head is #\(headSeq)"
                : "is beyond the recorded head #\(headSeq)"
            throw Broken(seq: max(headSeq, expectedSeq - 1 == 0 ? 1 : expectedSeq - 1), message: problem)
        }
        if let head, head.hash != lastHash {
            throw Broken(seq: head.seq, message: "hash does not match the recorded head")
        }
    }
}

/// A word the audit log records as text — an event, a state: typed when this ramp knows it, kept byte for byte
/// when it does not (an entry from a newer ramp, or an altered one), so its hash is still checked over exactly
/// what is stored.
public enum Recorded<Value: RawRepresentable & Sendable & Equatable>: Sendable, Equatable, Hashable,
    ExpressibleByStringLiteral, CustomStringConvertible
where Value.RawValue == String {
    case known(Value)
    case unknown(String)

    @inlinable public init(_ value: Value) { self = .known(value) }

    /// The word as stored.
    @inlinable public init(text: String) {
        if let value = Value(rawValue: text) { self = .known(value) } else { self = .unknown(text) }
    }

    @inlinable public init(stringLiteral text: String) { self.init(text: text) }

    /// The word as stored.
    @inlinable public var text: String {
        switch self {
        case .known(let value): value.rawValue
        case .unknown(let text): text
        }
    }

    /// The typed value, or nil when this ramp does not know the word.
    public var value: Value? { if case .known(let value) = self { value } else { nil } }

    public var description: String { text }

    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}
