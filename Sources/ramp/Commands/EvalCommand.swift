import Foundation
import RampCore
import RampEngine

enum EvalCommand {
    static let command = Command(
        name: "eval", usage: "eval FLAG (--key KEY | --keys -) [--json]",
        summary: "Print the variant and value a flag serves to targeting keys",
        details: """
            --key KEY   one targeting key: prints VARIANT<TAB>VALUE
            --keys -    keys from standard input, one per line: prints KEY<TAB>VARIANT<TAB>VALUE per key
            --json      one JSON object per key instead
            Bucketing is flagd's fractional: the same key keeps the canary as the share grows.
            """,
        values: ["key", "keys"], switches: ["json"]
    ) { context in
        try context.args.expect(["flag"])
        let flagKey = context.args.positionals[0]
        let single = context.args["key"]
        let batch = context.args["keys"]
        guard (single == nil) != (batch == nil) else {
            throw Arguments.UsageError(description: "give exactly one of --key KEY or --keys -")
        }
        if let batch, batch != "-" { throw Arguments.UsageError(description: "--keys takes - (standard input)") }
        let flag = try context.open().requireFlag(flagKey)
        func line(_ key: String, batch: Bool) -> String {
            let (variant, value) = flag.evaluate(key)
            if context.json {
                return JSONValue.object([
                    "flag": .string(flagKey), "key": .string(key), "variant": .string(variant), "value": value,
                ]).canonical
            }
            return (batch ? "\(key)\t" : "") + "\(variant)\t\(value.canonical)"
        }
        if let single {
            Output.print(line(single, batch: false))
            return ExitCode.ok
        }
        var out = ""
        while let key = readLine(strippingNewline: true) {
            out += line(key, batch: true) + "\n"
            if out.utf8.count > 65_536 {
                FileHandle.standardOutput.write(Data(out.utf8))
                out = ""
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        return ExitCode.ok
    }
}
