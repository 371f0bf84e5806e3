import RampCore
import RampEngine

/// The operator verbs: pause, resume, approve, promote, abort, kill, unkill, disable, enable.
enum OperateCommands {
    static let pause = verb(
        "pause", .pause, "Pause the flag's rollout (gates keep guarding it)",
        "A paused rollout never advances; a failing gate still rolls it back. ramp resume continues it.")
    static let resume = verb(
        "resume", .resume, "Resume a paused rollout where it was",
        "Bake time counts from when the step was entered, including an operator's pause (the share was served), "
            + "but not time the flag spent disabled.")
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

    static let kill = switchCommand(
        "kill", "Kill switch: everyone gets the baseline now; an active rollout is rolled back",
        "The flag serves its baseline until ramp unkill. Killing a killed flag changes nothing (exit 0).",
        unchanged: "already killed", Ramp.kill)
    static let unkill = switchCommand(
        "unkill", "Release the kill switch: the flag serves its stored share again",
        "A rollout that the kill rolled back stays rolled back: submit a plan to try again.",
        unchanged: "not killed", Ramp.unkill)
    static let disable = switchCommand(
        "disable", "Disable the flag: applications get no variant (flagd state DISABLED) and use their own default",
        "An active rollout is paused and cannot resume, be approved or promoted until ramp enable. "
            + "ramp eval answers DISABLED; the flagd export has state DISABLED.",
        unchanged: "already disabled", Ramp.disable)
    static let enable = switchCommand(
        "enable", "Enable a disabled flag: it serves its stored share again",
        "A rollout that disable paused stays paused: ramp resume continues it.",
        unchanged: "not disabled", Ramp.enable)

    private static func switchCommand(
        _ name: String, _ summary: String, _ details: String, unchanged: String,
        _ apply: @escaping @Sendable (Ramp) -> (String, String, String?, Instant) throws(RampError) -> AuditEntry?
    ) -> Command {
        Command(
            name: name, usage: "\(name) FLAG [--actor NAME] [--reason TEXT] [--json]", summary: summary,
            details: details, values: ["actor", "reason"], switches: ["json"]
        ) { context in
            try context.args.expect(["flag"])
            let flag = context.args.positionals[0]
            let ramp = try context.open()
            let (actor, reason, now) = (context.actor, context.reason, try context.now())
            let entry = try apply(ramp)(flag, actor, reason, now)
            print(entry, otherwise: "\(flag) is \(unchanged); nothing changed", context)
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
        if context.json { Output.json(entry.json.canonical) } else { Output.print(Output.transition(entry)) }
    }
}
