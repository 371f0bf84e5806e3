internal import CSQLite
import RampCore

/// One SQLite connection. Owns a C handle, so it is a class and not Sendable: use it from one thread at a time.
final class Connection: Database {
    let path: String
    private let handle: OpaquePointer
    /// Prepared statements by their SQL, reused (a tick runs the same few statements thousands of times). One in
    /// use (a query inside another's row callback with the same SQL) is not shared: that one is prepared afresh.
    private var statements: [String: Cached] = [:]

    /// A cached statement and whether a query is using it now. A class, so that returning it needs no second
    /// lookup (hashing a statement's whole SQL text once per use is enough).
    private final class Cached {
        let statement: OpaquePointer
        var inUse = false

        init(_ statement: OpaquePointer) { self.statement = statement }
    }

    init(path: String, create: Bool, readOnly: Bool = false) throws(StoreError) {
        self.path = path
        var db: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
            | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            if rc == SQLITE_CANTOPEN && !create { throw .missing(path: path) }
            throw .cannotOpen(path: path, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for cached in statements.values { sqlite3_finalize(cached.statement) }
        sqlite3_close_v2(handle)
    }

    /// A prepared statement for `sql`: the cached one when free (marked in use), else a new one (cached, and
    /// marked, if none is; otherwise finalized by `release`).
    private func prepare(_ sql: String) throws(StoreError) -> (statement: OpaquePointer, cached: Cached?) {
        let existing = statements[sql]
        if let existing, !existing.inUse {
            existing.inUse = true
            return (existing.statement, existing)
        }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure()
        }
        if existing == nil {
            let cached = Cached(statement)
            cached.inUse = true
            statements[sql] = cached
            return (statement, cached)
        }
        return (statement, nil)
    }

    /// Returns a statement from `prepare`: a cached one is reset for its next use, another finalized.
    private func release(_ statement: OpaquePointer, cached: Cached?) {
        if let cached {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            cached.inUse = false
        } else {
            sqlite3_finalize(statement)
        }
    }

    private func failure(_ context: String? = nil) -> StoreError {
        let code = sqlite3_errcode(handle)
        let message = String(cString: sqlite3_errmsg(handle))
        if code == SQLITE_NOTADB || code == SQLITE_CORRUPT || (code & 0xff) == SQLITE_CORRUPT {
            return .notAStore(path: path, message: message)
        }
        return .sql(path: path, message: context.map { "\($0): \(message)" } ?? message, code: code)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError) {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &error) != SQLITE_OK {
            sqlite3_free(error)
            throw failure()
        }
    }

    /// Prepares, binds, and steps a statement, handing each row to `row`.
    func run(_ sql: String, _ values: [SQLValue], row: (Row) throws(StoreError) -> Void) throws(StoreError) {
        let (statement, cached) = try prepare(sql)
        defer { release(statement, cached: cached) }
        try bind(values, to: statement)
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: try row(Row(sqlite: statement))
            case SQLITE_DONE: return
            default: throw failure()
            }
        }
    }

    /// Runs one statement that returns no rows once per element of `rows`, prepared once (bulk inserts).
    func repeated(_ sql: String, _ rows: [[SQLValue]]) throws(StoreError) {
        let (statement, cached) = try prepare(sql)
        defer { release(statement, cached: cached) }
        for values in rows {
            sqlite3_reset(statement)
            try bind(values, to: statement)
            guard sqlite3_step(statement) == SQLITE_DONE else { throw failure() }
        }
    }

    private func bind(_ values: [SQLValue], to statement: OpaquePointer) throws(StoreError) {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let n): rc = sqlite3_bind_int64(statement, index, n)
            case .real(let d): rc = sqlite3_bind_double(statement, index, d)
            case .text(let s):
                // Bound with its byte length: a NUL inside is kept, not taken as the end (text is stored exactly).
                var bytes = Array(s.utf8)
                let length = Int32(clamping: bytes.count)
                bytes.append(0)
                rc = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_text(
                        statement, index, raw.baseAddress?.assumingMemoryBound(to: CChar.self), length,
                        ramp_sqlite_transient())
                }
            }
            guard rc == SQLITE_OK else { throw failure() }
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}
