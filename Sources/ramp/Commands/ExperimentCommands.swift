import Foundation
import RampCore
import RampEngine

enum ExperimentCommands {
    /// `ramp submit` of an experiment or bandit plan.
    static func start(_ context: Context, file: String, text: String) throws -> Int32 {
        _ = try Ramp.validateExperiment(text, file: file)  // refuse a bad plan before creating any store
        try context.checkStoreArgument()
        let now = try context.now()
        let ramp = try context.open(create: true)
        let (plan, record, entry) = try ramp.startExperiment(
            text: text, file: file, baseDir: PlanFile.baseDir(file), actor: context.actor, reason: context.reason,
            now: now)
        for warning in Ramp.warnings(for: plan, baseDir: PlanFile.baseDir(file)) {
            Output.error("warning: \(file): \(warning)")
        }
        if context.json {
            Output.json(entry.json.canonical)
        } else {
            Output.lines([
                "started \(plan.kind.rawValue) #\(record.id) of \(plan.flag): \(split(record.allocation, plan))",
                "  \(summary(plan))",
            ])
        }
        return ExitCode.ok
    }

    /// Each arm's share of the split: `control 33.34%, long 33.33%, short 33.33%`.
    static func split(_ allocation: Allocation, _ plan: ExperimentPlan) -> String {
        plan.arms.map {
            "\($0) \(ExperimentReadout.percentText(Double(allocation.units(of: $0)) / Double(allocation.total)))"
        }.joined(separator: ", ")
    }

    static func summary(_ plan: ExperimentPlan) -> String {
        var parts = [
            "\(plan.kind.rawValue) of \(plan.arms.count) arms against \(plan.control)",
            "primary \(plan.primary.metric) (\(plan.primary.type.rawValue), \(plan.primary.better.rawValue) is better)",
        ]
        if !plan.guardrails.isEmpty {
            parts.append("guardrails \(plan.guardrails.map(\.metric).joined(separator: ", "))")
        }
        parts.append("\(ExperimentReadout.countText(Double(plan.sample))) units planned")
        parts.append("checked every \(plan.interval)")
        if let layer = plan.layer { parts.append("layer \(layer.name) [\(layer.lower), \(layer.upper))") }
        if plan.kind == .bandit {
            parts.append(
                "Thompson sampling\(plan.topTwo.map { " (top-two, β \(ExperimentReadout.format($0)))" } ?? "") after "
                    + "\(plan.burnIn) units per arm, floor \(ExperimentReadout.percentText(plan.floor))")
        }
        parts.append("at the end: \(plan.end.rawValue)")
        return parts.joined(separator: "; ")
    }

    static func flagArgument(_ context: Context, count: Int = 1, usage: String) throws -> [String] {
        guard context.args.positionals.count == count else { throw Arguments.UsageError(description: usage) }
        return context.args.positionals
    }

    static let report = Command(
        name: "experiment report", usage: "experiment report FLAG [--json]",
        summary: "Read out the flag's experiment or bandit: lifts, intervals, power, sample ratio, decision, cohorts",
        details: """
            Reads ramp's events from the experiment's start to its end (or now, while it runs), and polls the
            metrics the plan reads from a source (at the end of the window: Prometheus is queried at that time).
            Per variant: its units (exposed, or the primary's count in its source), the primary metric and each
            guardrail, and against the control the relative lift with its interval and p-value. While the
            experiment runs, and after it ended before its planned sample, these are always-valid (a confidence
            sequence: safe to look at every tick); once it concluded at the planned sample, fixed-horizon (Welch's
            t on the delta-method variance). Then the units reached against the plan, the power they give to find
            the primary's mde, the units per arm the plan's power needs (its miss rate divided among the primary
            and the guardrails), the sample-ratio-mismatch check across all arms (an experiment's; a bandit's
            shares change), the decision and its rule, and the primary metric per cohort for each attribute the
            plan names (by each unit's first exposure's attributes). A bandit adds its latest reweight: each arm's
            probability of being best and weight (--json: the whole record, posteriors included). The store is only
            read. See docs/experiments.md.
            """,
        switches: ["json"]
    ) { context in
        let flag = try flagArgument(context, usage: "expected one FLAG")[0]
        let ramp = try context.open()
        let report = try ramp.experimentReport(flag: flag, now: try context.now())
        if context.json {
            Output.json(json(report).canonical)
        } else {
            Output.lines(render(report))
        }
        return ExitCode.ok
    }

    static let ship = Command(
        name: "experiment ship",
        usage: "experiment ship FLAG VARIANT [--rollout PLAN] [--actor NAME] [--reason TEXT] [--json]",
        summary: "Ship a variant of the flag's experiment: to everyone, or through a canary rollout",
        details: """
            Ends the flag's running or concluded experiment (an experiment_ship audit entry). Without --rollout,
            VARIANT becomes what the flag serves everyone (its baseline). With --rollout PLAN (a rollout plan of
            FLAG whose canary is VARIANT and whose baseline is the experiment's control), everyone goes back to the
            control and the plan is submitted: its rollout of VARIANT starts at the next tick, behind its gates.
            Refused (exit 5) without such an experiment; exit 4 for a variant the experiment does not have.
            """,
        values: ["rollout", "actor", "reason"], switches: ["json"]
    ) { context in
        let args = try flagArgument(context, count: 2, usage: "expected FLAG VARIANT")
        let ramp = try context.open()
        var rollout: (text: String, file: String, baseDir: String)?
        if let file = context.args["rollout"] {
            rollout = (try PlanFile.read(file), file, PlanFile.baseDir(file))
        }
        let (entry, submission) = try ramp.shipExperiment(
            flag: args[0], variant: args[1], rollout: rollout, actor: context.actor, reason: context.reason,
            now: try context.now())
        if context.json {
            Output.json(
                JSONValue.object([
                    "entry": entry.json, "rollout": submission.map { .number(Double($0.rolloutID)) } ?? .null,
                ]).canonical)
        } else {
            Output.print(Output.transition(entry))
            if let submission {
                Output.print(
                    Escape.line(
                        "submitted \(submission.entry.evidence["plan_file"]?.stringValue ?? ""): rollout "
                            + "#\(submission.rolloutID) of \(args[0]) is pending"))
            }
        }
        return ExitCode.ok
    }

    static let stop = Command(
        name: "experiment stop", usage: "experiment stop FLAG [--actor NAME] [--reason TEXT] [--json]",
        summary: "Stop the flag's running experiment or bandit: everyone back to the control",
        details: """
            The flag stops serving the experiment's split, so everyone gets the control, and an experiment_stop
            audit entry records it; a running experiment's readout window closes now. Also takes down the split of
            an experiment that concluded holding it ("end": "hold"). Refused (exit 5) without either.
            """,
        values: ["actor", "reason"], switches: ["json"]
    ) { context in
        let flag = try flagArgument(context, usage: "expected one FLAG")[0]
        let ramp = try context.open()
        let entry = try ramp.stopExperiment(
            flag: flag, actor: context.actor, reason: context.reason, now: try context.now())
        if context.json { Output.json(entry.json.canonical) } else { Output.print(Output.transition(entry)) }
        return ExitCode.ok
    }
}

extension ExperimentCommands {
    static func metricJSON(_ m: ExperimentReadout.MetricResult) -> JSONValue {
        [
            "metric": .string(m.metric), "units": .number(Double(m.units)),
            "value": m.value.map { .number($0) } ?? .null, "sum": m.data.map { .number($0.sum) } ?? .null,
            "sum_of_squares": m.data.map { .number($0.sumOfSquares) } ?? .null, "lift": m.lift?.json ?? .null,
            "better": .bool(m.better), "worse": .bool(m.worse),
            "non_inferior": .bool(m.nonInferior), "beyond_margin": .bool(m.beyondMargin),
            "adjusted": .bool(m.adjusted), "error": m.error.map(JSONValue.string) ?? .null,
        ]
    }

    static func readoutArms(_ r: ExperimentReadout, guardrails: Bool) -> JSONValue {
        .array(
            r.arms.map { arm in
                var o: [String: JSONValue] = [
                    "variant": .string(arm.variant), "units": .number(Double(arm.units)),
                    "planned_share": .number(arm.plannedShare), "primary": metricJSON(arm.primary),
                ]
                if guardrails { o["guardrails"] = .array(arm.guardrails.map(metricJSON)) }
                return .object(o)
            })
    }

    static func json(_ report: ExperimentReport) -> JSONValue {
        let r = report.readout
        let plan = report.plan
        return [
            "flag": .string(plan.flag), "experiment": .number(Double(report.record.id)),
            "kind": .string(plan.kind.rawValue), "state": .string(report.record.state.rawValue),
            "window": [
                "since": .string(report.window.since.description), "until": .string(report.window.until.description),
            ],
            "control": .string(plan.control), "alpha": .number(plan.alpha), "basis": .string(r.basis.rawValue),
            "primary": [
                "metric": .string(plan.primary.metric), "type": .string(plan.primary.type.rawValue),
                "better": .string(plan.primary.better.rawValue), "mde": plan.primary.mde.map { .number($0) } ?? .null,
            ],
            "guardrails": .array(
                plan.guardrails.map {
                    [
                        "metric": .string($0.metric), "type": .string($0.type.rawValue),
                        "better": .string($0.better.rawValue), "margin": .number($0.margin),
                    ]
                }),
            "arms": readoutArms(r, guardrails: true),
            "sample": [
                "reached": .number(Double(r.sampleReached)), "planned": .number(Double(r.samplePlanned)),
                "power": r.power.map { .number($0) } ?? .null, "target_power": .number(plan.power),
                "required_per_arm": r.requiredPerArm.map { .number($0) } ?? .null,
            ],
            "sample_ratio": r.sampleRatio.map { ["chi_square": .number($0.chiSquare), "p": .number($0.p)] } ?? .null,
            "decision": [
                "verdict": .string(r.verdict.rawValue), "winner": r.winner.map(JSONValue.string) ?? .null,
                "reason": .string(r.reason), "rule": .string(rule(plan, r)),
            ],
            "cohorts": .array(
                report.cohorts.map { cohort in
                    [
                        "attribute": .string(cohort.attribute),
                        "values": .array(
                            cohort.values.map {
                                ["value": .string($0.value), "arms": readoutArms($0.readout, guardrails: false)]
                            }),
                    ]
                }),
            "bandit": report.lastReweight ?? .null,
        ]
    }

    /// The decision rule, stated.
    static func rule(_ plan: ExperimentPlan, _ r: ExperimentReadout) -> String {
        "ship the variant with the largest lift whose \(r.basis.rawValue) interval (at alpha "
            + "\(JSONValue.format(plan.alpha))) shows \(plan.primary.metric) better than \(plan.control), "
            + "when no guardrail's interval reaches past its margin on the worse side and none is shown worse; "
            + "never while the arms' sample ratio fails (p < \(JSONValue.format(ExperimentReadout.sampleRatioThreshold)))"
    }

    static func value(_ type: ArmData.Metric, _ v: Double?) -> String {
        guard let v else { return "–" }
        return type == .proportion ? ExperimentReadout.percentText(v) : ExperimentReadout.format(v)
    }

    static func signed(_ x: Double) -> String { (x > 0 ? "+" : "") + ExperimentReadout.percentText(x) }

    static func liftText(_ m: ExperimentReadout.MetricResult, _ basis: ExperimentReadout.Basis) -> String {
        if let error = m.error { return "cannot be read: \(error)" }
        guard let lift = m.lift else { return "" }
        let (lower, upper) = basis == .fixedHorizon ? lift.interval : lift.alwaysValidInterval
        let p = basis == .fixedHorizon ? lift.pValue : lift.alwaysValidPValue
        return "\(signed(lift.estimate)) [\(signed(lower)), \(signed(upper))] p \(ExperimentReadout.format(p))"
            + (m.adjusted ? " (adjusted: an arm has no variance)" : "")
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    static func render(_ report: ExperimentReport) -> [String] {
        let plan = report.plan
        let r = report.readout
        var lines = [
            "\(plan.kind.rawValue) \(plan.flag) #\(report.record.id), \(report.record.state.rawValue): events from "
                + "\(report.window.since) to \(report.window.until)",
            "intervals: \(r.basis.rawValue), \(ExperimentReadout.percentText(1 - plan.alpha)) (lift against \(plan.control))",
        ]
        for (metric, index) in [(plan.primary, -1)] + plan.guardrails.enumerated().map({ ($0.element, $0.offset) }) {
            let role =
                index < 0
                ? "primary" : "guardrail (margin \(ExperimentReadout.percentText(metric.margin)))"
            lines.append(
                "\(role) \(metric.metric): \(metric.type.rawValue), \(metric.better.rawValue) is better")
            var rows = [["  variant", "units", "share", metric.metric, "lift [interval] p"]]
            for arm in r.arms {
                let m = index < 0 ? arm.primary : arm.guardrails[index]
                rows.append([
                    "  " + arm.variant, ExperimentReadout.countText(Double(m.units)),
                    ExperimentReadout.percentText(arm.plannedShare), value(metric.type, m.value), liftText(m, r.basis),
                ])
            }
            lines += table(rows)
        }
        var sample =
            "sample: \(ExperimentReadout.countText(Double(r.sampleReached))) of "
            + "\(ExperimentReadout.countText(Double(r.samplePlanned))) planned units"
        if let power = r.power, let mde = plan.primary.mde {
            sample +=
                "; power \(ExperimentReadout.percentText(power)) to find a \(ExperimentReadout.percentText(mde)) lift"
        }
        if let required = r.requiredPerArm {
            sample +=
                "; \(ExperimentReadout.percentText(plan.power)) power needs \(ExperimentReadout.countText(required.rounded(.up))) "
                + "units per arm (miss rate split over the primary and \(plan.guardrails.count) guardrail"
                + "\(plan.guardrails.count == 1 ? "" : "s"))"
        }
        lines.append(sample)
        if let srm = r.sampleRatio {
            lines.append(
                "sample ratio: chi-square \(ExperimentReadout.format(srm.chiSquare)), p \(ExperimentReadout.format(srm.p))"
                    + (srm.p < ExperimentReadout.sampleRatioThreshold ? " — MISMATCH" : " (as planned)"))
        } else if plan.kind == .bandit {
            lines.append("sample ratio: not checked (a bandit's shares change)")
        }
        lines.append("decision: \(r.verdict.rawValue)\(r.winner.map { " \($0)" } ?? "") — \(r.reason)")
        lines.append("rule: \(rule(plan, r))")
        if let bandit = report.lastReweight, case .array(let arms)? = bandit["arms"] {
            let described = arms.map { arm -> String in
                let name = arm["variant"]?.stringValue ?? "?"
                let best = arm["probability_best"]?.numberValue.map(ExperimentReadout.percentText) ?? "?"
                let weight = arm["weight"]?.numberValue.map(ExperimentReadout.percentText) ?? "?"
                return "\(name) P(best) \(best) weight \(weight)"
            }
            lines.append(
                "last reweight (seed \(bandit["seed"]?.stringValue ?? "?")): \(described.joined(separator: ", "))")
        }
        for cohort in report.cohorts {
            lines.append("cohorts by \(cohort.attribute) (\(plan.primary.metric)):")
            for (value, readout) in cohort.values {
                let arms = readout.arms.map { arm in
                    "\(arm.variant) \(self.value(plan.primary.type, arm.primary.value))"
                        + (arm.primary.lift.map { " (\(signed($0.estimate)))" } ?? "")
                }
                lines.append(
                    "  \(value): \(ExperimentReadout.countText(Double(readout.sampleReached))) units; "
                        + arms.joined(separator: ", "))
            }
        }
        return lines
    }
}
