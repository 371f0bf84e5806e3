import Foundation
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
                Output.json(entry.json.canonical)
            } else {
                let writer = entry.osUser.map { " (\($0)@\(entry.host ?? "?"))" } ?? ""
                var line = Escape.line("#\(entry.seq) \(entry.actor)\(writer)  ") + Output.transition(entry)
                if case .array(let checks)? = entry.evidence["checks"], !checks.isEmpty {
                    line +=
                        "\n    evidence: "
                        + checks.compactMap(GateCheck.init(json:))
                        .map {
                            Escape.line(
                                "\($0.gate)=\($0.value.map(JSONValue.format) ?? "none") \($0.bound) \($0.outcome.rawValue)"
                            )
                        }
                        .joined(separator: "; ")
                }
                Output.print(line)
            }
        }
        return ExitCode.ok
    }

    static let checkpoint = Command(
        name: "audit checkpoint", usage: "audit checkpoint [--json]",
        summary: "Print the head of the audit log as one JSON line, to publish outside the store",
        details: """
            Prints {"at": TIME, "hash": HASH, "seq": N} for the newest entry (the same line with or without
            --json). Publish it somewhere the store's owner cannot rewrite — a log, a ticket, a webhook — from
            cron; `ramp audit verify --checkpoint FILE` later proves the log still passes through every one.
            Exits 4 while the log is empty.
            """,
        switches: ["json"]
    ) { context in
        try context.args.expect([])
        guard let head = try context.open().auditCheckpoint() else {
            throw RampError.notFound("the audit log is empty: nothing to checkpoint yet")
        }
        Output.json(head.json.canonical)
        return ExitCode.ok
    }

    static let verify = Command(
        name: "audit verify", usage: "audit verify [--checkpoint FILE] [--json]",
        summary: "Recompute the audit hash chain and check the store agrees with it",
        details: """
            Checks the store's integrity, every entry's hash (over its exact stored bytes) and link, and that the
            chain ends at the recorded head (so removed entries are noticed); then replays the log into what is
            served — flags, rollouts, settings, plan texts against their digests — and compares the store field by
            field, and re-runs the state machine on every transition a tick made. Exits 6 naming the first problem
            (an entry, a flag, a rollout, a plan or a setting).
            --checkpoint FILE   lines printed by `ramp audit checkpoint`: the chain must still pass through each
                                (entry N with exactly that hash and time), so a consistent rewrite of the whole log
                                before the newest checkpoint is caught. See docs/audit.md.
            """,
        values: ["checkpoint"], switches: ["json"]
    ) { context in
        try context.args.expect([])
        var checkpoints: [AuditCheckpoint] = []
        let file = context.args["checkpoint"]
        if let file {
            guard FileManager.default.fileExists(atPath: file) else {
                throw RampError.badInput("--checkpoint: \(file): no such file")
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RampError.badInput("--checkpoint: \(file): cannot be read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw RampError.badInput("--checkpoint: \(file): not UTF-8 text")
            }
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.allSatisfy(\.isWhitespace) {
                do throws(RampError) {
                    checkpoints.append(try AuditCheckpoint(line: String(line)))
                } catch {
                    throw RampError.badInput("\(file): line \(i + 1): \(error.description)")
                }
            }
            // A file that names no head checks nothing: a publishing job that wrote nothing is a fault to see.
            if checkpoints.isEmpty { throw RampError.badInput("--checkpoint: \(file) holds no checkpoint") }
        }
        let report = try context.open().verifyAudit(checkpoints: checkpoints)
        if context.json {
            var object: [String: JSONValue] = [
                "ok": .bool(report.ok), "entries": .number(Double(report.entries)),
                "problem": report.problem.map { .string($0) } ?? .null,
            ]
            if file != nil { object["checkpoints"] = .number(Double(checkpoints.count)) }
            Output.json(JSONValue.object(object).canonical)
        } else if let problem = report.problem {
            Output.error("audit verify failed: \(problem)")
        } else {
            let through =
                file == nil
                ? "" : ", passes through \(checkpoints.count) checkpoint\(checkpoints.count == 1 ? "" : "s")"
            Output.print("audit log ok: \(report.entries) entries, chain intact, store agrees with it\(through)")
        }
        return report.ok ? ExitCode.ok : ExitCode.auditFailed
    }
}
