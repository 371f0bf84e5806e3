public import RampCore
public import RampStore

/// One flag's state as `ramp status` shows it.
public struct FlagStatus: Sendable {
    public var flag: Flag
    public var rollout: Rollout?
    public var plan: Plan?
    /// The canary share served now (0 when killed).
    public var servedPercent: Percent
    /// Time left in the current step's bake, when it is still baking.
    public var bakeLeft: TimeSpan?
    public var lastCheck: Observation?
    public var nextCheck: Instant?

    /// Why the rollout is not moving, if it is active.
    public var why: String? {
        guard let rollout, rollout.state.isActive else { return nil }
        if rollout.state == .pending && lastCheck == nil { return "waiting for the first tick" }
        return lastCheck?.reason
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "flag": .string(flag.key), "killed": .bool(flag.killed), "percent": .number(servedPercent.value),
            "canary": .string(flag.canary), "baseline": .string(flag.baseline),
        ]
        if let rollout {
            object["rollout"] = .number(Double(rollout.id))
            object["state"] = .string(rollout.state.rawValue)
            object["step"] = .number(Double(rollout.step + 1))
            object["steps"] = .number(Double(plan?.steps.count ?? 0))
            object["plan_digest"] = .string(rollout.planDigest)
        } else {
            object["state"] = .null
        }
        object["bake_left_seconds"] = bakeLeft.map { .number(Double($0.seconds)) } ?? .null
        object["why"] = why.map { .string($0) } ?? .null
        object["last_check"] = lastCheck.map { .string($0.checkedAt.description) } ?? .null
        object["next_check"] = nextCheck.map { .string($0.description) } ?? .null
        object["checks"] = lastCheck?.evidence["checks"] ?? .array([])
        return .object(object)
    }
}

extension Ramp {
    /// The status of one flag, or of every flag when `key` is nil.
    public func status(flag key: String?, now: Instant) throws(RampError) -> [FlagStatus] {
        let flags: [Flag]
        if let key {
            flags = [try requireFlag(key)]
        } else {
            flags = try run { () throws(StoreError) in try store.flags() }
        }
        var out: [FlagStatus] = []
        for flag in flags {
            let rollout = try run { () throws(StoreError) in try store.latestRollout(flag: flag.key) }
            var status = FlagStatus(
                flag: flag, rollout: rollout, plan: nil, servedPercent: flag.killed ? .zero : flag.canaryPercent)
            if let rollout {
                let (plan, _) = try plan(for: rollout)
                status.plan = plan
                if rollout.state.isActive {
                    status.lastCheck = try run { () throws(StoreError) in try store.observation(rollout: rollout.id) }
                    status.nextCheck = status.lastCheck.map { $0.checkedAt + plan.interval }
                    if rollout.state == .progressing, let entered = rollout.stepEnteredAt {
                        let left = plan.steps[rollout.step].bake.seconds - (now - entered).seconds
                        if left > 0 { status.bakeLeft = TimeSpan(seconds: left) }
                    }
                }
            }
            out.append(status)
        }
        return out
    }

    /// The variant and value `flag` serves to `targetingKey`.
    public func evaluate(flag key: String, targetingKey: String) throws(RampError) -> (variant: String, value: JSONValue) {
        try requireFlag(key).evaluate(targetingKey)
    }
}
