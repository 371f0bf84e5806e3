import Foundation
import RampCore
import RampEngine

enum RecordCommand {
    static let command = Command(
        name: "record",
        usage: """
            record exposure FLAG VARIANT KEY [--at TIME] | record outcome METRIC VALUE (--key K | --variant V) \
            [--flag F] [--at TIME] | record - [--json]
            """,
        summary: "Append exposures and outcomes to the store, for statistical gates over the events source",
        details: """
            exposure FLAG VARIANT KEY   the targeting key KEY was served VARIANT of FLAG
            outcome METRIC VALUE        a value of METRIC (1 for an error or a conversion, a latency in ms, ...)
                                        for a targeting key (its variant comes from its exposure) or a variant
            -                           JSON lines on standard input, one event each:
                                        {"type": "exposure", "flag": F, "variant": V, "key": K}
                                        {"type": "outcome", "metric": M, "value": X, "key": K}   (or "variant": V)
                                        each may carry "at" (RFC 3339 or Unix seconds; default now) and an
                                        outcome "flag" (to count it for that flag only); an exposure
                                        may carry "attributes": an object of strings, numbers and
                                        booleans (an experiment report's cohorts group units by them)
            --at TIME                   when it happened (default: now, or --now)

            Every event is checked first (flag known, variant one of its variants, fields well formed); one bad
            line refuses the whole input with its line number (exit 3) and writes nothing. Events are written
            \(Ramp.recordBatch) per transaction. Prints how many of each were recorded.
            """,
        values: ["at", "key", "variant", "flag"], switches: ["json"]
    ) { context in
        let args = context.args.positionals
        let now = try context.now()
        let at: Instant
        if let text = context.args["at"] {
            guard let parsed = Instant(rfc3339: text) else {
                throw Arguments.UsageError(description: "--at: \"\(text)\" is not an RFC 3339 time")
            }
            at = parsed
        } else {
            at = now
        }
        var events: [RecordedEvent] = []
        var sources: [String] = []
        switch args.first {
        case "exposure"?:
            guard args.count == 4 else { throw Arguments.UsageError(description: "record exposure FLAG VARIANT KEY") }
            events = [.exposure(Exposure(flag: args[1], variant: args[2], key: args[3], at: at))]
        case "outcome"?:
            guard args.count == 3, let value = DecimalText.parse(args[2]), value.isFinite else {
                throw Arguments.UsageError(description: "record outcome METRIC VALUE (VALUE a finite decimal number)")
            }
            let key = context.args["key"]
            let variant = context.args["variant"]
            guard key != nil || variant != nil else {
                throw Arguments.UsageError(description: "record outcome needs --key K or --variant V")
            }
            events = [
                .outcome(
                    Outcome(
                        metric: args[1], flag: context.args["flag"], key: key, variant: variant, value: value, at: at))
            ]
        case "-"?:
            guard args.count == 1 else { throw Arguments.UsageError(description: "record - takes no more arguments") }
            try InputLines.read { number, text in
                guard let line = text else {
                    throw RampError.badInput("standard input line \(number): not valid UTF-8")
                }
                if line.allSatisfy(\.isWhitespace) { return }
                do {
                    events.append(try RecordedEvent(json: try JSONParser.parse(line), now: at))
                    sources.append("standard input line \(number)")
                } catch let error as RampError {
                    throw RampError.badInput("standard input line \(number): \(error.description)")
                } catch {
                    throw RampError.badInput("standard input line \(number): \(error)")
                }
            }
        default:
            throw Arguments.UsageError(description: "give exposure, outcome or - (JSON lines on standard input)")
        }
        let ramp = try context.open()
        let (exposures, outcomes) = try ramp.record(events, sources: args.first == "-" ? sources : nil)
        if context.json {
            Output.json(
                JSONValue.object(["exposures": .number(Double(exposures)), "outcomes": .number(Double(outcomes))])
                    .canonical)
        } else {
            Output.print(
                "recorded \(exposures) exposure\(exposures == 1 ? "" : "s"), \(outcomes) outcome\(outcomes == 1 ? "" : "s")"
            )
        }
        return ExitCode.ok
    }
}
