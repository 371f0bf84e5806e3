public import RampCore

extension Store {
    /// Records the checks of one tick, each with its canonical JSON (encoded once by the caller). Call inside
    /// `immediate` with the decision they led to.
    public func recordChecks(rollout: Int64, step: Int, at: Instant, _ checks: [(check: GateCheck, json: String)])
        throws(StoreError)
    {
        for (check, json) in checks {
            try db.query(
                "INSERT INTO gate_checks(rollout_id, step, checked_at, gate, outcome, detail) VALUES (?,?,?,?,?,?)",
                [
                    .int(rollout), .int(Int64(step)), .int(at.seconds), .text(check.gate),
                    .text(check.outcome.rawValue), .text(json),
                ])
        }
    }

    /// The newest checks of a rollout, newest first.
    public func checks(rollout: Int64, limit: Int) throws(StoreError) -> [StoredCheck] {
        try db.rows(
            "SELECT checked_at, step, detail FROM gate_checks WHERE rollout_id = ? ORDER BY id DESC LIMIT ?",
            [.int(rollout), .int(Int64(limit))]
        ) { row in
            let check =
                (try? JSONParser.parse(row.text(2))).flatMap(GateCheck.init(json:))
                ?? GateCheck(
                    gate: "?", source: "?", value: nil, bound: "", outcome: .error, message: "unreadable check")
            return StoredCheck(checkedAt: Instant(seconds: row.int(0)), step: Int(row.int(1)), check: check)
        }
    }

    /// Deletes checks older than `before`; the audit log keeps the checks behind every transition.
    @discardableResult
    public func pruneChecks(before: Instant) throws(StoreError) -> Int {
        try db.query("DELETE FROM gate_checks WHERE checked_at < ?", [.int(before.seconds)])
        return db.changes
    }

    public func checkCount() throws(StoreError) -> Int {
        Int(try db.rows("SELECT count(*) FROM gate_checks") { $0.int(0) }.first ?? 0)
    }
}
