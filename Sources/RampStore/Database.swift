internal import CSQLite
import RampCore

/// What the store asks of a database connection, SQLite's or PostgreSQL's: statements with `?` parameters (or `?N`,
/// the Nth), rows read by column number, and the count of rows a write changed. One connection, one thread at a time.
protocol Database: AnyObject {
    /// The store as messages name it: a file path, or a connection string with its password hidden.
    var path: String { get }
    /// Runs one or more statements that return no rows (and take no parameters).
    func execute(_ sql: String) throws(StoreError)
    /// Runs one statement, handing each row to `row`.
    func run(_ sql: String, _ values: [SQLValue], row: (Row) throws(StoreError) -> Void) throws(StoreError)
    /// Runs one statement that returns no rows once per element of `rows` (bulk inserts).
    func repeated(_ sql: String, _ rows: [[SQLValue]]) throws(StoreError)
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { get }
    /// Whether a transaction is open.
    var isInTransaction: Bool { get }
}

extension Database {
    /// Runs one statement, handing each row to `row`.
    func query(_ sql: String, _ values: [SQLValue] = [], row: (Row) throws(StoreError) -> Void = { _ in })
        throws(StoreError)
    {
        try run(sql, values, row: row)
    }

    /// The rows of a query, each mapped by `transform`.
    func rows<T>(_ sql: String, _ values: [SQLValue] = [], _ transform: (Row) throws(StoreError) -> T)
        throws(StoreError) -> [T]
    {
        var out: [T] = []
        try query(sql, values) { (row) throws(StoreError) in out.append(try transform(row)) }
        return out
    }
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

/// A result row, valid only inside the `row` closure: a SQLite statement's current row, or PostgreSQL's values as
/// text (decoded: see `PostgresText`).
struct Row {
    private enum Source {
        case sqlite(OpaquePointer)
        case text([String?])
    }
    private let source: Source

    init(sqlite statement: OpaquePointer) { source = .sqlite(statement) }
    init(text values: [String?]) { source = .text(values) }

    var columnCount: Int32 {
        switch source {
        case .sqlite(let statement): sqlite3_column_count(statement)
        case .text(let values): Int32(values.count)
        }
    }

    func isNull(_ i: Int32) -> Bool {
        switch source {
        case .sqlite(let statement): sqlite3_column_type(statement, i) == SQLITE_NULL
        case .text(let values): values.indices.contains(Int(i)) ? values[Int(i)] == nil : true
        }
    }

    /// The column as a 64-bit integer (0 for NULL, as SQLite reads it).
    func int(_ i: Int32) -> Int64 {
        switch source {
        case .sqlite(let statement): sqlite3_column_int64(statement, i)
        case .text: value(i).flatMap { Int64($0) } ?? 0
        }
    }

    func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }

    /// The column's exact bytes as text: a NUL inside does not end it, and bytes that are not UTF-8 become
    /// U+FFFD (so text altered that way never equals what was written, nor hashes the same).
    func text(_ i: Int32) -> String {
        switch source {
        case .sqlite(let statement):
            guard let pointer = sqlite3_column_text(statement, i) else { return "" }
            let count = Int(sqlite3_column_bytes(statement, i))
            return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        case .text: return value(i) ?? ""
        }
    }

    func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }

    /// The column as a double (0 for NULL).
    func double(_ i: Int32) -> Double {
        switch source {
        case .sqlite(let statement): sqlite3_column_double(statement, i)
        case .text: value(i).flatMap { Double($0) } ?? 0
        }
    }

    private func value(_ i: Int32) -> String? {
        guard case .text(let values) = source, values.indices.contains(Int(i)) else { return nil }
        return values[Int(i)]
    }
}
