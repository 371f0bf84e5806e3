import Foundation
import RampCore
import RampEngine

enum TickCommand {
    static let tick = Command(
        name: "tick",
        usage: "tick [--now TIME] [--actor NAME] [--verbose] [--json] [--concurrency N] [--check-retention 14d]",
        summary: "Evaluate every active rollout once and exit (for cron or a systemd timer)",
        details: """
            Polls each due rollout's gates (outside any write transaction), decides, and commits each transition
            with its audit entry in one transaction. Safe to run concurrently: a tick that loses the race to
            another changes nothing. On a PostgreSQL store, ticks on several hosts take turns: a tick that finds
            another holding the store's tick lease prints so (with --json, one {"skipped": …} line) and exits 0
            without polling. Prints every transition, and a hold line whenever what a rollout waits on
            changes (a gate's outcome, the bake, its state), so a cron log says why a rollout is stuck;
            --verbose prints every hold, and the next check of each rollout skipped as not yet due; --json prints
            one JSON line per rollout. A time given with --now (or $RAMP_NOW) must not be earlier than the newest
            audit entry, nor more than 5 minutes ahead of the clock in a live store (exit 3).
            --actor NAME          who the audit log names for this tick's transitions (default tick@HOST); the
                                  log also records the operating-system user and host that really wrote them
            --concurrency N       read at most N sources at once (default 8, at most 1024)
            --check-retention D   keep stored gate checks, and delivered notifications, this long (default
                                  14d; the audit log keeps the checks behind every transition for good)
            """,
        values: ["concurrency", "actor", "check-retention"], switches: ["json", "verbose"]
    ) { context in
        try context.args.expect([])
        let ramp = try context.open()
        let now = try context.now()
        let outcomes = try ramp.tick(
            now: now, actor: context.tickActor, concurrency: try concurrency(context),
            checkRetention: try retention(context), reportNotDue: context.json || context.args.flag("verbose"))
        report(outcomes, now: now, context: context)
        return ExitCode.ok
    }

    static let run = Command(
        name: "run",
        usage:
            "run [--interval 30s] [--until-settled] [--max-ticks N] [--now TIME] [--actor NAME] [--concurrency N] "
            + "[--check-retention 14d] [--verbose] [--json]",
        summary: "Tick in a loop; stop cleanly on SIGTERM/SIGINT after the current tick",
        details: """
            --interval      time between ticks (default 30s)
            --until-settled stop once no rollout is pending or progressing (paused and awaiting-approval
                            rollouts need an operator, and running experiments events from outside, so they
                            count as settled)
            --max-ticks N   stop after N ticks
            --actor NAME, --concurrency N, --check-retention D, --verbose, --json   as for tick
            --now TIME      simulate: start the clock at TIME and advance it by the interval after each tick,
                            without sleeping (for rehearsals and tests: only a rehearsal store takes it)
            """,
        values: ["interval", "max-ticks", "concurrency", "actor", "check-retention"],
        switches: ["until-settled", "json", "verbose"]
    ) { context in
        try context.args.expect([])
        let interval = try span(context.args["interval"] ?? "30s", option: "--interval")
        let maxTicks = try context.args["max-ticks"].map { (text) throws(RampError) -> Int in
            guard let n = Int(text), n > 0 else { throw .badInput("--max-ticks: \"\(text)\" is not a positive number") }
            return n
        }
        let ramp = try context.open()
        // A simulated clock moves a rollout through its bakes in seconds: never a live store's.
        if try context.injectedNow() != nil, try !ramp.isRehearsal() {
            throw RampError.badInput(
                "run --now simulates time, which only a rehearsal store takes (ramp demo, or ramp config rehearsal on "
                    + "in a new store); a live store runs on the clock")
        }
        let stop = installStopSignal()
        let clock: Clock = try context.injectedNow().map { .simulated(start: $0) } ?? .system
        _ = try ramp.runLoop(
            interval: interval, untilSettled: context.args.flag("until-settled"), clock: clock, maxTicks: maxTicks,
            actor: context.tickActor, concurrency: try concurrency(context),
            checkRetention: try retention(context), reportNotDue: context.json || context.args.flag("verbose"),
            stop: stop
        ) { now, outcomes in report(outcomes, now: now, context: context) }
        return ExitCode.ok
    }

    static func span(_ text: String, option: String) throws(RampError) -> TimeSpan {
        guard let span = TimeSpan(parsing: text), span.seconds >= 1 else {
            throw .badInput("\(option): \"\(text)\" is not a duration of at least 1s (like 30s, 5m)")
        }
        return span
    }

    /// `--check-retention`: how long gate checks are kept (default 14d).
    static func retention(_ context: Context) throws(RampError) -> TimeSpan {
        try context.args["check-retention"].map { (text) throws(RampError) in
            try span(text, option: "--check-retention")
        }
            ?? Ramp.defaultCheckRetention
    }

    static func concurrency(_ context: Context) throws(RampError) -> Int {
        guard let text = context.args["concurrency"] else { return 8 }
        guard let n = Int(text), (1...1024).contains(n) else {
            throw .badInput("--concurrency: \"\(text)\" is not a number from 1 to 1024")
        }
        return n
    }

    static func report(_ outcomes: [TickOutcome], now: Instant, context: Context) {
        let verbose = context.args.flag("verbose")
        for outcome in outcomes {
            if context.json {
                var object: [String: JSONValue] = [
                    "flag": .string(outcome.flag),
                    "rollout": outcome.rolloutID > 0 ? .number(Double(outcome.rolloutID)) : .null,
                ]
                switch outcome.kind {
                case .transition(let entry): object["transition"] = entry.json
                case .hold(let reason, let changed):
                    object["hold"] = .string(reason)
                    object["hold_changed"] = .bool(changed)
                case .notDue(let next): object["not_due_until"] = .string(next.description)
                case .lostRace: object["lost_race"] = true
                case .failed(let why): object["failed"] = .string(why)
                case .leaseHeld:
                    Output.json(#"{"skipped":"another tick holds the store's tick lease"}"#)
                    continue
                }
                Output.json(JSONValue.object(object).canonical)
                continue
            }
            switch outcome.kind {
            case .transition(let entry): Output.print(Output.transition(entry))
            case .hold(let reason, let changed) where verbose || changed:
                Output.lines(["\(now)  \(outcome.flag)  holding: \(reason)"])
            case .notDue(let next) where verbose: Output.print("\(outcome.flag): next check at \(next)")
            case .lostRace where verbose: Output.print("\(outcome.flag): another tick moved it first; nothing written")
            case .failed(let why): Output.error("\(outcome.flag): \(why)")
            case .leaseHeld: Output.print("\(now)  tick skipped: another tick holds the store's tick lease")
            default: break
            }
        }
    }

    /// SIGTERM and SIGINT stop the loop after the tick in progress.
    static func installStopSignal() -> StopSignal {
        let stop = StopSignal()
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.stop() }
            source.resume()
            SignalSources.keep(source)
        }
        return stop
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []  // written only at start-up
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
