import RampCore
import Testing

/// A 1 → 5 → 25 (approval) → 100 plan with one gate, 10m bakes.
let machinePlan = Plan(
    flag: "f", variants: ["on": true, "off": false], canary: "on", baseline: "off",
    steps: [
        Plan.Step(percent: Percent(1)!, bake: TimeSpan(seconds: 600)),
        Plan.Step(percent: Percent(5)!, bake: TimeSpan(seconds: 600)),
        Plan.Step(percent: Percent(25)!, bake: TimeSpan(seconds: 600), approval: true),
        Plan.Step(percent: .full),
    ],
    sources: ["s": .command(argv: ["x"], timeout: TimeSpan(seconds: 1))],
    gates: [Gate(name: "err", source: "s", max: 0.01), Gate(name: "lat", source: "s", max: 300)])

let t0 = Instant(seconds: 1_767_225_600)

func rollout(_ state: RolloutState, step: Int, enteredMinutesAgo: Int64 = 0, pausedFrom: RolloutState? = nil) -> Rollout
{
    Rollout(
        id: 1, flag: "f", planDigest: "d", state: state, step: step,
        stepEnteredAt: Instant(seconds: t0.seconds - enteredMinutesAgo * 60), pausedFrom: pausedFrom, version: 7)
}

func checks(_ err: GateOutcome, _ lat: GateOutcome = .pass) -> [GateCheck] {
    [("err", err), ("lat", lat)].map {
        GateCheck(
            gate: $0.0, source: "s", value: $0.1 == .pass ? 0.001 : nil, bound: "≤ x", outcome: $0.1,
            message: $0.1.rawValue)
    }
}

/// What a decision did, for compact table rows: nil is a hold.
struct Moved: Equatable, CustomStringConvertible {
    var event: AuditEvent
    var state: RolloutState
    var step: Int
    var percent: Double
    var description: String { "\(event.rawValue) → \(state.rawValue) step \(step) at \(percent)%" }
}

func moved(_ d: Decision) -> Moved? {
    d.transition.map { Moved(event: $0.event, state: $0.after.state, step: $0.after.step, percent: $0.toPercent.value) }
}

@Suite struct RolloutMachineTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var rollout: Rollout
        var checks: [GateCheck]
        var policy = Plan.Policy()
        var expected: Moved?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "pending starts at the first step", rollout: rollout(.pending, step: -1), checks: checks(.noData),
            expected: Moved(event: .start, state: .progressing, step: 0, percent: 1)),
        Row(
            name: "pending does not start while a gate fails", rollout: rollout(.pending, step: -1),
            checks: checks(.fail),
            expected: nil),
        Row(
            name: "pending does not start while a source errors, even when errors roll back",
            rollout: rollout(.pending, step: -1), checks: checks(.pass, .error), policy: Plan.Policy(error: .rollback),
            expected: nil),
        Row(
            name: "pending starts on an inconclusive test", rollout: rollout(.pending, step: -1),
            checks: checks(.inconclusive), expected: Moved(event: .start, state: .progressing, step: 0, percent: 1)),
        Row(
            name: "bake not over: hold even with passing gates",
            rollout: rollout(.progressing, step: 0, enteredMinutesAgo: 9),
            checks: checks(.pass), expected: nil),
        Row(
            name: "bake over and all gates pass: advance",
            rollout: rollout(.progressing, step: 0, enteredMinutesAgo: 10),
            checks: checks(.pass), expected: Moved(event: .advance, state: .progressing, step: 1, percent: 5)),
        Row(
            name: "bake over but no data: hold", rollout: rollout(.progressing, step: 0, enteredMinutesAgo: 60),
            checks: checks(.pass, .noData), expected: nil),
        Row(
            name: "bake over but an error: hold", rollout: rollout(.progressing, step: 0, enteredMinutesAgo: 60),
            checks: checks(.error), expected: nil),
        Row(
            name: "a failing gate rolls back at once, even mid-bake",
            rollout: rollout(.progressing, step: 1, enteredMinutesAgo: 1),
            checks: checks(.pass, .fail), expected: Moved(event: .rollback, state: .rolledBack, step: 1, percent: 0)),
        Row(
            name: "fail beats no data", rollout: rollout(.progressing, step: 1), checks: checks(.fail, .noData),
            expected: Moved(event: .rollback, state: .rolledBack, step: 1, percent: 0)),
        Row(
            name: "policy fail=pause pauses instead", rollout: rollout(.progressing, step: 1), checks: checks(.fail),
            policy: Plan.Policy(fail: .pause), expected: Moved(event: .pause, state: .paused, step: 1, percent: 5)),
        Row(
            name: "policy no_data=rollback rolls back", rollout: rollout(.progressing, step: 1),
            checks: checks(.noData),
            policy: Plan.Policy(noData: .rollback),
            expected: Moved(event: .rollback, state: .rolledBack, step: 1, percent: 0)),
        Row(
            name: "policy error=pause pauses", rollout: rollout(.progressing, step: 1), checks: checks(.pass, .error),
            policy: Plan.Policy(error: .pause), expected: Moved(event: .pause, state: .paused, step: 1, percent: 5)),
        Row(
            name: "policy fail=hold holds and never advances",
            rollout: rollout(.progressing, step: 0, enteredMinutesAgo: 60),
            checks: checks(.fail), policy: Plan.Policy(fail: .hold), expected: nil),
        Row(
            name: "a step with approval waits for it after bake and gates pass",
            rollout: rollout(.progressing, step: 2, enteredMinutesAgo: 10), checks: checks(.pass),
            expected: Moved(event: .awaitApproval, state: .awaitingApproval, step: 2, percent: 25)),
        Row(
            name: "awaiting approval holds on passing gates",
            rollout: rollout(.awaitingApproval, step: 2, enteredMinutesAgo: 99),
            checks: checks(.pass), expected: nil),
        Row(
            name: "gates keep guarding while awaiting approval", rollout: rollout(.awaitingApproval, step: 2),
            checks: checks(.fail), expected: Moved(event: .rollback, state: .rolledBack, step: 2, percent: 0)),
        Row(
            name: "paused never advances",
            rollout: rollout(.paused, step: 0, enteredMinutesAgo: 99, pausedFrom: .progressing),
            checks: checks(.pass), expected: nil),
        Row(
            name: "gates keep guarding while paused", rollout: rollout(.paused, step: 1, pausedFrom: .progressing),
            checks: checks(.fail), expected: Moved(event: .rollback, state: .rolledBack, step: 1, percent: 0)),
        Row(
            name: "a paused rollout with policy pause stays paused",
            rollout: rollout(.paused, step: 1, pausedFrom: .progressing),
            checks: checks(.fail), policy: Plan.Policy(fail: .pause), expected: nil),
        Row(
            name: "after the last step the rollout completes", rollout: rollout(.progressing, step: 3),
            checks: checks(.pass),
            expected: Moved(event: .complete, state: .completed, step: 3, percent: 100)),
        Row(
            name: "the last step still needs passing gates", rollout: rollout(.progressing, step: 3),
            checks: checks(.noData),
            expected: nil),
        Row(
            name: "completed rollouts are left alone", rollout: rollout(.completed, step: 3), checks: checks(.fail),
            expected: nil),
        Row(
            name: "rolled back rollouts are left alone", rollout: rollout(.rolledBack, step: 1), checks: checks(.pass),
            expected: nil),
    ]

    @Test(arguments: rows)
    func tickFollowsTheRules(row: Row) {
        var plan = machinePlan
        plan.policy = row.policy
        let decision = RolloutMachine.tick(row.rollout, plan: plan, checks: row.checks, now: t0)
        #expect(moved(decision) == row.expected, "\(row.name): \(decision.reason)")
        if let t = decision.transition {
            #expect(t.after.version == row.rollout.version + 1)
            #expect(t.before == row.rollout)
            #expect(t.fromPercent == row.rollout.percent(in: plan))
        }
    }

    @Test func advancingEntersTheNextStepNowAndHoldingSaysHowMuchBakeIsLeft() {
        let hold = RolloutMachine.tick(
            rollout(.progressing, step: 0, enteredMinutesAgo: 5), plan: machinePlan,
            checks: checks(.pass), now: Instant(seconds: t0.seconds - 48))
        #expect(hold == .hold(reason: "bake: 5m48s left"))
        let advance = RolloutMachine.tick(
            rollout(.progressing, step: 0, enteredMinutesAgo: 10), plan: machinePlan,
            checks: checks(.pass), now: t0)
        #expect(advance.transition?.after.stepEnteredAt == t0)
        #expect(advance.reason == "bake 10m passed, all gates pass; step 2/4 at 5%")
    }

    @Test func holdReasonsNameTheGates() {
        let hold = RolloutMachine.tick(
            rollout(.progressing, step: 0, enteredMinutesAgo: 60), plan: machinePlan,
            checks: checks(.noData, .error), now: t0)
        #expect(hold == .hold(reason: "err: no data (no_data); lat: error (error)"))
    }

    @Test func pausingKeepsTheBakeClockAndResumeReturnsToWhereItWas() throws {
        let awaiting = rollout(.awaitingApproval, step: 2, enteredMinutesAgo: 30)
        let paused = try RolloutMachine.command(.pause, awaiting, plan: machinePlan, now: t0, reason: "looking")
        #expect(paused.after.state == .paused)
        #expect(paused.after.pausedFrom == .awaitingApproval)
        #expect(paused.after.stepEnteredAt == awaiting.stepEnteredAt)
        #expect(paused.reason == "paused by operator: looking")
        let resumed = try RolloutMachine.command(.resume, paused.after, plan: machinePlan, now: t0, reason: nil)
        #expect(resumed.after.state == .awaitingApproval)
        #expect(resumed.after.pausedFrom == nil)
        #expect(resumed.after.stepEnteredAt == awaiting.stepEnteredAt)
    }

    @Test(arguments: [
        (
            OperatorCommand.approve, rollout(.awaitingApproval, step: 2),
            Moved(event: .approve, state: .progressing, step: 3, percent: 100)
        ),
        (
            .promote(full: false), rollout(.progressing, step: 0, enteredMinutesAgo: 1),
            Moved(event: .promote, state: .progressing, step: 1, percent: 5)
        ),
        (
            .promote(full: false), rollout(.pending, step: -1),
            Moved(event: .promote, state: .progressing, step: 0, percent: 1)
        ),
        (
            .promote(full: false), rollout(.progressing, step: 3),
            Moved(event: .promote, state: .completed, step: 3, percent: 100)
        ),
        (
            .promote(full: true), rollout(.paused, step: 0, pausedFrom: .progressing),
            Moved(event: .promote, state: .completed, step: 3, percent: 100)
        ),
        (.abort, rollout(.progressing, step: 2), Moved(event: .abort, state: .rolledBack, step: 2, percent: 0)),
        (.abort, rollout(.pending, step: -1), Moved(event: .abort, state: .rolledBack, step: -1, percent: 0)),
        (.kill, rollout(.awaitingApproval, step: 2), Moved(event: .kill, state: .rolledBack, step: 2, percent: 0)),
        (.pause, rollout(.pending, step: -1), Moved(event: .pause, state: .paused, step: -1, percent: 0)),
    ])
    func operatorCommandsMoveTheRollout(command: OperatorCommand, from: Rollout, expected: Moved) throws {
        let t = try RolloutMachine.command(command, from, plan: machinePlan, now: t0, reason: nil)
        #expect(moved(.transition(t)) == expected)
    }

    @Test(arguments: [
        (
            OperatorCommand.approve, rollout(.progressing, step: 1),
            "cannot approve f: it is progressing, not awaiting approval"
        ),
        (.resume, rollout(.progressing, step: 1), "cannot resume f: it is not paused"),
        (.pause, rollout(.paused, step: 1, pausedFrom: .progressing), "cannot pause f: it is already paused"),
        (.promote(full: false), rollout(.completed, step: 3), "cannot promote f: its rollout is completed"),
        (.abort, rollout(.rolledBack, step: 1), "cannot abort f: its rollout is rolled_back"),
    ])
    func commandsThatDoNotFitTheStateAreRefused(command: OperatorCommand, from: Rollout, message: String) {
        #expect(throws: CommandRefused(message: message)) {
            try RolloutMachine.command(command, from, plan: machinePlan, now: t0, reason: nil)
        }
    }

    /// Walks a whole rollout tick by tick with an injected clock: it must pass through every step in order.
    @Test func aHealthyRolloutWalksEveryStepToCompletion() throws {
        var current = Rollout(id: 1, flag: "f", planDigest: "d")
        var now = t0
        var path: [String] = []
        for _ in 0..<200 {
            let decision = RolloutMachine.tick(current, plan: machinePlan, checks: checks(.pass), now: now)
            if let t = decision.transition {
                path.append("\(t.event.rawValue):\(t.toPercent)")
                current = t.after
            }
            if current.state == .awaitingApproval {
                let t = try RolloutMachine.command(.approve, current, plan: machinePlan, now: now, reason: nil)
                path.append("\(t.event.rawValue):\(t.toPercent)")
                current = t.after
            }
            if !current.state.isActive { break }
            now = now + TimeSpan(seconds: 60)
        }
        #expect(
            path == ["start:1%", "advance:5%", "advance:25%", "await_approval:25%", "approve:100%", "complete:100%"])
        #expect(current.state == .completed)
    }
}
