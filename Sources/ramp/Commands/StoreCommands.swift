import Foundation
import RampCore
import RampEngine

enum StoreCommands {
    static let copy = Command(
        name: "store copy", usage: "store copy --from STORE --to STORE [--json]",
        summary: "Copy a store, its whole audit log included, into a new one, and verify the copy",
        details: """
            Moves a store between files and PostgreSQL databases (ramp.db to postgres://…, or back): every
            row of every table in one transaction on the new store, which must be new or empty. On arrival the
            copy is compared with the source row for row, and its audit log is verified as `ramp audit verify`
            does; exit 6 when verification fails. Stop the ticks that write to the source first: the copy is one
            consistent snapshot of it. A flagd export configured on the source stays its own: configure
            export.flagd again on the copy (ramp refuses to overwrite another store's export).
            --from STORE   the store to copy: a file, or a postgres:// connection string
            --to STORE     the new store; a password goes in ~/.pgpass, PGPASSWORD or RAMP_STORE, never here
            --json         one JSON object: rows per table, and the verification
            """,
        values: ["from", "to"], switches: ["json"]
    ) { context in
        try context.args.expect([])
        guard let from = context.args["from"], !from.isEmpty else {
            throw RampError.badInput("store copy: --from STORE is required")
        }
        guard let to = context.args["to"], !to.isEmpty else {
            throw RampError.badInput("store copy: --to STORE is required")
        }
        try Context.checkStore(from, option: "--from", commandLine: true)
        try Context.checkStore(to, option: "--to", commandLine: true)
        let copy = try Ramp.copyStore(from: from, to: to)
        let shownFrom = ConnectionString.redacted(from)
        let shownTo = ConnectionString.redacted(to)
        if context.json {
            Output.json(
                JSONValue.object([
                    "from": .string(shownFrom), "to": .string(shownTo),
                    "rows": .object(
                        Dictionary(uniqueKeysWithValues: copy.rows.map { ($0.table, .number(Double($0.count))) })),
                    "verified": .bool(copy.verified.ok), "audit_entries": .number(Double(copy.verified.entries)),
                    "problem": copy.verified.problem.map { .string($0) } ?? .null,
                ]).canonical)
        } else {
            let counts = copy.rows.filter { $0.count > 0 }.map { "\($0.count) \($0.table)" }
            Output.print(
                "copied \(shownFrom) to \(shownTo): \(counts.isEmpty ? "no rows" : counts.joined(separator: ", "))")
            if let problem = copy.verified.problem {
                Output.error("store copy: the copy's audit log does not verify: \(problem)")
            } else {
                Output.print(
                    "verified: every row equals the source's; audit log ok: \(copy.verified.entries) entries, chain intact"
                )
            }
        }
        return copy.verified.ok ? ExitCode.ok : ExitCode.auditFailed
    }
}
