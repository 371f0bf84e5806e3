/// An experiment plan (`"kind": "experiment"`: a fixed A/B/n split read out against a control) or a bandit plan
/// (`"kind": "bandit"`: the split reweighted by Thompson sampling at every interval). Both run on a flag's own
/// `fractional` hashing, through `Allocation`, optionally inside a range of a layer.
public struct ExperimentPlan: Sendable, Equatable {
    public enum Kind: String, Sendable { case experiment, bandit }

    /// Which way a metric should move.
    public enum Better: String, Sendable { case higher, lower }

    /// What happens when the planned sample is reached.
    public enum End: String, Sendable {
        /// Keep serving the split (until `ramp experiment ship` or `stop`).
        case hold
        /// Everyone back to the control.
        case control
    }

    /// A metric of each arm: from ramp's events by default (`metric` an outcome's name; a proportion is the units
    /// with a non-zero outcome among the exposed units, a mean is of the outcome's values), or read per arm from
    /// one of the plan's `sources` (Prometheus, HTTP JSON, a command) through `inputs`, as a statistical gate
    /// reads its arms: `count` and `total` for a proportion; `count` with `mean` and `variance`, or with `sum` and
    /// `sum_squares`, for a mean, each query using `{{variant}}`.
    public struct Metric: Sendable, Equatable {
        public var metric: String
        public var type: ArmData.Metric
        public var better: Better
        /// The source the metric is read from; nil for ramp's events.
        public var source: String?
        /// Input name → query, for a metric read from a source.
        public var inputs: [String: String] = [:]
        /// The primary metric's minimum detectable effect, relative (0.05 is 5%): what the power is computed for.
        public var mde: Double?
        /// A guardrail's non-inferiority margin, relative: the treatment may be at most this much worse.
        public var margin: Double
    }

    public struct LayerRange: Sendable, Equatable {
        public var name: String
        public var lower: Int
        public var upper: Int
        public var layer: Layer { Layer(salt: name)! }
    }

    public var kind: Kind
    public var flag: String
    /// Where metrics that are not ramp's events are read, as in a rollout plan.
    public var sources: [String: SourceSpec]
    public var description: String?
    public var variants: [String: JSONValue]
    public var control: String
    /// The split's weights (an experiment's; a bandit starts equal). Every variant has one.
    public var weights: [String: Int]
    public var primary: Metric
    public var guardrails: [Metric]
    /// The planned units, all arms together.
    public var sample: Int
    public var alpha: Double
    public var power: Double
    public var cohorts: [String]
    public var interval: TimeSpan
    public var end: End
    public var layer: LayerRange?
    /// Bandits: the units every arm must have before the first reweight (equal weights until then).
    public var burnIn: Int
    /// Bandits: each arm's least share.
    public var floor: Double
    /// Bandits: top-two Thompson sampling's β (the leader's share of the draws), or nil for plain Thompson.
    public var topTwo: Double?
    /// Bandits: the joint posterior draws behind each probability of being best.
    public var draws: Int

    /// The arms in report order: the control, then the others by name.
    public var arms: [String] { [control] + variants.keys.filter { $0 != control }.sorted() }

    /// Whether `text` is an experiment or bandit plan (`"kind"` says so) rather than a rollout plan.
    public static func isExperiment(_ document: JSONValue) -> Bool {
        guard case .string(let kind)? = document["kind"] else { return false }
        return kind == Kind.experiment.rawValue || kind == Kind.bandit.rawValue
    }

    /// Parses and validates an experiment or bandit plan; `file` is only used in messages.
    public static func parse(_ text: String, file: String) throws(PlanError) -> ExperimentPlan {
        var fields = try PlanParser.fields(text, file: file)
        return try fields.experimentPlan()
    }

    /// The units of the flag's split the allocation divides.
    public static let total = 10_000

    /// The most arms a plan may have (each arm is read per check; a split of 10,000 units gives each some).
    public static let maximumArms = 100

    /// The split the plan starts with: its weights scaled to `total` units (largest remainders), control first.
    public var initialAllocation: Allocation {
        let sum = Double(weights.values.reduce(0, +))
        let units = Allocation.units(
            for: weights.mapValues { Double($0) / sum }, total: Self.total)!
        return Allocation(arms.map { ($0, units[$0] ?? 0) })!
    }

    /// The choose rule's logic that serves `allocation`: the flag's own `fractional` split, inside the layer's
    /// range when the plan names one (outside it the logic gives null, so the flag serves its control).
    public func logic(_ allocation: Allocation) -> JSONValue {
        let split: JSONValue = ["fractional": .array(allocation.fractional)]
        guard let layer else { return split }
        return ["if": [layer.layer.condition(lower: layer.lower, upper: layer.upper)!, split, .null]]
    }
}

extension Fields {
    mutating func experimentPlan() throws(PlanError) -> ExperimentPlan {
        guard let kindText = try string("kind"), let kind = ExperimentPlan.Kind(rawValue: kindText) else {
            throw fail("kind", "must be \"experiment\" or \"bandit\"")
        }
        var known: Set<String> = [
            "$schema", "kind", "flag", "description", "variants", "control", "primary", "guardrails", "sample",
            "alpha", "power", "cohorts", "interval", "end", "layer", "sources",
        ]
        known.formUnion(kind == .experiment ? ["weights"] : ["burn_in", "floor", "top_two", "draws"])
        try allow(known)
        _ = value("$schema")
        let flag = try requiredString("flag")
        guard Self.isValidKey(flag) else {
            throw fail("flag", "\"\(flag)\" is not a valid flag key (letters, digits, '.', '_', '-'; at most 128)")
        }
        let description = try string("description")
        guard let v = value("variants") else { throw fail("variants", "is required") }
        guard case .object(let variants) = v, variants.count >= 2, variants.count <= ExperimentPlan.maximumArms else {
            throw fail(
                "variants", "expected an object of two to \(ExperimentPlan.maximumArms) variant names to values")
        }
        for name in variants.keys.sorted() {
            try checkName(name, at: "variants", what: "variant name")
            if variants[name] == .null { throw fail("variants.\(name)", "a variant's value cannot be null") }
        }
        let control = try requiredString("control")
        guard variants[control] != nil else { throw fail("control", "\"\(control)\" is not one of the variants") }
        var weights = variants.mapValues { _ in 1 }
        if kind == .experiment, let w = value("weights") {
            guard case .object(let object) = w else {
                throw fail("weights", "expected an object of variant name to a whole number from 1 to 10000")
            }
            for name in object.keys.sorted() {
                guard variants[name] != nil else { throw fail("weights.\(name)", "is not one of the variants") }
                guard case .number(let n) = object[name]!, n >= 1, n <= 10_000, n == n.rounded() else {
                    throw fail("weights.\(name)", "must be a whole number from 1 to 10000")
                }
                weights[name] = Int(n)
            }
            if let missing = variants.keys.sorted().first(where: { object[$0] == nil }) {
                throw fail("weights", "has no weight for variant \"\(missing)\" (every arm needs one)")
            }
        }
        let sources = try self.sources()
        // Every arm must get some of the split's units.
        let sum = Double(weights.values.reduce(0, +))
        if let units = Allocation.units(for: weights.mapValues { Double($0) / sum }, total: ExperimentPlan.total),
            let starved = variants.keys.sorted().first(where: { (units[$0] ?? 0) == 0 })
        {
            throw fail(
                "weights.\(starved)", "would get none of the split's \(ExperimentPlan.total) units: weigh it more")
        }
        guard let p = value("primary") else { throw fail("primary", "is required") }
        var primaryFields = try Fields(file: file, path: join("primary"), value: p)
        let primary = try primaryFields.metric(primary: true, sources: sources)
        var guardrails: [ExperimentPlan.Metric] = []
        for (i, g) in (try array("guardrails") ?? []).enumerated() {
            var guardrail = try Fields(file: file, path: join("guardrails[\(i)]"), value: g)
            guardrails.append(try guardrail.metric(primary: false, sources: sources))
        }
        var seen: [String: ExperimentPlan.Metric] = [:]
        for (i, metric) in ([primary] + guardrails).enumerated() {
            if let other = seen[metric.metric],
                other.type != metric.type || other.source != metric.source
                    || other.inputs != metric.inputs
            {
                throw fail(
                    "guardrails[\(i - 1)].metric",
                    "\"\(metric.metric)\" is read otherwise already (its type, source or inputs); one name is one metric"
                )
            }
            seen[metric.metric] = metric
        }
        guard let sample = try number("sample") else { throw fail("sample", "is required") }
        guard sample >= Double(2 * variants.count), sample <= 1e12, sample == sample.rounded() else {
            throw fail("sample", "must be a whole number of units from \(2 * variants.count) (two per arm) to 1e12")
        }
        let alpha = try number("alpha") ?? 0.05
        guard alpha > 0, alpha <= 0.5 else { throw fail("alpha", "must be above 0 and at most 0.5") }
        let power = try number("power") ?? 0.8
        guard power >= 0.5, power < 1 else { throw fail("power", "must be at least 0.5 and below 1") }
        if primary.source != nil, value("cohorts") != nil {
            throw fail(
                "cohorts", "cohorts group ramp's exposures; a primary metric read from a source has none to group")
        }
        var cohorts: [String] = []
        for (i, c) in (try array("cohorts") ?? []).enumerated() {
            guard case .string(let name) = c, !name.isEmpty else {
                throw fail("cohorts[\(i)]", "expected an attribute name")
            }
            try checkName(name, at: "cohorts[\(i)]", what: "attribute name")
            guard !cohorts.contains(name) else { throw fail("cohorts[\(i)]", "\"\(name)\" is named twice") }
            cohorts.append(name)
        }
        let interval = try span("interval", minimum: TimeSpan(seconds: 10)) ?? TimeSpan(seconds: 3600)
        let endText = try string("end") ?? "hold"
        guard let end = ExperimentPlan.End(rawValue: endText) else {
            throw fail("end", "\"\(endText)\" is not hold or control")
        }
        var layer: ExperimentPlan.LayerRange?
        if let l = value("layer") {
            var layerFields = try Fields(file: file, path: join("layer"), value: l)
            try layerFields.allow(["name", "range"])
            let name = try layerFields.requiredString("name")
            guard !name.isEmpty, Layer(salt: name) != nil, Self.isValidKey(name) else {
                throw layerFields.fail("name", "\"\(name)\" is not a layer name (letters, digits, '.', '_', '-')")
            }
            guard case .array(let bounds)? = layerFields.value("range"), bounds.count == 2,
                case .number(let lower) = bounds[0], case .number(let upper) = bounds[1],
                lower == lower.rounded(), upper == upper.rounded(), lower >= 0, upper <= Double(Layer.total),
                lower < upper
            else {
                throw layerFields.fail(
                    "range", "expected [lower, upper]: whole units with 0 ≤ lower < upper ≤ \(Layer.total)")
            }
            layer = .init(name: name, lower: Int(lower), upper: Int(upper))
        }
        var burnIn = 0
        var floor = 0.0
        var topTwo: Double?
        var draws = 10_000
        if kind == .bandit {
            let b = try number("burn_in") ?? 100
            guard b >= 2, b <= 1e9, b == b.rounded() else {
                throw fail("burn_in", "must be a whole number of units per arm from 2 to 1e9")
            }
            burnIn = Int(b)
            floor = try number("floor") ?? 0.01
            guard floor >= 0, floor * Double(variants.count) < 1 else {
                throw fail("floor", "must be from 0 and below 1 / the number of arms (\(variants.count))")
            }
            topTwo = try number("top_two")
            if let beta = topTwo, !(beta > 0 && beta < 1) {
                throw fail("top_two", "the leader's share β must be above 0 and below 1 (0.5 is usual)")
            }
            let d = try number("draws") ?? 10_000
            guard d >= 100, d <= 1_000_000, d == d.rounded() else {
                throw fail("draws", "must be a whole number from 100 to 1000000")
            }
            draws = Int(d)
        }
        try rejectUnknown()
        return ExperimentPlan(
            kind: kind, flag: flag, sources: sources, description: description, variants: variants, control: control,
            weights: weights, primary: primary, guardrails: guardrails, sample: Int(sample), alpha: alpha,
            power: power, cohorts: cohorts, interval: interval, end: end, layer: layer, burnIn: burnIn,
            floor: floor, topTwo: topTwo, draws: draws)
    }

    mutating func metric(primary: Bool, sources: [String: SourceSpec]) throws(PlanError) -> ExperimentPlan.Metric {
        try allow(
            Set(["metric", "type", "better", "source", "inputs"] + (primary ? ["mde"] : ["margin"])))
        let metric = try requiredString("metric")
        guard !metric.isEmpty else { throw fail("metric", "an outcome metric's name cannot be empty") }
        try checkName(metric, at: "metric", what: "metric name")
        let typeText = try requiredString("type")
        guard let type = ArmData.Metric(rawValue: typeText) else {
            throw fail("type", "\"\(typeText)\" is not proportion or mean")
        }
        let betterText = try requiredString("better")
        guard let better = ExperimentPlan.Better(rawValue: betterText) else {
            throw fail("better", "\"\(betterText)\" is not higher or lower")
        }
        var mde: Double?
        var margin = 0.0
        if primary {
            mde = try number("mde")
            if let m = mde, !(m > 0 && m <= 10) { throw fail("mde", "must be a relative effect above 0, at most 10") }
        } else {
            margin = try number("margin") ?? 0
            guard margin >= 0, margin <= 10 else { throw fail("margin", "must be a relative margin from 0 to 10") }
        }
        var source: String?
        var inputs: [String: String] = [:]
        if let name = try string("source") {
            guard let spec = sources[name] else {
                throw fail(
                    "source",
                    "unknown source \"\(name)\" (defined: \(sources.keys.sorted().joined(separator: ", ")))")
            }
            if case .events = spec {
                if value("inputs") != nil { throw fail("inputs", "the events source needs no inputs") }
            } else {
                source = name
                inputs = try self.inputs(from: spec, metric: type == .proportion ? .proportion : .mean)
            }
        } else if value("inputs") != nil {
            throw fail("inputs", "inputs are read from a source: name one (\"source\")")
        }
        try rejectUnknown()
        return .init(
            metric: metric, type: type, better: better, source: source, inputs: inputs, mde: mde, margin: margin)
    }
}
