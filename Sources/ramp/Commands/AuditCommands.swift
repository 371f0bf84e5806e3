import RampCore
import RampEngine

enum AuditCommands {
    static let log = Command(
        name: "audit log", usage: "audit log [--flag FLAG] [--since TIME|DURATION] [--json]",
        summary: "Print the audit log, oldest first",
        details: """
            Every transition: sequence, UTC time, actor, flag, event, states, shares, reason and evidence.
            --since takes a time (2026-01-01T00:00:00Z) or a duration back from now (2h). --json prints JSON lines
            with the entries' hashes.
            """,
        values: ["flag", "since"], switches: ["json"]
    ) { context in
        try context.args.expect([])
        var since: Instant?
        if let text = context.args["since"] {
            if let instant = Instant(rfc3339: text) {
                since = instant
            } else if let span = TimeSpan(parsing: text) {
                since = Instant(seconds: try context.now().seconds - span.seconds)
            } else {
                throw RampError.badInput("--since: \"\(text)\" is neither a time nor a duration")
            }
        }
        let ramp = try context.open()
        if let flag = context.args["flag"] { _ = try ramp.requireFlag(flag) }
        try ramp.auditLog(flag: context.args["flag"], since: since) { entry in
            if context.json {
                Output.print(entry.json.canonical)
            } else {
                var line = "#\(entry.seq) \(entry.actor)  " + Output.transition(entry)
                if case .array(let checks)? = entry.evidence["checks"], !checks.isEmpty {
                    line +=
                        "\n    evidence: "
                        + checks.compactMap(GateCheck.init(json:))
                        .map {
                            "\($0.gate)=\($0.value.map(JSONValue.format) ?? "none") \($0.bound) \($0.outcome.rawValue)"
                        }
                        .joined(separator: "; ")
                }
                Output.print(line)
            }
        }
        return ExitCode.ok
    }

    static let verify = Command(
        name: "audit verify", usage: "audit verify [--json]",
        summary: "Recompute the audit hash chain and check the store agrees with it",
        details: """
            Checks the store's integrity, every entry's hash and link, that the chain ends at the recorded head
            (so removed entries are noticed), and that each rollout's state and flag's share equal what its last
            entry says. Exits 6 naming the first bad entry.
            """,
        switches: ["json"]
    ) { context in
        try context.args.expect([])
        let report = try context.open().verifyAudit()
        if context.json {
            Output.print(
                JSONValue.object([
                    "ok": .bool(report.ok), "entries": .number(Double(report.entries)),
                    "problem": report.problem.map { .string($0) } ?? .null,
                ]).canonical)
        } else if let problem = report.problem {
            Output.error("audit verify failed: \(problem)")
        } else {
            Output.print("audit log ok: \(report.entries) entries, chain intact, store agrees with it")
        }
        return report.ok ? ExitCode.ok : ExitCode.auditFailed
    }
}
