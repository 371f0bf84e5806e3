internal import CSQLite
import RampCore

/// One SQLite connection. Owns a C handle, so it is a class and not Sendable: use it from one thread at a time.
final class Connection {
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
    func query(_ sql: String, _ values: [SQLValue] = [], row: (Row) throws(StoreError) -> Void = { _ in })
        throws(StoreError)
    {
        let (statement, cached) = try prepare(sql)
        defer { release(statement, cached: cached) }
        try bind(values, to: statement)
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: try row(Row(statement: statement))
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

    /// The rows of a query, each mapped by `transform`.
    func rows<T>(_ sql: String, _ values: [SQLValue] = [], _ transform: (Row) throws(StoreError) -> T)
        throws(StoreError) -> [T]
    {
        var out: [T] = []
        try query(sql, values) { (row) throws(StoreError) in out.append(try transform(row)) }
        return out
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}

/// A value bound to a statement parameter.
enum SQLValue {
    case null
    case int(Int64)
    case real(Double)
    case text(String)

    static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func optional(_ n: Int64?) -> SQLValue { n.map { .int($0) } ?? .null }
}

/// A result row, valid only inside the `row` closure.
struct Row {
    fileprivate let statement: OpaquePointer

    var columnCount: Int32 { sqlite3_column_count(statement) }
    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }
    func int(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
    func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
    /// The column's exact bytes as text: a NUL inside does not end it, and bytes that are not UTF-8 become
    /// U+FFFD (so text altered that way never equals what was written, nor hashes the same).
    func text(_ i: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, i) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, i))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
    func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    func double(_ i: Int32) -> Double { sqlite3_column_double(statement, i) }
}
