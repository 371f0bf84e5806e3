import Foundation
import RampCore
import RampEngine

enum DemoCommand {
    static let command = Command(
        name: "demo", usage: "demo [--plans DIR] [--store PATH] [--interval 30s]",
        summary: "Rehearse: submit the example plans into a fresh store and run them to the end",
        details: """
            Submits every plan in DIR (default: plans) into a new rehearsal store (default: a new temporary file,
            not $RAMP_STORE; a --store that exists is refused, exit 5), then
            runs the tick loop with a simulated clock starting now, advancing by the interval without sleeping,
            until every rollout has settled. Prints each transition as it happens and verifies the audit log.
            """,
        values: ["plans", "interval"], switches: []
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
        for name in files { _ = try Ramp.validate(try PlanFile.read("\(dir)/\(name)"), file: "\(dir)/\(name)") }
        let storePath: String
        if let given = context.args["store"] {
            // A rehearsal's simulated clock runs ahead of the real one: it must never touch a live store.
            guard !FileManager.default.fileExists(atPath: given) else {
                throw RampError.conflict("demo: \(given) exists; the demo only ever uses a new store")
            }
            storePath = URL(fileURLWithPath: given).standardizedFileURL.path
        } else {
            let temp = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ramp-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
            storePath = temp.appendingPathComponent("ramp.db").path
        }
        let interval = try TickCommand.span(context.args["interval"] ?? "30s", option: "--interval")
        let start = try context.now()
        Output.print("store: \(storePath)")
        let ramp = try Ramp(storePath: storePath, create: true)
        try ramp.configure(.rehearsal, "on", actor: context.actor, now: start)
        for name in files {
            let file = "\(dir)/\(name)"
            let submission = try ramp.submit(
                text: try PlanFile.read(file), file: file, baseDir: PlanFile.baseDir(file), actor: context.actor,
                reason: "demo", now: start)
            Output.print("submitted \(file): \(PlanFile.summary(submission.plan))")
        }
        Output.print("running with a simulated clock from \(start), one tick every \(interval):")
        let ticks = try ramp.runLoop(
            interval: interval, untilSettled: true, clock: .simulated(start: start), maxTicks: 100_000,
            actor: "tick@demo", stop: StopSignal()
        ) { _, outcomes in
            for outcome in outcomes {
                if case .transition(let entry) = outcome.kind { Output.print(Output.transition(entry)) }
            }
        }
        Output.print(
            "settled after \(ticks) ticks (\(TimeSpan(seconds: Int64(ticks - 1) * interval.seconds)) simulated):")
        for status in try ramp.status(flag: nil, now: start) {
            Output.print("  " + StatusCommand.render(status).replacingOccurrences(of: "\n", with: "\n  "))
        }
        let report = try ramp.verifyAudit()
        Output.print(report.ok ? "audit log ok: \(report.entries) entries" : "audit verify failed: \(report.problem!)")
        return report.ok ? ExitCode.ok : ExitCode.auditFailed
    }
}
