/// What a rollout report shows: one flag's rollouts, oldest first, and whether its audit log verified.
public struct ReportInput: Sendable, Equatable {
    public var flag: String
    /// The variants compared, by name.
    public var canary: String
    public var baseline: String
    /// When the report was made: an active rollout's share is drawn up to this moment.
    public var generatedAt: Instant
    public var verification: Verification
    /// The flag's rollouts, oldest first.
    public var rollouts: [Part]

    public init(
        flag: String, canary: String, baseline: String, generatedAt: Instant, verification: Verification,
        rollouts: [Part]
    ) {
        self.flag = flag
        self.canary = canary
        self.baseline = baseline
        self.generatedAt = generatedAt
        self.verification = verification
        self.rollouts = rollouts
    }

    /// The outcome of `audit verify`, e.g. `audit verify: OK — 42 entries, chain and replay agree`.
    public struct Verification: Sendable, Equatable {
        public var ok: Bool
        public var text: String

        public init(ok: Bool, text: String) {
            self.ok = ok
            self.text = text
        }
    }

    /// One rollout of the flag: its plan, its audit entries and its gate checks.
    public struct Part: Sendable, Equatable {
        public var id: Int64
        public var plan: Plan
        /// The plan file verbatim, and its SHA-256 digest (hex).
        public var planText: String
        public var planDigest: String
        /// The rollout's state as stored (a `RolloutState` raw value).
        public var state: String
        /// This rollout's audit entries, oldest first.
        public var entries: [AuditEntry]
        /// Every gate check of this rollout, oldest first.
        public var checks: [TimedCheck]

        public init(
            id: Int64, plan: Plan, planText: String, planDigest: String, state: String, entries: [AuditEntry],
            checks: [TimedCheck]
        ) {
            self.id = id
            self.plan = plan
            self.planText = planText
            self.planDigest = planDigest
            self.state = state
            self.entries = entries
            self.checks = checks
        }
    }

    /// One gate check and when it was made; `step` is the rollout's step index then (-1 before the first).
    public struct TimedCheck: Sendable, Equatable {
        public var at: Instant
        public var step: Int
        public var check: GateCheck

        public init(at: Instant, step: Int, check: GateCheck) {
            self.at = at
            self.step = step
            self.check = check
        }
    }
}
