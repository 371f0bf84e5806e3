/// A flagd flag-definition document (https://flagd.dev/schema/v0/flags.json) for ramp's flags, so any
/// OpenFeature SDK with a flagd provider evaluates them exactly as `ramp eval` does.
public enum FlagdDocument {
    public static let schema = "https://flagd.dev/schema/v0/flags.json"

    /// One flag with the rollout that drives it, if any.
    public struct Entry: Sendable {
        public var flag: Flag
        public var rollout: Rollout?
        public var stepCount: Int

        public init(flag: Flag, rollout: Rollout?, stepCount: Int) {
            self.flag = flag
            self.rollout = rollout
            self.stepCount = stepCount
        }
    }

    /// The document. Each flag's targeting is `Flag.targeting` — its rules, the canary's segments, then a
    /// `fractional` split in ramp's order (canary first, then the baseline, then the other weighted variants: `Flag.split`) — and its baseline is the
    /// default variant, so a killed flag, or one with nothing targeted, serves the baseline. A disabled flag has
    /// state DISABLED: providers answer the caller's default with reason DISABLED.
    public static func render(_ entries: [Entry]) -> JSONValue {
        var flags: [String: JSONValue] = [:]
        for entry in entries {
            let flag = entry.flag
            var object: [String: JSONValue] = [
                "state": flag.disabled ? "DISABLED" : "ENABLED", "variants": .object(flag.variants),
                "defaultVariant": .string(flag.baseline),
            ]
            if let targeting = flag.targeting { object["targeting"] = targeting }
            // The plan's metadata, then ramp's own (plans cannot name theirs `ramp…`).
            var metadata = flag.metadata
            metadata.merge([
                "rampCanary": .string(flag.canary), "rampPercent": .number(flag.servedPercent.value),
                "rampKilled": .bool(flag.killed), "rampDisabled": .bool(flag.disabled),
            ]) { _, ramp in ramp }
            if !flag.canarySegments.isEmpty, !flag.killed {
                metadata["rampSegments"] = .string(flag.canarySegments.joined(separator: ","))
            }
            if let rollout = entry.rollout {
                metadata["rampState"] = .string(rollout.state.rawValue)
                metadata["rampStep"] = .number(Double(rollout.step + 1))
                metadata["rampSteps"] = .number(Double(entry.stepCount))
                metadata["rampRollout"] = .number(Double(rollout.id))
            }
            object["metadata"] = .object(metadata)
            flags[flag.key] = .object(object)
        }
        return ["$schema": .string(schema), "flags": .object(flags)]
    }
}
