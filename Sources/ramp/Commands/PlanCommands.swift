import Foundation
import RampCore
import RampEngine

enum PlanCommands {
    static let validate = Command(
        name: "plan validate", usage: "plan validate FILE...",
        summary: "Check rollout plans without touching the store",
        details: """
            Parses and validates each plan: JSON syntax, unknown fields, types, strictly increasing steps, gate
            sources. Prints one line per plan; exits 3 at the first invalid one, naming the file and field.
            """,
        switches: ["json"]
    ) { context in
        guard !context.args.positionals.isEmpty else { throw Arguments.UsageError(description: "missing FILE") }
        for file in context.args.positionals {
            let plan = try Ramp.validate(try PlanFile.read(file), file: file)
            if context.json {
                Output.print(
                    JSONValue.object(["file": .string(file), "valid": true, "flag": .string(plan.flag)]).canonical)
            } else {
                Output.print("\(file): ok — \(PlanFile.summary(plan))")
            }
        }
        return ExitCode.ok
    }
}

/// Reading plan files and describing plans.
enum PlanFile {
    static func read(_ file: String) throws(RampError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            let reason = FileManager.default.fileExists(atPath: file) ? "cannot read it" : "no such file"
            throw .invalid(PlanError(file: file, path: "", message: reason))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalid(PlanError(file: file, path: "", message: "is not UTF-8 text"))
        }
        return text
    }

    /// The absolute folder of a plan file: relative command paths in the plan resolve against it.
    static func baseDir(_ file: String) -> String {
        URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
    }

    static func summary(_ plan: Plan) -> String {
        let steps = plan.steps.map { $0.target + ($0.approval ? " (approval)" : "") }
        let gates = plan.gates.count == 1 ? "1 gate" : "\(plan.gates.count) gates"
        return "flag \(plan.flag), \(plan.canary) over \(plan.baseline): \(steps.joined(separator: " → ")), \(gates)"
    }
}
