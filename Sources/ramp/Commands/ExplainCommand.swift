import RampCore
import RampEngine

enum ExplainCommand {
    static let command = Command(
        name: "explain", usage: "explain FLAG [--json]",
        summary: "Say why a flag's rollout is where it is: last decision, and gate by gate why",
        details: """
            Shows the rollout's state, the last decision of a tick (a hold's reason, or the transition), when the
            step's max_hold acts if it is still held, the audit entry that last moved it, and for every gate its latest check: the query after templating, the value
            (and the baseline's, for a relative gate), the bound, the outcome with how many checks in a row it has
            had it, and the source's message.
            """,
        switches: ["json"]
    ) { context in
        try context.args.expect(["flag"])
        let explanation = try context.open().explain(flag: context.args.positionals[0], now: try context.now())
        if context.json {
            Output.json(explanation.json.canonical)
            return ExitCode.ok
        }
        let status = explanation.status
        var lines = [StatusCommand.render(status).split(separator: "\n").first.map(String.init) ?? ""]
        if let check = status.lastCheck {
            lines.append("last decision at \(check.checkedAt): \(check.reason)")
        }
        if let at = status.maxHoldAt, let plan = status.plan {
            lines.append(
                "max_hold: \(plan.effectiveMaxHold.then.rawValue) at \(at) if this step is still held (\(PlanFile.maxHold(plan)))"
            )
        }
        if let entry = explanation.lastTransition {
            lines.append("last transition: #\(entry.seq) " + Output.transition(entry) + " by \(entry.actor)")
        }
        for (gate, latest) in explanation.checks {
            let c = latest.check
            var line = "gate \(gate.name)\(gate.shadow ? " (shadow: recorded, never acts)" : ""): \(c.outcomeWords)"
            if c.outcome == .fail && gate.failureLimit > 1 { line += " (\(c.streak) of \(gate.failureLimit) allowed)" }
            lines.append(line)
            lines.append("    \(c.message)")
            var facts = ["source \(c.source)", "bound \(c.bound)", "checked \(latest.checkedAt)"]
            if let seconds = c.seconds { facts.append("took \(JSONValue.format((seconds * 1000).rounded()))ms") }
            lines.append("    " + facts.joined(separator: ", "))
            if let query = c.query { lines.append("    query: \(query)") }
        }
        if explanation.checks.isEmpty, status.plan?.gates.isEmpty == false {
            lines.append("no gate has been checked yet")
        }
        Output.lines(lines)
        return ExitCode.ok
    }
}
