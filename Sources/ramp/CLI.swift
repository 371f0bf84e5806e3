import Foundation
import RampCore
import RampEngine

/// One verb: its usage, the options it takes, and what it runs.
struct Command: Sendable {
    let name: String
    let usage: String
    let summary: String
    let details: String
    var values: Set<String> = []
    var switches: Set<String> = []
    let run: @Sendable (Context) throws -> Int32
}

/// Finds the verb, parses its options, runs it, and turns every error into one line and an exit code.
enum CLI {
    static let version = "0.1.0"

    static let commands: [Command] = [
        PlanCommands.validate, PlanCommands.check, SubmitCommand.command, StatusCommand.command, TickCommand.tick,
        TickCommand.run,
        OperateCommands.pause, OperateCommands.resume, OperateCommands.approve, OperateCommands.promote,
        OperateCommands.abort, OperateCommands.kill, OperateCommands.unkill, OperateCommands.disable,
        OperateCommands.enable, RecordCommand.command, EvalCommand.command,
        ExplainCommand.command, ExportCommand.command, ImportCommand.command, MetricsCommand.command,
        ConfigCommand.command,
        AuditCommands.log, AuditCommands.checkpoint, AuditCommands.verify, DemoCommand.command,
        CompletionsCommand.command, NotifyCommands.list, NotifyCommands.test, NotifyCommands.retry,
        ReportCommand.command, StoreCommands.copy, ExperimentCommands.report, ExperimentCommands.ship,
        ExperimentCommands.stop,
    ]

    static func main(_ words: [String]) -> Int32 {
        if words.isEmpty || words == ["help"] || words == ["--help"] || words == ["-h"] {
            Output.print(overview)
            return words.isEmpty ? ExitCode.usage : ExitCode.ok
        }
        if words == ["help", "--man"] {
            Output.raw(Completions.manPage, newline: false)
            return ExitCode.ok
        }
        if words == ["--version"] || words == ["version"] {
            Output.print("ramp \(version)")
            return ExitCode.ok
        }
        var rest = words
        if rest.first == "help", rest.count > 1 { rest = Array(rest.dropFirst()) + ["--help"] }
        let twoWord = rest.count > 1 ? "\(rest[0]) \(rest[1])" : ""
        guard
            let command = commands.first(where: { $0.name == twoWord }) ?? commands.first(where: { $0.name == rest[0] })
        else {
            let group = commands.filter { $0.name.hasPrefix(rest[0] + " ") }
            if !group.isEmpty {
                let subcommands = group.map { String($0.name.dropFirst(rest[0].count + 1)) }
                let hint = rest.count > 1 ? Spelling.hint(for: rest[1], among: subcommands) : ""
                Output.error("\(rest[0]): expected one of: \(subcommands.joined(separator: ", "))\(hint)")
            } else {
                let names = Set(commands.map { String($0.name.split(separator: " ")[0]) })
                Output.error(
                    "unknown command \"\(rest[0])\"\(Spelling.hint(for: rest[0], among: names)) (see ramp --help)")
            }
            return ExitCode.usage
        }
        let args: Arguments
        do {
            args = try Arguments(
                Array(rest.dropFirst(command.name.split(separator: " ").count)),
                values: command.values, switches: command.switches)
        } catch {
            Output.error("\(command.name): \(error.description) (see ramp \(command.name) --help)")
            return ExitCode.usage
        }
        if args.flag("help") {
            Output.print(help(command))
            return ExitCode.ok
        }
        let context = Context(args: args)
        // A store this command created is kept only when the command ran to its end (its change is committed).
        var ranToEnd = false
        defer { context.finish(succeeded: ranToEnd) }
        do {
            let status = try command.run(context)
            // Notifications the command queued go out after its commit, within the delivery budget; a failure is
            // retried by later runs and never changes the command's result.
            if let ramp = context.opened.ramp, ramp.queuedNotifications {
                ramp.deliverNotifications(now: (try? context.now()) ?? Clock.wallNow())
            }
            ranToEnd = status == ExitCode.ok || context.opened.ramp?.exportFailure != nil
            if let failure = context.opened.ramp?.exportFailure {
                Output.error(failure)
                return status == ExitCode.ok ? ExitCode.failure : status
            }
            return status
        } catch let error as Arguments.UsageError {
            Output.error("\(command.name): \(error.description) (see ramp \(command.name) --help)")
            return ExitCode.usage
        } catch let error as RampError {
            Output.error(error.description)
            return exitCode(for: error)
        } catch {
            Output.error("\(error)")
            return ExitCode.failure
        }
    }

    static func exitCode(for error: RampError) -> Int32 {
        switch error {
        case .invalid, .badInput: ExitCode.invalid
        case .notFound: ExitCode.notFound
        case .conflict: ExitCode.conflict
        case .store(.missing(path: _)): ExitCode.notFound
        case .store(.timeBeforeLog): ExitCode.invalid
        case .store, .system: ExitCode.failure
        }
    }

    static func help(_ command: Command) -> String {
        "usage: ramp \(command.usage)\n\n\(command.summary)\n\n\(command.details)\n\n" + commonOptions
    }

    static let commonOptions = """
        Common options:
          --store STORE   the store: a SQLite file, or postgres://USER@HOST/DB with its password in
                          ~/.pgpass or PGPASSWORD (default: $RAMP_STORE, else ./ramp.db)
          --now TIME      use this time instead of the clock, e.g. 2026-01-01T00:00:00Z (also $RAMP_NOW)
          --help          show this help
        """

    static var overview: String {
        let width = commands.map(\.name.count).max() ?? 10
        let lines = commands.map {
            "  " + $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary
        }
        return """
            ramp \(version) — canary launch orchestrator: roll a feature flag out step by step behind health gates.

            usage: ramp COMMAND [options]   (ramp COMMAND --help for details)

            Commands:
            \(lines.joined(separator: "\n"))

            ramp help COMMAND is ramp COMMAND --help; ramp help --man prints the man page (ramp(1)).

            \(commonOptions)

            Exit codes: 0 ok, 1 store or system failure, 2 usage, 3 invalid input, 4 not found, 5 conflict
            with the current state, 6 audit verification failed.
            """
    }
}
