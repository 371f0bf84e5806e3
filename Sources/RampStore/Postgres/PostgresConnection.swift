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
    /// The connection string as given, kept only to hide its password in messages (`ConnectionString.hiding`).
    private let secrets: String
    private let handle: OpaquePointer

    /// Loads libpq (the library `RAMP_LIBPQ` names, else the platform's libpq.so.5) and connects.
    public init(_ connectionString: String) throws(StoreError) {
        name = ConnectionString.redacted(connectionString)
        secrets = connectionString
        var error = [CChar](repeating: 0, count: 2048)
        let library = getenv("RAMP_LIBPQ").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        if let library, library.utf8.count >= 1024 {
            throw .cannotOpen(path: name, message: "RAMP_LIBPQ names a path of 1024 bytes or more")
        }
        let loaded = error.withUnsafeMutableBufferPointer { buffer in
            ramp_pq_load(library, buffer.baseAddress, buffer.count)
        }
        guard loaded == 1 else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .cannotOpen(
                path: name,
                message: "PostgreSQL's client library is not available: \(why)"
                    + (library == nil ? "" : ", the library RAMP_LIBPQ names") + " (install libpq5)")
        }
        guard let connection = ramp_pq_connect(ConnectionString.withDefaults(connectionString)) else {
            throw .cannotOpen(path: name, message: "out of memory")
        }
        guard ramp_pq_connected(connection) == 1 else {
            let message = Self.line(String(cString: ramp_pq_error(connection)))
            ramp_pq_finish(connection)
            throw .cannotOpen(
                path: name,
                message: ConnectionString.hiding(connectionString, in: ConnectionString.redacted(message)))
        }
        handle = connection
        // Text travels as UTF-8 whatever the server's or the environment's default, and doubles in full. The
        // server probes an idle connection after 30 s and gives up on it after three unanswered probes 10 s apart,
        // so a host that vanishes without closing it (its tick lease with it) is noticed within a minute, not
        // after the system's default two hours (ignored on a Unix socket). A lock (the store's write lock) is
        // waited for at most 30 s, as SQLite's busy timeout bounds a writer's wait: then the command fails.
        try execute(
            """
            SET client_encoding = 'UTF8'; SET extra_float_digits = 1; SET tcp_keepalives_idle = 30;
            SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3; SET lock_timeout = '30s'
            """)
    }

    deinit { ramp_pq_finish(handle) }

    /// Runs `sql` with text parameters (`$1`, `$2`, … ; `nil` is NULL) and returns every row, each value as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(StoreError) -> [[String?]] {
        var rows: [[String?]] = []
        try exec(sql, parameters, types: nil) { rows.append($0) }
        return rows
    }

    /// Listens on `channel` (a plain identifier): `awaitNotifications` then reports its notifications.
    public func listen(_ channel: String) throws(StoreError) {
        precondition(channel.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }, "a channel is an identifier")
        try query("LISTEN \(channel)")
    }

    /// Waits up to `milliseconds` for notifications on the channels this connection listens on, and returns how
    /// many arrived (0 when none did in time). Throws when the connection is lost.
    public func awaitNotifications(milliseconds: Int32) throws(StoreError) -> Int {
        let waiting = Int(ramp_pq_take_notifications(handle))
        if waiting > 0 { return waiting }
        let socket = ramp_pq_socket(handle)
        guard socket >= 0, ramp_pq_connected(handle) == 1 else { throw lost() }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 { return errno == EINTR ? 0 : Int(ramp_pq_take_notifications(handle)) }
        if ready == 0 { return 0 }
        guard ramp_pq_consume_input(handle) == 1, ramp_pq_connected(handle) == 1 else { throw lost() }
        return Int(ramp_pq_take_notifications(handle))
    }

    private func lost() -> StoreError {
        .sql(
            path: name,
            message: ConnectionString.hiding(
                secrets, in: "connection lost: " + Self.line(String(cString: ramp_pq_error(handle)))))
    }

    /// The server process serving this connection (for `pg_terminate_backend` in fault tests).
    public var backendPID: Int32 { ramp_pq_backend_pid(handle) }

    /// Runs one statement with text parameters of the given type OIDs (nil: all inferred), handing each row over.
    /// With `prepared`, the statement is prepared once per connection (by its text and parameter types) and
    /// executed by name after: the server parses and plans it once, not at every call.
    private func exec(
        _ sql: String, _ parameters: [String?], types: [UInt32]?, prepared: Bool = false,
        row: ([String?]) throws(StoreError) -> Void
    ) throws(StoreError) {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        let values = copies.map { UnsafePointer($0) }
        let statementName: String?
        if prepared {
            let key = PreparedKey(sql: sql, types: types ?? [])
            if let known = preparedNames[key] {
                statementName = known
            } else {
                let fresh = "ramp_\(preparedNames.count + 1)"
                let result = (types ?? []).withUnsafeBufferPointer { oids in
                    ramp_pq_prepare(handle, fresh, sql, Int32(oids.count), types == nil ? nil : oids.baseAddress)
                }
                defer { ramp_pq_clear(result) }
                try check(result)
                preparedNames[key] = fresh
                statementName = fresh
            }
        } else {
            statementName = nil
        }
        let result = values.withUnsafeBufferPointer { buffer in
            if let statementName {
                ramp_pq_exec_prepared(handle, statementName, Int32(buffer.count), buffer.baseAddress)
            } else if let types {
                types.withUnsafeBufferPointer { oids in
                    ramp_pq_exec(handle, sql, Int32(buffer.count), oids.baseAddress, buffer.baseAddress)
                }
            } else {
                ramp_pq_exec(handle, sql, Int32(buffer.count), nil, buffer.baseAddress)
            }
        }
        defer { ramp_pq_clear(result) }
        try check(result)
        lastChanges = ramp_pq_changes(result)
        for r in 0..<ramp_pq_rows(result) {
            var values: [String?] = []
            let columns = ramp_pq_columns(result)
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                values.append(
                    ramp_pq_is_null(result, r, column) == 1 ? nil : String(cString: ramp_pq_value(result, r, column)))
            }
            try row(values)
        }
    }

    private struct PreparedKey: Hashable {
        var sql: String
        var types: [UInt32]
    }
    /// The statements prepared on this connection, by text and parameter types.
    private var preparedNames: [PreparedKey: String] = [:]

    private func check(_ result: OpaquePointer?) throws(StoreError) {
        guard ramp_pq_ok(result) == 1 else {
            let message = Self.line(String(cString: ramp_pq_result_error(result)))
            let state = String(cString: ramp_pq_sqlstate(result))
            throw .sql(
                path: name,
                message: ConnectionString.hiding(
                    secrets,
                    in: ConnectionString.redacted(
                        (message.isEmpty ? Self.line(String(cString: ramp_pq_error(handle))) : message)
                            + (state.isEmpty ? "" : " (SQLSTATE \(state))"))))
        }
    }

    private var lastChanges = 0
    /// Statements translated from the store's dialect, by their text.
    private var translated: [String: String] = [:]

    /// libpq's multi-line messages on one line.
    private static func line(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

extension PostgresConnection: Database {
    var path: String { name }

    func execute(_ sql: String) throws(StoreError) {
        let result = ramp_pq_exec_script(handle, sql)
        defer { ramp_pq_clear(result) }
        try check(result)
    }

    func run(_ sql: String, _ values: [SQLValue], row: (Row) throws(StoreError) -> Void) throws(StoreError) {
        let statement: String
        if let known = translated[sql] {
            statement = known
        } else {
            statement = PostgresDialect.translate(sql)
            translated[sql] = statement
        }
        var parameters: [String?] = []
        var types: [UInt32] = []
        parameters.reserveCapacity(values.count)
        types.reserveCapacity(values.count)
        for value in values {
            switch value {
            case .null:
                parameters.append(nil)
                types.append(0)
            case .int(let n):
                parameters.append(String(n))
                types.append(PostgresDialect.int8)
            case .real(let d):
                parameters.append(PostgresDialect.text(of: d))
                types.append(PostgresDialect.float8)
            case .text(let s):
                parameters.append(PostgresText.encode(s))
                types.append(PostgresDialect.text)
            }
        }
        try exec(statement, parameters, types: types, prepared: true) { (values) throws(StoreError) in
            try row(Row(text: values.map { $0.map(PostgresText.decode) }))
        }
    }

    func repeated(_ sql: String, _ rows: [[SQLValue]]) throws(StoreError) {
        for values in rows { try run(sql, values, row: { _ in }) }
    }

    var changes: Int { lastChanges }
    var isInTransaction: Bool { ramp_pq_in_transaction(handle) != 0 }
}

/// Text as PostgreSQL can hold it: its `text` type refuses U+0000, which ramp keeps (text is stored exactly). So U+0001
/// becomes U+0001 "1" and U+0000 becomes U+0001 "0" on the way in, and back on the way out: one-to-one, and it keeps
/// the byte order of any two texts, so equality and ORDER BY (under the C collation) answer as on SQLite.
enum PostgresText {
    static func encode(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 <= 1 }) else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0: out.unicodeScalars.append(contentsOf: ["\u{1}", "0"])
            case 1: out.unicodeScalars.append(contentsOf: ["\u{1}", "1"])
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func decode(_ text: String) -> String {
        guard text.utf8.contains(1) else { return text }
        var out = ""
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                out.unicodeScalars.append(scalar == "0" ? "\u{0}" : "\u{1}")
                escaped = false
            } else if scalar.value == 1 {
                escaped = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The store's SQL, written for SQLite, as PostgreSQL takes it.
enum PostgresDialect {
    /// Type OIDs of the parameters ramp binds.
    static let int8: UInt32 = 20
    static let text: UInt32 = 25
    static let float8: UInt32 = 701

    /// `?` becomes `$1`, `$2`, … in order and `?N` becomes `$N` (outside quoted text); `INDEXED BY name`, SQLite's
    /// index hint, goes (PostgreSQL's planner chooses).
    static func translate(_ sql: String) -> String {
        var out = ""
        var next = 1
        var quoted = false
        var scalars = sql.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            if scalar == "'" { quoted.toggle() }
            guard scalar == "?", !quoted else {
                out.unicodeScalars.append(scalar)
                continue
            }
            var digits = ""
            while let digit = pending, ("0"..."9").contains(digit) {
                digits.unicodeScalars.append(digit)
                pending = scalars.next()
            }
            if digits.isEmpty {
                out += "$\(next)"
                next += 1
            } else {
                out += "$" + digits
            }
        }
        while let range = out.firstRange(of: " INDEXED BY ") {
            let nameEnd = out[range.upperBound...].firstIndex(where: { !($0.isLetter || $0 == "_" || $0.isNumber) })
            out.removeSubrange(range.lowerBound..<(nameEnd ?? out.endIndex))
        }
        return out
    }

    /// A double as PostgreSQL reads it back exactly (Swift prints the shortest text that round-trips).
    static func text(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = drop(while: { $0 == " " || $0 == "\t" })
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
