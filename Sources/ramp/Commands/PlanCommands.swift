import Foundation
import RampCore
import RampEngine

enum PlanCommands {
    static let validate = Command(
        name: "plan validate", usage: "plan validate FILE... [--json]",
        summary: "Check rollout, experiment and bandit plans without touching the store",
        details: """
            Parses and validates each plan: JSON syntax, unknown fields (with a "did you mean" for a typo), types,
            strictly increasing steps, gate sources. Checks every file given and prints one line per plan: its
            summary (steps, where a move waits for `ramp approve`, the max_hold in force), or the error naming
            the file and field. Then one line per warning: a command that does not exist or is not executable
            (by its resolved absolute path), a credential variable that is not set in this environment (cron's
            differs from a shell's). Summaries and warnings go to stdout, errors to stderr; --json prints one object
            per file instead. Exits 3 when any plan is invalid; warnings do not change the exit code.
            """,
        switches: ["json"]
    ) { context in
        guard !context.args.positionals.isEmpty else { throw Arguments.UsageError(description: "missing FILE") }
        var invalid = 0
        for file in context.args.positionals {
            let plan: Plan
            do throws(RampError) {
                let text = try PlanFile.read(file)
                if Ramp.isExperimentPlan(text) {
                    let experiment = try Ramp.validateExperiment(text, file: file)
                    let warnings = Ramp.warnings(for: experiment, baseDir: PlanFile.baseDir(file))
                    if context.json {
                        Output.json(
                            JSONValue.object([
                                "file": .string(file), "valid": true, "flag": .string(experiment.flag),
                                "kind": .string(experiment.kind.rawValue),
                                "warnings": .array(warnings.map(JSONValue.string)),
                            ]).canonical)
                    } else {
                        Output.print(Escape.line("\(file): ok — \(ExperimentCommands.summary(experiment))"))
                        for warning in warnings { Output.print(Escape.line("\(file): warning: \(warning)")) }
                    }
                    continue
                }
                plan = try Ramp.validate(text, file: file)
            } catch {
                invalid += 1
                if context.json {
                    Output.json(
                        JSONValue.object(["file": .string(file), "valid": false, "error": .string(error.description)])
                            .canonical)
                } else {
                    Output.error(error.description)
                }
                continue
            }
            let warnings = Ramp.warnings(for: plan, baseDir: PlanFile.baseDir(file))
            if context.json {
                Output.json(
                    JSONValue.object([
                        "file": .string(file), "valid": true, "flag": .string(plan.flag),
                        "max_hold": [
                            "after_seconds": .number(Double(plan.effectiveMaxHold.after.seconds)),
                            "then": .string(plan.effectiveMaxHold.then.rawValue), "default": .bool(plan.maxHold == nil),
                        ],
                        "warnings": .array(warnings.map(JSONValue.string)),
                    ]).canonical)
            } else {
                Output.print(Escape.line("\(file): ok — \(PlanFile.summary(plan))"))
                for warning in warnings { Output.print(Escape.line("\(file): warning: \(warning)")) }
            }
        }
        return invalid > 0 ? ExitCode.invalid : ExitCode.ok
    }
}

extension PlanCommands {
    static let check = Command(
        name: "plan check",
        usage: "plan check FILE --traffic RATE --baseline-rate P --mde E [--power P] [--json]",
        summary: "Plan the sample size: how long each step must run to detect an effect at the plan's alpha",
        details: """
            --traffic RATE       units reaching the flag: 200/s, 12000/m, 500/h (a bare number is per second)
            --baseline-rate P    the baseline's error (or conversion) rate: 1% or 0.01
            --mde E              the smallest relative worsening to catch: 20% means 1% → 1.2%
            --power P            the chance of catching it when it is there, above alpha (default 80%)

            For each step: the samples per arm (canary, baseline) and the time to collect them at the step's split,
            under the plan's first statistical gate on a proportion or mean (its test, alpha and mixture; without
            one, a sequential test at alpha 0.05), and a warning for each step whose bake is too short ever to be
            conclusive at that traffic. The sequential figure is the time at which the estimate, at its power
            quantile, crosses the mixture SPRT's boundary. A group-sequential gate needs at most the fixed horizon's
            sample inflated so its looks keep the power, and is expected to stop sooner when the effect is there.
            Warnings do not change the exit code (0).
            """,
        values: ["traffic", "baseline-rate", "mde", "power"], switches: ["json"]
    ) { context in
        try context.args.expect(["file"])
        let file = context.args.positionals[0]
        func required(_ name: String) throws -> String {
            guard let value = context.args[name] else {
                throw Arguments.UsageError(description: "--\(name) is required")
            }
            return value
        }
        let traffic = try rate(try required("traffic"))
        let baseline = try fraction(try required("baseline-rate"), "--baseline-rate", below: 1)
        let effect = try fraction(try required("mde"), "--mde", below: .infinity)
        let power = try fraction(context.args["power"] ?? "80%", "--power", below: 1)
        guard baseline * (1 + effect) < 1 else {
            throw Arguments.UsageError(description: "--baseline-rate × (1 + --mde) must stay below 100%")
        }
        let plan = try Ramp.validate(try PlanFile.read(file), file: file)
        let planner = PowerPlanner(traffic: traffic, baselineRate: baseline, relativeEffect: effect, power: power)
        // A power at or below alpha asks for less than chance: no sample is needed, and none can be planned.
        let alpha = PowerPlanner.Test(plan: plan).alpha
        guard power > alpha else {
            throw Arguments.UsageError(
                description:
                    "--power \(JSONValue.format(power * 100))% must be above the test's alpha \(JSONValue.format(alpha))"
            )
        }
        let (test, steps) = planner.plan(plan)
        let testName = test.name
        if context.json {
            let rows: [JSONValue] = steps.map { s in
                [
                    "step": .number(Double(s.step)), "share": .number(s.share),
                    "canary_samples": s.canarySamples.map(JSONValue.number) ?? .null,
                    "baseline_samples": s.baselineSamples.map(JSONValue.number) ?? .null,
                    "seconds": s.seconds.map(JSONValue.number) ?? .null,
                    "expected_seconds": s.expectedSeconds.map(JSONValue.number) ?? .null,
                    "bake_seconds": .number(Double(s.bake.seconds)),
                    "warning": s.warning.map(JSONValue.string) ?? .null,
                    "approval": .bool(plan.steps[s.step - 1].approval),
                ]
            }
            Output.json(
                JSONValue.object([
                    "file": .string(file), "traffic_per_second": .number(traffic), "baseline_rate": .number(baseline),
                    "mde": .number(effect), "power": .number(power), "alpha": .number(test.alpha),
                    "test": .string(
                        test.spending != nil ? "group_sequential" : test.sequential ? "sequential" : "fixed"),
                    "gate": test.gate.map(JSONValue.string) ?? .null,
                    "steps": .array(rows),
                ]).canonical)
            return ExitCode.ok
        }
        Output.lines([
            "\(file): \(JSONValue.format(traffic))/s, baseline rate \(JSONValue.format(baseline * 100))%, "
                + "MDE +\(JSONValue.format(effect * 100))% (→ \(JSONValue.format((baseline * (1 + effect) * 1e6).rounded() / 1e4))%), "
                + "alpha \(JSONValue.format(test.alpha)), power \(JSONValue.format(power * 100))%, \(testName)"
                + (test.gate.map { " (gate \($0))" } ?? "")
        ])
        for s in steps {
            let head = "  step \(s.step)  \(JSONValue.format(s.share * 100))%"
            if let seconds = s.seconds, let c = s.canarySamples, let b = s.baselineSamples, c.isFinite, b.isFinite {
                let time = seconds.isFinite ? TimeSpan.describing(seconds: seconds) : "never"
                let most = s.expectedSeconds == nil ? "" : " at most"
                Output.print(
                    "\(head)  needs\(most) \(JSONValue.format(c)) canary + \(JSONValue.format(b)) baseline samples: \(time) (bake \(s.bake))"
                )
                if let expected = s.expectedSeconds, expected.isFinite {
                    Output.print(
                        "    expected to stop by \(TimeSpan.describing(seconds: expected)) when the effect is there")
                }
            } else {
                Output.print("\(head)  —")
            }
            if plan.steps[s.step - 1].approval {
                Output.print("    leaving this step waits for an operator: ramp approve \(plan.flag)")
            }
            if let warning = s.warning { Output.print("    warning: \(warning)") }
        }
        return ExitCode.ok
    }

    /// `200/s`, `12000/m`, `500/h` or a bare number per second.
    static func rate(_ text: String) throws -> Double {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        let per: Double? = parts.count == 1 ? 1 : parts.count == 2 ? ["s": 1, "m": 60, "h": 3600][parts[1]] : nil
        guard let per, let first = parts.first, let n = DecimalText.parse(String(first)), n.isFinite,
            (1e-6...1e12).contains(n / per)
        else {
            throw Arguments.UsageError(
                description:
                    "--traffic: \"\(text)\" is not a rate like 200/s, 12000/m or 500/h (between 0.000001/s and 1e12/s)")
        }
        return n / per
    }

    /// `1%` or `0.01`, above 0 and below `limit`.
    static func fraction(_ text: String, _ name: String, below limit: Double) throws -> Double {
        let value =
            text.hasSuffix("%") ? DecimalText.parse(String(text.dropLast())).map { $0 / 100 } : DecimalText.parse(text)
        guard let value, value > 0, value < limit else {
            throw Arguments.UsageError(description: "\(name): \"\(text)\" is not a share like 1% or 0.01")
        }
        return value
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

    /// `flag f, on over off: 1% → 5% → 25% → (ramp approve) → 100%, 2 gates, max_hold 24h → pause (default)`:
    /// a move that waits for an operator shows `(ramp approve)` where it waits.
    static func summary(_ plan: Plan) -> String {
        var route = ""
        for (i, step) in plan.steps.enumerated() {
            if i > 0 { route += plan.steps[i - 1].approval ? " → (ramp approve) → " : " → " }
            route += step.target
        }
        if plan.steps.last?.approval == true { route += " → (ramp approve) → complete" }
        let gates = plan.gates.count == 1 ? "1 gate" : "\(plan.gates.count) gates"
        return "flag \(plan.flag), \(plan.canary) over \(plan.baseline): \(route), \(gates), \(maxHold(plan))"
    }

    /// `max_hold 24h → pause (default)`.
    static func maxHold(_ plan: Plan) -> String {
        let hold = plan.effectiveMaxHold
        return "max_hold \(hold.after) → \(hold.then.rawValue)" + (plan.maxHold == nil ? " (default)" : "")
    }
}
