public import RampCore

extension Store {
    /// The newest entry's sequence number and hash, as recorded beside the log.
    public func auditHead() throws(StoreError) -> (seq: Int64, hash: String)? {
        try db.rows("SELECT seq, hash FROM audit_head WHERE id = 1") { ($0.int(0), $0.text(1)) }.first
    }

    /// When the newest entry of `event` for `flag` was written.
    public func lastAuditTime(flag: String, event: String) throws(StoreError) -> Instant? {
        try db.rows(
            "SELECT at FROM audit WHERE flag = ? AND event = ? ORDER BY seq DESC LIMIT 1", [.text(flag), .text(event)]
        ) { Instant(rfc3339: $0.text(0)) }.first ?? nil
    }

    /// The time of the newest audit entry.
    public func newestAuditTime() throws(StoreError) -> Instant? {
        try db.rows("SELECT at FROM audit ORDER BY seq DESC LIMIT 1") { Instant(rfc3339: $0.text(0)) }.first ?? nil
    }

    /// Appends an entry after the current head. Call inside `immediate` with the change it records. A draft's
    /// `storedEvidence`, when set, must be the canonical text of its `evidence` (a caller that has it encoded
    /// already saves encoding it again).
    ///
    /// An entry dated before the newest one is refused (`earlierTimes == .refuse`: a time given by hand) or dated
    /// at the newest entry's time (`.clamp`: the system clock stepped back), so audit times never go backwards.
    @discardableResult
    public func appendAudit(_ draft: AuditEntry) throws(StoreError) -> AuditEntry {
        var draft = draft
        if let writer {
            draft.osUser = writer.user
            draft.host = writer.host
        }
        if let newest = try newestAuditTime(), draft.at < newest {
            guard earlierTimes == .clamp else { throw .timeBeforeLog(path: path, at: draft.at, newest: newest) }
            // The decision was made at the clock's time: keep it, so that replaying the decision uses it.
            if case .object(var members) = draft.evidence {
                members["decided_at"] = .string(draft.at.description)
                draft.evidence = .object(members)
                draft.storedEvidence = nil
            }
            draft.at = newest
        }
        // The evidence is encoded once (or was, by the caller: `storedEvidence` on a draft is its canonical
        // text): hashed verbatim and stored.
        let evidence = draft.storedEvidence ?? draft.evidence.canonical
        draft.storedEvidence = evidence
        var entry = draft.chained(after: try auditHead())
        entry.storedEvidence = nil
        try db.query(
            """
            INSERT INTO audit(seq, at, actor, rollout_id, flag, event, from_state, to_state, from_bp, to_bp, reason,
                              evidence, plan_digest, prev_hash, hash, os_user, host)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """,
            [
                .int(entry.seq), .text(entry.at.description), .text(entry.actor), .optional(entry.rollout),
                .text(entry.flag), .text(entry.event.text), .optional(entry.fromState?.text),
                .optional(entry.toState?.text),
                .optional(entry.fromPercent.map { Int64($0.basisPoints) }),
                .optional(entry.toPercent.map { Int64($0.basisPoints) }), .text(entry.reason),
                .text(evidence), .optional(entry.planDigest), .text(entry.prevHash), .text(entry.hash),
                .optional(entry.osUser), .optional(entry.host),
            ])
        try db.query(
            "INSERT INTO audit_head(id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = ?, hash = ?",
            [.int(entry.seq), .text(entry.hash), .int(entry.seq), .text(entry.hash)])
        try onAppend?(entry)
        return entry
    }

    /// Audit entries in storage order (by seq, SQLite's rowid, so reordered rows show up as such), optionally filtered.
    ///
    /// With `parseEvidence` false the evidence is left `.null` (its stored text is in `storedEvidence`), for a
    /// caller that parses many side by side.
    public func auditEntries(
        flag: String? = nil, since: Instant? = nil, parseEvidence: Bool = true,
        each: (AuditEntry) throws(StoreError) -> Void
    ) throws(StoreError) {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let flag {
            conditions.append("flag = ?")
            values.append(.text(flag))
        }
        if let since {
            conditions.append("at >= ?")
            values.append(.text(since.description))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        try db.query(
            """
            SELECT seq, at, actor, rollout_id, flag, event, from_state, to_state, from_bp, to_bp, reason, evidence,
                   plan_digest, prev_hash, hash, os_user, host FROM audit \(filter) ORDER BY seq
            """, values
        ) { (row) throws(StoreError) in
            var evidence: JSONValue = .null
            if parseEvidence {
                do { evidence = try JSONParser.parse(row.text(11)) } catch { evidence = .string(row.text(11)) }
            }
            var entry = AuditEntry(
                seq: row.int(0), at: Instant(rfc3339: row.text(1)) ?? Instant(seconds: 0), actor: row.text(2),
                rollout: row.optionalInt(3), flag: row.text(4), event: Recorded(text: row.text(5)),
                fromState: row.optionalText(6).map(Recorded.init(text:)),
                toState: row.optionalText(7).map(Recorded.init(text:)),
                fromPercent: row.optionalInt(8).map { Percent(basisPoints: Int($0)) },
                toPercent: row.optionalInt(9).map { Percent(basisPoints: Int($0)) }, reason: row.text(10),
                evidence: evidence, planDigest: row.optionalText(12), prevHash: row.text(13), hash: row.text(14))
            entry.osUser = row.optionalText(15)
            entry.host = row.optionalText(16)
            entry.storedAt = row.text(1)
            entry.storedEvidence = row.text(11)
            try each(entry)
        }
    }

    /// The last audit entry of each rollout and of each flag: what verify compares the live state with.
    public func lastAuditStates() throws(StoreError) -> (rollouts: [Int64: String?], flags: [String: Int64?]) {
        var rollouts: [Int64: String?] = [:]
        try db.query(
            "SELECT rollout_id, to_state FROM audit WHERE seq IN (SELECT max(seq) FROM audit WHERE rollout_id IS NOT NULL GROUP BY rollout_id)"
        ) { rollouts[$0.int(0)] = $0.optionalText(1) }
        var flags: [String: Int64?] = [:]
        try db.query("SELECT flag, to_bp FROM audit WHERE seq IN (SELECT max(seq) FROM audit GROUP BY flag)") {
            flags[$0.text(0)] = $0.optionalInt(1)
        }
        return (rollouts, flags)
    }
}
