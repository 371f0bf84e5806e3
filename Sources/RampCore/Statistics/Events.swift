/// One exposure: a targeting key was served a flag's variant (`ramp record exposure`, or sampled by the
/// in-process evaluator).
public struct Exposure: Sendable, Equatable {
    public var flag: String
    public var variant: String
    public var key: String
    public var at: Instant
    /// What the application knew of the unit when it was exposed (`{"platform": "ios"}`): a readout's cohorts.
    public var attributes: [String: JSONValue]?

    public init(flag: String, variant: String, key: String, at: Instant, attributes: [String: JSONValue]? = nil) {
        self.flag = flag
        self.variant = variant
        self.key = key
        self.at = at
        self.attributes = attributes
    }
}

/// One outcome: a metric's value for a targeting key (whose variant comes from its exposure) or for a variant.
public struct Outcome: Sendable, Equatable {
    public var metric: String
    /// Limits the outcome to one flag's comparisons; nil counts it for any flag the key was exposed to.
    public var flag: String?
    public var key: String?
    public var variant: String?
    public var value: Double
    public var at: Instant

    public init(metric: String, flag: String? = nil, key: String?, variant: String?, value: Double, at: Instant) {
        self.metric = metric
        self.flag = flag
        self.key = key
        self.variant = variant
        self.value = value
        self.at = at
    }
}

/// A time window [since, until], in Unix seconds, inclusive.
public struct EventWindow: Sendable {
    public var since: Instant
    public var until: Instant

    public init(since: Instant, until: Instant) {
        self.since = since
        self.until = until
    }
}
