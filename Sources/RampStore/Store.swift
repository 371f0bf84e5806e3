internal import CSQLite
public import RampCore

/// The ramp store: one SQLite file holding flags, plans, rollouts and the audit log.
///
/// Owns a connection, so it is not Sendable: open one per thread or process.
public final class Store {
    let db: Connection

    /// What `appendAudit` does with an entry dated before the newest one.
    public enum EarlierTimes: Sendable { case refuse, clamp }
    /// Refuse by default; the CLI clamps when its time comes from the system clock.
    public var earlierTimes = EarlierTimes.refuse
    /// The operating-system user and host recorded in every audit entry this connection writes.
    public var writer: (user: String, host: String)?
    /// Called with every audit entry `appendAudit` writes, inside its transaction: notifications are queued here,
    /// so they commit (or not) with the entry they report.
    public var onAppend: ((AuditEntry) throws(StoreError) -> Void)?

    /// The file this store lives in.
    public var path: String { db.path }

    /// Opens the store at `path`, creating and migrating it when `create` is set.
    ///
    /// Without `create`, a missing file is `StoreError.missing` and nothing is written to disk.
    public init(path: String, create: Bool) throws(StoreError) {
        db = try Connection(path: path, create: create)
        try db.execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        try migrate(create: create)
    }

    /// Opens the store at `path` for reading only (an application evaluating flags): nothing is ever written, so
    /// a store whose schema is older or newer than this ramp's is refused rather than migrated.
    public init(readingOnly path: String) throws(StoreError) {
        db = try Connection(path: path, create: false, readOnly: true)
        try db.execute("PRAGMA busy_timeout = 10000")
        let version = try userVersion()
        guard version == Schema.version else {
            if version < 0 { throw .notAStore(path: path, message: "its schema version \(version) is not ramp's") }
            if version > Schema.version { throw .newerSchema(path: path, found: version, known: Schema.version) }
            throw .notAStore(
                path: path, message: "schema version \(version) needs upgrading: run any ramp command on it")
        }
    }

    /// SQLite's `PRAGMA data_version`: changes whenever another connection commits to the file.
    public func dataVersion() throws(StoreError) -> Int64 {
        try db.rows("PRAGMA data_version") { $0.int(0) }.first ?? 0
    }

    private func migrate(create: Bool) throws(StoreError) {
        var current = try userVersion()
        if current > Schema.version { throw .newerSchema(path: path, found: current, known: Schema.version) }
        if current < 0 { throw .notAStore(path: path, message: "its schema version \(current) is not ramp's") }
        if current == Schema.version { return }
        if current == 0 && !create {
            // An empty file or one that is not ours: do not write to it on a read.
            throw .notAStore(path: path, message: "it holds no ramp schema")
        }
        // Refuse a foreign database before anything (even the journal mode) changes its file.
        if current == 0, try db.rows("SELECT count(*) FROM sqlite_schema", [], { $0.int(0) }).first ?? 0 > 0 {
            throw StoreError.notAStore(path: path, message: "it holds tables that are not ramp's")
        }
        try db.execute("PRAGMA journal_mode = WAL")
        try immediate { () throws(StoreError) in
            current = try userVersion()
            if current == 0 {
                let existing = try db.rows("SELECT count(*) FROM sqlite_schema") { $0.int(0) }.first ?? 0
                if existing > 0 {
                    throw StoreError.notAStore(path: path, message: "it holds tables that are not ramp's")
                }
            }
            for version in current..<Schema.version {
                try db.execute(Schema.migrations[version])
                try db.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }

    private func userVersion() throws(StoreError) -> Int {
        Int(try db.rows("PRAGMA user_version") { $0.int(0) }.first ?? 0)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: all of it commits, or none of it.
    @discardableResult
    public func immediate<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` inside one read transaction: every read sees the same snapshot of the store, whatever other
    /// processes commit meanwhile (WAL keeps it for the reader).
    public func reading<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN") { () throws(StoreError) in
            _ = try db.rows("SELECT count(*) FROM sqlite_schema") { $0.int(0) }  // the snapshot starts here
            return try body()
        }
    }

    /// `immediate` for a body that may refuse: a `.failure` rolls the transaction back, so nothing the body wrote
    /// before it refused is kept.
    public func immediate<T, E: Error>(_ body: () throws(StoreError) -> Result<T, E>) throws(StoreError)
        -> Result<T, E>
    {
        try transaction("BEGIN IMMEDIATE", body) { if case .failure = $0 { false } else { true } }
    }

    /// `begin`, then `body`, then COMMIT (or ROLLBACK when `keep` says the result is a refusal); ROLLBACK when the
    /// body throws.
    private func transaction<T>(
        _ begin: String, _ body: () throws(StoreError) -> T, keep: (T) -> Bool = { _ in true }
    ) throws(StoreError) -> T {
        try db.execute(begin)
        do {
            let result = try body()
            try db.execute(keep(result) ? "COMMIT" : "ROLLBACK")
            return result
        } catch {
            if db.isInTransaction { try? db.execute("ROLLBACK") }
            throw error
        }
    }

    /// `PRAGMA integrity_check`: "ok", or what is wrong.
    public func integrityCheck() throws(StoreError) -> String {
        try db.rows("PRAGMA integrity_check") { $0.text(0) }.joined(separator: "; ")
    }

    /// Every row of every table and the schema version, as text: two equal dumps mean two equal stores.
    public func dump() throws(StoreError) -> String {
        var out = "user_version=\(try userVersion())\n"
        let tables = try db.rows("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.text(0) }
        for table in tables {
            out += "[\(table)]\n"
            try db.query("SELECT * FROM \"\(table)\" ORDER BY rowid") { row in
                out += (0..<row.columnCount).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|") + "\n"
            }
        }
        return out
    }

    /// A statement for tests and tools that need raw access (tampering tests, inspection).
    public func executeRaw(_ sql: String) throws(StoreError) { try db.execute(sql) }
}

// MARK: - Flags

extension Store {
    private static let flagColumns =
        "key, variants, baseline, canary, canary_bp, killed, rules, segments, canary_segments, disabled"

    private func flag(from row: Row) throws(StoreError) -> Flag {
        let key = row.text(0)
        func json(_ column: Int32, _ what: String) throws(StoreError) -> JSONValue {
            guard let value = try? JSONParser.parse(row.text(column)) else {
                throw .notAStore(path: path, message: "flag \(key) has unreadable \(what)")
            }
            return value
        }
        guard case .object(let variants) = try json(1, "variants"), case .array(let ruleList) = try json(6, "rules"),
            case .object(let segments) = try json(7, "segments"),
            case .array(let reached) = try json(8, "canary segments")
        else { throw .notAStore(path: path, message: "flag \(key) has a malformed definition") }
        var rules: [TargetingRule] = []
        for rule in ruleList {
            guard let parsed = try? TargetingRule(json: rule) else {
                throw .notAStore(path: path, message: "flag \(key) has an unreadable rule \(rule.canonical)")
            }
            rules.append(parsed)
        }
        return Flag(
            key: key, variants: variants, baseline: row.text(2), canary: row.text(3),
            canaryPercent: Percent(basisPoints: Int(row.int(4))), killed: row.int(5) != 0, rules: rules,
            segments: segments, canarySegments: reached.compactMap(\.stringValue), disabled: row.int(9) != 0)
    }

    public func flag(_ key: String) throws(StoreError) -> Flag? {
        try db.rows("SELECT \(Self.flagColumns) FROM flags WHERE key = ?", [.text(key)], flag(from:)).first
    }

    public func flags() throws(StoreError) -> [Flag] {
        try db.rows("SELECT \(Self.flagColumns) FROM flags ORDER BY key", [], flag(from:))
    }

    public func insertFlag(_ flag: Flag, now: Instant) throws(StoreError) {
        try db.query(
            "INSERT INTO flags(key, variants, baseline, canary, updated_at) VALUES (?,?,?,?,?)",
            [
                .text(flag.key), .text(JSONValue.object(flag.variants).canonical), .text(flag.baseline),
                .text(flag.canary), .int(now.seconds),
            ])
        try updateFlag(flag, now: now)
    }

    /// Sets everything about a flag but its key and variants: the variant pair, the canary's share and segments,
    /// the kill switch, the rules and segments, whether it is disabled.
    public func updateFlag(_ flag: Flag, now: Instant) throws(StoreError) {
        try db.query(
            """
            UPDATE flags SET baseline = ?, canary = ?, canary_bp = ?, killed = ?, rules = ?, segments = ?,
                canary_segments = ?, disabled = ?, updated_at = ? WHERE key = ?
            """,
            [
                .text(flag.baseline), .text(flag.canary), .int(Int64(flag.canaryPercent.basisPoints)),
                .int(flag.killed ? 1 : 0), .text(JSONValue.array(flag.rules.map(\.json)).canonical),
                .text(JSONValue.object(flag.segments).canonical),
                .text(JSONValue.array(flag.canarySegments.map(JSONValue.string)).canonical),
                .int(flag.disabled ? 1 : 0), .int(now.seconds),
                .text(flag.key),
            ])
    }
}

// MARK: - Settings

extension Store {
    /// A store-wide setting, or nil when it was never set.
    public func setting(_ key: String) throws(StoreError) -> String? {
        try db.rows("SELECT value FROM settings WHERE key = ?", [.text(key)]) { $0.text(0) }.first
    }

    /// Every setting, by key.
    public func settings() throws(StoreError) -> [String: String] {
        var all: [String: String] = [:]
        try db.query("SELECT key, value FROM settings") { all[$0.text(0)] = $0.text(1) }
        return all
    }

    /// Sets a setting, or removes it when `value` is nil.
    public func setSetting(_ key: String, _ value: String?) throws(StoreError) {
        if let value {
            try db.query(
                "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [.text(key), .text(value)])
        } else {
            try db.query("DELETE FROM settings WHERE key = ?", [.text(key)])
        }
    }
}

// MARK: - Runtime facts

extension Store {
    /// Facts about ramp's own running (the last tick's time and duration), by key.
    public func runtime() throws(StoreError) -> [String: String] {
        var all: [String: String] = [:]
        try db.query("SELECT key, value FROM runtime") { all[$0.text(0)] = $0.text(1) }
        return all
    }

    /// Sets runtime facts in one transaction of their own.
    public func setRuntime(_ values: [String: String]) throws(StoreError) {
        try immediate { () throws(StoreError) in
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                try db.query(
                    "INSERT INTO runtime(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [.text(key), .text(value)])
            }
        }
    }

    /// How many audit entries there are of each event.
    public func auditEventCounts() throws(StoreError) -> [String: Int64] {
        var counts: [String: Int64] = [:]
        try db.query("SELECT event, count(*) FROM audit GROUP BY event") { counts[$0.text(0)] = $0.int(1) }
        return counts
    }
}

// MARK: - Plans

extension Store {
    public func plan(digest: String) throws(StoreError) -> StoredPlan? {
        try db.rows(
            "SELECT digest, flag, file, base_dir, body, submitted_at FROM plans WHERE digest = ?", [.text(digest)]
        ) { row in
            StoredPlan(
                digest: row.text(0), flag: row.text(1), file: row.text(2), baseDir: row.text(3), body: row.text(4),
                submittedAt: Instant(seconds: row.int(5)))
        }.first
    }

    /// Every stored plan.
    public func allPlans() throws(StoreError) -> [StoredPlan] {
        try db.rows("SELECT digest, flag, file, base_dir, body, submitted_at FROM plans ORDER BY digest") { row in
            StoredPlan(
                digest: row.text(0), flag: row.text(1), file: row.text(2), baseDir: row.text(3), body: row.text(4),
                submittedAt: Instant(seconds: row.int(5)))
        }
    }

    /// Stores a plan verbatim; the same text submitted again is kept once.
    public func insertPlan(_ plan: StoredPlan) throws(StoreError) {
        try db.query(
            "INSERT OR IGNORE INTO plans(digest, flag, file, base_dir, body, submitted_at) VALUES (?,?,?,?,?,?)",
            [
                .text(plan.digest), .text(plan.flag), .text(plan.file), .text(plan.baseDir), .text(plan.body),
                .int(plan.submittedAt.seconds),
            ])
    }
}

// MARK: - Rollouts

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

    public func allRollouts() throws(StoreError) -> [Rollout] {
        try db.rows("SELECT \(Self.rolloutColumns) FROM rollouts ORDER BY id", [], rollout(from:))
    }

    public func insertRollout(_ rollout: Rollout, now: Instant) throws(StoreError) -> Int64 {
        try db.query(
            """
            INSERT INTO rollouts(flag, plan_digest, state, step, step_entered_at, paused_from, version, created_at,
                                 updated_at) VALUES (?,?,?,?,?,?,?,?,?)
            """,
            [
                .text(rollout.flag), .text(rollout.planDigest), .text(rollout.state.rawValue),
                .int(Int64(rollout.step)),
                .optional(rollout.stepEnteredAt?.seconds), .optional(rollout.pausedFrom?.rawValue),
                .int(rollout.version), .int(now.seconds), .int(now.seconds),
            ])
        return db.lastInsertID
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
    public func observationTime(rollout: Int64) throws(StoreError) -> Instant? {
        try db.rows("SELECT checked_at FROM observations WHERE rollout_id = ?", [.int(rollout)]) {
            Instant(seconds: $0.int(0))
        }.first
    }

    /// The rollout's version (its compare-and-set counter), or nil when there is no such rollout.
    public func rolloutVersion(id: Int64) throws(StoreError) -> Int64? {
        try db.rows("SELECT version FROM rollouts WHERE id = ?", [.int(id)]) { $0.int(0) }.first
    }

    public func observation(rollout: Int64) throws(StoreError) -> Observation? {
        try db.rows("SELECT checked_at, reason, evidence FROM observations WHERE rollout_id = ?", [.int(rollout)]) {
            Observation(
                checkedAt: Instant(seconds: $0.int(0)), reason: $0.text(1),
                evidence: (try? JSONParser.parse($0.text(2))) ?? .null)
        }.first
    }

    /// Records a rollout's latest decision (a hold is an observation, not a transition), and when it is next due: `next` is when its interval has passed,
    /// `due` the moment a tick takes it (`next` less the slack allowed for cron's jitter).
    public func recordObservation(rollout: Int64, _ observation: Observation, next: Instant, due: Instant)
        throws(StoreError)
    {
        try db.query(
            "UPDATE rollouts SET next_check_at = ?, due_at = ? WHERE id = ?",
            [.int(next.seconds), .int(due.seconds), .int(rollout)])
        try db.query(
            """
            INSERT INTO observations(rollout_id, checked_at, reason, evidence) VALUES (?,?,?,?)
            ON CONFLICT(rollout_id) DO UPDATE SET checked_at = excluded.checked_at, reason = excluded.reason,
                evidence = excluded.evidence
            """,
            [
                .int(rollout), .int(observation.checkedAt.seconds), .text(observation.reason),
                .text(observation.evidence.canonical),
            ])
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop(while: { $0 == " " }) }
}

// MARK: - Audit log

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

    /// Appends an entry after the current head. Call inside `immediate` with the change it records.
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
            }
            draft.at = newest
        }
        let entry = draft.chained(after: try auditHead())
        try db.query(
            """
            INSERT INTO audit(seq, at, actor, rollout_id, flag, event, from_state, to_state, from_bp, to_bp, reason,
                              evidence, plan_digest, prev_hash, hash, os_user, host)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """,
            [
                .int(entry.seq), .text(entry.at.description), .text(entry.actor), .optional(entry.rollout),
                .text(entry.flag), .text(entry.event), .optional(entry.fromState), .optional(entry.toState),
                .optional(entry.fromPercent.map { Int64($0.basisPoints) }),
                .optional(entry.toPercent.map { Int64($0.basisPoints) }), .text(entry.reason),
                .text(entry.evidence.canonical), .optional(entry.planDigest), .text(entry.prevHash), .text(entry.hash),
                .optional(entry.osUser), .optional(entry.host),
            ])
        try db.query(
            "INSERT INTO audit_head(id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = ?, hash = ?",
            [.int(entry.seq), .text(entry.hash), .int(entry.seq), .text(entry.hash)])
        try onAppend?(entry)
        return entry
    }

    /// Audit entries in storage order (by rowid, so reordered rows show up as such), optionally filtered.
    public func auditEntries(
        flag: String? = nil, since: Instant? = nil, each: (AuditEntry) throws(StoreError) -> Void
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
                   plan_digest, prev_hash, hash, os_user, host FROM audit \(filter) ORDER BY rowid
            """, values
        ) { (row) throws(StoreError) in
            let evidence: JSONValue
            do { evidence = try JSONParser.parse(row.text(11)) } catch { evidence = .string(row.text(11)) }
            var entry = AuditEntry(
                seq: row.int(0), at: Instant(rfc3339: row.text(1)) ?? Instant(seconds: 0), actor: row.text(2),
                rollout: row.optionalInt(3), flag: row.text(4), event: row.text(5), fromState: row.optionalText(6),
                toState: row.optionalText(7), fromPercent: row.optionalInt(8).map { Percent(basisPoints: Int($0)) },
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

/// A store owns one SQLite connection, used from one thread at a time: it is not Sendable, said in code.
@available(*, unavailable)
extension Store: Sendable {}
