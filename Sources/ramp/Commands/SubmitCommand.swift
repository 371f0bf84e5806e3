import Foundation
import RampCore
import RampEngine

enum SubmitCommand {
    static let command = Command(
        name: "submit", usage: "submit FILE [--restart] [--actor NAME] [--reason TEXT] [--json]",
        summary: "Validate a plan and start a pending rollout of its flag (or start an experiment or bandit)",
        details: """
            Creates the store if needed (and says so, with its path) and the flag if it is new (with the plan's
            variants). The next tick starts the rollout, from 0%, unless a gate fails or cannot be read (then it
            waits, and each tick says why). Refused (exit 5) while the flag has an active
            rollout, is killed or disabled, or serves its canary to anyone (a completed rollout at 100%): a new
            plan would take the canary from them; and, for a flag with base weights, when the plan's weights,
            canary or baseline would move users between variants.
            --restart   start a flag that serves its canary, or is killed or disabled, over from 0% (the audit
                        entry records "restart": true when it takes the canary from users, and "released" for a
                        kill switch or disabled state it lets go: no one is on the canary when it does), or
                        reallocate a weighted flag's users (the entry records "reallocated": the variants whose
                        share changed)
            Warns (on stderr) about a command that does not exist or is not executable and a credential variable
            that is not set here. The plan is kept verbatim under its SHA-256 digest; relative command paths in it
            resolve against the plan's folder.
            A rollout plan is also refused (exit 5) while the flag serves an experiment's split: ship a variant
            (ramp experiment ship FLAG VARIANT --rollout FILE) or stop the experiment first.
            An experiment or bandit plan ("kind": "experiment" or "bandit"; see docs/experiments.md) starts at once:
            the flag serves the plan's split and an experiment_start entry records it. Refused (exit 5) while the
            flag has an active rollout, a running experiment, targeting rules, a canary share or base weights, is
            killed or disabled, or when the plan's layer range overlaps that of an experiment in the same layer
            that still serves its split; --restart is for rollout plans only (exit 2 with an experiment plan).
            """,
        values: ["actor", "reason"], switches: ["json", "restart"]
    ) { context in
        try context.args.expect(["file"])
        let file = context.args.positionals[0]
        let text = try PlanFile.read(file)
        if Ramp.isExperimentPlan(text) {
            if context.args.flag("restart") {
                throw Arguments.UsageError(description: "--restart is for rollout plans; \(file) is an experiment plan")
            }
            return try ExperimentCommands.start(context, file: file, text: text)
        }
        let plan = try Ramp.validate(text, file: file)  // refuse a bad plan before creating any store
        try context.checkStoreArgument()
        if !Context.exists(context.storePath) {
            try Ramp.checkNewFlag(plan, file: file)  // and what a new flag needs, before the store exists
        }
        let now = try context.now()
        let ramp = try context.open(create: true)
        let submission = try ramp.submit(
            text: text, file: file, baseDir: PlanFile.baseDir(file), actor: context.actor, reason: context.reason,
            now: now, restart: context.args.flag("restart"))
        for warning in Ramp.warnings(for: plan, baseDir: PlanFile.baseDir(file)) {
            Output.error("warning: \(file): \(warning)")
        }
        if context.json {
            Output.json(submission.entry.json.canonical)
        } else {
            Output.lines([
                "submitted \(file): rollout #\(submission.rolloutID) of \(submission.plan.flag) is pending"
                    + (submission.createdFlag ? " (new flag)" : "")
                    + "; the next tick starts it unless a gate fails or cannot be read",
                "  \(PlanFile.summary(submission.plan))",
            ])
        }
        return ExitCode.ok
    }
}
