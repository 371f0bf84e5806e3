public import RampCore

extension Store {
    private static let experimentColumns =
        "id, flag, plan_digest, state, started_at, checked_at, ended_at, allocation, reweights"

    private func experiment(from row: Row) throws(StoreError) -> ExperimentRecord {
        let id = row.int(0)
        guard let state = ExperimentState(rawValue: row.text(3)),
            let json = try? JSONParser.parse(row.text(7)), let allocation = Allocation(json: json)
        else { throw .notAStore(path: path, message: "experiment #\(id) has an unreadable state or allocation") }
        return ExperimentRecord(
            id: id, flag: row.text(1), planDigest: row.text(2), state: state, startedAt: Instant(seconds: row.int(4)),
            checkedAt: Instant(seconds: row.int(5)), endedAt: row.optionalInt(6).map { Instant(seconds: $0) },
            allocation: allocation, reweights: Int(row.int(8)))
    }

    /// The flag's latest experiment, whatever its state.
    public func latestExperiment(flag: String) throws(StoreError) -> ExperimentRecord? {
        try db.rows(
            "SELECT \(Self.experimentColumns) FROM experiments WHERE flag = ? ORDER BY id DESC LIMIT 1", [.text(flag)],
            experiment(from:)
        ).first
    }

    /// Each flag's latest experiment.
    public func latestExperiments() throws(StoreError) -> [String: ExperimentRecord] {
        var out: [String: ExperimentRecord] = [:]
        for record in try db.rows(
            "SELECT \(Self.experimentColumns) FROM experiments ORDER BY id", [], experiment(from:))
        {
            out[record.flag] = record
        }
        return out
    }

    /// Every running experiment, by flag.
    public func runningExperiments() throws(StoreError) -> [ExperimentRecord] {
        try db.rows(
            "SELECT \(Self.experimentColumns) FROM experiments WHERE state = 'running' ORDER BY flag", [],
            experiment(from:))
    }

    /// Every experiment that may still serve its split (running, or concluded holding it), by flag.
    public func openExperiments() throws(StoreError) -> [ExperimentRecord] {
        try db.rows(
            "SELECT \(Self.experimentColumns) FROM experiments WHERE state IN ('running', 'concluded') ORDER BY flag, id",
            [], experiment(from:))
    }

    /// Every experiment, by id.
    public func allExperiments() throws(StoreError) -> [ExperimentRecord] {
        try db.rows("SELECT \(Self.experimentColumns) FROM experiments ORDER BY id", [], experiment(from:))
    }

    public func insertExperiment(_ record: ExperimentRecord) throws(StoreError) -> Int64 {
        try db.rows(
            """
            INSERT INTO experiments(flag, plan_digest, state, started_at, checked_at, ended_at, allocation, reweights)
                VALUES (?,?,?,?,?,?,?,?) RETURNING id
            """,
            [
                .text(record.flag), .text(record.planDigest), .text(record.state.rawValue),
                .int(record.startedAt.seconds), .int(record.checkedAt.seconds), .optional(record.endedAt?.seconds),
                .text(record.allocation.json.canonical), .int(Int64(record.reweights)),
            ]
        ) { $0.int(0) }.first ?? 0
    }

    /// Writes the experiment's state, check time, end and split — only if it is still in the state `from` (a
    /// racing tick or command that moved it first wins); whether it was written.
    public func updateExperiment(_ record: ExperimentRecord, from: ExperimentState, checkedBefore: Instant)
        throws(StoreError) -> Bool
    {
        try db.query(
            """
            UPDATE experiments SET state = ?, checked_at = ?, ended_at = ?, allocation = ?, reweights = ?
                WHERE id = ? AND state = ? AND checked_at = ?
            """,
            [
                .text(record.state.rawValue), .int(record.checkedAt.seconds), .optional(record.endedAt?.seconds),
                .text(record.allocation.json.canonical), .int(Int64(record.reweights)), .int(record.id),
                .text(from.rawValue), .int(checkedBefore.seconds),
            ])
        return db.changes == 1
    }

    /// Each exposure of `flag` in the window, oldest first: its key, variant and attributes (canonical JSON).
    public func exposureAttributes(flag: String, in window: EventWindow) throws(StoreError)
        -> [(key: String, variant: String, attributes: String?)]
    {
        try db.rows(
            "SELECT key, variant, attributes FROM exposures WHERE flag = ? AND at BETWEEN ? AND ? ORDER BY id",
            [.text(flag), .int(window.since.seconds), .int(window.until.seconds)]
        ) { ($0.text(0), $0.text(1), $0.isNull(2) ? nil : $0.text(2)) }
    }

    /// `metric`'s outcomes with a key in the window that may belong to `flag` (their own flag, or none).
    public func keyedOutcomes(flag: String, metric: String, in window: EventWindow) throws(StoreError)
        -> [(key: String, value: Double)]
    {
        try db.rows(
            """
            SELECT key, value FROM outcomes WHERE metric = ? AND at BETWEEN ? AND ? AND (flag IS NULL OR flag = ?)
                AND key IS NOT NULL ORDER BY id
            """,
            [.text(metric), .int(window.since.seconds), .int(window.until.seconds), .text(flag)]
        ) { ($0.text(0), $0.double(1)) }
    }
}
