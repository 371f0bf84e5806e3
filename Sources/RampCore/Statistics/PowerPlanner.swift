/// How long each step of a plan must run to detect a minimum detectable effect on an error rate (or any
/// proportion), at the plan's alpha and a chosen power, for a given traffic.
public struct PowerPlanner: Sendable {
    /// Units (requests, users) per second reaching the flag.
    public var traffic: Double
    /// The baseline's rate, e.g. 0.01.
    public var baselineRate: Double
    /// The smallest relative worsening worth catching, e.g. 0.2 (1% → 1.2%).
    public var relativeEffect: Double
    public var power: Double

    public init(traffic: Double, baselineRate: Double, relativeEffect: Double, power: Double = 0.8) {
        self.traffic = traffic
        self.baselineRate = baselineRate
        self.relativeEffect = relativeEffect
        self.power = power
    }

    /// The test a plan's gates use: its first statistical gate on a proportion, else a sequential test at 0.05.
    public struct Test: Sendable, Equatable {
        public var gate: String?
        public var sequential: Bool
        public var alpha: Double
        public var mixture: Double?
        public var expectedSamples: Double?
        /// A group-sequential gate's spending function and most looks (nil spending for the other tests).
        public var spending: AlphaSpending?
        public var looks: Int

        public init(
            gate: String? = nil, sequential: Bool, alpha: Double, mixture: Double? = nil,
            expectedSamples: Double? = nil, spending: AlphaSpending? = nil, looks: Int = 10
        ) {
            self.gate = gate
            self.sequential = sequential
            self.alpha = alpha
            self.mixture = mixture
            self.expectedSamples = expectedSamples
            self.spending = spending
            self.looks = looks
        }

        public init(plan: Plan) {
            let gate = plan.gates.first { $0.statistical.map { [.proportion, .mean].contains($0.metric) } == true }
            let spec = gate?.statistical
            self.init(
                gate: gate?.name, sequential: spec.map { $0.test == .sequential } ?? true, alpha: spec?.alpha ?? 0.05,
                mixture: spec?.mixture, expectedSamples: spec?.expectedSamples,
                spending: spec?.test == .groupSequential ? spec?.spending : nil, looks: spec?.looks ?? 10)
        }

        /// `sequential (mSPRT)`, `group-sequential (O'Brien-Fleming, 10 looks)` or `fixed horizon`.
        public var name: String {
            if let spending { return "group-sequential (\(spending.name), \(looks) looks)" }
            return sequential ? "sequential (mSPRT)" : "fixed horizon"
        }
    }

    /// One step's requirement.
    public struct StepNeed: Sendable, Equatable {
        public var step: Int
        public var share: Double
        /// Samples per arm (canary, baseline) and the time to collect them; nil when the step cannot be judged (a
        /// segment step, or 100% with no baseline left).
        public var canarySamples: Double?
        public var baselineSamples: Double?
        public var seconds: Double?
        /// For a group-sequential test: the expected time to stop when the effect is there (it may cross a boundary
        /// before its maximum, `seconds`).
        public var expectedSeconds: Double?
        public var bake: TimeSpan
        /// Why this step cannot be judged, or why its bake is too short.
        public var warning: String?
    }

    /// The canary's and baseline's rates under the effect, and the difference to detect.
    var rates: (canary: Double, baseline: Double, delta: Double) {
        let canary = baselineRate * (1 + relativeEffect)
        return (canary, baselineRate, canary - baselineRate)
    }

    /// The seconds a split `share` : 1 − share needs before the test detects the effect with `power`.
    public func seconds(share: Double, test: Test) -> Double {
        let inflation = test.spending.map {
            GroupSequential.design(spending: $0, alpha: test.alpha, power: power, looks: test.looks).maximum
        }
        return seconds(share: share, test: test, inflation: inflation)
    }

    /// The same, with a group-sequential design's inflation factor already solved.
    func seconds(share: Double, test: Test, inflation: Double?) -> Double {
        let (pc, pb, delta) = rates
        let sc = pc * (1 - pc)
        let sb = pb * (1 - pb)
        // The variance of the difference after t seconds: sc / (T·share·t) + sb / (T·(1−share)·t) = k / t.
        let k = sc / (traffic * share) + sb / (traffic * (1 - share))
        let zPower = Normal.quantile(power)
        // One look: δ − z_power·√V ≥ z_(1−α)·√V.
        let z = Normal.quantile(1 - test.alpha) + zPower
        let fixedSeconds = k * z * z / (delta * delta)
        // A group-sequential test's maximum sample: the fixed horizon's, inflated so its looks keep the power.
        if let inflation { return fixedSeconds * inflation }
        if !test.sequential { return fixedSeconds }
        // The mixture, as the gate would derive it: tuned at its expected sample, else at the fixed test's.
        let tau =
            test.mixture
            ?? MixtureSPRT.tau(
                perUnitVariance: sc + sb,
                samples: test.expectedSamples ?? traffic * min(share, 1 - share) * fixedSeconds, alpha: test.alpha)
        // The first t where an estimate `power` of the time above (δ − z_power·√V) reaches the boundary 1/α.
        func detects(_ t: Double) -> Bool {
            let v = k / t
            let estimate = delta - zPower * v.squareRoot()
            return estimate > 0 && MixtureSPRT.likelihoodRatio(theta: estimate, variance: v, tau: tau) >= 1 / test.alpha
        }
        var high = max(fixedSeconds, 1)
        while !detects(high) {
            high *= 2
            if high > 1e12 { return .infinity }
        }
        var low = 0.0
        for _ in 0..<100 where high - low > 0.5 {
            let mid = (low + high) / 2
            if detects(mid) { high = mid } else { low = mid }
        }
        return high.rounded(.up)
    }

    /// Every step's need for `plan`.
    public func plan(_ plan: Plan) -> (test: Test, steps: [StepNeed]) {
        let test = Test(plan: plan)
        // The group-sequential design is the same at every step: its expected share of the maximum, solved once.
        let design = test.spending.map {
            GroupSequential.design(spending: $0, alpha: test.alpha, power: power, looks: test.looks)
        }
        let needs = plan.steps.enumerated().map { i, step -> StepNeed in
            let share = step.percent.value / 100
            var need = StepNeed(step: i + 1, share: share, bake: step.bake)
            if step.segment != nil {
                need.warning = "a segment step: its share of traffic depends on the segment"
            } else if share <= 0 || share >= 1 {
                need.warning = share >= 1 ? "no baseline left to compare with" : "no canary traffic"
            } else {
                let seconds = self.seconds(share: share, test: test, inflation: design?.maximum)
                need.seconds = seconds
                if let design { need.expectedSeconds = seconds * design.expected / design.maximum }
                need.canarySamples = (traffic * share * seconds).rounded(.up)
                need.baselineSamples = (traffic * (1 - share) * seconds).rounded(.up)
                if seconds.isFinite, Double(step.bake.seconds) < seconds, i < plan.steps.count - 1 {
                    need.warning =
                        "bake \(step.bake) is too short to be conclusive: it needs "
                        + "\(TimeSpan.describing(seconds: seconds)) at this traffic"
                }
            }
            return need
        }
        return (test, needs)
    }
}
