import Foundation
import RampCore
import RampEngine

enum DemoCommand {
    /// Whether anything is at `path`, a symbolic link that leads nowhere included.
    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
            || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    static let command = Command(
        name: "demo", usage: "demo [--plans DIR] [--store PATH] [--interval 30s] [--traffic FILE]",
        summary: "Rehearse: submit the example plans into a fresh store and run them to the end",
        details: """
            Submits every plan in DIR (default: plans) into a new rehearsal store (default: a new temporary file,
            not $RAMP_STORE; a --store that exists, or beside which a file the demo writes exists, is refused,
            exit 5), then
            runs the tick loop with a simulated clock starting now, advancing by the interval (at most 1d) without sleeping,
            until every rollout has settled and every experiment has ended (at most 100,000 ticks). Prints each
            transition as it happens and verifies the audit log.
            Every rollout and experiment event is also sent to a store-wide notification target, examples/notify/append-jsonl, which
            appends each JSON document to notifications.jsonl beside the store (when run from the repository),
            and each rolled-out flag's report (ramp report) is written there as FLAG.html.
            Experiment and bandit plans start at once, and each tick simulated users of their flags (from the
            traffic file: default examples/experiments/traffic.json) are evaluated through the flag and recorded
            as exposures and outcomes, seeded; each experiment's readout (ramp experiment report) is printed at the
            end. An experiment plan whose flag the traffic file does not name is refused (exit 3).
            """,
        values: ["plans", "interval", "traffic"], switches: []
    ) { context in
        try context.args.expect([])
        let dir = context.args["plans"] ?? "plans"
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: dir)
                .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".schema.json") }.sorted()
        } catch {
            throw RampError.badInput("\(dir): cannot list plans (run from the repository root, or pass --plans)")
        }
        guard !files.isEmpty else { throw RampError.badInput("\(dir): no plans (*.json) to submit") }
        // Every plan is checked before any store is made, so a bad one leaves nothing behind.
        var flags: [String] = []
        var experimentFlags: [String] = []
        for name in files {
            let text = try PlanFile.read("\(dir)/\(name)")
            if Ramp.isExperimentPlan(text) {
                experimentFlags.append(try Ramp.validateExperiment(text, file: "\(dir)/\(name)").flag)
            } else {
                flags.append(try Ramp.validate(text, file: "\(dir)/\(name)").flag)
            }
        }
        var traffic: SimulatedTraffic?
        if !experimentFlags.isEmpty {
            let file = context.args["traffic"] ?? "examples/experiments/traffic.json"
            traffic = try SimulatedTraffic.parse(try PlanFile.read(file), file: file)
            if let missing = experimentFlags.first(where: { traffic?.flags[$0] == nil }) {
                throw RampError.badInput(
                    "\(file): no traffic for experiment flag \"\(missing)\" (the demo would never reach its sample)")
            }
        }
        let storePath: String
        if let given = context.args["store"] {
            if ConnectionString.isPostgres(given) {
                throw RampError.badInput(
                    "demo: --store names a new SQLite file; the demo never rehearses in a PostgreSQL database")
            }
            // A rehearsal's simulated clock runs ahead of the real one: it must never touch a live store, nor any
            // file beside it that it would write (a link that leads nowhere counts: writing through it makes one).
            let path = URL(fileURLWithPath: given).standardizedFileURL.path
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            let written =
                [path, path + "-wal", path + "-shm", folder.appendingPathComponent("notifications.jsonl").path]
                + flags.map { folder.appendingPathComponent("\($0).html").path }
            for file in written where Self.exists(file) {
                throw RampError.conflict(
                    "demo: \(file) exists; the demo only ever uses a new store and overwrites nothing beside it")
            }
            storePath = path
        } else {
            let temp = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ramp-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
            storePath = temp.appendingPathComponent("ramp.db").path
        }
        let interval = try TickCommand.span(context.args["interval"] ?? "30s", option: "--interval")
        // Up to 100,000 ticks of simulated time must stay within the calendar the audit log writes.
        guard interval.seconds <= 86_400 else {
            throw RampError.badInput("--interval: \(interval) is longer than the demo's longest, 1d")
        }
        let start = try context.now()
        Output.print("store: \(storePath)")
        let ramp = try Ramp(storePath: storePath, create: true)
        ramp.onDelivery = NotifyCommands.report
        try ramp.configure(.rehearsal, "on", actor: context.actor, now: start)
        let folder = URL(fileURLWithPath: storePath).deletingLastPathComponent()
        let sink = URL(fileURLWithPath: "examples/notify/append-jsonl").standardizedFileURL.path
        let notifications = folder.appendingPathComponent("notifications.jsonl").path
        let notifying = FileManager.default.isExecutableFile(atPath: sink)
        if notifying {
            let target: JSONValue = [
                ["name": "demo-sink", "type": "command", "command": [.string(sink), .string(notifications)]]
            ]
            try ramp.configure(.notify, target.canonical, actor: context.actor, now: start)
        }
        for name in files {
            let file = "\(dir)/\(name)"
            let text = try PlanFile.read(file)
            if Ramp.isExperimentPlan(text) {
                let (plan, record, _) = try ramp.startExperiment(
                    text: text, file: file, baseDir: PlanFile.baseDir(file), actor: context.actor, reason: "demo",
                    now: start)
                Output.print(
                    "started \(file): \(plan.kind.rawValue) #\(record.id), \(ExperimentCommands.split(record.allocation, plan))"
                )
                continue
            }
            let submission = try ramp.submit(
                text: try PlanFile.read(file), file: file, baseDir: PlanFile.baseDir(file), actor: context.actor,
                reason: "demo", now: start)
            Output.print("submitted \(file): \(PlanFile.summary(submission.plan))")
        }
        Output.print("running with a simulated clock from \(start), one tick every \(interval):")
        var simulated = 0
        var trafficFailure: RampError?
        let ticks = try ramp.runLoop(
            interval: interval, untilSettled: true, awaitExperiments: true, clock: .simulated(start: start),
            maxTicks: 100_000,
            actor: "tick@demo", stop: StopSignal()
        ) { now, outcomes in
            for outcome in outcomes {
                if case .transition(let entry) = outcome.kind { Output.print(Output.transition(entry)) }
            }
            if let traffic {
                simulated += 1
                do throws(RampError) {
                    try ramp.simulate(traffic, tick: simulated, now: now)
                } catch {
                    trafficFailure = error
                }
            }
        }
        if let trafficFailure { throw trafficFailure }
        Output.print(
            "settled after \(ticks) ticks (\(TimeSpan(seconds: Int64(ticks - 1) * interval.seconds)) simulated):")
        for status in try ramp.status(flag: nil, now: start) {
            Output.print("  " + StatusCommand.render(status).replacingOccurrences(of: "\n", with: "\n  "))
        }
        if notifying {
            let sent = try ramp.notifications(states: [.delivered]).count
            Output.print("notifications: \(sent) delivered by examples/notify/append-jsonl to \(notifications)")
        }
        for flag in experimentFlags {
            let end = Instant(seconds: start.seconds + Int64(ticks - 1) * interval.seconds)
            Output.print("readout: ramp experiment report \(flag)")
            Output.lines(ExperimentCommands.render(try ramp.experimentReport(flag: flag, now: end)).map { "  " + $0 })
        }
        for status in try ramp.status(flag: nil, now: start) where status.rollout != nil {
            let page = folder.appendingPathComponent("\(status.flag.key).html").path
            let end = Instant(seconds: start.seconds + Int64(ticks - 1) * interval.seconds)
            let input = try ramp.reportInput(flag: status.flag.key, rollout: nil, now: end)
            try Ramp.writeAtomically(RolloutReport.html(input), to: page)
            Output.print("report: \(page)")
        }
        let report = try ramp.verifyAudit()
        Output.print(report.ok ? "audit log ok: \(report.entries) entries" : "audit verify failed: \(report.problem!)")
        return report.ok ? ExitCode.ok : ExitCode.auditFailed
    }
}
