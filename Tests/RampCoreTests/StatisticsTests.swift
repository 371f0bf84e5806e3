import RampCore
import Testing

/// Relative error |actual − expected| / |expected| (absolute when expected is 0).
private func relativeError(_ actual: Double, _ expected: Double) -> Double {
    expected == 0 ? abs(actual) : abs(actual - expected) / abs(expected)
}

/// The distributions and tests, pinned to values computed with scipy 1.x: each expected value sits beside the
/// Python line that produced it (`from scipy.stats import norm, t, chi2`, `import numpy as np`).
@Suite struct DistributionTests {
    static let cases: [(Double, Double, String)] = [
        (Normal.cdf(-8), 6.22096057427174e-16, "norm.cdf(-8)"),
        (Normal.cdf(-3), 0.0013498980316300933, "norm.cdf(-3)"),
        (Normal.cdf(-1.5), 0.06680720126885807, "norm.cdf(-1.5)"),
        (Normal.cdf(0.5), 0.6914624612740131, "norm.cdf(0.5)"),
        (Normal.cdf(1.96), 0.9750021048517795, "norm.cdf(1.96)"),
        (Normal.sf(1.6448536269514722), 0.050000000000000044, "norm.sf(1.6448536269514722)"),
        (Normal.sf(5), 2.866515718791933e-07, "norm.sf(5)"),
        (Normal.sf(8.5), 9.47953482220325e-18, "norm.sf(8.5)"),
        (Normal.quantile(1e-12), -7.034483825301131, "norm.ppf(1e-12)"),
        (Normal.quantile(1e-4), -3.7190164854556804, "norm.ppf(1e-4)"),
        (Normal.quantile(0.001), -3.090232306167813, "norm.ppf(0.001)"),
        (Normal.quantile(0.025), -1.9599639845400545, "norm.ppf(0.025)"),
        (Normal.quantile(0.05), -1.6448536269514729, "norm.ppf(0.05)"),
        (Normal.quantile(0.3), -0.5244005127080409, "norm.ppf(0.3)"),
        (Normal.quantile(0.8), 0.8416212335729143, "norm.ppf(0.8)"),
        (Normal.quantile(0.95), 1.6448536269514722, "norm.ppf(0.95)"),
        (Normal.quantile(0.975), 1.959963984540054, "norm.ppf(0.975)"),
        (Normal.quantile(0.999), 3.090232306167813, "norm.ppf(0.999)"),
        (StudentT.sf(2.0, df: 5), 0.050969739414929174, "t.sf(2.0, 5)"),
        (StudentT.sf(-1.3, df: 12.7), 0.8916497327078913, "t.sf(-1.3, 12.7)"),
        (StudentT.sf(0.4, df: 3), 0.35796757698718507, "t.sf(0.4, 3)"),
        (StudentT.sf(4.5, df: 30.2), 4.7004388128360214e-05, "t.sf(4.5, 30.2)"),
        (StudentT.sf(10, df: 2), 0.004926228511662845, "t.sf(10, 2)"),
        (StudentT.sf(1.0, df: 1000), 0.15877620904233627, "t.sf(1.0, 1000)"),
        (StudentT.sf(3.0, df: 1.5), 0.06677387712745664, "t.sf(3.0, 1.5)"),
        (StudentT.cdf(-2.5, df: 57.3), 0.007652683961901221, "t.cdf(-2.5, 57.3)"),
        (StudentT.sf(8.0, df: 400), 6.7868882676560746e-15, "t.sf(8.0, 400)"),
        (ChiSquare.sf(3.84, df: 1), 0.05004352124870519, "chi2.sf(3.84, 1)"),
        (ChiSquare.sf(10.83, df: 1), 0.0009986863791802592, "chi2.sf(10.83, 1)"),
        (ChiSquare.sf(0.5, df: 1), 0.47950012218695337, "chi2.sf(0.5, 1)"),
        (ChiSquare.sf(25, df: 1), 5.733031437583875e-07, "chi2.sf(25, 1)"),
        (ChiSquare.sf(60, df: 1), 9.485737571073857e-15, "chi2.sf(60, 1)"),
        (ChiSquare.sf(0.001, df: 1), 0.9747728793699604, "chi2.sf(0.001, 1)"),
        (ChiSquare.sf(7.2, df: 3), 0.06578905268507099, "chi2.sf(7.2, 3)"),
        (ChiSquare.sf(100, df: 50), 3.454931382984871e-05, "chi2.sf(100, 50)"),
        (ChiSquare.sf(30, df: 4), 4.894437128029217e-06, "chi2.sf(30, 4)"),
    ]

    @Test func eachValueAgreesWithScipyWithin1e9() {
        for (actual, expected, python) in Self.cases {
            #expect(relativeError(actual, expected) <= 1e-9, "\(python): ramp \(actual), scipy \(expected)")
        }
    }

    @Test func theQuantileInvertsTheCDFAndIsExactlyZeroAtOneHalf() {
        #expect(Normal.quantile(0.5) == 0)
        for p in [1e-9, 0.01, 0.2, 0.6, 0.9, 0.999_99] {
            #expect(relativeError(Normal.cdf(Normal.quantile(p)), p) <= 1e-12)
        }
        #expect(Normal.quantile(0) == -.infinity && Normal.quantile(1) == .infinity && Normal.quantile(2).isNaN)
    }

    @Test func studentTApproachesTheNormalAndChiSquareOneIsTheSquaredNormal() {
        #expect(relativeError(StudentT.sf(1.7, df: 1e7), Normal.sf(1.7)) <= 1e-6)
        // χ²₁ tail at x is P(|Z| > √x) = 2·Φ(−√x).
        for x in [0.2, 2.0, 9.0, 40.0] {
            #expect(relativeError(ChiSquare.sf(x, df: 1), 2 * Normal.sf(x.squareRoot())) <= 1e-10)
        }
    }
}

@Suite struct ComparisonTests {
    @Test func theMixtureLikelihoodRatioAndIntervalMatchTheirFormulas() {
        // lr = lambda th, v, tau: 2*norm.cdf(th*tau/np.sqrt(v*(v+tau**2)))*np.sqrt(v/(v+tau**2))
        //                         *np.exp(th**2*tau**2/(2*v*(v+tau**2)))
        let cases: [(Double, Double, Double, Double, String)] = [
            (0.003, 2.1e-6, 0.002, 4.559264745908803, "lr(0.003, 2.1e-6, 0.002)"),
            (-0.001, 2.1e-6, 0.002, 0.3952739460829095, "lr(-0.001, 2.1e-6, 0.002)"),
            (4.0, 9.5, 3.0, 1.7644674127806579, "lr(4.0, 9.5, 3.0)"),
        ]
        for (theta, v, tau, expected, python) in cases {
            let actual = MixtureSPRT.likelihoodRatio(theta: theta, variance: v, tau: tau)
            #expect(relativeError(actual, expected) <= 1e-9, "\(python)")
        }
        // np.sqrt(v*(v+tau**2)/tau**2*(np.log((v+tau**2)/v)-2*np.log(a))) with v=2.1e-6, tau=0.002, a=0.05
        #expect(
            relativeError(MixtureSPRT.halfWidth(variance: 2.1e-6, tau: 0.002, alpha: 0.05), 0.004754225032044558)
                <= 1e-9)
        // np.sqrt(0.0198/20000*(-2*np.log(0.05)+np.log(1-2*np.log(0.05))))
        #expect(
            relativeError(MixtureSPRT.tau(perUnitVariance: 0.0198, samples: 20000, alpha: 0.05), 0.0028029971558530325)
                <= 1e-9)
    }

    @Test func theZTestAndWelchMatchScipy() {
        let z = FixedHorizon.proportions(
            canary: .proportion(successes: 131, trials: 10000), baseline: .proportion(successes: 102, trials: 10000),
            worse: .higher)
        // pool=233/20000; z=(0.0131-0.0102)/np.sqrt(pool*(1-pool)*(2/10000)); norm.sf(z)
        #expect(relativeError(z.z, 1.9110174559612885) <= 1e-9)
        #expect(relativeError(z.p, 0.02800116883731419) <= 1e-9)
        let welch = FixedHorizon.welch(
            canary: ArmSummary(count: 400, mean: 212.4, variance: 900),
            baseline: ArmSummary(count: 350, mean: 208.9, variance: 1100), worse: .higher)
        // ttest_ind_from_stats(212.4, np.sqrt(900.0), 400, 208.9, np.sqrt(1100.0), 350, equal_var=False,
        //                      alternative='greater')
        #expect(relativeError(welch.t, 1.507157317206119) <= 1e-9)
        #expect(relativeError(welch.p, 0.06610771943087108) <= 1e-9)
        // v1,v2=900/400,1100/350; (v1+v2)**2/(v1**2/399+v2**2/349)
        #expect(relativeError(welch.df, 709.5052065491301) <= 1e-9)
        // Lower is worse: the same evidence read the other way round.
        let lower = FixedHorizon.welch(
            canary: ArmSummary(count: 400, mean: 212.4, variance: 900),
            baseline: ArmSummary(count: 350, mean: 208.9, variance: 1100), worse: .lower)
        #expect(relativeError(lower.p, 1 - 0.06610771943087108) <= 1e-9)
    }

    /// rng=np.random.default_rng(7); c=np.round(rng.normal(105,10,40),1); b=np.round(rng.normal(100,10,35),1)
    static let canary: [Double] = [
        105.0, 108.0, 102.3, 96.1, 100.5, 95.1, 105.6, 118.4, 100.1, 98.8, 109.9, 108.6, 106.1, 95.7, 104.7, 112.0,
        91.6, 100.4, 86.0, 92.1, 86.6, 102.6, 92.3, 107.7, 106.6, 103.1, 79.8, 99.6, 104.5, 106.1, 89.7, 100.2, 95.2,
        96.9, 115.6, 96.9, 104.7, 113.8, 99.2, 103.9,
    ]
    static let baseline: [Double] = [
        101.1, 100.6, 87.7, 100.8, 113.6, 84.5, 108.6, 101.2, 93.6, 120.0, 107.6, 88.0, 100.7, 105.8, 98.1, 106.8,
        99.3, 106.7, 114.4, 93.2, 102.0, 95.4, 101.3, 88.1, 94.2, 98.0, 109.0, 111.5, 86.8, 92.1, 106.5, 80.1, 95.4,
        99.0, 112.6,
    ]

    @Test func mannWhitneyMatchesScipyAndTheShiftIntervalMatchesNumpy() {
        let test = MannWhitney(canary: Self.canary, baseline: Self.baseline, worse: .higher, alpha: 0.05)
        // r = mannwhitneyu(c, b, alternative='greater', method='asymptotic', use_continuity=True)
        #expect(test.u == 733.0)
        #expect(relativeError(test.p, 0.36498667263727225) <= 1e-9)
        // d = np.sort((c[:,None]-b[None,:]).ravel()); np.median(d)
        #expect(abs(test.shift - 1.1000000000000014) <= 1e-9)
        // k = int(np.floor(n*m/2 - norm.ppf(0.975)*np.sqrt(n*m*(n+m+1)/12)))  → 515; d[k-1], d[n*m-k]
        #expect(abs(test.lower - -3.0) <= 1e-9 && abs(test.upper - 5.200000000000003) <= 1e-9)
    }

    @Test func theSampleRatioCheckMatchesScipysChiSquare() {
        let (x2, p) = SampleRatio.test(canary: 460, baseline: 9540, share: 0.05)
        // chisquare([460, 9540], [10000*0.05, 10000*0.95])
        #expect(relativeError(x2, 3.368421052631579) <= 1e-9)
        #expect(relativeError(p, 0.0664574200169312) <= 1e-9)
    }
}
