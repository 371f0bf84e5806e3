import RampCore
import RampEngine

enum SubmitCommand {
    static let command = Command(
        name: "submit", usage: "submit FILE [--actor NAME] [--reason TEXT] [--json]",
        summary: "Validate a plan and start a pending rollout of its flag",
        details: """
            Creates the store if needed and the flag if it is new (with the plan's variants). The rollout starts on
            the next tick. Refused (exit 5) while the flag has an active rollout or is killed. The plan is kept
            verbatim under its SHA-256 digest; relative command paths in it resolve against the plan's folder.
            """,
        values: ["actor", "reason"], switches: ["json"]
    ) { context in
        try context.args.expect(["file"])
        let file = context.args.positionals[0]
        let text = try PlanFile.read(file)
        _ = try Ramp.validate(text, file: file)  // refuse a bad plan before creating any store
        let ramp = try context.open(create: true)
        let submission = try ramp.submit(
            text: text, file: file, baseDir: PlanFile.baseDir(file), actor: context.actor, reason: context.reason,
            now: try context.now())
        if context.json {
            Output.print(submission.entry.json.canonical)
        } else {
            Output.print(
                "submitted \(file): rollout #\(submission.rolloutID) of \(submission.plan.flag) is pending"
                    + (submission.createdFlag ? " (new flag)" : "") + "; the next tick starts it")
            Output.print("  \(PlanFile.summary(submission.plan))")
        }
        return ExitCode.ok
    }
}
