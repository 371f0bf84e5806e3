// The statistical tests, one function each: the sequential test (mSPRT), the one-look z and Welch tests, the
// Mann-Whitney test on distributions, and the sample ratio check. Each reads the arms' summaries through a `Look`
// and returns its verdict with the evidence behind it (docs/statistics.md).

extension StatisticalJudgement {
    /// The mixture sequential probability ratio test: always valid however often it is looked at.
    static func sequential(_ look: inout Look) -> StatisticalJudgement {
        let (spec, c, b) = (look.spec, look.canary, look.baseline)
        let (difference, worseBy, v, smaller) = (look.difference, look.worseBy, look.variance, look.smaller)
        let (progress, comparison) = (look.progress, look.comparison)
        guard v > 0, v.isFinite else {
            // No variation in either arm past a single unit: every canary unit alike, every baseline unit alike (all
            // requests failed in one, none in the other). A canary worse by more than the tolerance is then
            // certainly worse, never "no variation yet" that would pass at the planned sample.
            if v == 0, smaller >= 2, worseBy - spec.tolerance > 0 {
                look.evidence["p_value"] = .number(0)
                return look.verdict(
                    .fail, "fail when the canary is worse with no variation in either arm",
                    "\(comparison): worse, with no variation in either arm")
            }
            let enough = spec.pass == .samples && spec.expectedSamples.map { smaller >= $0 } == true
            return look.verdict(
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
        look.evidence["interval"] = [.number(difference - half), .number(difference + half)]
        look.evidence["p_value"] = .number(pFail)
        look.evidence["mixture_tau"] = .number(tau)
        let described = describe(
            spec, canary: c.mean, baseline: b.mean,
            interval: "always-valid \(percent(1 - spec.alpha)) interval "
                + "\(signed(difference - half, spec.metric))…\(signed(difference + half, spec.metric))")
        if pFail <= spec.alpha {
            return look.verdict(
                .fail, "fail when 1/Λ ≤ α (canary worse by more than the tolerance)",
                "\(described): worse, p \(format(pFail)) ≤ α \(JSONValue.format(spec.alpha))")
        }
        switch spec.pass {
        case .nonInferiority:
            let passRatio = MixtureSPRT.likelihoodRatio(theta: spec.tolerance - worseBy, variance: v, tau: tau)
            let pPass = min(1, 1 / passRatio)
            look.evidence["p_value_non_inferiority"] = .number(pPass)
            if pPass <= spec.alpha {
                return look.verdict(
                    .pass, "pass when non-inferiority holds always-valid at α",
                    "\(described): within tolerance \(signed(spec.tolerance, spec.metric)), p \(format(pPass))")
            }
        case .samples:
            if let n = spec.expectedSamples, smaller >= n {
                return look.verdict(
                    .pass, "pass at the planned samples without a regression",
                    "\(described): no regression at \(count(smaller)) samples per arm")
            }
        }
        return look.verdict(
            .inconclusive, "neither fail nor pass yet",
            "\(described): not yet conclusive" + (progress.map { "; \($0)" } ?? ""))
    }

    /// The two-proportion z-test, looked at once at the planned sample.
    static func zTest(_ look: inout Look) -> StatisticalJudgement {
        singleLook(&look) { c, b, spec in
            let z = FixedHorizon.proportions(canary: c, baseline: b, worse: spec.worse, tolerance: spec.tolerance)
            return (z.p, ["z": z.z])
        }
    }

    /// Welch's t-test on means, looked at once at the planned sample.
    static func welch(_ look: inout Look) -> StatisticalJudgement {
        singleLook(&look) { c, b, spec in
            let welch = FixedHorizon.welch(canary: c, baseline: b, worse: spec.worse, tolerance: spec.tolerance)
            return (welch.p, ["t": welch.t, "df": welch.df])
        }
    }

    /// What the z and Welch tests share: wait for the planned sample, then `test`'s one-sided p-value against α
    /// (its statistics go into the evidence).
    private static func singleLook(
        _ look: inout Look,
        test: (ArmSummary, ArmSummary, StatisticalSpec) -> (p: Double, statistics: [String: Double])
    ) -> StatisticalJudgement {
        let (spec, smaller, progress, comparison) = (look.spec, look.smaller, look.progress, look.comparison)
        let horizon = spec.expectedSamples ?? spec.minSamples
        if smaller < horizon {
            return look.verdict(
                .inconclusive, "one look at \(count(horizon)) samples per arm",
                "\(comparison): a fixed-horizon test waits for its planned sample; \(progress ?? "")")
        }
        let (p, statistics) = test(look.canary, look.baseline, spec)
        for (name, value) in statistics { look.evidence[name] = .number(value) }
        // The mirror one-sided test: worse by less than the tolerance.
        let pPass = 1 - p
        guard p.isFinite else {
            return look.verdict(
                .inconclusive, "no variation in either arm",
                "\(comparison): no variation to test at the single look")
        }
        look.evidence["p_value"] = .number(p)
        if p <= spec.alpha {
            return look.verdict(
                .fail, "fail when p ≤ α at the single look",
                "\(comparison): worse, p \(format(p)) ≤ α \(JSONValue.format(spec.alpha)) (single look)")
        }
        if spec.pass == .nonInferiority, pPass > spec.alpha {
            return look.verdict(
                .inconclusive, "pass only when non-inferiority holds at α",
                "\(comparison): not shown within tolerance at the single look (p \(format(pPass)))")
        }
        return look.verdict(
            .pass, "pass when p > α at the single look",
            "\(comparison): no regression, p \(format(p)) (single look)"
        )
    }

    /// Mann-Whitney U on two distributions, with the Hodges-Lehmann shift and its interval (Kayenta's rule).
    static func mannWhitney(_ spec: StatisticalSpec, canary: [Double], baseline: [Double]) -> StatisticalJudgement {
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

    /// The sample ratio check: a χ² test of the arms' units against the planned share.
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
}
