/// A health gate over one metric source.
public struct Gate: Sendable, Equatable {
    public var name: String
    public var source: String
    /// PromQL for a prometheus source, a JSON Pointer for an http source; nil for commands. May use templates.
    public var query: String?
    public var rule: Rule
    /// Consecutive failing checks before the plan's fail action; fewer hold.
    public var failureLimit: Int
    /// A shadow gate is checked and recorded but never acts, and never blocks an advance.
    public var shadow: Bool

    public enum Rule: Sendable, Equatable {
        /// The value must lie within the bounds.
        case threshold(min: Double?, max: Double?)
        /// The canary, compared with the baseline read by the same query, must not be worse by more than the
        /// ratio and/or the absolute delta (with both, it fails only when worse by more than both).
        case relative(direction: Direction, maxRatio: Double?, maxDelta: Double?)
        /// A statistical test of the canary against the baseline (StatisticalGate.swift).
        case statistical(StatisticalSpec)
    }

    public enum Direction: String, Sendable, CaseIterable {
        case higherIsWorse = "higher_is_worse"
        case lowerIsWorse = "lower_is_worse"
    }

    public init(
        name: String, source: String, query: String? = nil, rule: Rule, failureLimit: Int = 1, shadow: Bool = false
    ) {
        self.name = name
        self.source = source
        self.query = query
        self.rule = rule
        self.failureLimit = failureLimit
        self.shadow = shadow
    }

    /// A threshold gate.
    public init(name: String, source: String, min: Double? = nil, max: Double? = nil) {
        self.init(name: name, source: source, rule: .threshold(min: min, max: max))
    }

    public var isRelative: Bool { if case .relative = rule { true } else { false } }

    /// Whether the gate reads the baseline as well as the canary (relative and statistical gates).
    public var comparesWithBaseline: Bool { if case .threshold = rule { false } else { true } }

    /// `threshold`, `relative` or `statistical`, as a plan's `kind` names it.
    public var kind: String {
        switch rule {
        case .threshold: "threshold"
        case .relative: "relative"
        case .statistical: "statistical"
        }
    }

    /// The statistical spec, for a statistical gate.
    public var statistical: StatisticalSpec? { if case .statistical(let spec) = rule { spec } else { nil } }

    /// The bound in words: `≤ 0.01`, `≥ 0.99`, `in [0.5, 2]`, `≤ baseline × 1.2`.
    public var boundDescription: String {
        switch rule {
        case .threshold(let lo?, let hi?): return "in [\(JSONValue.format(lo)), \(JSONValue.format(hi))]"
        case .threshold(let lo?, nil): return "≥ \(JSONValue.format(lo))"
        case .threshold(nil, let hi?): return "≤ \(JSONValue.format(hi))"
        case .threshold(nil, nil): return "any"
        case .relative(let direction, let ratio, let delta):
            let higher = direction == .higherIsWorse
            var parts: [String] = []
            if let ratio {
                parts.append(higher ? "baseline × \(JSONValue.format(ratio))" : "baseline ÷ \(JSONValue.format(ratio))")
            }
            if let delta {
                parts.append(higher ? "baseline + \(JSONValue.format(delta))" : "baseline − \(JSONValue.format(delta))")
            }
            return (higher ? "≤ " : "≥ ") + parts.joined(separator: " or ")
        case .statistical(let spec):
            return spec.boundDescription
        }
    }

    /// Judges one reading of a threshold gate.
    public func judge(_ reading: Reading) -> GateCheck {
        var check = GateCheck(
            gate: name, source: source, value: nil, bound: boundDescription, outcome: .noData, message: "")
        check.query = query
        check.shadow = shadow
        switch reading.finite {
        case .value(let v):
            check.value = v
            guard case .threshold(let min, let max) = rule else { break }
            if let hi = max, v > hi {
                check.outcome = .fail
                check.message = "\(JSONValue.format(v)) > max \(JSONValue.format(hi))"
            } else if let lo = min, v < lo {
                check.outcome = .fail
                check.message = "\(JSONValue.format(v)) < min \(JSONValue.format(lo))"
            } else {
                check.outcome = .pass
                check.message = "\(JSONValue.format(v)) \(boundDescription)"
            }
        case .noData(let why): check.message = why
        case .error(let why):
            check.outcome = .error
            check.message = why
        }
        return check
    }

    /// Judges a relative gate from the canary's and the baseline's readings of the same query.
    public func judge(canary: Reading, baseline: Reading) -> GateCheck {
        var check = GateCheck(
            gate: name, source: source, value: nil, bound: boundDescription, outcome: .noData, message: "")
        check.query = query
        check.shadow = shadow
        guard case .relative(let direction, let maxRatio, let maxDelta) = rule else { return judge(canary) }
        let canary = canary.finite
        let baseline = baseline.finite
        func unusable(_ reading: Reading, _ who: String) -> (GateOutcome, String)? {
            switch reading {
            case .value: nil
            case .noData(let why): (.noData, "\(who): \(why)")
            case .error(let why): (.error, "\(who): \(why)")
            }
        }
        // An error on either side is an error; otherwise no data on either side is no data.
        let problems = [unusable(canary, "canary"), unusable(baseline, "baseline")].compactMap { $0 }
        if let first = problems.first(where: { $0.0 == .error }) ?? problems.first {
            check.outcome = first.0
            check.message = problems.map(\.1).joined(separator: "; ")
            return check
        }
        guard case .value(let c) = canary, case .value(let b) = baseline else { return check }
        check.value = c
        check.baseline = b
        // How much worse the canary is, in the direction that hurts.
        let worseBy = direction == .higherIsWorse ? c - b : b - c
        let ratioExceeded = maxRatio.map { ratio in direction == .higherIsWorse ? c > b * ratio : c * ratio < b }
        let deltaExceeded = maxDelta.map { worseBy > $0 }
        let fails = [ratioExceeded, deltaExceeded].compactMap { $0 }.allSatisfy { $0 }
        let comparison = "canary \(JSONValue.format(c)) vs baseline \(JSONValue.format(b))"
        check.outcome = fails ? .fail : .pass
        check.message =
            fails
            ? "\(comparison): worse by more than allowed (\(boundDescription))" : "\(comparison) (\(boundDescription))"
        return check
    }
}

/// What a metric source returned for one check.
public enum Reading: Sendable, Equatable {
    case value(Double)
    case noData(String)
    case error(String)

    /// The reading with every value that is not a finite number taken out, whatever the source: NaN is no data
    /// (Prometheus' answer for a ratio without traffic), and ±infinity is an error. No gate ever compares either.
    public var finite: Reading {
        guard case .value(let v) = self, !v.isFinite else { return self }
        if v.isNaN { return .noData("value is NaN") }
        return .error("value is \(v < 0 ? "-" : "+")Inf, not a finite number")
    }
}

/// Exactly one outcome per gate check.
public enum GateOutcome: String, Sendable, CaseIterable {
    case pass, fail
    case noData = "no_data"
    case error
    /// A statistical gate that can say neither pass nor fail yet: it holds (and counts toward `max_hold`).
    case inconclusive
}

/// One gate checked once: the evidence that decisions and the audit log carry.
public struct GateCheck: Sendable, Equatable {
    public var gate: String
    public var source: String
    /// The query after templating (the canary's, for a relative gate).
    public var query: String?
    /// The canary's value (or the only value).
    public var value: Double?
    /// The baseline's value, for a relative gate.
    public var baseline: Double?
    public var bound: String
    public var outcome: GateOutcome
    public var message: String
    public var shadow: Bool = false
    /// How many checks in a row, this one included, this gate has had this outcome.
    public var streak: Int = 1
    /// How long reading the source took.
    public var seconds: Double?
    /// A statistical gate's evidence: inputs per arm, estimate, interval, p-value, decision rule, verdict.
    public var statistics: JSONValue?

    public init(gate: String, source: String, value: Double?, bound: String, outcome: GateOutcome, message: String) {
        self.gate = gate
        self.source = source
        self.value = value
        self.bound = bound
        self.outcome = outcome
        self.message = message
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "gate": .string(gate), "source": .string(source), "value": value.map { .number($0) } ?? .null,
            "bound": .string(bound), "verdict": .string(outcome.rawValue), "message": .string(message),
        ]
        if let query { object["query"] = .string(query) }
        if let baseline { object["baseline"] = .number(baseline) }
        if shadow { object["shadow"] = true }
        if streak != 1 { object["streak"] = .number(Double(streak)) }
        if let seconds { object["seconds"] = .number((seconds * 1000).rounded() / 1000) }
        if let statistics { object["statistics"] = statistics }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let gate = json["gate"]?.stringValue, let source = json["source"]?.stringValue,
            let bound = json["bound"]?.stringValue, let verdict = json["verdict"]?.stringValue,
            let outcome = GateOutcome(rawValue: verdict), let message = json["message"]?.stringValue
        else { return nil }
        self.init(
            gate: gate, source: source, value: json["value"]?.numberValue, bound: bound, outcome: outcome,
            message: message)
        query = json["query"]?.stringValue
        baseline = json["baseline"]?.numberValue
        shadow = json["shadow"]?.boolValue ?? false
        streak = json["streak"]?.numberValue.flatMap { Int(exactly: $0) } ?? 1
        seconds = json["seconds"]?.numberValue
        statistics = json["statistics"]
    }

    /// `errors: failed for 2 checks, 2 of 3 allowed (0.5 > max 0.01)`: why this check holds or acts, in words.
    public func problemDescription(failureLimit: Int) -> String {
        let allowance = outcome == .fail && failureLimit > 1 ? ", \(streak) of \(failureLimit) allowed" : ""
        return "\(gate): \(outcomeWords)\(allowance) (\(message))"
    }

    /// `no data for 3 checks`, `failed`, `error`: the outcome with its streak, for status lines.
    public var outcomeWords: String {
        let word =
            switch outcome {
            case .pass: "passed"
            case .fail: "failed"
            case .noData: "no data"
            case .error: "error"
            case .inconclusive: "inconclusive"
            }
        return streak > 1 ? "\(word) for \(streak) checks" : word
    }
}
