public import RampCore

extension Store {
    /// Appends events with one prepared statement per table. Call inside `immediate`: one transaction per batch
    /// is what makes a million events take seconds.
    public func record(exposures: [Exposure], outcomes: [Outcome]) throws(StoreError) {
        if !exposures.isEmpty {
            try db.repeated(
                "INSERT INTO exposures(flag, variant, key, at, attributes) VALUES (?,?,?,?,?)",
                exposures.map {
                    [
                        .text($0.flag), .text($0.variant), .text($0.key), .int($0.at.seconds),
                        .optional($0.attributes.map { JSONValue.object($0).canonical }),
                    ]
                })
        }
        if !outcomes.isEmpty {
            try db.repeated(
                "INSERT INTO outcomes(metric, flag, key, variant, value, at) VALUES (?,?,?,?,?,?)",
                outcomes.map {
                    [
                        .text($0.metric), .optional($0.flag), .optional($0.key), .optional($0.variant), .real($0.value),
                        .int($0.at.seconds),
                    ]
                })
        }
    }

    /// Distinct targeting keys exposed to `variant` of `flag` in the window.
    public func exposedUnits(flag: String, variant: String, in window: EventWindow) throws(StoreError) -> Double {
        let sql = "SELECT count(DISTINCT key) FROM exposures WHERE flag = ? AND at BETWEEN ? AND ? AND variant = ?"
        let values: [SQLValue] = [.text(flag), .int(window.since.seconds), .int(window.until.seconds), .text(variant)]
        return Double(try db.rows(sql, values) { $0.int(0) }.first ?? 0)
    }

    /// An outcome's variant: its own, or its key's latest exposure to the flag (with `inWindow`, its latest in
    /// the window: an experiment counts only the units it exposed). The key's exposures are found through
    /// `exposures_by_key` (named, or SQLite's planner may scan the window's exposures for every outcome).
    private static func attributed(inWindow: Bool) -> String {
        """
        COALESCE(o.variant,
            (SELECT e.variant FROM exposures e\(inWindow ? " INDEXED BY exposures_by_key" : "")
                WHERE e.flag = ?1 AND e.key = o.key\(inWindow ? " AND e.at BETWEEN ?3 AND ?4" : "")
                ORDER BY e.id DESC LIMIT 1))
        """
    }
    private static func outcomeFilter(inWindow: Bool) -> String {
        """
        FROM outcomes o WHERE o.metric = ?2 AND o.at BETWEEN ?3 AND ?4 AND (o.flag IS NULL OR o.flag = ?1)
            AND \(attributed(inWindow: inWindow)) = ?5
        """
    }
    private static let outcomeFilter = outcomeFilter(inWindow: false)
    private static let outcomeFilterInWindow = outcomeFilter(inWindow: true)

    private func outcomeValues(_ flag: String, _ metric: String, _ variant: String, _ window: EventWindow)
        -> [SQLValue]
    {
        [.text(flag), .text(metric), .int(window.since.seconds), .int(window.until.seconds), .text(variant)]
    }

    /// Units (keys, or outcomes without a key) of `variant` with a non-zero `metric` in the window: the successes
    /// of a proportion whose trials are the exposed keys.
    public func outcomeUnits(
        flag: String, metric: String, variant: String, in window: EventWindow, exposedInWindow: Bool = false
    ) throws(StoreError) -> Double {
        let filter = exposedInWindow ? Self.outcomeFilterInWindow : Self.outcomeFilter
        let sql = "SELECT count(DISTINCT COALESCE(o.key, 'row:' || o.id)) \(filter) AND o.value != 0"
        return Double(try db.rows(sql, outcomeValues(flag, metric, variant, window)) { $0.int(0) }.first ?? 0)
    }

    /// Count, sum and sum of squares of `metric`'s values for `variant` in the window.
    public func outcomeMoments(
        flag: String, metric: String, variant: String, in window: EventWindow, exposedInWindow: Bool = false
    ) throws(StoreError) -> (count: Double, sum: Double, sumOfSquares: Double) {
        let filter = exposedInWindow ? Self.outcomeFilterInWindow : Self.outcomeFilter
        let sql = "SELECT count(*), total(o.value), total(o.value * o.value) \(filter)"
        return try db.rows(sql, outcomeValues(flag, metric, variant, window)) {
            (Double($0.int(0)), $0.double(1), $0.double(2))
        }.first ?? (0, 0, 0)
    }

    /// Up to `limit` of `metric`'s values for `variant` in the window, newest first.
    public func outcomeSamples(flag: String, metric: String, variant: String, in window: EventWindow, limit: Int)
        throws(StoreError) -> [Double]
    {
        let sql = "SELECT o.value \(Self.outcomeFilter) ORDER BY o.id DESC LIMIT ?6"
        return try db.rows(sql, outcomeValues(flag, metric, variant, window) + [.int(Int64(limit))]) { $0.double(0) }
    }

    /// How many exposures and outcomes the store holds.
    public func eventCounts() throws(StoreError) -> (exposures: Int, outcomes: Int) {
        let e = try db.rows("SELECT count(*) FROM exposures") { $0.int(0) }.first ?? 0
        let o = try db.rows("SELECT count(*) FROM outcomes") { $0.int(0) }.first ?? 0
        return (Int(e), Int(o))
    }
}
