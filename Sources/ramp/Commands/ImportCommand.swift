import RampCore
import RampEngine

enum ImportCommand {
    static let command = Command(
        name: "import", usage: "import --format flagd FILE [--actor NAME] [--reason TEXT] [--json]",
        summary: "Bring the flags of a flagd flag-definition file under ramp",
        details: """
            --format flagd  a flagd flag-definition file (https://flagd.dev/reference/flag-definitions/): each flag
                            keeps its variants (any number, any JSON values), its defaultVariant (ramp's baseline),
                            its state (DISABLED is ramp disable) and its metadata, with the file's own metadata
                            beneath the flag's. Its targeting becomes one rule that chooses the variant itself
                            ({"choose": …}), with every $ref replaced by its $evaluators entry, so ramp eval and
                            ramp export answer as flagd does for the file.
            --json          one JSON audit entry per imported flag

            Creates the store if needed. All or nothing: a flag ramp cannot represent (a key ramp cannot hold, no
            defaultVariant, targeting ramp cannot evaluate, a $ref to no evaluator, metadata named ramp…) or whose
            key the store already has is refused with one line naming it (exit 3, or 5 for a key taken), and
            nothing is imported.
            Each flag imported gets an audit entry with its whole definition. A plan submitted for an imported flag
            later names its canary and baseline among the flag's variants.
            """,
        values: ["format", "actor", "reason"], switches: ["json"]
    ) { context in
        try context.args.expect(["file"])
        guard let format = context.args["format"] else {
            throw Arguments.UsageError(description: "missing --format flagd")
        }
        guard format == "flagd" else {
            throw Arguments.UsageError(
                description: "--format: \"\(Escape.line(format))\" is not a known format (flagd)")
        }
        let file = context.args.positionals[0]
        let text = try PlanFile.read(file)
        // Refuse a file ramp cannot represent before creating any store.
        let flags = try Ramp.readFlagd(text, file: file)
        try context.checkStoreArgument()
        let now = try context.now()
        let ramp = try context.open(create: true)
        let imported = try ramp.importFlagd(
            flags, file: file, actor: context.actor, reason: context.reason, now: now)
        if context.json {
            for (_, entry) in imported { Output.json(entry.json.canonical) }
        } else {
            Output.lines(
                imported.map { flag, _ in
                    "imported \(flag.key): \(flag.variants.count) variant\(flag.variants.count == 1 ? "" : "s"), "
                        + "default \(Escape.line(flag.baseline))"
                        + (flag.rules.isEmpty ? "" : ", with targeting") + (flag.disabled ? ", disabled" : "")
                })
        }
        return ExitCode.ok
    }
}
