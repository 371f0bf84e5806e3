import RampCore
import RampEngine

enum ExportCommand {
    static let command = Command(
        name: "export", usage: "export --format flagd [--out FILE]",
        summary: "Write every flag as a flagd flag-definition file that OpenFeature SDKs read",
        details: """
            --format flagd  the flagd flag-definition format (https://flagd.dev/schema/v0/flags.json): each flag's
                            variants, its baseline as defaultVariant, and a fractional split (canary first) that
                            a flagd provider evaluates exactly as ramp eval does. A killed flag serves its baseline.
            --out FILE      write the file atomically (temporary file, fsync, rename) instead of printing it
            """,
        values: ["format", "out"]
    ) { context in
        try context.args.expect([])
        guard let format = context.args["format"] else {
            throw Arguments.UsageError(description: "missing --format flagd")
        }
        guard format == "flagd" else {
            throw Arguments.UsageError(description: "--format: \"\(format)\" is not a known format (flagd)")
        }
        let document = try context.open().flagdDocument()
        if let out = context.args["out"] {
            if let problem = Ramp.outputProblem(out) { throw RampError.badInput("--out: \(out) \(problem)") }
            try Ramp.writeAtomically(document, to: out)
        } else {
            Output.print(String(document.dropLast()))
        }
        return ExitCode.ok
    }
}
