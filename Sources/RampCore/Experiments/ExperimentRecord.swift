/// Where an experiment stands.
public enum ExperimentState: String, Sendable, CaseIterable {
    /// Serving its split; the tick checks its guardrails (and reweights a bandit).
    case running
    /// Stopped early (a guardrail failed, or `ramp experiment stop`): everyone back to the control.
    case stopped
    /// The planned sample was reached: the window of its readout is closed.
    case concluded
    /// `ramp experiment ship`: a variant went to everyone, or to a canary rollout.
    case shipped
}

/// An experiment or bandit as the store keeps it: its plan, state and the split it serves now.
public struct ExperimentRecord: Sendable, Equatable {
    public var id: Int64
    public var flag: String
    public var planDigest: String
    public var state: ExperimentState
    public var startedAt: Instant
    /// The last tick that checked it (its start, before any).
    public var checkedAt: Instant
    /// When it stopped, concluded or shipped: the end of its readout's window.
    public var endedAt: Instant?
    public var allocation: Allocation
    /// A bandit's reweights so far (each one's seed is derived from the count).
    public var reweights: Int

    public init(
        id: Int64, flag: String, planDigest: String, state: ExperimentState, startedAt: Instant, checkedAt: Instant,
        endedAt: Instant?, allocation: Allocation, reweights: Int
    ) {
        self.id = id
        self.flag = flag
        self.planDigest = planDigest
        self.state = state
        self.startedAt = startedAt
        self.checkedAt = checkedAt
        self.endedAt = endedAt
        self.allocation = allocation
        self.reweights = reweights
    }

    /// The window its readout reads events from.
    public func window(now: Instant) -> EventWindow { EventWindow(since: startedAt, until: endedAt ?? now) }
}

extension Allocation {
    /// An allocation read back from its `fractional` form (`[[variant, units], …]`); nil unless every segment is a
    /// variant name and a whole number of units from 0, totalling 1 to 2^31 − 1.
    public init?(json: JSONValue) {
        guard case .array(let items) = json else { return nil }
        var segments: [(variant: String, weight: Int)] = []
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, case .string(let variant) = pair[0],
                case .number(let units) = pair[1], units >= 0, units <= Double(Flag.maximumTotalWeight),
                units == units.rounded()
            else { return nil }
            segments.append((variant, Int(units)))
        }
        self.init(segments)
    }

    /// The `fractional` form as JSON.
    public var json: JSONValue { .array(fractional) }
}

extension Flag {
    /// What an experiment's audit entry records of the flag after it: the variants and what serves them (the pair,
    /// the canary's share, the base weights and the rules, the experiment's own split among them). `audit verify`
    /// rebuilds the flag from it (`applyingServed`).
    public var servedJSON: JSONValue {
        [
            "variants": .object(variants), "baseline": .string(baseline), "canary": .string(canary),
            "canary_bp": .number(Double(canaryPercent.basisPoints)), "weights": weightsJSON,
            "rules": .array(rules.map(\.json)),
        ]
    }

    /// This flag (or a new one, `key`) with what `servedJSON` records; nil when the record cannot be read.
    public static func applyingServed(_ json: JSONValue, to flag: Flag?, key: String) -> Flag? {
        guard case .object(let variants)? = json["variants"], let baseline = json["baseline"]?.stringValue,
            let canary = json["canary"]?.stringValue, variants[baseline] != nil, variants[canary] != nil,
            case .number(let bp)? = json["canary_bp"], let basisPoints = Int(exactly: bp),
            (0...Percent.scale).contains(basisPoints), case .object(let weightValues)? = json["weights"],
            let weights = Flag.weights(from: weightValues), case .array(let ruleList)? = json["rules"]
        else { return nil }
        var rules: [TargetingRule] = []
        for rule in ruleList {
            guard let parsed = try? TargetingRule(json: rule) else { return nil }
            rules.append(parsed)
        }
        var out = flag ?? Flag(key: key, variants: variants, baseline: baseline, canary: canary)
        out.variants = variants
        out.baseline = baseline
        out.canary = canary
        out.canaryPercent = Percent(basisPoints: basisPoints)
        out.canarySegments = []
        out.weights = weights
        out.rules = rules
        return out
    }
}
