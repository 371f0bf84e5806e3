import Foundation
import RampCore
import RampStore

/// What `Ramp.copyStore` did: rows per table, and the target's audit verification.
public struct StoreCopy: Sendable {
    public var rows: [(table: String, count: Int)]
    public var verified: AuditReport
}

extension Ramp {
    /// Copies the store at `source` into a new store at `target` (either may be a file or a `postgres://`
    /// connection string): every row of every table, in one transaction on the target, compared row for row with
    /// the source, and then the target's audit log is verified as `audit verify` does. The target must be new or
    /// empty. A new SQLite file is removed again when the copy fails.
    public static func copyStore(from source: String, to target: String) throws(RampError) -> StoreCopy {
        let sameFile =
            !ConnectionString.isPostgres(source) && !ConnectionString.isPostgres(target)
            && URL(fileURLWithPath: source).standardizedFileURL.resolvingSymlinksInPath().path
                == URL(fileURLWithPath: target).standardizedFileURL.resolvingSymlinksInPath().path
        if sameFile || source == target { throw .badInput("store copy: --from and --to name the same store") }
        let from: Store
        do {
            from = try Store(path: source, create: false)
        } catch .missing {
            throw .notFound("store copy: --from \(ConnectionString.redacted(source)): no store there")
        } catch {
            throw .store(error)
        }
        // What the target was, so that a failed copy leaves it so: no file, an empty file, or a database without
        // a ramp schema.
        let postgres = ConnectionString.isPostgres(target)
        let newFile = !postgres && !FileManager.default.fileExists(atPath: target)
        let emptyFile =
            !postgres && !newFile
            && ((try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? -1) == 0
        var freshDatabase = false
        if postgres {
            do {
                _ = try Store(path: target, create: false)
            } catch .missing {
                freshDatabase = true
            } catch {}
        }
        if !newFile, let existing = try? Store(path: target, create: false), (try? existing.rowCount()) ?? 0 > 0 {
            throw .conflict(
                "store copy: \(existing.path) already holds a store; a store is copied only into a new, empty one")
        }
        do {
            let to = try Store(path: target, create: true)
            let summary = try Store.copy(from: from, to: to)
            let report = try Ramp(storePath: target, create: false).verifyAudit()
            return StoreCopy(rows: summary.rows, verified: report)
        } catch {
            if newFile || emptyFile {
                for suffix in ["-wal", "-shm", "-journal"] {
                    try? FileManager.default.removeItem(atPath: target + suffix)
                }
                if newFile {
                    try? FileManager.default.removeItem(atPath: target)
                } else {
                    _ = truncate(target, 0)
                }
            }
            if freshDatabase { try? Store(path: target, create: false).dropEmptySchema() }
            if let error = error as? StoreError { throw .store(error) }
            if let error = error as? RampError { throw error }
            throw .system("store copy: \(error)")
        }
    }
}
