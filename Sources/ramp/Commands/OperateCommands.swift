import RampCore
import RampEngine

/// The operator verbs: pause, resume, approve, promote, abort, kill, unkill.
enum OperateCommands {
    static let pause = verb(
        "pause", .pause, "Pause the flag's rollout (gates keep guarding it)",
        "A paused rollout never advances; a failing gate still rolls it back. ramp resume continues it.")
    static let resume = verb(
        "resume", .resume, "Resume a paused rollout where it was",
        "Bake time counts from when the step was entered, including the pause.")
    static let approve = verb(
        "approve", .approve, "Approve a step that waits for approval: advance to the next",
        "Only for a rollout awaiting approval (its step's bake passed with passing gates).")
    static let abort = verb(
        "abort", .abort, "Roll the flag's rollout back: canary to 0%",
        "Ends the rollout as rolled_back; everyone gets the baseline.")
    static let promote = Command(
        name: "promote", usage: "promote FLAG [--full] [--actor NAME] [--reason TEXT] [--json]",
        summary: "Move the rollout to its next step now, or with --full complete it at its last step",
        details:
            "Skips the bake and gates of the current step: the operator takes responsibility, and the audit log says so.",
        values: ["actor", "reason"], switches: ["json", "full"]
    ) { context in
        try apply(.promote(full: context.args.flag("full")), context)
    }

    static let kill = killSwitch(
        on: true, "Kill switch: everyone gets the baseline now; an active rollout is rolled back",
        "The flag serves its baseline until ramp unkill. Killing a killed flag changes nothing (exit 0).")
    static let unkill = killSwitch(
        on: false, "Release the kill switch: the flag serves its stored share again",
        "A rollout that the kill rolled back stays rolled back: submit a plan to try again.")

    private static func killSwitch(on: Bool, _ summary: String, _ details: String) -> Command {
        let name = on ? "kill" : "unkill"
        return Command(
            name: name, usage: "\(name) FLAG [--actor NAME] [--reason TEXT] [--json]", summary: summary,
            details: details, values: ["actor", "reason"], switches: ["json"]
        ) { context in
            try context.args.expect(["flag"])
            let flag = context.args.positionals[0]
            let ramp = try context.open()
            let (actor, reason, now) = (context.actor, context.reason, try context.now())
            let entry =
                on
                ? try ramp.kill(flag: flag, actor: actor, reason: reason, now: now)
                : try ramp.unkill(flag: flag, actor: actor, reason: reason, now: now)
            print(entry, otherwise: "\(flag) is \(on ? "already killed" : "not killed"); nothing changed", context)
            return ExitCode.ok
        }
    }

    private static func verb(_ name: String, _ command: OperatorCommand, _ summary: String, _ details: String)
        -> Command
    {
        Command(
            name: name, usage: "\(name) FLAG [--actor NAME] [--reason TEXT] [--json]", summary: summary,
            details: details + " Exits 5 when the rollout's state does not allow it.",
            values: ["actor", "reason"], switches: ["json"]
        ) { context in try apply(command, context) }
    }

    private static func apply(_ command: OperatorCommand, _ context: Context) throws -> Int32 {
        try context.args.expect(["flag"])
        let entry = try context.open().command(
            command, flag: context.args.positionals[0], actor: context.actor, reason: context.reason,
            now: try context.now())
        print(entry, otherwise: "", context)
        return ExitCode.ok
    }

    private static func print(_ entry: AuditEntry?, otherwise: String, _ context: Context) {
        guard let entry else {
            Output.print(context.json ? "null" : otherwise)
            return
        }
        Output.print(context.json ? entry.json.canonical : Output.transition(entry))
    }
}
