public import RampCore

extension Store {
    /// A store-wide setting, or nil when it was never set.
    public func setting(_ key: String) throws(StoreError) -> String? {
        try db.rows("SELECT value FROM settings WHERE key = ?", [.text(key)]) { $0.text(0) }.first
    }

    /// Every setting, by key.
    public func settings() throws(StoreError) -> [String: String] {
        var all: [String: String] = [:]
        try db.query("SELECT key, value FROM settings") { all[$0.text(0)] = $0.text(1) }
        return all
    }

    /// Sets a setting, or removes it when `value` is nil.
    public func setSetting(_ key: String, _ value: String?) throws(StoreError) {
        if let value {
            try db.query(
                "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [.text(key), .text(value)])
        } else {
            try db.query("DELETE FROM settings WHERE key = ?", [.text(key)])
        }
    }
}

// MARK: - Runtime facts

extension Store {
    /// Facts about ramp's own running (the last tick's time and duration), by key.
    public func runtime() throws(StoreError) -> [String: String] {
        var all: [String: String] = [:]
        try db.query("SELECT key, value FROM runtime") { all[$0.text(0)] = $0.text(1) }
        return all
    }

    /// Sets runtime facts in one transaction of their own.
    public func setRuntime(_ values: [String: String]) throws(StoreError) {
        try immediate { () throws(StoreError) in
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                try db.query(
                    "INSERT INTO runtime(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [.text(key), .text(value)])
            }
        }
    }

    /// How many audit entries there are of each event.
    public func auditEventCounts() throws(StoreError) -> [String: Int64] {
        var counts: [String: Int64] = [:]
        try db.query("SELECT event, count(*) FROM audit GROUP BY event") { counts[$0.text(0)] = $0.int(1) }
        return counts
    }
}
