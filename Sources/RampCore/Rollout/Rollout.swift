/// Where a rollout is in its life.
public enum RolloutState: String, Sendable, CaseIterable {
    case pending, progressing
    case awaitingApproval = "awaiting_approval"
    case paused, completed
    case rolledBack = "rolled_back"

    /// Active rollouts are ticked; a flag has at most one.
    public var isActive: Bool { self != .completed && self != .rolledBack }

    /// The states in which a rollout is ticked, as stored.
    public static let active: [RolloutState] = allCases.filter(\.isActive)
}

/// One plan being carried out on one flag.
public struct Rollout: Sendable, Equatable {
    public var id: Int64
    public var flag: String
    public var planDigest: String
    public var state: RolloutState
    /// The current step index; -1 before the first step.
    public var step: Int
    /// When the current step was entered: bake time counts from here.
    public var stepEnteredAt: Instant?
    /// The state a paused rollout returns to on resume.
    public var pausedFrom: RolloutState?
    /// Bumped by every transition; commits compare-and-set on it.
    public var version: Int64

    public init(
        id: Int64, flag: String, planDigest: String, state: RolloutState = .pending, step: Int = -1,
        stepEnteredAt: Instant? = nil, pausedFrom: RolloutState? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.flag = flag
        self.planDigest = planDigest
        self.state = state
        self.step = step
        self.stepEnteredAt = stepEnteredAt
        self.pausedFrom = pausedFrom
        self.version = version
    }

    /// The canary share this rollout puts on its flag.
    public func percent(in plan: Plan) -> Percent {
        state == .rolledBack ? .zero : plan.percent(atStep: step)
    }

    /// The segments this rollout gives the canary.
    public func segments(in plan: Plan) -> [String] {
        state == .rolledBack ? [] : plan.segments(atStep: step)
    }

    /// `progressing (step 2/4)`, `completed`.
    public func stateDescription(stepCount: Int) -> String {
        step >= 0 && state.isActive ? "\(state.rawValue) (step \(step + 1)/\(stepCount))" : state.rawValue
    }
}
