extension Gate {
    /// Judges a statistical gate from what was read for each arm. `share` is the canary's planned share of units
    /// (for `srm`), `sequential` where a group-sequential test stands (a fresh start at step 0 when nil); the verdict
    /// depends on the evidence alone.
    public func judge(canary: ArmReading, baseline: ArmReading, share: Double, sequential: SequentialContext? = nil)
        -> GateCheck
    {
        var check = GateCheck(
            gate: name, source: source, value: nil, bound: boundDescription, outcome: .noData, message: "")
        check.shadow = shadow
        guard case .statistical(let spec) = rule else { return check }
        let problems = [("canary", canary), ("baseline", baseline)].compactMap {
            who, reading -> (GateOutcome, String)? in
            if case .unusable(let outcome, let why) = reading { return (outcome, "\(who): \(why)") }
            return nil
        }
        if let first = problems.first(where: { $0.0 == .error }) ?? problems.first {
            check.outcome = first.0
            check.message = problems.map(\.1).joined(separator: "; ")
            return check
        }
        // Inputs that overflowed (a sum of squares past 1e308) or arrived as ±infinity never reach a test.
        for (who, reading) in [("canary", canary), ("baseline", baseline)] {
            let numbers: [Double] =
                switch reading {
                case .summary(let s): [s.count, s.mean, s.variance]
                case .samples(let values): values
                case .unusable: []
                }
            if numbers.contains(where: { !$0.isFinite }) {
                check.outcome = .error
                check.message = "\(who): an input is not a finite number"
                return check
            }
            if case .summary(let s) = reading, s.count < 0 || s.variance < 0 {
                check.outcome = .error
                check.message = "\(who): impossible inputs (a negative count or variance)"
                return check
            }
        }
        let judgement: StatisticalJudgement
        switch (canary, baseline) {
        case (.samples(let c), .samples(let b)):
            judgement = StatisticalJudgement.mannWhitney(spec, canary: c, baseline: b)
        case (.summary(let c), .summary(let b)):
            judgement = StatisticalJudgement.summaries(
                spec, canary: c, baseline: b, share: share,
                sequential: sequential ?? SequentialContext(step: 0, stepEnteredAt: nil, previous: nil))
        default:
            check.outcome = .error
            check.message = "the arms were read as different kinds of input"
            return check
        }
        check.outcome = judgement.outcome
        check.message = judgement.message
        check.value = judgement.canaryValue
        check.baseline = judgement.baselineValue
        check.statistics = judgement.evidence
        return check
    }
}

/// The verdict of one statistical check and the evidence behind it.
struct StatisticalJudgement {
    var outcome: GateOutcome
    var message: String
    var canaryValue: Double?
    var baselineValue: Double?
    var evidence: JSONValue

    static func summaries(
        _ spec: StatisticalSpec, canary c: ArmSummary, baseline b: ArmSummary, share: Double,
        sequential: SequentialContext
    ) -> StatisticalJudgement {
        var evidence: [String: JSONValue] = [
            "test": .string(spec.test.rawValue), "metric": .string(spec.metric.rawValue),
            "canary": arm(c, spec.metric), "baseline": arm(b, spec.metric), "alpha": .number(spec.alpha),
        ]
        if spec.test == .srm {
            return sampleRatio(spec, canary: c.count, baseline: b.count, share: share, evidence: &evidence)
        }
        var look = Look(spec: spec, canary: c, baseline: b, evidence: evidence)
        if look.smaller < spec.minSamples {
            return look.verdict(
                .inconclusive, "min_samples \(count(spec.minSamples)) per arm",
                "\(look.comparison): too few samples (\(count(look.smaller)) of min \(count(spec.minSamples)) per arm)")
        }
        switch spec.test {
        case .sequential: return Self.sequential(&look)
        case .groupSequential: return groupSequential(&look, context: sequential)
        case .z: return zTest(&look)
        case .welch: return welch(&look)
        case .mannWhitney, .srm:
            return look.verdict(
                .error, "", "\(spec.test.rawValue) needs \(spec.test == .srm ? "exposures" : "samples")")
        }
    }

    /// One check of a test on two arms' summaries: what every test reads, and the evidence it adds to.
    struct Look {
        let spec: StatisticalSpec
        let canary: ArmSummary
        let baseline: ArmSummary
        var evidence: [String: JSONValue]
        /// canary − baseline, and how much worse that is in the gate's direction.
        let difference: Double
        let worseBy: Double
        /// The variance of the difference of the means.
        let variance: Double
        /// The smaller arm's count.
        let smaller: Double
        /// `4,000 of 20,000 planned samples`, when samples are planned.
        let progress: String?
        /// `canary rate 1.31% vs baseline 1.02% (+0.29 pp)`.
        let comparison: String

        init(spec: StatisticalSpec, canary c: ArmSummary, baseline b: ArmSummary, evidence: [String: JSONValue]) {
            self.spec = spec
            canary = c
            baseline = b
            difference = c.mean - b.mean
            worseBy = spec.worse.worseBy(difference)
            variance = c.varianceOfMean + b.varianceOfMean
            smaller = min(c.count, b.count)
            progress = spec.expectedSamples.map { [smaller] in "\(count(smaller)) of \(count($0)) planned samples" }
            comparison = StatisticalJudgement.describe(spec, canary: c.mean, baseline: b.mean)
            self.evidence = evidence
            self.evidence["estimate"] = .number(difference)
            self.evidence["tolerance"] = .number(spec.tolerance)
            self.evidence["direction"] = .string(spec.worse.rawValue)
            self.evidence["pass_rule"] = .string(spec.pass.rawValue)
            if let n = spec.expectedSamples { self.evidence["planned_samples"] = .number(n) }
        }

        /// The verdict, with its outcome and decision rule added to the evidence.
        mutating func verdict(_ outcome: GateOutcome, _ rule: String, _ said: String) -> StatisticalJudgement {
            evidence["verdict"] = .string(outcome.rawValue)
            evidence["decision_rule"] = .string(rule)
            return StatisticalJudgement(
                outcome: outcome, message: said, canaryValue: canary.mean, baselineValue: baseline.mean,
                evidence: .object(evidence))
        }
    }

    static func arm(_ s: ArmSummary, _ metric: StatisticalSpec.Metric) -> JSONValue {
        metric == .exposures
            ? ["count": .number(s.count)]
            : ["count": .number(s.count), "mean": .number(s.mean), "variance": .number(s.variance)]
    }

    /// `canary error rate 1.31% vs baseline 1.02%`, or `canary mean 212.4 vs baseline 208.9`.
    static func describe(_ spec: StatisticalSpec, canary: Double, baseline: Double, interval: String? = nil) -> String {
        let difference = signed(canary - baseline, spec.metric) + (interval.map { ", \($0)" } ?? "")
        return spec.metric == .proportion
            ? "canary rate \(percent(canary)) vs baseline \(percent(baseline)) (\(difference))"
            : "canary mean \(format(canary)) vs baseline \(format(baseline)) (\(difference))"
    }

    /// A difference with its sign: percentage points for proportions, plain numbers otherwise.
    static func signed(_ x: Double, _ metric: StatisticalSpec.Metric) -> String {
        let sign = x < 0 ? "−" : "+"
        return metric == .proportion ? "\(sign)\(decimals(abs(x) * 100, 2)) pp" : "\(sign)\(format(abs(x)))"
    }
}
