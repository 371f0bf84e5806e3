public import RampCore
import RampStore

extension Ramp {
    /// The flag named `key`, compiled for evaluation, or nil when there is none.
    public func compiledFlag(_ key: String) throws(RampError) -> CompiledFlag? {
        try run { () throws(StoreError) in try store.flag(key) }.map(CompiledFlag.init)
    }

    /// What `key` serves to one caller, with flagd's reasons: `FLAG_NOT_FOUND` for an unknown flag,
    /// `TYPE_MISMATCH` when `type` is given and the value is of another type.
    public func resolve(
        flag key: String, context: EvaluationContext, type: Resolution.ValueType? = nil, now: Instant
    ) throws(RampError) -> Resolution {
        guard let flag = try compiledFlag(key) else {
            return .error(.flagNotFound, "unknown flag \"\(key)\"")
        }
        return flag.resolve(context, timestamp: now.seconds, bucketing: try bucketing()).expecting(type)
    }
}
