import RampCore
import RampEngine
import RampStore

enum StatusCommand {
    static let command = Command(
        name: "status", usage: "status [FLAG] [--json]",
        summary: "Show each flag's rollout: state, step, share, bake left, why it holds",
        details: "Without FLAG, every flag in the store. --json prints one JSON object per flag, one per line.",
        switches: ["json"]
    ) { context in
        guard context.args.positionals.count <= 1 else {
            throw Arguments.UsageError(description: "unexpected argument \"\(context.args.positionals[1])\"")
        }
        let ramp = try context.open()
        let statuses = try ramp.status(flag: context.args.positionals.first, now: try context.now())
        if context.json {
            for status in statuses { Output.print(status.json.canonical) }
            return ExitCode.ok
        }
        if statuses.isEmpty { Output.print("no flags yet (ramp submit PLAN)") }
        for status in statuses { Output.print(render(status)) }
        return ExitCode.ok
    }

    static func render(_ s: FlagStatus) -> String {
        var state = "no rollout"
        if let rollout = s.rollout { state = rollout.stateDescription(stepCount: s.plan?.steps.count ?? 0) }
        if s.flag.killed { state += ", KILLED" }
        if s.flag.disabled { state += ", DISABLED" }
        var line = "\(s.flag.key)  \(state)  \(s.servedPercent) \(s.flag.canary)  \(Output.bar(s.servedPercent))"
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
        return lines.joined(separator: "\n")
    }
}
