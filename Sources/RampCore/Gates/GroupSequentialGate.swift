/// Where a group-sequential gate stands within a rollout's step: the looks it has taken (the smaller arm's count at
/// each) and, once it has ended, its verdict. A tick keeps it in the rollout's observation and gives it back to the
/// gate's next check; a check in another step, or in the same step entered anew, starts afresh.
public struct GroupSequentialState: Sendable, Equatable {
    public var step: Int
    public var stepEnteredAt: Instant?
    public var looks: [Double]
    /// `fail` or `pass` once the test has ended; every later check in the step repeats it.
    public var stopped: GateOutcome?

    public init(step: Int, stepEnteredAt: Instant?, looks: [Double] = [], stopped: GateOutcome? = nil) {
        self.step = step
        self.stepEnteredAt = stepEnteredAt
        self.looks = looks
        self.stopped = stopped
    }

    /// Read from a stored state, or from a group-sequential check's statistics (which carry the same fields); nil
    /// when the fields are missing or impossible (looks that are not positive and increasing, an unknown verdict).
    public init?(json: JSONValue) {
        guard case .number(let step)? = json["step"], let step = Int(exactly: step), step >= 0,
            case .array(let looks)? = json["looks"], looks.count <= Self.lookLimit
        else { return nil }
        self.step = step
        switch json["step_entered_at"] {
        case .number(let seconds)?:
            guard let seconds = Int64(exactly: seconds), Instant.representable.contains(seconds) else { return nil }
            stepEnteredAt = Instant(seconds: seconds)
        case .null?: stepEnteredAt = nil
        default: return nil
        }
        var counts: [Double] = []
        for look in looks {
            guard case .number(let n) = look, n.isFinite, n > (counts.last ?? 0) else { return nil }
            counts.append(n)
        }
        self.looks = counts
        switch json["stopped"] {
        case .string(let text)?:
            guard let outcome = GateOutcome(rawValue: text), outcome == .fail || outcome == .pass else { return nil }
            stopped = outcome
        case .null?, nil: stopped = nil
        default: return nil
        }
    }

    /// The most looks a stored state may hold: `looks` is at most 100.
    static let lookLimit = 100

    public var json: JSONValue {
        [
            "step": .number(Double(step)),
            "step_entered_at": stepEnteredAt.map { .number(Double($0.seconds)) } ?? .null,
            "looks": .array(looks.map(JSONValue.number)), "stopped": stopped.map { .string($0.rawValue) } ?? .null,
        ]
    }

    /// Whether this state belongs to the step a check is made in.
    func continues(step: Int, enteredAt: Instant?) -> Bool { self.step == step && stepEnteredAt == enteredAt }
}

/// What a group-sequential gate's check needs beyond its inputs: the rollout's step, and the gate's state as the
/// previous check left it (nil when there was none).
public struct SequentialContext: Sendable, Equatable {
    public var step: Int
    public var stepEnteredAt: Instant?
    public var previous: JSONValue?

    public init(step: Int, stepEnteredAt: Instant?, previous: JSONValue?) {
        self.step = step
        self.stepEnteredAt = stepEnteredAt
        self.previous = previous
    }
}

extension StatisticalJudgement {
    /// The group-sequential test: a look each time the smaller arm has grown by 1/`looks` of the planned sample (and
    /// at the planned sample), its boundary solved for the information fractions of the looks actually taken, so the
    /// α spent never exceeds the spending function's however irregular the looks. Fails when z reaches the
    /// boundary; passes at the planned sample otherwise (no futility stop).
    static func groupSequential(_ look: inout Look, context: SequentialContext) -> StatisticalJudgement {
        let (spec, smaller, comparison) = (look.spec, look.smaller, look.comparison)
        guard let planned = spec.expectedSamples, planned > 0 else {
            return look.verdict(.error, "", "group_sequential needs expected_samples")
        }
        var state = GroupSequentialState(step: context.step, stepEnteredAt: context.stepEnteredAt)
        if let previous = context.previous {
            // A state that could not have been written (unreadable, or running on past the planned sample) is an
            // error: starting afresh would spend α again.
            guard let stored = GroupSequentialState(json: previous),
                stored.stopped != nil || stored.looks.allSatisfy({ $0 < planned })
            else {
                return look.verdict(.error, "", "\(comparison): the gate's stored group-sequential state is unreadable")
            }
            if stored.continues(step: context.step, enteredAt: context.stepEnteredAt) { state = stored }
        }
        // The boundaries of the looks already taken, replayed: they depend only on where the looks fell.
        let fractions = state.looks.map { min($0 / planned, 1) }
        func replay(_ fractions: [Double]) -> GroupSequential {
            GroupSequential.replay(
                spending: spec.spending, alpha: spec.alpha, smallestStep: 1 / Double(spec.looks), fractions: fractions)
        }
        var test = replay(fractions)
        let excess = look.worseBy - spec.tolerance
        // A proportion's variance is pooled over both arms, as the z-test's: with rare events the arms' own
        // variances understate the null's and spend more than α.
        let variance =
            spec.metric == .proportion
            ? FixedHorizon.pooledVariance(canary: look.canary, baseline: look.baseline) : look.variance
        // No variation in either arm: any excess is certain, and crosses every boundary.
        let z = variance > 0 ? excess / variance.squareRoot() : excess > 0 ? .infinity : excess < 0 ? -.infinity : 0
        let t = min(smaller / planned, 1)
        let last = state.looks.last ?? 0
        look.evidence["spending"] = .string(spec.spending.rawValue)
        look.evidence["max_looks"] = .number(Double(spec.looks))
        look.evidence["information_fraction"] = .number(t)
        look.evidence["z"] = z.isFinite ? .number(z) : .null
        func record(_ outcome: GateOutcome, _ rule: String, _ said: String) -> StatisticalJudgement {
            let fields = state.json
            for key in ["step", "step_entered_at", "looks", "stopped"] { look.evidence[key] = fields[key] }
            look.evidence["boundaries"] = .array(test.boundaries.map(JSONValue.number))
            look.evidence["alpha_spent"] = .number(test.spent)
            look.evidence["boundary"] = test.boundaries.last.map(JSONValue.number) ?? .null
            return look.verdict(outcome, rule, said)
        }
        let zText = z.isFinite ? format(z) : z > 0 ? "∞ (no variation)" : "−∞ (no variation)"
        var spent: String { "α spent \(format(test.spent)) of \(JSONValue.format(spec.alpha))" }
        if let stopped = state.stopped {
            let k = state.looks.count
            return record(
                stopped, "the test ended at look \(k); later checks in the step repeat its verdict",
                "\(comparison): the group-sequential test ended at look \(k) "
                    + (stopped == .fail ? "(worse)" : "(no regression at the planned sample)") + ", \(spent)")
        }
        if smaller < last {
            return record(
                .error, "inputs accumulate over the step",
                "\(comparison): samples fell from \(count(last)) to \(count(smaller)) per arm since the last look "
                    + "(a group-sequential gate needs inputs that accumulate over the step)")
        }
        let step = planned / Double(spec.looks)
        guard t >= 1 || smaller - last >= step else {
            let next = min(planned, last + step)
            return record(
                .inconclusive, "a look each \(count(step)) samples per arm",
                "\(comparison): z \(zText), next look at \(count(next)) samples per arm "
                    + "(\(count(smaller)) of \(count(planned)) planned), \(spent)")
        }
        test = replay(fractions + [t])
        let boundary = test.boundaries[test.boundaries.count - 1]
        state.looks.append(smaller)
        let k = state.looks.count
        let at = "look \(k) at \(percent(t)) of the planned sample"
        if z >= boundary {
            state.stopped = .fail
            return record(
                .fail, "fail when z reaches the look's boundary",
                "\(comparison): worse, z \(zText) ≥ boundary \(format(boundary)) at \(at), \(spent)")
        }
        if t >= 1 {
            state.stopped = .pass
            return record(
                .pass, "pass at the planned sample without crossing a boundary",
                "\(comparison): no regression at the planned sample, z \(zText) < boundary \(format(boundary)) "
                    + "at \(at), \(spent)")
        }
        return record(
            .inconclusive, "neither fail nor pass yet",
            "\(comparison): z \(zText) < boundary \(format(boundary)) at \(at), \(spent)")
    }
}
