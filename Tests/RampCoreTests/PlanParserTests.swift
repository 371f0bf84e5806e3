import RampCore
import Testing

/// A valid plan to mutate in the tables below.
let validPlan = """
    {
      "flag": "checkout-v2",
      "variants": {"on": true, "off": false},
      "canary": "on", "baseline": "off",
      "steps": [{"percent": 1, "bake": "10m"}, {"percent": 5, "bake": "30m"},
                {"percent": 30, "bake": "2h", "approval": true}, {"percent": 100}],
      "sources": {"errors": {"type": "command", "command": ["./err.sh", "--x"], "timeout": "5s"}},
      "gates": [{"name": "error-rate", "source": "errors", "max": 0.01}],
      "on": {"fail": "rollback", "no_data": "hold", "error": "pause"},
      "interval": "1m"
    }
    """

@Suite struct PlanParserTests {
    @Test func parsesAValidPlan() throws {
        let plan = try PlanParser.parse(validPlan, file: "plans/x.json")
        #expect(plan.flag == "checkout-v2")
        #expect(plan.steps.map(\.percent.value) == [1, 5, 30, 100])
        #expect(plan.steps.map(\.bake.seconds) == [600, 1800, 7200, 0])
        #expect(plan.steps.map(\.approval) == [false, false, true, false])
        #expect(plan.sources["errors"] == .command(argv: ["./err.sh", "--x"], timeout: TimeSpan(seconds: 5)))
        #expect(plan.gates == [Gate(name: "error-rate", source: "errors", max: 0.01)])
        #expect(plan.policy == Plan.Policy(fail: .rollback, noData: .hold, error: .pause))
        #expect(plan.interval.seconds == 60)
    }

    @Test func appliesSafeDefaults() throws {
        let plan = try PlanParser.parse(
            #"{"flag": "f", "canary": "a", "baseline": "b", "steps": [{"percent": 100}]}"#, file: "p.json")
        #expect(plan.policy == Plan.Policy(fail: .rollback, noData: .hold, error: .hold))
        #expect(plan.interval.seconds == 60)
        #expect(plan.steps == [Plan.Step(percent: .full, bake: .zero, approval: false)])
        #expect(plan.variants == nil)
    }

    /// Each row replaces one piece of the valid plan and names the exact message a user sees.
    @Test(arguments: [
        (
            #""percent": 30, "bake": "2h""#, #""percent": 4, "bake": "2h""#,
            "plans/x.json: steps[2].percent: 4 is not above the previous step's 5"
        ),
        (
            #""percent": 30, "bake": "2h""#, #""percent": 5, "bake": "2h""#,
            "plans/x.json: steps[2].percent: 5 is not above the previous step's 5"
        ),
        (
            #"{"percent": 100}"#, #"{"percent": 101}"#,
            "plans/x.json: steps[3].percent: 101 is not a percentage in (0, 100] with at most two decimals"
        ),
        (
            #"{"percent": 1, "bake": "10m"}"#, #"{"percent": 0, "bake": "10m"}"#,
            "plans/x.json: steps[0].percent: 0 is not a percentage in (0, 100] with at most two decimals"
        ),
        (
            #"{"percent": 1, "bake": "10m"}"#, #"{"percent": 0.001, "bake": "10m"}"#,
            "plans/x.json: steps[0].percent: 0.001 is not a percentage in (0, 100] with at most two decimals"
        ),
        (
            #"{"percent": 1, "bake": "10m"}"#, #"{"percent": "1", "bake": "10m"}"#,
            "plans/x.json: steps[0].percent: expected a number, found a string"
        ),
        (
            #""bake": "10m""#, #""bake": "10 minutes""#,
            #"plans/x.json: steps[0].bake: "10 minutes" is not a duration (use forms like 90s, 10m, 2h, 1h30m, 1d)"#
        ),
        (#"{"percent": 100}"#, #"{"percent": 100, "bakes": "1h"}"#, "plans/x.json: steps[3].bakes: unknown field"),
        (
            #""approval": true"#, #""approval": "yes""#,
            "plans/x.json: steps[2].approval: expected true or false, found a string"
        ),
        (#""interval": "1m""#, #""interval": "1m", "intervall": "1m""#, "plans/x.json: intervall: unknown field"),
        (#""interval": "1m""#, #""interval": "0s""#, "plans/x.json: interval: 0s is shorter than the minimum 1s"),
        (
            #""source": "errors""#, #""source": "prom""#,
            #"plans/x.json: gates[0].source: unknown source "prom" (defined: errors)"#
        ),
        (#""max": 0.01"#, #""maximum": 0.01"#, "plans/x.json: gates[0].maximum: unknown field"),
        (#", "max": 0.01"#, "", #"plans/x.json: gates[0]: needs "min", "max" or both"#),
        (#""max": 0.01"#, #""max": 0.01, "min": 0.5"#, "plans/x.json: gates[0].min: 0.5 is above max 0.01"),
        (
            #""type": "command""#, #""type": "graphite""#,
            #"plans/x.json: sources.errors.type: unknown source type "graphite" (known: command, prometheus, http)"#
        ),
        (#"["./err.sh", "--x"]"#, "[]", "plans/x.json: sources.errors.command: needs at least the executable"),
        (
            #"["./err.sh", "--x"]"#, #"["./err.sh", 5]"#,
            "plans/x.json: sources.errors.command[1]: expected a string, found a number"
        ),
        (
            #""timeout": "5s""#, #""timeout": "500ms""#,
            #"plans/x.json: sources.errors.timeout: "500ms" is not a duration (use forms like 90s, 10m, 2h, 1h30m, 1d)"#
        ),
        (
            #""error": "pause""#, #""error": "panic""#,
            #"plans/x.json: on.error: "panic" is not an action (rollback, pause or hold)"#
        ),
        (#""baseline": "off""#, #""baseline": "on""#, #"plans/x.json: baseline: must differ from the canary "on""#),
        (
            #""baseline": "off""#, #""baseline": "of""#,
            #"plans/x.json: variants: has no variant "of" (named as baseline)"#
        ),
        (
            #""flag": "checkout-v2""#, #""flag": "checkout v2""#,
            #"plans/x.json: flag: "checkout v2" is not a valid flag key (letters, digits, '.', '_', '-'; at most 128)"#
        ),
        (#""flag": "checkout-v2","#, "", "plans/x.json: flag: is required"),
        (#""interval": "1m""#, #""interval": "1m",}"#, "plans/x.json: line 10, column 20: expected a string key"),
    ])
    func refusesBadPlansNamingFileAndField(original: String, replacement: String, message: String) {
        let text = validPlan.replacingFirst(original, with: replacement)
        #expect(text != validPlan, "the table row must change the plan")
        #expect(throws: PlanError.self) { try PlanParser.parse(text, file: "plans/x.json") }
        do {
            _ = try PlanParser.parse(text, file: "plans/x.json")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func refusesADocumentThatIsNotAnObject() {
        #expect(throws: PlanError(file: "p.json", path: "", message: "expected an object, found an array")) {
            try PlanParser.parse("[]", file: "p.json")
        }
    }

    @Test func digestIsTheSHA256OfTheExactText() {
        #expect(PlanParser.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(PlanParser.digest(validPlan) != PlanParser.digest(validPlan + " "))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let chars = Array(self)
        let pattern = Array(target)
        guard !pattern.isEmpty, chars.count >= pattern.count else { return self }
        for start in 0...(chars.count - pattern.count) where Array(chars[start..<start + pattern.count]) == pattern {
            return String(chars[..<start]) + replacement + String(chars[(start + pattern.count)...])
        }
        return self
    }
}
