import RampCore
import Testing

@Suite struct GateTests {
    static func relative(_ direction: Gate.Direction, ratio: Double?, delta: Double?) -> Gate {
        Gate(
            name: "g", source: "s", query: "q{{variant}}",
            rule: .relative(direction: direction, maxRatio: ratio, maxDelta: delta))
    }

    @Test(arguments: [
        // higher is worse, ratio only: canary may be up to 20% above the baseline
        (relative(.higherIsWorse, ratio: 1.2, delta: nil), 0.11, 0.10, GateOutcome.pass),
        (relative(.higherIsWorse, ratio: 1.2, delta: nil), 0.13, 0.10, .fail),
        (relative(.higherIsWorse, ratio: 1.2, delta: nil), 0.05, 0.10, .pass),
        // delta only
        (relative(.higherIsWorse, ratio: nil, delta: 0.01), 0.105, 0.10, .pass),
        (relative(.higherIsWorse, ratio: nil, delta: 0.01), 0.12, 0.10, .fail),
        // both: fails only when worse by more than both (the delta guards tiny baselines)
        (relative(.higherIsWorse, ratio: 1.2, delta: 0.001), 0.0009, 0.0001, .pass),
        (relative(.higherIsWorse, ratio: 1.2, delta: 0.001), 0.0030, 0.0001, .fail),
        (relative(.higherIsWorse, ratio: 1.2, delta: 0.05), 0.13, 0.10, .pass),
        // lower is worse (throughput, success rate)
        (relative(.lowerIsWorse, ratio: 1.25, delta: nil), 80.0, 100.0, .pass),
        (relative(.lowerIsWorse, ratio: 1.25, delta: nil), 79.0, 100.0, .fail),
        (relative(.lowerIsWorse, ratio: nil, delta: 0.5), 99.0, 99.9, .fail),
        (relative(.lowerIsWorse, ratio: nil, delta: 0.5), 120.0, 99.9, .pass),
    ])
    func relativeGatesCompareTheCanaryWithTheBaseline(
        gate: Gate, canary: Double, baseline: Double, expected: GateOutcome
    ) {
        let check = gate.judge(canary: .value(canary), baseline: .value(baseline))
        #expect(check.outcome == expected, "\(check.message)")
        #expect(check.value == canary)
        #expect(check.baseline == baseline)
    }

    @Test(arguments: [
        (Reading.error("down"), Reading.value(1), GateOutcome.error, "canary: down"),
        (.value(1), .noData("empty"), .noData, "baseline: empty"),
        (.noData("empty"), .error("down"), .error, "canary: empty; baseline: down"),
        (.value(.nan), .value(1), .noData, "canary: value is NaN"),
    ])
    func aRelativeGateWithoutBothValuesNeverPasses(
        canary: Reading, baseline: Reading, outcome: GateOutcome, message: String
    ) {
        let check = Self.relative(.higherIsWorse, ratio: 1.2, delta: nil).judge(canary: canary, baseline: baseline)
        #expect(check.outcome == outcome)
        #expect(check.message == message)
    }

    /// No value that is not a finite number ever passes a gate: NaN is no data, ±infinity an error, for every
    /// threshold (min, max, both) and for either side of a relative gate, in either direction.
    @Test(arguments: [Double.infinity, -Double.infinity, .nan])
    func nonFiniteValuesNeverPass(value: Double) {
        let expected: GateOutcome = value.isNaN ? .noData : .error
        for gate in [
            Gate(name: "g", source: "s", max: 0.01), Gate(name: "g", source: "s", min: 0.99),
            Gate(name: "g", source: "s", min: -1e300, max: 1e300),
        ] {
            #expect(gate.judge(.value(value)).outcome == expected)
        }
        for direction in Gate.Direction.allCases {
            let gate = Self.relative(direction, ratio: 1.2, delta: 0.5)
            #expect(gate.judge(canary: .value(value), baseline: .value(1)).outcome == expected)
            #expect(gate.judge(canary: .value(1), baseline: .value(value)).outcome == expected)
        }
    }

    @Test func thresholdGatesTreatNaNAsNoData() {
        let gate = Gate(name: "g", source: "s", max: 1)
        #expect(gate.judge(.value(.nan)).outcome == .noData)
        #expect(gate.judge(.value(1)).outcome == .pass)
        #expect(gate.judge(.value(1.0001)).outcome == .fail)
        #expect(Gate(name: "g", source: "s", min: 0.99).judge(.value(0.98)).message == "0.98 < min 0.99")
    }

    @Test func templatesFillInTheRolloutAndRefuseUnknownNames() {
        let values = ["flag": "f", "variant": "on", "canary": "on", "baseline": "off", "percent": "5"]
        #expect(
            QueryTemplate.render(#"rate(x{flag="{{flag}}",v="{{variant}}"}[5m]) * {{percent}}"#, values)
                == #"rate(x{flag="f",v="on"}[5m]) * 5"#)
        #expect(QueryTemplate.unknownName(in: "a {{variant}} {{varaint}}") == "varaint")
        #expect(QueryTemplate.unknownName(in: "sum(x) by (le)") == nil)
    }

    /// The examples of RFC 6901, section 5.
    @Test(
        arguments: [
            ("", nil), ("/foo", ["bar", "baz"]), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2),
            ("/e^f", 3), ("/g|h", 4), ("/i\\j", 5), ("/k\"l", 6), ("/ ", 7), ("/m~0n", 8),
        ] as [(String, JSONValue?)])
    func jsonPointerResolvesTheRFCExamples(pointer: String, expected: JSONValue?) throws {
        let document = try JSONParser.parse(
            #"""
            {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}
            """#)
        #expect(try JSONPointer.resolve(pointer, in: document) == (expected ?? document))
    }

    @Test func jsonPointerNamesWhatIsMissing() throws {
        let document: JSONValue = ["a": [1, 2]]
        #expect(throws: JSONPointer.Failure.missing("/a/2")) { try JSONPointer.resolve("/a/2", in: document) }
        #expect(throws: JSONPointer.Failure.missing("/a/01")) { try JSONPointer.resolve("/a/01", in: document) }
        #expect(throws: JSONPointer.Failure.missing("/b")) { try JSONPointer.resolve("/b", in: document) }
        #expect(throws: JSONPointer.Failure.malformed("a")) { try JSONPointer.resolve("a", in: document) }
        #expect(throws: JSONPointer.Failure.malformed("/a~2")) { try JSONPointer.resolve("/a~2", in: document) }
    }
}

@Suite struct GatePolicyTests {
    static func plan(gates: [Gate], maxHold: Plan.MaxHold? = nil) -> Plan {
        var plan = machinePlan
        plan.gates = gates
        plan.maxHold = maxHold
        return plan
    }

    static func check(_ gate: String, _ outcome: GateOutcome, streak: Int = 1, shadow: Bool = false) -> GateCheck {
        var check = GateCheck(
            gate: gate, source: "s", value: nil, bound: "≤ 1", outcome: outcome, message: outcome.rawValue)
        check.streak = streak
        check.shadow = shadow
        return check
    }

    @Test func failuresWithinTheFailureLimitHoldAndTheLimitRollsBack() {
        var gate = Gate(name: "err", source: "s", max: 1)
        gate.failureLimit = 3
        let plan = Self.plan(gates: [gate])
        let progressing = rollout(.progressing, step: 1, enteredMinutesAgo: 60)
        for streak in 1...2 {
            let decision = RolloutMachine.tick(
                progressing, plan: plan, checks: [Self.check("err", .fail, streak: streak)], now: t0)
            let words = streak == 1 ? "failed" : "failed for 2 checks"
            #expect(decision == .hold(reason: "err: \(words), \(streak) of 3 allowed (fail)"))
        }
        let third = RolloutMachine.tick(progressing, plan: plan, checks: [Self.check("err", .fail, streak: 3)], now: t0)
        #expect(third.transition?.event == .rollback)
        #expect(third.reason == "gate err failed for 3 checks: fail")
    }

    @Test func shadowGatesAreRecordedButNeverActOrBlock() {
        var shadow = Gate(name: "new-metric", source: "s", max: 1)
        shadow.shadow = true
        let plan = Self.plan(gates: [Gate(name: "err", source: "s", max: 1), shadow])
        let checks = [Self.check("err", .pass), Self.check("new-metric", .fail, shadow: true)]
        let decision = RolloutMachine.tick(
            rollout(.progressing, step: 0, enteredMinutesAgo: 10), plan: plan, checks: checks, now: t0)
        #expect(decision.transition?.event == .advance)
        let noData = [Self.check("err", .pass), Self.check("new-metric", .noData, shadow: true)]
        #expect(
            RolloutMachine.tick(
                rollout(.progressing, step: 0, enteredMinutesAgo: 10), plan: plan, checks: noData, now: t0
            )
            .transition?.event == .advance)
        #expect(Self.check("x", .fail, shadow: true).json["shadow"] == true)
    }

    @Test(arguments: [Plan.Action.pause, .rollback])
    func aStepHeldPastMaxHoldIsPausedOrRolledBack(then: Plan.Action) {
        let plan = Self.plan(
            gates: [Gate(name: "err", source: "s", max: 1)],
            maxHold: Plan.MaxHold(after: TimeSpan(seconds: 3600), then: then))
        let noData = [Self.check("err", .noData, streak: 50)]
        let before = RolloutMachine.tick(
            rollout(.progressing, step: 1, enteredMinutesAgo: 59), plan: plan, checks: noData, now: t0)
        #expect(before.transition == nil)
        let after = RolloutMachine.tick(
            rollout(.progressing, step: 1, enteredMinutesAgo: 60), plan: plan, checks: noData, now: t0)
        #expect(after.transition?.after.state == (then == .pause ? .paused : .rolledBack))
        #expect(after.reason == "step 2 held 1h without advancing (max_hold 1h): err: no data for 50 checks (no_data)")
        // Awaiting approval waits for a person, not for max_hold.
        let awaiting = RolloutMachine.tick(
            rollout(.awaitingApproval, step: 2, enteredMinutesAgo: 600), plan: plan, checks: [Self.check("err", .pass)],
            now: t0)
        #expect(awaiting.transition == nil)
    }
}
