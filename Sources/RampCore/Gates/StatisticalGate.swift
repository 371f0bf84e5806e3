/// A statistical gate: the canary compared with the baseline by a test, not a threshold.
public struct StatisticalSpec: Sendable, Equatable {
    public enum Test: String, Sendable, CaseIterable {
        /// The mixture SPRT: safe to check at every tick (proportions and means).
        case sequential
        /// The two-proportion z-test: one look, when both arms reach `expected_samples`.
        case z
        /// Welch's t-test: one look, when both arms reach `expected_samples`.
        case welch
        /// Mann-Whitney U with the Hodges-Lehmann shift and its interval (distributions), Kayenta-style.
        case mannWhitney = "mann_whitney"
        /// Sample ratio mismatch: the arms' sizes against the rollout's share.
        case srm
    }

    public enum Metric: String, Sendable, CaseIterable {
        /// Inputs per arm `count` (successes, e.g. errors) and `total` (trials, e.g. requests).
        case proportion
        /// Inputs per arm `count` with `mean` and `variance`, or with `sum` and `sum_squares`.
        case mean
        /// Input per arm `samples`: a list of values (one per instance, per minute, per event).
        case distribution
        /// Input per arm `total`: units exposed (for `srm`).
        case exposures
    }

    public enum PassRule: String, Sendable, CaseIterable {
        /// Pass when the canary is shown, always-valid, to be worse by less than the tolerance.
        case nonInferiority = "non_inferiority"
        /// Pass when both arms reach `expected_samples` without a regression.
        case samples
    }

    public var test: Test
    public var metric: Metric
    public var worse: Worse
    /// The false-rollback rate the test allows (its significance level).
    public var alpha: Double
    /// How much worse (in the metric's units: an absolute difference) the canary may be and still pass.
    public var tolerance: Double
    /// Neither pass nor fail before each arm has this many units.
    public var minSamples: Double
    /// The planned sample per arm: the fixed tests' horizon, the `samples` pass rule, and the mixture's tuning.
    public var expectedSamples: Double?
    /// The mixture's width τ (in the metric's units); derived from `expectedSamples` when nil.
    public var mixture: Double?
    public var pass: PassRule
    /// Input name → query (templated with `{{variant}}`), read once per arm; empty for the events source.
    public var inputs: [String: String]

    public init(
        test: Test, metric: Metric, worse: Worse = .higher, alpha: Double = 0.05, tolerance: Double = 0,
        minSamples: Double = 100, expectedSamples: Double? = nil, mixture: Double? = nil, pass: PassRule = .samples,
        inputs: [String: String] = [:]
    ) {
        self.test = test
        self.metric = metric
        self.worse = worse
        self.alpha = alpha
        self.tolerance = tolerance
        self.minSamples = minSamples
        self.expectedSamples = expectedSamples
        self.mixture = mixture
        self.pass = pass
        self.inputs = inputs
    }

    /// The inputs a metric needs per arm, in the order they are read; for a mean, either set.
    public static func inputNames(_ metric: Metric) -> [[String]] {
        switch metric {
        case .proportion: [["count", "total"]]
        case .mean: [["count", "mean", "variance"], ["count", "sum", "sum_squares"]]
        case .distribution: [["samples"]]
        case .exposures: [["total"]]
        }
    }

    /// The bound in words, for status lines.
    public var boundDescription: String {
        switch test {
        case .srm: return "split fits the share (χ² p ≥ \(JSONValue.format(alpha)))"
        case .mannWhitney:
            return "shift ≤ \(JSONValue.format(tolerance)) (Mann-Whitney, \(percent(1 - alpha)) interval)"
        default:
            let name = test == .sequential ? "mSPRT" : test == .z ? "z-test" : "Welch t"
            return "canary worse by ≤ \(JSONValue.format(tolerance)) (\(name), α \(JSONValue.format(alpha)))"
        }
    }
}

/// What a statistical gate read for one arm.
public enum ArmReading: Sendable, Equatable {
    case summary(ArmSummary)
    case samples([Double])
    /// The inputs could not be read: no data or an error, with why.
    case unusable(GateOutcome, String)
}

extension Gate {
    /// Judges a statistical gate from what was read for each arm. `share` is the canary's planned share of units
    /// (for `srm`), `now` nothing: the verdict depends on the evidence alone.
    public func judge(canary: ArmReading, baseline: ArmReading, share: Double) -> GateCheck {
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
        }
        let judgement: StatisticalJudgement
        switch (canary, baseline) {
        case (.samples(let c), .samples(let b)):
            judgement = StatisticalJudgement.distributions(spec, canary: c, baseline: b)
        case (.summary(let c), .summary(let b)):
            judgement = StatisticalJudgement.summaries(spec, canary: c, baseline: b, share: share)
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

    static func summaries(_ spec: StatisticalSpec, canary c: ArmSummary, baseline b: ArmSummary, share: Double)
        -> StatisticalJudgement
    {
        var evidence: [String: JSONValue] = [
            "test": .string(spec.test.rawValue), "metric": .string(spec.metric.rawValue),
            "canary": arm(c, spec.metric), "baseline": arm(b, spec.metric), "alpha": .number(spec.alpha),
        ]
        if spec.test == .srm {
            return sampleRatio(spec, canary: c.count, baseline: b.count, share: share, evidence: &evidence)
        }
        let difference = c.mean - b.mean
        let worseBy = spec.worse.worseBy(difference)
        let v = c.varianceOfMean + b.varianceOfMean
        evidence["estimate"] = .number(difference)
        evidence["tolerance"] = .number(spec.tolerance)
        evidence["direction"] = .string(spec.worse.rawValue)
        evidence["pass_rule"] = .string(spec.pass.rawValue)
        if let n = spec.expectedSamples { evidence["planned_samples"] = .number(n) }
        let smaller = min(c.count, b.count)
        let progress = spec.expectedSamples.map { "\(count(smaller)) of \(count($0)) planned samples" }
        func verdict(_ outcome: GateOutcome, _ rule: String, _ said: String) -> StatisticalJudgement {
            evidence["verdict"] = .string(outcome.rawValue)
            evidence["decision_rule"] = .string(rule)
            return StatisticalJudgement(
                outcome: outcome, message: said, canaryValue: c.mean, baselineValue: b.mean,
                evidence: .object(evidence))
        }
        let comparison = describe(spec, canary: c.mean, baseline: b.mean)
        if smaller < spec.minSamples {
            return verdict(
                .inconclusive, "min_samples \(count(spec.minSamples)) per arm",
                "\(comparison): too few samples (\(count(smaller)) of min \(count(spec.minSamples)) per arm)")
        }
        switch spec.test {
        case .sequential:
            guard v > 0, v.isFinite else {
                let enough = spec.pass == .samples && spec.expectedSamples.map { smaller >= $0 } == true
                return verdict(
                    enough ? .pass : .inconclusive, "no variation in either arm",
                    "\(comparison): no variation yet" + (progress.map { "; \($0)" } ?? ""))
            }
            let variancePerUnit = c.variance + b.variance
            let tau =
                spec.mixture
                ?? MixtureSPRT.tau(
                    perUnitVariance: variancePerUnit, samples: spec.expectedSamples ?? max(smaller, spec.minSamples),
                    alpha: spec.alpha)
            let failRatio = MixtureSPRT.likelihoodRatio(theta: worseBy - spec.tolerance, variance: v, tau: tau)
            let pFail = min(1, 1 / failRatio)
            let half = MixtureSPRT.halfWidth(variance: v, tau: tau, alpha: spec.alpha)
            evidence["interval"] = [.number(difference - half), .number(difference + half)]
            evidence["p_value"] = .number(pFail)
            evidence["mixture_tau"] = .number(tau)
            let described = describe(
                spec, canary: c.mean, baseline: b.mean,
                interval: "always-valid \(percent(1 - spec.alpha)) interval "
                    + "\(signed(difference - half, spec.metric))…\(signed(difference + half, spec.metric))")
            if pFail <= spec.alpha {
                return verdict(
                    .fail, "fail when 1/Λ ≤ α (canary worse by more than the tolerance)",
                    "\(described): worse, p \(format(pFail)) ≤ α \(JSONValue.format(spec.alpha))")
            }
            switch spec.pass {
            case .nonInferiority:
                let passRatio = MixtureSPRT.likelihoodRatio(theta: spec.tolerance - worseBy, variance: v, tau: tau)
                let pPass = min(1, 1 / passRatio)
                evidence["p_value_non_inferiority"] = .number(pPass)
                if pPass <= spec.alpha {
                    return verdict(
                        .pass, "pass when non-inferiority holds always-valid at α",
                        "\(described): within tolerance \(signed(spec.tolerance, spec.metric)), p \(format(pPass))")
                }
            case .samples:
                if let n = spec.expectedSamples, smaller >= n {
                    return verdict(
                        .pass, "pass at the planned samples without a regression",
                        "\(described): no regression at \(count(smaller)) samples per arm")
                }
            }
            return verdict(
                .inconclusive, "neither fail nor pass yet",
                "\(described): not yet conclusive" + (progress.map { "; \($0)" } ?? ""))
        case .z, .welch:
            let horizon = spec.expectedSamples ?? spec.minSamples
            if smaller < horizon {
                return verdict(
                    .inconclusive, "one look at \(count(horizon)) samples per arm",
                    "\(comparison): a fixed-horizon test waits for its planned sample; \(progress ?? "")")
            }
            let p: Double
            if spec.test == .z {
                let z = FixedHorizon.proportions(canary: c, baseline: b, worse: spec.worse, tolerance: spec.tolerance)
                p = z.p
                evidence["z"] = .number(z.z)
            } else {
                let welch = FixedHorizon.welch(canary: c, baseline: b, worse: spec.worse, tolerance: spec.tolerance)
                p = welch.p
                evidence["t"] = .number(welch.t)
                evidence["df"] = .number(welch.df)
            }
            // The mirror one-sided test: worse by less than the tolerance.
            let pPass = 1 - p
            guard p.isFinite else {
                return verdict(
                    .inconclusive, "no variation in either arm",
                    "\(comparison): no variation to test at the single look")
            }
            evidence["p_value"] = .number(p)
            if p <= spec.alpha {
                return verdict(
                    .fail, "fail when p ≤ α at the single look",
                    "\(comparison): worse, p \(format(p)) ≤ α \(JSONValue.format(spec.alpha)) (single look)")
            }
            if spec.pass == .nonInferiority, pPass > spec.alpha {
                return verdict(
                    .inconclusive, "pass only when non-inferiority holds at α",
                    "\(comparison): not shown within tolerance at the single look (p \(format(pPass)))")
            }
            return verdict(
                .pass, "pass when p > α at the single look",
                "\(comparison): no regression, p \(format(p)) (single look)"
            )
        case .mannWhitney, .srm:
            return verdict(.error, "", "\(spec.test.rawValue) needs \(spec.test == .srm ? "exposures" : "samples")")
        }
    }

    static func distributions(_ spec: StatisticalSpec, canary: [Double], baseline: [Double]) -> StatisticalJudgement {
        var evidence: [String: JSONValue] = [
            "test": .string(spec.test.rawValue), "metric": "distribution",
            "canary": ["count": .number(Double(canary.count))], "baseline": ["count": .number(Double(baseline.count))],
            "alpha": .number(spec.alpha), "tolerance": .number(spec.tolerance),
            "direction": .string(spec.worse.rawValue),
        ]
        let smaller = Double(min(canary.count, baseline.count))
        guard smaller >= spec.minSamples, smaller > 0 else {
            evidence["verdict"] = "inconclusive"
            return StatisticalJudgement(
                outcome: .inconclusive,
                message: "too few samples (\(count(smaller)) of min \(count(spec.minSamples)) per arm)",
                evidence: .object(evidence))
        }
        let test = MannWhitney(canary: canary, baseline: baseline, worse: spec.worse, alpha: spec.alpha)
        evidence["u"] = .number(test.u)
        evidence["p_value"] = .number(test.p)
        evidence["estimate"] = .number(test.shift)
        evidence["interval"] = [.number(test.lower), .number(test.upper)]
        // Kayenta's rule: worse only when the whole interval on the shift lies beyond the tolerance.
        let worstCase = spec.worse == .higher ? test.lower : -test.upper
        let outcome: GateOutcome = worstCase > spec.tolerance ? .fail : .pass
        evidence["verdict"] = .string(outcome.rawValue)
        evidence["decision_rule"] = "fail when the whole interval on the shift is worse than the tolerance"
        let said =
            "shift \(signed(test.shift, .distribution)) (\(percent(1 - spec.alpha)) interval "
            + "\(signed(test.lower, .distribution))…\(signed(test.upper, .distribution)), p \(format(test.p)))"
        return StatisticalJudgement(
            outcome: outcome,
            message: outcome == .fail
                ? "\(said): worse by more than \(JSONValue.format(spec.tolerance))" : "\(said): within tolerance",
            evidence: .object(evidence))
    }

    static func sampleRatio(
        _ spec: StatisticalSpec, canary: Double, baseline: Double, share: Double, evidence: inout [String: JSONValue]
    ) -> StatisticalJudgement {
        evidence["planned_share"] = .number(share)
        let total = canary + baseline
        guard share > 0, share < 1 else {
            evidence["verdict"] = "inconclusive"
            return StatisticalJudgement(
                outcome: .inconclusive, message: "no split to check at a \(percent(share)) share",
                evidence: .object(evidence))
        }
        guard min(canary, baseline) >= spec.minSamples else {
            evidence["verdict"] = "inconclusive"
            return StatisticalJudgement(
                outcome: .inconclusive,
                message: "too few units (\(count(min(canary, baseline))) of min \(count(spec.minSamples)) per arm)",
                evidence: .object(evidence))
        }
        let (x2, p) = SampleRatio.test(canary: canary, baseline: baseline, share: share)
        evidence["chi_square"] = .number(x2)
        evidence["p_value"] = .number(p)
        let outcome: GateOutcome = p < spec.alpha ? .fail : .pass
        evidence["verdict"] = .string(outcome.rawValue)
        evidence["decision_rule"] = "fail when the χ² p-value < α"
        let observed = canary / total
        let said =
            "canary has \(percent(observed)) of \(count(total)) units, planned \(percent(share)) (χ² \(format(x2)), p \(format(p)))"
        return StatisticalJudgement(
            outcome: outcome, message: outcome == .fail ? "sample ratio mismatch: \(said)" : said,
            canaryValue: canary, baselineValue: baseline, evidence: .object(evidence))
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

/// `1.31%`.
func percent(_ x: Double) -> String {
    let hundred = x * 100
    guard abs(hundred) < 1e15 else { return JSONValue.format(hundred) + "%" }
    return hundred == hundred.rounded() ? "\(Int(hundred))%" : "\(decimals(hundred, hundred < 10 ? 2 : 1))%"
}

/// `4,100`.
func count(_ x: Double) -> String {
    guard x.isFinite, abs(x) < 1e15 else { return JSONValue.format(x) }
    let value = Int(x.rounded())
    let digits = Array(String(value.magnitude).utf8)
    var out: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
    for (i, digit) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(UInt8(ascii: ",")) }
        out.append(digit)
    }
    return String(decoding: out, as: UTF8.self)
}

/// Four significant digits, or scientific for very small values: `0.0312`, `2.1e-7`.
func format(_ x: Double) -> String {
    if x == 0 || !x.isFinite { return JSONValue.format(x) }
    let magnitude = abs(x)
    if magnitude < 1e-4 {
        var exponent = 0
        var mantissa = magnitude
        while mantissa < 1 {
            mantissa *= 10
            exponent -= 1
        }
        return "\(x < 0 ? "-" : "")\(decimals(mantissa, 1))e\(exponent)"
    }
    var places = 3
    var scale = magnitude
    while scale >= 10, places > 0 {
        scale /= 10
        places -= 1
    }
    while scale < 1 {
        scale *= 10
        places += 1
    }
    return decimals(x, places)
}

/// `x` rounded to `places` decimals, written without exponent.
func decimals(_ x: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    guard x.isFinite, abs(x) * scale < 1e15 else { return JSONValue.format(x) }
    let rounded = (abs(x) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    let sign = x < 0 && rounded != 0 ? "-" : ""
    if places == 0 { return "\(sign)\(whole)" }
    let digits = String(fraction)
    return "\(sign)\(whole).\(String(repeating: "0", count: places - digits.count))\(digits)"
}
