import Foundation
import RampCore
import RampEngine

enum EvalCommand {
    static let command = Command(
        name: "eval",
        usage: "eval FLAG (--key KEY [--context JSON] | --context JSON | --keys - | --contexts -) [--type T] [--json]",
        summary: "Print the variant, value and reason a flag serves, as a flagd provider would",
        details: """
            --key KEY       the targeting key: prints VARIANT<TAB>VALUE<TAB>REASON
            --context JSON  the evaluation context for targeting rules, e.g. '{"email": "ana@example.com"}';
                            it may carry the targetingKey itself
            --keys -        targeting keys from standard input, one per line: prints KEY<TAB>VARIANT<TAB>VALUE<TAB>REASON
            --contexts -    contexts from standard input, one JSON object per line (with its targetingKey): same
                            output; a line that is not a JSON object gets ERROR PARSE_ERROR and the rest go on
            --type T        boolean, string, number or object: a value of another type is ERROR TYPE_MISMATCH
            --json          one JSON object per evaluation: flag, key, value, variant, reason, errorCode, errorMessage,
                            and metadata when the flag has any (from its plan, as flagd's flagMetadata)

            Reasons are flagd's: STATIC (no targeting), TARGETING_MATCH (a rule, a segment or the split chose),
            DEFAULT (targeting that did not apply: the baseline), DISABLED (ramp disable: no variant and no value,
            the application uses its own default), ERROR with FLAG_NOT_FOUND, PARSE_ERROR,
            TYPE_MISMATCH or GENERAL. In batch output an error adds a column with its code; a single evaluation
            that fails prints its message on standard error (and its JSON result with --json). Bucketing is flagd's fractional with
            the store's generation (ramp config bucketing): a key keeps the canary as the share grows.
            Exit codes for one evaluation: 4 FLAG_NOT_FOUND, 3 PARSE_ERROR or TYPE_MISMATCH, 1 GENERAL.
            """,
        values: ["key", "keys", "context", "contexts", "type"], switches: ["json"]
    ) { context in
        try context.args.expect(["flag"])
        let flagKey = context.args.positionals[0]
        let batch = context.args["keys"] ?? context.args["contexts"]
        let single = context.args["key"] ?? context.args["context"]
        guard (single == nil) != (batch == nil), context.args["keys"] == nil || context.args["contexts"] == nil else {
            throw Arguments.UsageError(
                description: "give --key KEY (and --context), or one of --keys - and --contexts -")
        }
        if let batch, batch != "-" {
            throw Arguments.UsageError(description: "--keys and --contexts take - (standard input)")
        }
        var type: Resolution.ValueType?
        if let name = context.args["type"] {
            guard let known = Resolution.ValueType(rawValue: name) else {
                throw Arguments.UsageError(description: "--type: \"\(name)\" is not boolean, string, number or object")
            }
            type = known
        }
        let ramp = try context.open()
        let compiled = try ramp.compiledFlag(flagKey)
        let bucketing = try ramp.bucketing()
        let timestamp = try context.now().seconds
        func resolve(_ evaluation: EvaluationContext) -> Resolution {
            guard let compiled else { return .error(.flagNotFound, "unknown flag \"\(flagKey)\"") }
            return compiled.resolve(evaluation, timestamp: timestamp, bucketing: bucketing).expecting(type)
        }
        func line(_ key: String?, _ result: Resolution, batch: Bool) -> String {
            if context.json {
                var object = result.json.objectValue ?? [:]
                object["flag"] = .string(flagKey)
                object["key"] = key.map(JSONValue.string) ?? .null
                if let metadata = compiled?.flag.metadata, !metadata.isEmpty { object["metadata"] = .object(metadata) }
                return JSONValue.object(object).canonical
            }
            var columns = [result.variant ?? "", result.value?.canonical ?? "null", result.reason.rawValue]
            if let code = result.errorCode { columns.append(code.rawValue) }
            if batch { columns.insert(key ?? "", at: 0) }
            return columns.joined(separator: "\t")
        }

        if single != nil {
            var evaluation = EvaluationContext()
            if let text = context.args["context"] {
                do {
                    evaluation = try EvaluationContext(json: try JSONParser.parse(text))
                } catch {
                    throw RampError.badInput("--context: \(error)")
                }
            }
            if let key = context.args["key"] {
                evaluation.targetingKey = key
                evaluation.otherTargetingKey = nil
            }
            let result = resolve(evaluation)
            // An error is one line on standard error (and the JSON result with --json), as for any bad input.
            if let code = result.errorCode { Output.error(result.errorMessage ?? code.rawValue) }
            if result.errorCode == nil || context.json {
                let text = line(evaluation.targetingKey, result, batch: false)
                if context.json { Output.json(text) } else { Output.print(text) }
            }
            switch result.errorCode {
            case nil: return ExitCode.ok
            case .flagNotFound?: return ExitCode.notFound
            case .parseError?, .typeMismatch?: return ExitCode.invalid
            case .general?: return ExitCode.failure
            }
        }
        let contexts = context.args["contexts"] != nil
        // A key from standard input is echoed: a control character in it is escaped, never sent to the terminal.
        func safe(_ text: String) -> String {
            context.json ? Output.jsonSafe(text) : Escape.line(text, keepingTabs: true)
        }
        var out = ""
        try InputLines.read { _, read in
            guard let text = read else {
                out += safe(line(nil, .error(.parseError, "not valid UTF-8"), batch: true)) + "\n"
                return
            }
            if contexts {
                do {
                    let evaluation = try EvaluationContext(json: try JSONParser.parse(text))
                    out += safe(line(evaluation.targetingKey, resolve(evaluation), batch: true)) + "\n"
                } catch {
                    out +=
                        safe(line(nil, .error(.parseError, "not an evaluation context: \(error)"), batch: true)) + "\n"
                }
            } else {
                out += safe(line(text, resolve(EvaluationContext(targetingKey: text)), batch: true)) + "\n"
            }
            if out.utf8.count > 65_536 {
                FileHandle.standardOutput.write(Data(out.utf8))
                out = ""
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        return compiled == nil ? ExitCode.notFound : ExitCode.ok
    }
}
