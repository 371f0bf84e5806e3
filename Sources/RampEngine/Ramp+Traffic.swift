public import RampCore
import RampStore

/// Simulated users for a rehearsal (`ramp demo`): each tick, new users of each flag with a running experiment
/// are evaluated through the flag as applications would evaluate it, and each one the experiment's split served is
/// recorded as an exposure (with its attributes) and its outcomes, drawn from the true rates and means the
/// traffic file gives each variant. Seeded: the same file gives the same users, variants and outcomes.
///
/// ```json
/// {"seed": 7, "flags": {"checkout-copy": {"users": 400,
///   "attributes": {"platform": {"ios": 45, "android": 35, "web": 20}},
///   "metrics": {"purchase": {"rate": {"control": 0.10, "short": 0.115}},
///               "latency_ms": {"mean": {"control": 300, "short": 298}, "sd": 60}}}}}
/// ```
public struct SimulatedTraffic: Sendable {
    public struct FlagTraffic: Sendable {
        public var users: Int
        /// Attribute → value → relative frequency.
        public var attributes: [(name: String, values: [(value: String, weight: Double)])]
        /// Metric → a conversion rate per variant, or a mean per variant and one standard deviation.
        public var metrics: [(name: String, rates: [String: Double]?, means: [String: Double]?, sd: Double)]
    }

    public var seed: UInt64
    public var flags: [String: FlagTraffic]

    /// Reads a traffic file; one line naming what is wrong otherwise.
    public static func parse(_ text: String, file: String) throws(RampError) -> SimulatedTraffic {
        func bad(_ path: String, _ message: String) -> RampError { .badInput("\(file): \(path): \(message)") }
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw .badInput("\(file): line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .number(let s)? = document["seed"], s >= 0, s <= 9e15, s == s.rounded() else {
            throw bad("seed", "expected a whole number from 0")
        }
        guard case .object(let flagMembers)? = document["flags"] else { throw bad("flags", "expected an object") }
        var flags: [String: FlagTraffic] = [:]
        for (key, spec) in flagMembers {
            guard case .number(let users)? = spec["users"], users >= 1, users <= 100_000, users == users.rounded()
            else { throw bad("flags.\(key).users", "expected a whole number of users per tick, 1 to 100000") }
            var attributes: [(String, [(String, Double)])] = []
            if case .object(let attrs)? = spec["attributes"] {
                for (name, values) in attrs.sorted(by: { $0.key < $1.key }) {
                    guard case .object(let weights) = values, !weights.isEmpty else {
                        throw bad("flags.\(key).attributes.\(name)", "expected an object of value to frequency")
                    }
                    var list: [(String, Double)] = []
                    for (value, weight) in weights.sorted(by: { $0.key < $1.key }) {
                        guard case .number(let w) = weight, w > 0, w.isFinite else {
                            throw bad("flags.\(key).attributes.\(name).\(value)", "expected a positive frequency")
                        }
                        list.append((value, w))
                    }
                    attributes.append((name, list))
                }
            }
            var metrics: [(String, [String: Double]?, [String: Double]?, Double)] = []
            guard case .object(let metricMembers)? = spec["metrics"] else {
                throw bad("flags.\(key).metrics", "expected an object of metric to its rates or means")
            }
            for (name, m) in metricMembers.sorted(by: { $0.key < $1.key }) {
                func perVariant(_ field: String, _ valid: (Double) -> Bool) throws(RampError) -> [String: Double]? {
                    guard let v = m[field] else { return nil }
                    guard case .object(let members) = v else {
                        throw bad("flags.\(key).metrics.\(name).\(field)", "expected an object of variant to number")
                    }
                    var out: [String: Double] = [:]
                    for (variant, x) in members {
                        guard case .number(let n) = x, valid(n) else {
                            throw bad("flags.\(key).metrics.\(name).\(field).\(variant)", "is out of range")
                        }
                        out[variant] = n
                    }
                    return out
                }
                let rates = try perVariant("rate") { $0 >= 0 && $0 <= 1 }
                let means = try perVariant("mean") { $0.isFinite && abs($0) < 1e12 }
                guard (rates == nil) != (means == nil) else {
                    throw bad("flags.\(key).metrics.\(name)", "give either \"rate\" or \"mean\" (with \"sd\")")
                }
                var sd = 0.0
                if means != nil {
                    guard case .number(let d)? = m["sd"], d >= 0, d < 1e12 else {
                        throw bad("flags.\(key).metrics.\(name).sd", "expected a standard deviation from 0")
                    }
                    sd = d
                }
                metrics.append((name, rates, means, sd))
            }
            flags[key] = FlagTraffic(users: Int(users), attributes: attributes, metrics: metrics)
        }
        return SimulatedTraffic(seed: UInt64(s), flags: flags)
    }

    /// Draws an index by weight.
    static func pick(_ weights: [Double], _ random: inout SeededRandom) -> Int {
        let total = weights.reduce(0, +)
        var u = random.uniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.count - 1
    }
}

extension Ramp {
    /// The flags whose latest experiment is running.
    public func runningExperimentFlags() throws(RampError) -> [String] {
        try run { () throws(StoreError) in try store.runningExperiments().map(\.flag) }
    }

    /// Tick `tick`'s simulated users of every flag with a running experiment and traffic, recorded at `now`:
    /// how many exposures and outcomes.
    @discardableResult
    public func simulate(_ traffic: SimulatedTraffic, tick: Int, now: Instant) throws(RampError) -> (Int, Int) {
        var events: [RecordedEvent] = []
        let bucketing = try bucketing()
        for key in try runningExperimentFlags() {
            guard let spec = traffic.flags[key], let flag = try compiledFlag(key) else { continue }
            var random = SeededRandom(
                seed: traffic.seed &+ UInt64(tick) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(key.utf8.count) &* 0xBF58_476D)
            for i in 0..<spec.users {
                let user = "\(key)-user-\(tick)-\(i)"
                var attributes: [String: JSONValue] = [:]
                for (name, values) in spec.attributes {
                    attributes[name] = .string(values[SimulatedTraffic.pick(values.map(\.weight), &random)].value)
                }
                let resolution = flag.resolve(
                    EvaluationContext(targetingKey: user, attributes: attributes), timestamp: now.seconds,
                    bucketing: bucketing)
                // Only the users the experiment's split chose are in it (outside a layer's range the flag serves
                // its control by default, and those users are no arm's).
                guard resolution.reason == .targetingMatch, let variant = resolution.variant else { continue }
                events.append(
                    .exposure(Exposure(flag: key, variant: variant, key: user, at: now, attributes: attributes)))
                for metric in spec.metrics {
                    if let rate = metric.rates?[variant] {
                        if random.uniform() < rate {
                            events.append(
                                .outcome(
                                    Outcome(metric: metric.name, flag: key, key: user, variant: nil, value: 1, at: now))
                            )
                        }
                    } else if let mean = metric.means?[variant] {
                        let value = ((mean + metric.sd * random.normal()) * 10).rounded() / 10
                        events.append(
                            .outcome(
                                Outcome(metric: metric.name, flag: key, key: user, variant: nil, value: value, at: now))
                        )
                    }
                }
            }
        }
        guard !events.isEmpty else { return (0, 0) }
        let recorded = try record(events)
        return (recorded.exposures, recorded.outcomes)
    }
}
