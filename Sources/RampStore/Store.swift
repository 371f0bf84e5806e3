internal import CSQLite
public import RampCore

/// The ramp store: flags, plans, rollouts and the audit log, in one SQLite file or one PostgreSQL database.
///
/// Owns a connection, so it is not Sendable: open one per thread or process.
public final class Store {
    let db: any Database
    /// Which database holds the store.
    public let backend: Backend

    public enum Backend: Sendable { case sqlite, postgres }

    /// What `appendAudit` does with an entry dated before the newest one.
    public enum EarlierTimes: Sendable { case refuse, clamp }
    /// Refuse by default; the CLI clamps when its time comes from the system clock.
    public var earlierTimes = EarlierTimes.refuse
    /// The operating-system user and host recorded in every audit entry this connection writes.
    public var writer: (user: String, host: String)?
    /// Called with every audit entry `appendAudit` writes, inside its transaction: notifications are queued here,
    /// so they commit (or not) with the entry they report.
    public var onAppend: ((AuditEntry) throws(StoreError) -> Void)?

    /// The file this store lives in, or its PostgreSQL connection string with the password hidden.
    public var path: String { db.path }

    /// On PostgreSQL, the id the store's schema was created with: the same from every host and connection string
    /// (a copy made by `ramp store copy` gets its own). Nil on SQLite, where the file's path tells stores apart.
    public var storeID: String? {
        guard backend == .postgres else { return nil }
        return try? db.rows("SELECT store_id FROM ramp_schema WHERE id = 1") { $0.text(0) }.first
    }

    /// Opens the store at `path` — a file, or a `postgres://` connection string — creating and migrating it when
    /// `create` is set.
    ///
    /// Without `create`, a missing file (or an empty database) is `StoreError.missing` and nothing is written.
    public init(path: String, create: Bool) throws(StoreError) {
        if ConnectionString.isPostgres(path) {
            let connection = try PostgresConnection(path)
            db = connection
            backend = .postgres
            try PostgresSchema.migrate(connection, create: create)
            return
        }
        db = try Connection(path: path, create: create)
        backend = .sqlite
        try db.execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        try migrate(create: create)
    }

    /// Opens the store at `path` for reading only (an application evaluating flags): nothing is ever written, so
    /// a store whose schema is older or newer than this ramp's is refused rather than migrated.
    public init(readingOnly path: String) throws(StoreError) {
        let version: Int
        if ConnectionString.isPostgres(path) {
            let connection = try PostgresConnection(path)
            db = connection
            backend = .postgres
            try connection.execute("SET default_transaction_read_only = on")
            version = try PostgresSchema.version(connection) ?? 0
        } else {
            db = try Connection(path: path, create: false, readOnly: true)
            backend = .sqlite
            try db.execute("PRAGMA busy_timeout = 10000")
            version = try userVersion()
        }
        guard version == Schema.version else {
            if version < 0 { throw .notAStore(path: self.path, message: "its schema version \(version) is not ramp's") }
            if version > Schema.version {
                throw .newerSchema(path: self.path, found: version, known: Schema.version)
            }
            throw .notAStore(
                path: self.path,
                message: version == 0
                    ? "it holds no ramp schema"
                    : "schema version \(version) needs upgrading: run any ramp command on it")
        }
    }

    /// Changes whenever another connection commits a change: SQLite's `PRAGMA data_version` (any commit to the
    /// file); on PostgreSQL, compared only for equality, `flagsVersion` with the audit head and the newest
    /// observation (what `status --watch` shows).
    public func dataVersion() throws(StoreError) -> Int64 {
        switch backend {
        case .sqlite:
            return try db.rows("PRAGMA data_version") { $0.int(0) }.first ?? 0
        case .postgres:
            let parts =
                try db.rows(
                    """
                    SELECT \(Self.flagsVersionSQL), (SELECT seq FROM audit_head WHERE id = 1),
                           (SELECT max(checked_at) FROM observations), (SELECT count(*) FROM observations)
                    """
                ) { row in (0..<4).map { row.int(Int32($0)) } }.first ?? []
            return parts.reduce(Int64(17)) { $0 &* 1_000_003 &+ $1 }
        }
    }

    /// Changes whenever a commit changes what evaluators serve (flags, settings), compared only for equality:
    /// `PRAGMA data_version` on SQLite; on PostgreSQL the sum of the flag and setting rows' transaction ids (every
    /// change gives a row the id of the transaction that wrote it, a newer one) with their count.
    public func flagsVersion() throws(StoreError) -> Int64 {
        switch backend {
        case .sqlite: try db.rows("PRAGMA data_version") { $0.int(0) }.first ?? 0
        case .postgres: try db.rows("SELECT \(Self.flagsVersionSQL)") { $0.int(0) }.first ?? 0
        }
    }

    private static let flagsVersionSQL = """
        ((SELECT coalesce(sum(xmin::text::bigint), 0) + count(*) * 4294967296 FROM flags)
         + (SELECT coalesce(sum(xmin::text::bigint), 0) + count(*) * 8589934592 FROM settings))
        """

    private func migrate(create: Bool) throws(StoreError) {
        var current = try userVersion()
        if current > Schema.version { throw .newerSchema(path: path, found: current, known: Schema.version) }
        if current < 0 { throw .notAStore(path: path, message: "its schema version \(current) is not ramp's") }
        // A file that claims a ramp schema version must hold ramp's tables, checked before anything (even the
        // journal mode) changes it: another program's database with a user_version of its own is left as it was.
        if current > 0 {
            let tables = Set(try db.rows("SELECT name FROM sqlite_schema WHERE type = 'table'") { $0.text(0) })
            let missing = Self.coreTables.filter { !tables.contains($0) }
            if !missing.isEmpty {
                throw .notAStore(
                    path: path,
                    message: "it says schema version \(current) but has no \(missing.joined(separator: ", ")) table")
            }
        }
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

    /// The tables every ramp schema since version 1 has.
    static let coreTables = ["flags", "plans", "rollouts", "observations", "audit"]

    private func userVersion() throws(StoreError) -> Int {
        switch backend {
        case .sqlite: Int(try db.rows("PRAGMA user_version") { $0.int(0) }.first ?? 0)
        case .postgres: try PostgresSchema.version(db) ?? 0
        }
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it. Writers take turns: on SQLite
    /// `BEGIN IMMEDIATE` takes the file's write lock; on PostgreSQL the transaction first takes the store's
    /// advisory write lock (`PostgresSchema.writeLock`), which every ramp writer on every host takes, so the audit
    /// chain has one head and a transaction's reads are not changed under it by another writer.
    @discardableResult
    public func immediate<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction(beginWrite, body)
    }

    private var beginWrite: String {
        switch backend {
        case .sqlite: "BEGIN IMMEDIATE"
        case .postgres: "BEGIN; SELECT pg_advisory_xact_lock(\(PostgresSchema.writeLock))"
        }
    }

    /// Runs `body` inside one read transaction: every read sees the same snapshot of the store, whatever other
    /// processes commit meanwhile (WAL keeps it for the reader on SQLite; REPEATABLE READ on PostgreSQL).
    public func reading<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        switch backend {
        case .sqlite:
            try transaction("BEGIN") { () throws(StoreError) in
                _ = try db.rows("SELECT count(*) FROM sqlite_schema") { $0.int(0) }  // the snapshot starts here
                return try body()
            }
        case .postgres:
            try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ") { () throws(StoreError) in
                _ = try db.rows("SELECT 1") { $0.int(0) }  // the snapshot starts here
                return try body()
            }
        }
    }

    /// `immediate` for a body that may refuse: a `.failure` rolls the transaction back, so nothing the body wrote
    /// before it refused is kept.
    public func immediate<T, E: Error>(_ body: () throws(StoreError) -> Result<T, E>) throws(StoreError)
        -> Result<T, E>
    {
        try transaction(beginWrite, body) { if case .failure = $0 { false } else { true } }
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

    /// Takes the tick lease when no other connection holds it: on PostgreSQL a session advisory lock, held until
    /// `releaseTickLease` or until this connection ends (a killed tick's lease goes with its connection). SQLite
    /// has no lease (one host holds the file): always true.
    public func takeTickLease() throws(StoreError) -> Bool {
        switch backend {
        case .sqlite: true
        case .postgres:
            try db.rows("SELECT pg_try_advisory_lock(\(PostgresSchema.tickLease))") { $0.text(0) == "t" }.first
                ?? false
        }
    }

    public func releaseTickLease() throws(StoreError) {
        if backend == .postgres { try db.query("SELECT pg_advisory_unlock(\(PostgresSchema.tickLease))") }
    }

    /// "ok", or what is wrong: SQLite's `PRAGMA integrity_check` (every page and index of the file); on
    /// PostgreSQL, which keeps its own pages, that the audit log's append-only triggers are there and enabled.
    public func integrityCheck() throws(StoreError) -> String {
        switch backend {
        case .sqlite: try db.rows("PRAGMA integrity_check") { $0.text(0) }.joined(separator: "; ")
        case .postgres: try PostgresSchema.integrityCheck(db)
        }
    }

    /// Every row of every table and the schema version, as text: two equal dumps mean two equal stores.
    public func dump() throws(StoreError) -> String {
        var out = "user_version=\(try userVersion())\n"
        let tables: [String]
        switch backend {
        case .sqlite:
            tables = try db.rows("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.text(0) }
        case .postgres:
            tables = try db.rows(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename COLLATE \"C\""
            ) { $0.text(0) }
        }
        for table in tables {
            out += "[\(table)]\n"
            let order = backend == .sqlite ? "rowid" : "1"
            try db.query("SELECT * FROM \"\(table)\" ORDER BY \(order)") { row in
                out += (0..<row.columnCount).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|") + "\n"
            }
        }
        return out
    }

    /// A statement for tests and tools that need raw access (tampering tests, inspection).
    public func executeRaw(_ sql: String) throws(StoreError) { try db.execute(sql) }
}

/// A store owns one connection, used from one thread at a time: it is not Sendable, said in code.
@available(*, unavailable)
extension Store: Sendable {}
