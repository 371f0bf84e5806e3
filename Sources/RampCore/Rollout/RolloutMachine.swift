/// The rollout state machine: pure functions from (rollout, plan, evidence, now) to a decision.
///
/// Rules:
/// - a pending rollout starts unless a gate fails or has an error (no data may start it: at 0% there is no traffic);
/// - a step advances only when its bake time has passed since it was entered and every gate passed in this tick;
/// - a gate outcome acts as the plan's policy says (defaults: fail rolls back, no data and error hold);
/// - a step with `approval` waits in awaiting approval once bake and gates pass;
/// - gates keep guarding paused and awaiting-approval rollouts;
/// - leaving the last step completes the rollout.
public enum RolloutMachine {
    /// The decision of one tick, given the gate checks polled for it.
    public static func tick(_ rollout: Rollout, plan: Plan, checks: [GateCheck], now: Instant) -> Decision {
        guard rollout.state.isActive else { return .hold(reason: "rollout is \(rollout.state.rawValue)") }
        let verdict = Verdict(checks: checks, plan: plan)

        if rollout.state == .pending {
            // At 0% the canary has no traffic, so no data (or an inconclusive test) may start it; a failing gate or
            // a source that cannot be read (a missing script, a server down, an unset token) may not.
            if let blocking = verdict.checks.first(where: { $0.outcome == .fail || $0.outcome == .error }) {
                let verb = blocking.outcome == .fail ? "fails" : "has an error"
                return .hold(reason: "not starting while gate \(blocking.gate) \(verb): \(blocking.message)")
            }
            return move(
                rollout, plan: plan, now: now, to: .progressing, step: 0, event: .start, reason: "rollout started")
        }

        switch verdict.action {
        case .rollback?:
            return move(
                rollout, plan: plan, now: now, to: .rolledBack, step: rollout.step, event: .rollback,
                reason: verdict.summary(of: .rollback))
        case .pause? where rollout.state != .paused:
            return paused(rollout, plan: plan, now: now, reason: verdict.summary(of: .pause))
        default:
            break
        }

        switch rollout.state {
        case .paused:
            return .hold(reason: "paused" + verdict.suffix)
        case .awaitingApproval:
            return .hold(reason: "awaiting approval (ramp approve \(rollout.flag))" + verdict.suffix)
        default:
            break
        }

        guard plan.steps.indices.contains(rollout.step) else {
            return .hold(reason: "step \(rollout.step + 1) is not a step of its plan (\(plan.steps.count) steps)")
        }
        let step = plan.steps[rollout.step]
        let baked = now - (rollout.stepEnteredAt ?? now)
        var holdReason: String?
        if !verdict.allPass {
            holdReason = verdict.holdReason
        } else if baked < step.bake {
            holdReason = "bake: \(TimeSpan(seconds: step.bake.seconds - baked.seconds)) left"
        }
        if let holdReason {
            let maxHold = plan.effectiveMaxHold
            if baked >= maxHold.after {
                let reason =
                    "step \(rollout.step + 1) held \(baked) without advancing (max_hold \(maxHold.after)): \(holdReason)"
                return maxHold.then == .rollback
                    ? move(
                        rollout, plan: plan, now: now, to: .rolledBack, step: rollout.step, event: .rollback,
                        reason: reason)
                    : paused(rollout, plan: plan, now: now, reason: reason)
            }
            return .hold(reason: holdReason)
        }
        let passed = checks.isEmpty ? "bake \(step.bake) passed" : "bake \(step.bake) passed, all gates pass"
        if step.approval {
            let target =
                plan.steps.indices.contains(rollout.step + 1) ? "\(plan.steps[rollout.step + 1].target)" : "completion"
            var next = move(
                rollout, plan: plan, now: now, to: .awaitingApproval, step: rollout.step, event: .awaitApproval,
                reason: "\(passed); moving from step \(rollout.step + 1) (\(step.target)) to \(target) waits for an "
                    + "operator: ramp approve \(rollout.flag)")
            if case .transition(var t) = next {
                t.after.stepEnteredAt = rollout.stepEnteredAt
                next = .transition(t)
            }
            return next
        }
        return next(rollout, plan: plan, now: now, event: .advance, reason: passed)
    }

    /// The decision for an operator command, or why it does not apply.
    public static func command(
        _ command: OperatorCommand, _ rollout: Rollout, plan: Plan, now: Instant, reason: String?
    ) throws(CommandRefused) -> Transition {
        let flag = rollout.flag
        func refuse(_ why: String) -> CommandRefused {
            CommandRefused(message: "cannot \(command.verb) \(flag): \(why)")
        }
        guard rollout.state.isActive else { throw refuse("its rollout is \(rollout.state.rawValue)") }
        let said = reason.map { ": \($0)" } ?? ""
        let decision: Decision
        switch command {
        case .pause:
            guard rollout.state != .paused else { throw refuse("it is already paused") }
            var t = move(
                rollout, plan: plan, now: now, to: .paused, step: rollout.step, event: .pause,
                reason: "paused by operator" + said
            ).transition!
            t.after.pausedFrom = rollout.state
            t.after.stepEnteredAt = rollout.stepEnteredAt
            decision = .transition(t)
        case .resume:
            guard rollout.state == .paused, let back = rollout.pausedFrom else { throw refuse("it is not paused") }
            var t = move(
                rollout, plan: plan, now: now, to: back, step: rollout.step, event: .resume,
                reason: "resumed by operator" + said
            ).transition!
            t.after.stepEnteredAt = rollout.stepEnteredAt
            decision = .transition(t)
        case .approve:
            guard rollout.state == .awaitingApproval else {
                throw refuse("it is \(rollout.state.rawValue), not awaiting approval")
            }
            decision = next(
                rollout, plan: plan, now: now, event: .approve,
                reason: "step \(rollout.step + 1) approved" + said)
        case .promote(let full):
            if full {
                decision = move(
                    rollout, plan: plan, now: now, to: .completed, step: plan.steps.count - 1,
                    event: .promote, reason: "promoted to the last step by operator" + said)
            } else {
                decision = next(rollout, plan: plan, now: now, event: .promote, reason: "promoted by operator" + said)
            }
        case .abort:
            decision = move(
                rollout, plan: plan, now: now, to: .rolledBack, step: rollout.step, event: .abort,
                reason: "aborted by operator" + said)
        case .kill:
            decision = move(
                rollout, plan: plan, now: now, to: .rolledBack, step: rollout.step, event: .kill,
                reason: "kill switch" + said)
        }
        return decision.transition!
    }

    /// Pauses an active rollout, remembering where to resume and keeping the bake clock.
    private static func paused(_ rollout: Rollout, plan: Plan, now: Instant, reason: String) -> Decision {
        guard
            case .transition(var t) = move(
                rollout, plan: plan, now: now, to: .paused, step: rollout.step, event: .pause, reason: reason)
        else { return .hold(reason: reason) }
        t.after.pausedFrom = rollout.state
        t.after.stepEnteredAt = rollout.stepEnteredAt
        return .transition(t)
    }

    /// Leaves the current step: the next one, or completion after the last.
    private static func next(_ rollout: Rollout, plan: Plan, now: Instant, event: AuditEvent, reason: String)
        -> Decision
    {
        let target = rollout.step + 1
        if target >= plan.steps.count {
            return move(
                rollout, plan: plan, now: now, to: .completed, step: rollout.step,
                event: event == .advance ? .complete : event, reason: reason + "; rollout complete")
        }
        return move(
            rollout, plan: plan, now: now, to: .progressing, step: target, event: event,
            reason: reason + "; step \(target + 1)/\(plan.steps.count) at \(plan.steps[target].target)")
    }

    private static func move(
        _ rollout: Rollout, plan: Plan, now: Instant, to state: RolloutState, step: Int, event: AuditEvent,
        reason: String
    ) -> Decision {
        var after = rollout
        after.state = state
        after.step = step
        after.pausedFrom = nil
        after.version = rollout.version + 1
        if step != rollout.step { after.stepEnteredAt = now }
        return .transition(
            Transition(
                event: event, before: rollout, after: after, fromPercent: rollout.percent(in: plan),
                toPercent: after.percent(in: plan), reason: reason))
    }
}

/// The gate checks of one tick, summed up under the plan's policy. Shadow gates are left out: they never act.
private struct Verdict {
    let checks: [GateCheck]
    let plan: Plan

    init(checks: [GateCheck], plan: Plan) {
        self.checks = checks.filter { !$0.shadow }
        self.plan = plan
    }

    var allPass: Bool { checks.allSatisfy { $0.outcome == .pass } }

    /// The action a check asks for: the plan's, except that a failure within the gate's `failure_limit` holds.
    func action(for check: GateCheck) -> Plan.Action? {
        if check.outcome == .fail, check.streak < failureLimit(of: check) { return .hold }
        return plan.policy.action(for: check.outcome)
    }

    func failureLimit(of check: GateCheck) -> Int {
        plan.gates.first { $0.name == check.gate }?.failureLimit ?? 1
    }

    /// The strongest action any check asks for: rollback over pause over hold.
    var action: Plan.Action? {
        let actions = checks.compactMap(action(for:))
        if actions.contains(.rollback) { return .rollback }
        if actions.contains(.pause) { return .pause }
        if actions.contains(.hold) { return .hold }
        return nil
    }

    func summary(of action: Plan.Action) -> String {
        checks.filter { self.action(for: $0) == action }
            .map { "gate \($0.gate) \($0.outcomeWords): \($0.message)" }
            .joined(separator: "; ")
    }

    var holdReason: String {
        checks.filter { $0.outcome != .pass }
            .map { $0.problemDescription(failureLimit: failureLimit(of: $0)) }
            .joined(separator: "; ")
    }

    /// Appended to a paused or awaiting hold: what the gates say meanwhile.
    var suffix: String { allPass ? "" : "; " + holdReason }
}
