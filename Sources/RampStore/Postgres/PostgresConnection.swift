internal import CLibPQ
public import RampCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One PostgreSQL connection, through ramp's own boundary to libpq (`CLibPQ`), which loads libpq at run time: a
/// store on SQLite never needs it. Owns a C handle, so it is a class and not Sendable: one thread at a time.
///
/// Parameters and values travel as text (`nil` is SQL NULL). Messages name the connection string with its password
/// replaced (`ConnectionString.redacted`).
public final class PostgresConnection {
    /// The connection string as messages show it.
    public let name: String
    private let handle: OpaquePointer

    /// Loads libpq (the library `RAMP_LIBPQ` names, else the platform's libpq.so.5) and connects.
    public init(_ connectionString: String) throws(StoreError) {
        name = ConnectionString.redacted(connectionString)
        var error = [CChar](repeating: 0, count: 512)
        let library = getenv("RAMP_LIBPQ").map { String(cString: $0) }
        let loaded = error.withUnsafeMutableBufferPointer { buffer in
            ramp_pq_load(library, buffer.baseAddress, buffer.count)
        }
        guard loaded == 1 else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .cannotOpen(
                path: name, message: "PostgreSQL's client library is not available: \(why) (install libpq5)")
        }
        guard let connection = ramp_pq_connect(connectionString) else {
            throw .cannotOpen(path: name, message: "out of memory")
        }
        guard ramp_pq_connected(connection) == 1 else {
            let message = Self.line(String(cString: ramp_pq_error(connection)))
            ramp_pq_finish(connection)
            throw .cannotOpen(path: name, message: ConnectionString.redacted(message))
        }
        handle = connection
    }

    deinit { ramp_pq_finish(handle) }

    /// Runs `sql` with text parameters (`$1`, `$2`, … ; `nil` is NULL) and returns every row, each value as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(StoreError) -> [[String?]] {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        let values = copies.map { UnsafePointer($0) }
        let result = values.withUnsafeBufferPointer { buffer in
            ramp_pq_exec(handle, sql, Int32(buffer.count), buffer.baseAddress)
        }
        defer { ramp_pq_clear(result) }
        guard ramp_pq_ok(result) == 1 else {
            let message = Self.line(String(cString: ramp_pq_result_error(result)))
            let state = String(cString: ramp_pq_sqlstate(result))
            throw .sql(
                path: name,
                message: (message.isEmpty ? Self.line(String(cString: ramp_pq_error(handle))) : message)
                    + (state.isEmpty ? "" : " (SQLSTATE \(state))"))
        }
        var rows: [[String?]] = []
        for row in 0..<ramp_pq_rows(result) {
            var values: [String?] = []
            for column in 0..<ramp_pq_columns(result) {
                values.append(
                    ramp_pq_is_null(result, row, column) == 1
                        ? nil : String(cString: ramp_pq_value(result, row, column)))
            }
            rows.append(values)
        }
        return rows
    }

    /// libpq's multi-line messages on one line.
    private static func line(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = drop(while: { $0 == " " || $0 == "\t" })
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
