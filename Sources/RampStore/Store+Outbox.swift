public import RampCore

extension Store {
    /// Queues notifications (call inside the transaction that writes the event). The same key to the same target
    /// is queued once.
    public func enqueue(_ items: [OutboxItem]) throws(StoreError) {
        guard !items.isEmpty else { return }
        try db.repeated(
            """
            INSERT INTO outbox(key, target, spec, event, flag, body, created_at, next_at) VALUES (?,?,?,?,?,?,?,?)
                ON CONFLICT(key, target) DO NOTHING
            """,
            items.map {
                [
                    .text($0.key), .text($0.target), .text($0.spec), .text($0.event), .text($0.flag), .text($0.body),
                    .int($0.createdAt.seconds), .int($0.nextAt.seconds),
                ]
            })
    }

    /// Each distinct target that queued notifications name, by flag: what `audit verify` holds to the targets the
    /// log configured (a target edited by hand could run any command).
    public func queuedTargets() throws(StoreError) -> [(flag: String, target: String, spec: String)] {
        try db.rows("SELECT DISTINCT flag, target, spec FROM outbox ORDER BY flag, target") {
            ($0.text(0), $0.text(1), $0.text(2))
        }
    }

    private static let columns = """
        id, key, target, spec, event, flag, body, created_at, state, attempts, next_at, last_error, done_at
        """

    private static func item(_ row: Row) -> OutboxItem {
        var item = OutboxItem(
            key: row.text(1), target: row.text(2), spec: row.text(3), event: row.text(4), flag: row.text(5),
            body: row.text(6), createdAt: Instant(seconds: row.int(7)))
        item.id = row.int(0)
        item.state = OutboxItem.State(rawValue: row.text(8)) ?? .pending
        item.attempts = Int(row.int(9))
        item.nextAt = Instant(seconds: row.int(10))
        item.lastError = row.optionalText(11)
        item.doneAt = row.optionalInt(12).map { Instant(seconds: $0) }
        return item
    }

    /// Claims up to `limit` pending notifications that are due at `now` and not claimed by another process, for
    /// `lease`: each claim counts as an attempt. A process that dies while delivering leaves its claim to expire,
    /// and the notification is sent again (at least once).
    public func claimDue(now: Instant, lease: TimeSpan, limit: Int) throws(StoreError) -> [OutboxItem] {
        try immediate { () throws(StoreError) -> [OutboxItem] in
            let items = try db.rows(
                """
                SELECT \(Self.columns) FROM outbox INDEXED BY outbox_by_state
                    WHERE state = 'pending' AND next_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
                    ORDER BY next_at, id LIMIT ?2
                """, [.int(now.seconds), .int(Int64(limit))], Self.item)
            for item in items {
                try db.query(
                    "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                    [.int(now.seconds + lease.seconds), .int(item.id)])
            }
            return items.map {
                var claimed = $0
                claimed.attempts += 1
                return claimed
            }
        }
    }

    /// Records how a claimed delivery went: delivered, to retry at `retryAt`, or failed for good.
    public func finishDelivery(
        id: Int64, state: OutboxItem.State, error: String?, retryAt: Instant?, at now: Instant
    ) throws(StoreError) {
        try immediate { () throws(StoreError) in
            try db.query(
                """
                UPDATE outbox SET state = ?, last_error = ?, next_at = COALESCE(?, next_at), claimed_until = NULL,
                    done_at = ? WHERE id = ? AND state = 'pending'
                """,
                [
                    .text(state.rawValue), .optional(error), .optional(retryAt?.seconds),
                    state == .pending ? .null : .int(now.seconds), .int(id),
                ])
        }
    }

    /// Notifications in the given states, oldest first (at most `limit`).
    public func outbox(states: [OutboxItem.State], limit: Int = 1000) throws(StoreError) -> [OutboxItem] {
        let marks = states.map { _ in "?" }.joined(separator: ", ")
        return try db.rows(
            "SELECT \(Self.columns) FROM outbox WHERE state IN (\(marks)) ORDER BY id LIMIT ?",
            states.map { .text($0.rawValue) } + [.int(Int64(limit))], Self.item)
    }

    /// Every target name the outbox has a notification for.
    public func outboxTargets() throws(StoreError) -> Set<String> {
        Set(try db.rows("SELECT DISTINCT target FROM outbox") { $0.text(0) })
    }

    /// How many notifications failed, by flag (`*` for store-wide events).
    public func failedNotifications() throws(StoreError) -> [String: Int] {
        var counts: [String: Int] = [:]
        try db.query("SELECT flag, count(*) FROM outbox WHERE state = 'failed' GROUP BY flag") {
            (row) throws(StoreError) in counts[row.text(0)] = Int(row.int(1))
        }
        return counts
    }

    /// How many notifications are in each state.
    public func outboxCounts() throws(StoreError) -> [OutboxItem.State: Int] {
        var counts: [OutboxItem.State: Int] = [:]
        try db.query("SELECT state, count(*) FROM outbox GROUP BY state") { (row) throws(StoreError) in
            if let state = OutboxItem.State(rawValue: row.text(0)) { counts[state] = Int(row.int(1)) }
        }
        return counts
    }

    /// Puts failed notifications (to one target, or all) back in the queue, due at `now`; returns how many.
    public func retryFailed(target: String?, now: Instant) throws(StoreError) -> Int {
        try immediate { () throws(StoreError) -> Int in
            try db.query(
                """
                UPDATE outbox SET state = 'pending', next_at = ?, done_at = NULL, claimed_until = NULL
                    WHERE state = 'failed' AND (CAST(? AS TEXT) IS NULL OR target = ?)
                """, [.int(now.seconds), .optional(target), .optional(target)])
            return db.changes
        }
    }

    /// Deletes delivered notifications finished before `cutoff`; pending and failed ones stay.
    public func pruneDelivered(before cutoff: Instant) throws(StoreError) {
        try db.query(
            "DELETE FROM outbox WHERE state = 'delivered' AND done_at < ?", [.int(cutoff.seconds)])
    }

    /// When the rollout's newest audit entry was written (when it entered its current state).
    public func latestAuditTime(rollout: Int64) throws(StoreError) -> Instant? {
        try db.rows(
            "SELECT at FROM audit INDEXED BY audit_by_rollout WHERE rollout_id = ? ORDER BY seq DESC LIMIT 1",
            [.int(rollout)]
        ) { Instant(rfc3339: $0.text(0)) }.first ?? nil
    }
}
