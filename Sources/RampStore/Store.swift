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

/// A store owns one SQLite connection, used from one thread at a time: it is not Sendable, said in code.
@available(*, unavailable)
extension Store: Sendable {}
