public import RampCore
import RampStore

/// One event for `ramp record`.
public enum RecordedEvent: Sendable, Equatable {
    case exposure(Exposure)
    case outcome(Outcome)
}

extension RecordedEvent {
    /// Reads one JSON line: `{"type": "exposure", "flag": F, "variant": V, "key": K, "at"?: T, "attributes"?: A}`
    /// (A an object of strings, numbers and booleans: what a readout's cohorts group by) or
    /// `{"type": "outcome", "metric": M, "value": X, "key"?: K, "variant"?: V, "flag"?: F, "at"?: T}`,
    /// `at` an RFC 3339 time or Unix seconds (default `now`).
    public init(json: JSONValue, now: Instant) throws(RampError) {
        guard case .object(let o) = json else { throw .badInput("expected a JSON object, found \(json.typeName)") }
        func text(_ key: String, required: Bool) throws(RampError) -> String? {
            switch o[key] {
            case .string(let s)? where !s.isEmpty: return s
            case nil, .null?: if required { throw .badInput("\"\(key)\" is required") } else { return nil }
            case let other?: throw .badInput("\"\(key)\" must be a non-empty string, found \(other.canonical)")
            }
        }
        let at: Instant
        switch o["at"] {
        case nil, .null?: at = now
        case .number(let seconds)?:
            guard let instant = Instant(unixSeconds: seconds) else {
                throw .badInput(
                    "\"at\": \(JSONValue.format(seconds)) is not whole Unix seconds between the years 0 and 9999")
            }
            at = instant
        case .string(let s)?:
            guard let parsed = Instant(rfc3339: s) else { throw .badInput("\"at\": \"\(s)\" is not an RFC 3339 time") }
            at = parsed
        case let other?: throw .badInput("\"at\" must be a time or whole Unix seconds, found \(other.canonical)")
        }
        let allowed: Set<String>
        switch try text("type", required: true) {
        case "exposure":
            allowed = ["type", "flag", "variant", "key", "at", "attributes"]
            var attributes: [String: JSONValue]?
            switch o["attributes"] {
            case nil, .null?: attributes = nil
            case .object(let members)?:
                for (name, value) in members.sorted(by: { $0.key < $1.key }) {
                    switch value {
                    case .string, .number, .bool: continue
                    default:
                        throw .badInput(
                            "\"attributes\".\(JSONValue.string(name).canonical) must be a string, number or boolean, "
                                + "found \(value.typeName)")
                    }
                }
                attributes = members
            case let other?: throw .badInput("\"attributes\" must be an object, found \(other.typeName)")
            }
            self = .exposure(
                Exposure(
                    flag: try text("flag", required: true)!, variant: try text("variant", required: true)!,
                    key: try text("key", required: true)!, at: at, attributes: attributes))
        case "outcome":
            allowed = ["type", "metric", "value", "key", "variant", "flag", "at"]
            guard case .number(let value)? = o["value"], value.isFinite else {
                throw .badInput("\"value\" is required: a finite number")
            }
            let key = try text("key", required: false)
            let variant = try text("variant", required: false)
            if key == nil, variant == nil { throw .badInput("an outcome needs \"key\" or \"variant\"") }
            self = .outcome(
                Outcome(
                    metric: try text("metric", required: true)!, flag: try text("flag", required: false), key: key,
                    variant: variant, value: value, at: at))
        case let other:
            throw .badInput("\"type\": \"\(other ?? "")\" is not exposure or outcome")
        }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badInput("\"\(unknown)\" is not a field of an event (\(allowed.sorted().joined(separator: ", ")))")
        }
    }
}

extension Ramp {
    /// Events written per transaction: big enough that a million take seconds, small enough that a tick waiting
    /// for the write lock waits well under a second.
    public static let recordBatch = 50_000

    /// The longest targeting key an event may carry, in bytes of UTF-8: keys, metric names and variants are
    /// stored in indexed columns, whose entries PostgreSQL bounds (about 2.7 kB), so both backends take the same.
    public static let keyLimit = 1024

    /// The longest attributes an exposure may carry, as canonical JSON in bytes of UTF-8.
    public static let attributesLimit = 4096

    /// An event's texts that go into indexed columns, with their limits.
    static func bounded(_ event: RecordedEvent) -> [(String, String, Int)] {
        switch event {
        case .exposure(let e):
            [
                ("the key", e.key, keyLimit), ("the variant", e.variant, PlanParser.nameLimit),
                ("the attributes", e.attributes.map { JSONValue.object($0).canonical } ?? "", attributesLimit),
            ]
        case .outcome(let o):
            [("the metric", o.metric, PlanParser.nameLimit)] + (o.key.map { [("the key", $0, keyLimit)] } ?? [])
                + (o.variant.map { [("the variant", $0, PlanParser.nameLimit)] } ?? [])
        }
    }

    /// Checks every event (flags exist, variants belong to them, keys and names within their limits) and appends
    /// them all, `recordBatch` per transaction. Nothing is written when any event is refused.
    ///
    /// `sources` names where each event came from (`standard input line 7`): a refusal names it and is invalid
    /// input (exit 3), whatever was wrong with the event. Without it, one event's refusal is its own.
    @discardableResult
    public func record(_ events: [RecordedEvent], sources: [String]? = nil) throws(RampError)
        -> (exposures: Int, outcomes: Int)
    {
        var flags: [String: Flag] = [:]
        func known(_ key: String) throws(RampError) -> Flag {
            if let flag = flags[key] { return flag }
            let flag = try requireFlag(key)
            flags[key] = flag
            return flag
        }
        var exposures: [Exposure] = []
        var outcomes: [Outcome] = []
        // An event dated in the future would be counted by a later step's window: a live store takes none.
        let latest = try isRehearsal() ? nil : Instant(seconds: Clock.wallNow().seconds + Self.futureAllowance.seconds)
        for (i, event) in events.enumerated() {
            do throws(RampError) {
                let at: Instant =
                    switch event {
                    case .exposure(let e): e.at
                    case .outcome(let o): o.at
                    }
                try Self.requireCalendar(at)
                if let latest, at > latest { throw Self.aheadOfClock(at, Clock.wallNow()) }
                for (what, text, limit) in Self.bounded(event) where text.utf8.count > limit {
                    throw RampError.badInput("\(what) is \(text.utf8.count) bytes long; at most \(limit) are allowed")
                }
                switch event {
                case .exposure(let e):
                    guard try known(e.flag).variants[e.variant] != nil else {
                        throw RampError.badInput("flag \"\(e.flag)\" has no variant \"\(e.variant)\"")
                    }
                    exposures.append(e)
                case .outcome(let o):
                    if let flag = o.flag {
                        let definition = try known(flag)
                        if let variant = o.variant, definition.variants[variant] == nil {
                            throw RampError.badInput("flag \"\(flag)\" has no variant \"\(variant)\"")
                        }
                    }
                    outcomes.append(o)
                }
            } catch {
                if let sources, sources.indices.contains(i) { throw .badInput("\(sources[i]): \(error.description)") }
                throw events.count == 1 ? error : .badInput("event \(i + 1): \(error.description)")
            }
        }
        for start in stride(from: 0, to: max(exposures.count, outcomes.count), by: Self.recordBatch) {
            let e = Array(exposures[min(start, exposures.count)..<min(start + Self.recordBatch, exposures.count)])
            let o = Array(outcomes[min(start, outcomes.count)..<min(start + Self.recordBatch, outcomes.count)])
            try run { () throws(StoreError) in
                try store.immediate { () throws(StoreError) in try store.record(exposures: e, outcomes: o) }
            }
        }
        return (exposures.count, outcomes.count)
    }
}
