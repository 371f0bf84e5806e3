public import RampCore
import RampStore

extension Ramp {
    /// The flags of a flagd flag file `file` holds as `text`, or the one line saying what ramp cannot represent.
    public static func readFlagd(_ text: String, file: String) throws(RampError) -> [Flag] {
        do {
            return try FlagdImport.flags(from: text)
        } catch {
            throw .badInput("\(Escape.line(file)): \(error)")
        }
    }

    /// Brings the flags of a flagd flag file (`readFlagd`) under ramp: all of them or, when one's key is taken,
    /// none. Each gets an `import` audit entry with its whole definition, which `audit verify` replays.
    public func importFlagd(_ flags: [Flag], file: String, actor: String, reason: String?, now: Instant)
        throws(RampError) -> [(flag: Flag, entry: AuditEntry)]
    {
        let imported = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<[(flag: Flag, entry: AuditEntry)], RampError> in
                for flag in flags where try store.flag(flag.key) != nil {
                    return .failure(
                        .conflict(
                            "flag \"\(flag.key)\" is already in the store: ramp import brings in new flags only "
                                + "(nothing was imported)"))
                }
                var imported: [(flag: Flag, entry: AuditEntry)] = []
                for flag in flags {
                    try store.insertFlag(flag, now: now)
                    let entry = try store.appendAudit(
                        AuditEntry(
                            seq: 0, at: now, actor: actor, rollout: nil, flag: flag.key, event: .known(.import),
                            fromState: nil, toState: nil, fromPercent: nil, toPercent: flag.servedPercent,
                            reason: reason ?? "imported from \(file)",
                            evidence: ["file": .string(file), "flag": FlagdImport.definition(flag)], planDigest: nil))
                    imported.append((flag, entry))
                }
                return .success(imported)
            }
        }.get()
        exportAfterCommit()
        return imported
    }
}
