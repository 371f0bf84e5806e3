import Foundation
import RampCore
import RampEngine

enum StatusCommand {
    static let command = Command(
        name: "status", usage: "status [FLAG] [--json] [--watch]",
        summary: "Show each flag's rollout: state, step, share, bake left, why it holds",
        details: """
            Without FLAG, every flag in the store. --json prints one JSON object per flag, one per line. A flag
            that serves an experiment's split (running, or concluded holding it) shows the experiment and each
            arm's share instead of a canary share; --json gives its latest experiment as "experiment".
            --watch   keep showing it: state, share bar, bake countdown, each gate's latest value against its
                      bound, the last transitions. On a terminal it redraws in place every second and as soon as
                      the store changes; otherwise it prints the view again whenever the store changes. It stops
                      on Ctrl-C (or SIGTERM), or once every watched flag's rollout has completed or rolled back.
            """,
        switches: ["json", "watch"]
    ) { context in
        guard context.args.positionals.count <= 1 else {
            throw Arguments.UsageError(description: "unexpected argument \"\(context.args.positionals[1])\"")
        }
        if context.args.flag("watch") { return try watch(context) }
        let ramp = try context.open()
        let statuses = try ramp.status(flag: context.args.positionals.first, now: try context.now())
        // Notifications that could not be delivered within their retry window, by flag.
        let failed = try ramp.failedNotifications()
        if context.json {
            for status in statuses {
                var object = status.json.objectValue ?? [:]
                object["failed_notifications"] = .number(Double(failed[status.flag.key] ?? 0))
                Output.json(JSONValue.object(object).canonical)
            }
            return ExitCode.ok
        }
        if statuses.isEmpty { Output.print("no flags yet (ramp submit PLAN)") }
        for status in statuses {
            var text = render(status)
            if let count = failed[status.flag.key] {
                text += "\n  notifications: \(count) failed to deliver (ramp notify list)"
            }
            Output.print(text)
        }
        if let count = failed["*"] {
            Output.print("store-wide notifications: \(count) failed to deliver (ramp notify list)")
        }
        return ExitCode.ok
    }

    /// The live view: redrawn in place on a terminal, printed again on each change otherwise.
    static func watch(_ context: Context) throws -> Int32 {
        let ramp = try context.open()
        let flag = context.args.positionals.first
        let terminal = isatty(STDOUT_FILENO) != 0
        let stop = TickCommand.installStopSignal()
        var lastVersion: Int64?
        while !stop.isStopped {
            let version = try ramp.dataVersion()
            let now = try context.now()
            let statuses = try ramp.status(flag: flag, now: now)
            var recent: [AuditEntry] = []
            try ramp.auditLog(flag: flag, since: nil) { entry in
                recent.append(entry)
                if recent.count > 5 { recent.removeFirst() }
            }
            var lines = [
                "ramp status --watch\(flag.map { " " + $0 }.map { Escape.line($0) } ?? "") — \(now) (Ctrl-C to stop)",
                "",
            ]
            lines += statuses.map(render)
            lines += ["", "last transitions:"] + recent.map { "  " + Output.transition($0) }
            let view = lines.joined(separator: "\n")
            if terminal {
                Output.raw("\u{1b}[H\u{1b}[2J" + view)
            } else if version != lastVersion {
                Output.print(view + "\n")
            }
            lastVersion = version
            let settled = !statuses.isEmpty && statuses.allSatisfy { !($0.rollout?.state.isActive ?? false) }
            if settled { break }
            // Wake every 100 ms to notice a change or a signal; redraw a terminal at least every second.
            for _ in 0..<10 {
                usleep(100_000)
                if stop.isStopped { break }
                if try ramp.dataVersion() != version { break }
            }
        }
        return ExitCode.ok
    }

    static func render(_ s: FlagStatus) -> String {
        var state = "no rollout"
        if let rollout = s.rollout { state = rollout.stateDescription(stepCount: s.plan?.steps.count ?? 0) }
        // A flag serving an experiment's split (running, or concluded holding it) shows the split instead.
        var split: String?
        if let e = s.experiment, s.servesExperimentSplit {
            let shares = e.allocation.units.sorted { $0.key < $1.key }
                .map { "\($0.key) \(ExperimentReadout.percentText(Double($0.value) / Double(e.allocation.total)))" }
            state = "experiment #\(e.id) \(e.state.rawValue)"
            split = shares.joined(separator: ", ")
        }
        if s.flag.killed { state += ", KILLED" }
        if s.flag.disabled { state += ", DISABLED" }
        var line =
            split.map { "\(s.flag.key)  \(state): \($0)" }
            ?? "\(s.flag.key)  \(state)  \(s.servedPercent) \(s.flag.canary)  \(Output.bar(s.servedPercent))"
        if let left = s.bakeLeft { line += "  bake \(left) left" }
        var lines = [line]
        if let why = s.why { lines.append("  holding: \(why)") }
        if case .array(let checks)? = s.lastCheck?.evidence["checks"], !checks.isEmpty {
            let gates = checks.compactMap(GateCheck.init(json:)).map {
                "\($0.gate) \($0.outcome.rawValue) (\($0.message))"
            }
            lines.append("  gates at \(s.lastCheck!.checkedAt): " + gates.joined(separator: "; "))
        }
        if let next = s.nextCheck { lines.append("  next check: \(next)") }
        if let at = s.maxHoldAt, let plan = s.plan {
            let hold = plan.effectiveMaxHold
            lines.append(
                "  max_hold: \(hold.then.rawValue) at \(at) if this step is still held (\(PlanFile.maxHold(plan)))")
        }
        // Each line whole: a source's message or a gate's text from outside cannot break one into two.
        return lines.map { Escape.line($0) }.joined(separator: "\n")
    }
}
