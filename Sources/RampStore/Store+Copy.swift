public import RampCore

/// Every table of the current schema with its columns and their kinds, in an order that keeps foreign keys
/// satisfied: what `copy` moves and `contentDigests` compares, the same on both backends. A test holds it to the
/// tables and columns each backend really has.
enum Catalog {
    enum Kind { case int, real, text }

    static let tables: [(name: String, columns: [(String, Kind)])] = [
        (
            "flags",
            [
                ("key", .text), ("variants", .text), ("baseline", .text), ("canary", .text), ("canary_bp", .int),
                ("killed", .int), ("updated_at", .int), ("rules", .text), ("segments", .text),
                ("canary_segments", .text), ("disabled", .int), ("metadata", .text),
                ("weights", .text),
            ]
        ),
        (
            "plans",
            [
                ("digest", .text), ("flag", .text), ("file", .text), ("base_dir", .text), ("body", .text),
                ("submitted_at", .int),
            ]
        ),
        (
            "experiments",
            [
                ("id", .int), ("flag", .text), ("plan_digest", .text), ("state", .text), ("started_at", .int),
                ("checked_at", .int), ("ended_at", .int), ("allocation", .text), ("reweights", .int),
            ]
        ),
        (
            "rollouts",
            [
                ("id", .int), ("flag", .text), ("plan_digest", .text), ("state", .text), ("step", .int),
                ("step_entered_at", .int), ("paused_from", .text), ("version", .int), ("created_at", .int),
                ("updated_at", .int), ("next_check_at", .int), ("due_at", .int),
            ]
        ),
        (
            "observations",
            [
                ("rollout_id", .int), ("checked_at", .int), ("reason", .text), ("evidence", .text),
                ("hold_cause", .text), ("streaks", .text),
            ]
        ),
        (
            "gate_checks",
            [
                ("id", .int), ("rollout_id", .int), ("step", .int), ("checked_at", .int), ("gate", .text),
                ("outcome", .text), ("detail", .text),
            ]
        ),
        (
            "audit",
            [
                ("seq", .int), ("at", .text), ("actor", .text), ("rollout_id", .int), ("flag", .text),
                ("event", .text), ("from_state", .text), ("to_state", .text), ("from_bp", .int), ("to_bp", .int),
                ("reason", .text), ("evidence", .text), ("plan_digest", .text), ("prev_hash", .text),
                ("hash", .text), ("os_user", .text), ("host", .text),
            ]
        ),
        ("audit_head", [("id", .int), ("seq", .int), ("hash", .text)]),
        ("settings", [("key", .text), ("value", .text)]),
        (
            "exposures",
            [("id", .int), ("flag", .text), ("variant", .text), ("key", .text), ("at", .int), ("attributes", .text)]
        ),
        (
            "outcomes",
            [
                ("id", .int), ("metric", .text), ("flag", .text), ("key", .text), ("variant", .text),
                ("value", .real), ("at", .int),
            ]
        ),
        ("runtime", [("key", .text), ("value", .text)]),
        (
            "outbox",
            [
                ("id", .int), ("key", .text), ("target", .text), ("spec", .text), ("event", .text), ("flag", .text),
                ("body", .text), ("created_at", .int), ("state", .text), ("attempts", .int), ("next_at", .int),
                ("claimed_until", .int), ("last_error", .text), ("done_at", .int),
            ]
        ),
    ]

    /// Tables whose first column is a generated id (an identity column on PostgreSQL).
    static let generatedIDs: Set<String> = [
        "rollouts", "gate_checks", "exposures", "outcomes", "outbox", "experiments",
    ]
}

/// What `Store.copy` moved: rows per table.
public struct CopySummary: Sendable {
    public var rows: [(table: String, count: Int)]
    public var auditEntries: Int { rows.first { $0.table == "audit" }?.count ?? 0 }
}

extension Store {
    /// The tables and columns this store really has (for the test that holds `Catalog` to them).
    public func columns() throws(StoreError) -> [String: [String]] {
        var out: [String: [String]] = [:]
        switch backend {
        case .sqlite:
            let tables = try db.rows("SELECT name FROM sqlite_schema WHERE type = 'table'") { $0.text(0) }
            for table in tables {
                out[table] = try db.rows("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)]) {
                    $0.text(0)
                }
            }
        case .postgres:
            try db.query(
                """
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name <> 'ramp_schema' ORDER BY table_name, ordinal_position
                """
            ) { row in out[row.text(0), default: []].append(row.text(1)) }
        }
        return out
    }

    /// The catalog's tables and columns, as `columns()` lists them.
    public static var catalogColumns: [String: [String]] {
        Dictionary(uniqueKeysWithValues: Catalog.tables.map { ($0.name, $0.columns.map(\.0)) })
    }

    /// Each table's row count and SHA-256 over its rows in key order, every value written the same way whatever
    /// the backend: two stores with equal digests hold the same rows, value for value.
    public func contentDigests() throws(StoreError) -> [String: (rows: Int, digest: String)] {
        var out: [String: (rows: Int, digest: String)] = [:]
        for (table, columns) in Catalog.tables {
            var text = ""
            var count = 0
            let names = columns.map { "\"\($0.0)\"" }.joined(separator: ", ")
            try db.query("SELECT \(names) FROM \"\(table)\" ORDER BY 1") { row in
                count += 1
                for (i, column) in columns.enumerated() {
                    let index = Int32(i)
                    if row.isNull(index) {
                        text += "N"
                    } else {
                        switch column.1 {
                        case .int: text += "I\(row.int(index))"
                        case .real: text += "R\(row.double(index))"
                        case .text: text += "T" + JSONValue.string(row.text(index)).canonical
                        }
                    }
                    text += i == columns.count - 1 ? "\n" : "|"
                }
            }
            out[table] = (count, SHA256.hex(text))
        }
        return out
    }

    /// Copies every row of `source` into `target`, a store with no rows yet, in one transaction on the target
    /// and one read snapshot of the source; then compares the two row for row (`contentDigests`). Throws, and
    /// commits nothing, when the target holds any row or the copy differs.
    public static func copy(from source: Store, to target: Store) throws(StoreError) -> CopySummary {
        try source.reading { () throws(StoreError) -> CopySummary in
            try target.immediate { () throws(StoreError) -> CopySummary in
                for (table, _) in Catalog.tables {
                    let rows = try target.db.rows("SELECT count(*) FROM \"\(table)\"") { $0.int(0) }.first ?? 0
                    if rows > 0 {
                        throw .notAStore(
                            path: target.path,
                            message: "it already holds \(rows) row\(rows == 1 ? "" : "s") in \(table); a store is "
                                + "copied only into a new, empty one")
                    }
                }
                var summary = CopySummary(rows: [])
                for (table, columns) in Catalog.tables {
                    let names = columns.map { "\"\($0.0)\"" }.joined(separator: ", ")
                    let marks = columns.map { _ in "?" }.joined(separator: ", ")
                    var batch: [[SQLValue]] = []
                    var count = 0
                    let insert = "INSERT INTO \"\(table)\"(\(names)) VALUES (\(marks))"
                    try source.db.query("SELECT \(names) FROM \"\(table)\" ORDER BY 1") { (row) throws(StoreError) in
                        batch.append(
                            columns.enumerated().map { i, column in
                                let index = Int32(i)
                                if row.isNull(index) { return .null }
                                switch column.1 {
                                case .int: return .int(row.int(index))
                                case .real: return .real(row.double(index))
                                case .text: return .text(row.text(index))
                                }
                            })
                        count += 1
                        if batch.count >= 1000 {
                            try target.db.repeated(insert, batch)
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                    try target.db.repeated(insert, batch)
                    if target.backend == .postgres, Catalog.generatedIDs.contains(table), count > 0 {
                        try target.db.query(
                            "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), (SELECT max(id) FROM \"\(table)\"))"
                        )
                    }
                    summary.rows.append((table, count))
                }
                let before = try source.contentDigests()
                let after = try target.contentDigests()
                for (table, _) in Catalog.tables where before[table]?.digest != after[table]?.digest {
                    throw .sql(
                        path: target.path,
                        message: "the copy of \(table) differs from the source (\(before[table]?.rows ?? 0) rows "
                            + "there, \(after[table]?.rows ?? 0) here); nothing was copied")
                }
                return summary
            }
        }
    }
}

extension Store {
    /// How many rows the store's tables hold in all (0 for a new store).
    public func rowCount() throws(StoreError) -> Int {
        var total = 0
        for (table, _) in Catalog.tables {
            total += Int(try db.rows("SELECT count(*) FROM \"\(table)\"") { $0.int(0) }.first ?? 0)
        }
        return total
    }
}

extension Store {
    /// Drops the schema of a PostgreSQL store that holds no rows (what a failed `ramp store copy` created), so the
    /// database is as empty as before. Refuses a store with rows, and does nothing on SQLite.
    public func dropEmptySchema() throws(StoreError) {
        guard backend == .postgres else { return }
        guard try rowCount() == 0 else {
            throw .notAStore(path: path, message: "it holds rows; only an empty store's schema is dropped")
        }
        try PostgresSchema.drop(db)
    }
}
