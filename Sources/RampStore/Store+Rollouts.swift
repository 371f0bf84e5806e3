public import RampCore

extension Store {
    private static let rolloutColumns = "id, flag, plan_digest, state, step, step_entered_at, paused_from, version"
    private static let activeStates = "('pending', 'progressing', 'awaiting_approval', 'paused')"

    private func rollout(from row: Row) throws(StoreError) -> Rollout {
        guard let state = RolloutState(rawValue: row.text(3)) else {
            throw .notAStore(path: path, message: "rollout \(row.int(0)) has unknown state \(row.text(3))")
        }
        return Rollout(
            id: row.int(0), flag: row.text(1), planDigest: row.text(2), state: state, step: Int(row.int(4)),
            stepEnteredAt: row.optionalInt(5).map(Instant.init(seconds:)),
            pausedFrom: row.optionalText(6).flatMap(RolloutState.init(rawValue:)), version: row.int(7))
    }

    /// Every active rollout, with when it was last checked: one indexed query, whatever the history.
    public func activeRollouts() throws(StoreError) -> [(rollout: Rollout, lastChecked: Instant?)] {
        let columns = Self.rolloutColumns.split(separator: ",").map { "r." + $0.trimmingPrefixSpaces }.joined(
            separator: ", ")
        return try db.rows(
            """
            SELECT \(columns), o.checked_at FROM rollouts r INDEXED BY rollouts_one_active_per_flag
            LEFT JOIN observations o ON o.rollout_id = r.id
            WHERE r.state NOT IN ('completed', 'rolled_back') ORDER BY r.flag
            """
        ) { (row) throws(StoreError) in (try rollout(from: row), row.optionalInt(8).map(Instant.init(seconds:))) }
    }

    /// The active rollouts a tick at `now` must look at: those due by then (through the partial index
    /// `rollouts_due`), and those whose last check lies ahead of `now` (the clock stepped back), with that check's
    /// time. A tick with nothing due reads no rollout row.
    public func dueRollouts(now: Instant) throws(StoreError) -> [(rollout: Rollout, lastChecked: Instant?)] {
        let columns = Self.rolloutColumns.split(separator: ",").map { "r." + $0.trimmingPrefixSpaces }.joined(
            separator: ", ")
        let due = try db.rows(
            """
            SELECT \(columns), o.checked_at FROM rollouts r INDEXED BY rollouts_due
            LEFT JOIN observations o ON o.rollout_id = r.id
            WHERE r.state NOT IN ('completed', 'rolled_back') AND r.due_at <= ?
            """, [.int(now.seconds)]
        ) { (row) throws(StoreError) in (try rollout(from: row), row.optionalInt(8).map(Instant.init(seconds:))) }
        let ahead = try db.rows(
            """
            SELECT \(columns), o.checked_at FROM observations o INDEXED BY observations_by_time
            JOIN rollouts r ON r.id = o.rollout_id
            WHERE o.checked_at > ? AND r.state NOT IN ('completed', 'rolled_back')
            """, [.int(now.seconds)]
        ) { (row) throws(StoreError) in (try rollout(from: row), row.optionalInt(8).map(Instant.init(seconds:))) }
        let seen = Set(due.map { $0.0.id })
        return (due + ahead.filter { !seen.contains($0.0.id) }).sorted { $0.0.flag < $1.0.flag }
            .map { (rollout: $0.0, lastChecked: $0.1) }
    }

    /// The active rollouts not due at `now`, with when each is next checked (for `tick --verbose` and `--json`).
    public func notDueRollouts(now: Instant) throws(StoreError) -> [(flag: String, id: Int64, next: Instant)] {
        try db.rows(
            """
            SELECT flag, id, next_check_at FROM rollouts INDEXED BY rollouts_due
            WHERE state NOT IN ('completed', 'rolled_back') AND due_at > ?
            """, [.int(now.seconds)]
        ) { ($0.text(0), $0.int(1), Instant(seconds: $0.int(2))) }
    }

    public func rollout(id: Int64) throws(StoreError) -> Rollout? {
        try db.rows("SELECT \(Self.rolloutColumns) FROM rollouts WHERE id = ?", [.int(id)], rollout(from:)).first
    }

    /// The flag's active rollout, or else its most recent one.
    public func latestRollout(flag: String) throws(StoreError) -> Rollout? {
        try db.rows(
            "SELECT \(Self.rolloutColumns) FROM rollouts WHERE flag = ? ORDER BY id DESC LIMIT 1", [.text(flag)],
            rollout(from:)
        ).first
    }

    /// Every flag's latest rollout, by flag, in one query (for `status` over many flags).
    public func latestRollouts() throws(StoreError) -> [String: Rollout] {
        var out: [String: Rollout] = [:]
        try db.query(
            """
            SELECT \(Self.rolloutColumns) FROM rollouts
            WHERE id IN (SELECT max(id) FROM rollouts INDEXED BY rollouts_by_flag GROUP BY flag)
            """
        ) { (row) throws(StoreError) in
            let rollout = try rollout(from: row)
            out[rollout.flag] = rollout
        }
        return out
    }

    /// The latest observation of every active rollout, in one query, with its evidence as stored (text), for a
    /// caller that parses many of them side by side.
    public func observationRows() throws(StoreError)
        -> [(rollout: Int64, checkedAt: Instant, reason: String, evidence: String)]
    {
        try db.rows(
            """
            SELECT o.rollout_id, o.checked_at, o.reason, o.evidence FROM rollouts r
                INDEXED BY rollouts_one_active_per_flag JOIN observations o ON o.rollout_id = r.id
            WHERE r.state NOT IN ('completed', 'rolled_back')
            """
        ) { row in (row.int(0), Instant(seconds: row.int(1)), row.text(2), row.text(3)) }
    }

    /// Every active rollout's next check and due time, with its last check's time (nil before its first): what
    /// `audit verify` recomputes, since a due time moved by hand would keep a rollout's gates from being checked.
    public func activeSchedules() throws(StoreError)
        -> [(id: Int64, planDigest: String, next: Instant, due: Instant, checkedAt: Instant?)]
    {
        try db.rows(
            """
            SELECT r.id, r.plan_digest, r.next_check_at, r.due_at, o.checked_at FROM rollouts r
            LEFT JOIN observations o ON o.rollout_id = r.id
            WHERE r.state NOT IN ('completed', 'rolled_back') ORDER BY r.id
            """
        ) {
            (
                $0.int(0), $0.text(1), Instant(seconds: $0.int(2)), Instant(seconds: $0.int(3)),
                $0.optionalInt(4).map(Instant.init(seconds:))
            )
        }
    }

    public func allRollouts() throws(StoreError) -> [Rollout] {
        try db.rows("SELECT \(Self.rolloutColumns) FROM rollouts ORDER BY id", [], rollout(from:))
    }

    public func insertRollout(_ rollout: Rollout, now: Instant) throws(StoreError) -> Int64 {
        let ids = try db.rows(
            """
            INSERT INTO rollouts(flag, plan_digest, state, step, step_entered_at, paused_from, version, created_at,
                                 updated_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id
            """,
            [
                .text(rollout.flag), .text(rollout.planDigest), .text(rollout.state.rawValue),
                .int(Int64(rollout.step)),
                .optional(rollout.stepEnteredAt?.seconds), .optional(rollout.pausedFrom?.rawValue),
                .int(rollout.version), .int(now.seconds), .int(now.seconds),
            ]
        ) { $0.int(0) }
        guard let id = ids.first else { throw .sql(path: path, message: "a new rollout got no id") }
        return id
    }

    /// Writes `after` only if the stored version is still `expectedVersion`; false when another writer won.
    public func compareAndSet(_ after: Rollout, expectedVersion: Int64, now: Instant) throws(StoreError) -> Bool {
        try db.query(
            """
            UPDATE rollouts SET state = ?, step = ?, step_entered_at = ?, paused_from = ?, version = ?, updated_at = ?
            WHERE id = ? AND version = ?
            """,
            [
                .text(after.state.rawValue), .int(Int64(after.step)), .optional(after.stepEnteredAt?.seconds),
                .optional(after.pausedFrom?.rawValue), .int(after.version), .int(now.seconds), .int(after.id),
                .int(expectedVersion),
            ])
        return db.changes == 1
    }

    /// When the rollout was last checked (its observation's time), without reading the evidence.
    /// The rollout's version (its compare-and-set counter) and the time of its latest observation, in one read:
    /// what a hold checks before it writes. Nil when there is no such rollout.
    public func versionAndCheckTime(rollout: Int64) throws(StoreError) -> (version: Int64, checkedAt: Instant?)? {
        try db.rows(
            """
            SELECT r.version, o.checked_at FROM rollouts r LEFT JOIN observations o ON o.rollout_id = r.id
            WHERE r.id = ?
            """, [.int(rollout)]
        ) { ($0.int(0), $0.isNull(1) ? nil : Instant(seconds: $0.int(1))) }.first
    }

    public func observation(rollout: Int64) throws(StoreError) -> Observation? {
        try db.rows("SELECT checked_at, reason, evidence FROM observations WHERE rollout_id = ?", [.int(rollout)]) {
            Observation(
                checkedAt: Instant(seconds: $0.int(0)), reason: $0.text(1),
                evidence: (try? JSONParser.parse($0.text(2))) ?? .null)
        }.first
    }

    /// What a tick needs of the rollout's latest observation, without parsing its evidence (unless the row was
    /// written before the streaks had their own column). `sequential`: the rollout's plan has a group-sequential
    /// gate, whose state the evidence keeps, so the evidence is read for it.
    public func lastCheck(rollout: Int64, sequential: Bool = false) throws(StoreError) -> LastCheck? {
        try db.rows(
            "SELECT checked_at, hold_cause, streaks, evidence FROM observations WHERE rollout_id = ?", [.int(rollout)]
        ) { row in
            let checkedAt = Instant(seconds: row.int(0))
            if !row.isNull(2), let streaks = GateStreak.decode(row.text(2)) {
                // Only group-sequential gates keep state in the evidence: other rollouts never read it.
                return LastCheck(
                    checkedAt: checkedAt, holdCause: row.isNull(1) ? nil : row.text(1), streaks: streaks,
                    sequential: sequential ? LastCheck.sequential((try? JSONParser.parse(row.text(3))) ?? .null) : [:])
            }
            return LastCheck(checkedAt: checkedAt, evidence: (try? JSONParser.parse(row.text(3))) ?? .null)
        }.first
    }

    /// Records a rollout's latest decision (a hold is an observation, not a transition), and when it is next due:
    /// `next` is when its interval has passed, `due` the moment a tick takes it (`next` less the slack allowed for
    /// cron's jitter).
    public func recordObservation(rollout: Int64, _ record: ObservationRecord, next: Instant, due: Instant)
        throws(StoreError)
    {
        try db.query(
            "UPDATE rollouts SET next_check_at = ?, due_at = ? WHERE id = ?",
            [.int(next.seconds), .int(due.seconds), .int(rollout)])
        try db.query(
            """
            INSERT INTO observations(rollout_id, checked_at, reason, evidence, hold_cause, streaks)
            VALUES (?,?,?,?,?,?)
            ON CONFLICT(rollout_id) DO UPDATE SET checked_at = excluded.checked_at, reason = excluded.reason,
                evidence = excluded.evidence, hold_cause = excluded.hold_cause, streaks = excluded.streaks
            """,
            [
                .int(rollout), .int(record.checkedAt.seconds), .text(record.reason), .text(record.evidence),
                .text(record.holdCause), .text(GateStreak.encode(record.streaks)),
            ])
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop(while: { $0 == " " }) }
}
