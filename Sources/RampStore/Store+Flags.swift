public import RampCore

extension Store {
    private static let flagColumns =
        "key, variants, baseline, canary, canary_bp, killed, rules, segments, canary_segments, disabled, metadata, "
        + "weights"

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
            case .array(let reached) = try json(8, "canary segments"),
            case .object(let metadata) = try json(10, "metadata"),
            case .object(let weightValues) = try json(11, "weights")
        else { throw .notAStore(path: path, message: "flag \(key) has a malformed definition") }
        guard let weights = Flag.weights(from: weightValues) else {
            throw .notAStore(
                path: path,
                message: "flag \(key) has malformed weights (whole numbers from 0, totalling at most "
                    + "\(Flag.maximumTotalWeight))")
        }
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
            segments: segments, canarySegments: reached.compactMap(\.stringValue), disabled: row.int(9) != 0,
            metadata: metadata, weights: weights)
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
    /// the kill switch, the rules and segments, whether it is disabled, its metadata and weights.
    public func updateFlag(_ flag: Flag, now: Instant) throws(StoreError) {
        try db.query(
            """
            UPDATE flags SET baseline = ?, canary = ?, canary_bp = ?, killed = ?, rules = ?, segments = ?,
                canary_segments = ?, disabled = ?, metadata = ?, weights = ?,
                updated_at = ? WHERE key = ?
            """,
            [
                .text(flag.baseline), .text(flag.canary), .int(Int64(flag.canaryPercent.basisPoints)),
                .int(flag.killed ? 1 : 0), .text(JSONValue.array(flag.rules.map(\.json)).canonical),
                .text(JSONValue.object(flag.segments).canonical),
                .text(JSONValue.array(flag.canarySegments.map(JSONValue.string)).canonical),
                .int(flag.disabled ? 1 : 0), .text(JSONValue.object(flag.metadata).canonical),
                .text(flag.weightsJSON.canonical), .int(now.seconds),
                .text(flag.key),
            ])
    }

    /// The flag's share and switches, without reading its variants and rules.
    public func flagShare(_ key: String) throws(StoreError) -> FlagShare? {
        try db.rows(
            "SELECT canary_bp, killed, disabled, canary_segments FROM flags WHERE key = ?", [.text(key)]
        ) { row throws(StoreError) in
            let text = row.text(3)
            var segments: [String] = []
            if text != "[]" {
                guard case .array(let items)? = try? JSONParser.parse(text) else {
                    throw .notAStore(path: path, message: "flag \(key) has unreadable canary segments")
                }
                segments = items.compactMap(\.stringValue)
            }
            return FlagShare(
                canaryPercent: Percent(basisPoints: Int(row.int(0))), canarySegments: segments,
                killed: row.int(1) != 0, disabled: row.int(2) != 0)
        }.first
    }

    /// Writes the canary's share and reached segments (a transition's change to its flag), nothing else.
    public func setFlagShare(_ key: String, _ share: FlagShare, now: Instant) throws(StoreError) {
        try db.query(
            "UPDATE flags SET canary_bp = ?, canary_segments = ?, updated_at = ? WHERE key = ?",
            [
                .int(Int64(share.canaryPercent.basisPoints)),
                .text(JSONValue.array(share.canarySegments.map(JSONValue.string)).canonical), .int(now.seconds),
                .text(key),
            ])
    }
}
