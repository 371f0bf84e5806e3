import RampCore
import RampEngine

enum ReportCommand {
    static let command = Command(
        name: "report", usage: "report FLAG [--rollout N] [--out FILE]",
        summary: "Write a flag's rollouts as one self-contained HTML report (timeline, gates, audit, plan)",
        details: """
            One HTML file with inline CSS and SVG: nothing is fetched, it opens offline and prints. For each
            rollout of FLAG (or only rollout N): the canary's share over time with each of the rollout's audit
            entries marked (event; actor and reason on hover), each gate's values over time against its bound
            coloured by outcome, the rollout's audit entries with the log's verification, and the plan. The store is only read.
            --out FILE   write it there (atomically) instead of printing it
            """,
        values: ["rollout", "out"]
    ) { context in
        guard context.args.positionals.count == 1 else {
            throw Arguments.UsageError(description: "expected one FLAG")
        }
        var rollout: Int64?
        if let text = context.args["rollout"] {
            guard let n = Int64(text), n > 0 else {
                throw RampError.badInput("--rollout: \"\(Escape.line(text))\" is not a rollout number")
            }
            rollout = n
        }
        let ramp = try context.open()
        let input = try ramp.reportInput(flag: context.args.positionals[0], rollout: rollout, now: try context.now())
        let html = RolloutReport.html(input)
        if let out = context.args["out"] {
            if let problem = Ramp.outputProblem(out) { throw RampError.badInput("--out: \(out) \(problem)") }
            try Ramp.writeAtomically(html, to: out)
        } else {
            Output.raw(html, newline: false)
        }
        return ExitCode.ok
    }
}
