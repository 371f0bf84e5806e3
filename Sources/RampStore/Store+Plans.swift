public import RampCore

extension Store {
    public func plan(digest: String) throws(StoreError) -> StoredPlan? {
        try db.rows(
            "SELECT digest, flag, file, base_dir, body, submitted_at FROM plans WHERE digest = ?", [.text(digest)]
        ) { row in
            StoredPlan(
                digest: row.text(0), flag: row.text(1), file: row.text(2), baseDir: row.text(3), body: row.text(4),
                submittedAt: Instant(seconds: row.int(5)))
        }.first
    }

    /// Every stored plan, one at a time (none kept).
    public func plans(each: (StoredPlan) throws(StoreError) -> Void) throws(StoreError) {
        try db.query("SELECT digest, flag, file, base_dir, body, submitted_at FROM plans ORDER BY digest") {
            (row) throws(StoreError) in
            try each(
                StoredPlan(
                    digest: row.text(0), flag: row.text(1), file: row.text(2), baseDir: row.text(3),
                    body: row.text(4), submittedAt: Instant(seconds: row.int(5))))
        }
    }

    /// Stores a plan verbatim; the same text submitted again is kept once.
    public func insertPlan(_ plan: StoredPlan) throws(StoreError) {
        try db.query(
            """
            INSERT INTO plans(digest, flag, file, base_dir, body, submitted_at) VALUES (?,?,?,?,?,?)
                ON CONFLICT(digest) DO NOTHING
            """,
            [
                .text(plan.digest), .text(plan.flag), .text(plan.file), .text(plan.baseDir), .text(plan.body),
                .int(plan.submittedAt.seconds),
            ])
    }
}
