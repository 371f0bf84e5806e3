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
        (
            #"{"percent": 100}"#, #"{"percent": 100, "bakes": "1h"}"#,
            #"plans/x.json: steps[3].bakes: unknown field (did you mean "bake"?)"#
        ),
        (
            #""approval": true"#, #""approval": "yes""#,
            "plans/x.json: steps[2].approval: expected true or false, found a string"
        ),
        (
            #""interval": "1m""#, #""interval": "1m", "intervall": "1m""#,
            #"plans/x.json: intervall: unknown field (did you mean "interval"?)"#
        ),
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
            #"plans/x.json: sources.errors.type: unknown source type "graphite" (known: command, prometheus, http, events)"#
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
        // Control characters in names would forge lines of `ramp audit log` and columns of `ramp eval`.
        (
            #""name": "error-rate""#, #""name": "error-rate\nok""#,
            #"plans/x.json: gates[0].name: gate name "error-rate\nok" has a control character"#
        ),
        (
            #""variants": {"on": true, "off": false}"#, #""variants": {"on": true, "off": false, "x\ty": 1}"#,
            #"plans/x.json: variants: variant name "x\ty" has a control character"#
        ),
        (
            #""errors": {"type""#, #""err\u001bors": {"type""#,
            #"plans/x.json: sources: source name "err\u{1b}ors" has a control character"#
        ),
        (#""interval": "1m""#, #""interval": "1m",}"#, "plans/x.json: line 10, column 20: expected a string key"),
        (
            #""canary": "on","#, #""weights": {"on": 1, "x": 2}, "canary": "on","#,
            #"plans/x.json: weights.x: "x" is not a variant (off, on)"#
        ),
        (
            #""canary": "on","#, #""weights": {"on": 1.5}, "canary": "on","#,
            "plans/x.json: weights.on: expected a whole number from 0 to 2147483647, found 1.5"
        ),
        (
            #""canary": "on","#, #""weights": {"on": -1}, "canary": "on","#,
            "plans/x.json: weights.on: expected a whole number from 0 to 2147483647, found -1"
        ),
        (
            #""canary": "on","#, #""weights": {"on": 2147483647, "off": 1}, "canary": "on","#,
            "plans/x.json: weights: total 2147483648 is more than flagd's largest, 2147483647"
        ),
        (
            #""canary": "on","#, #""weights": {"on": 0, "off": 0}, "canary": "on","#,
            #"plans/x.json: weights: the canary "on" and baseline "off" hold no weight: a rollout would move no one"#
        ),
        (
            #""variants": {"on": true, "off": false},"#,
            #""variants": {"on": true, "off": false, "x": 0}, "weights": {"off": 2000000001, "x": 7},"#,
            "plans/x.json: weights: are too fine for steps[0]: 1% of the canary and baseline's pool cannot be "
                + "written within flagd's total 2147483647 (use smaller weights)"
        ),
        (
            #""canary": "on","#, #""weights": [1], "canary": "on","#,
            "plans/x.json: weights: expected an object of variant name to integer weight, found an array"
        ),
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

    @Test func emptyWeightsGoBackToTheBaselineAlone() throws {
        let plan = try PlanParser.parse(
            validPlan.replacingFirst(#""canary": "on","#, with: #""weights": {}, "canary": "on","#), file: "p.json")
        #expect(plan.weights == [:])
        #expect(try PlanParser.parse(validPlan, file: "p.json").weights == nil)
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

@Suite struct PlanSourcesAndGatesTests {
    static let base =
        #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 5, "bake": "10m"}, {"percent": 100}], "#

    static func parse(_ rest: String) throws(PlanError) -> Plan {
        try PlanParser.parse(base + rest + "}", file: "p.json")
    }

    @Test func parsesPrometheusHTTPRelativeShadowAndMaxHold() throws {
        let plan = try Self.parse(
            #"""
            "sources": {
              "prom": {"type": "prometheus", "url": "https://prom:9090", "timeout": "3s", "bearer_token_env": "PROM_TOKEN",
                       "headers": {"X-Scope-OrgID": "team-a"}},
              "stats": {"type": "http", "url": "http://127.0.0.1:8080/stats?v={{variant}}", "basic_auth": {"username": "u", "password_env": "P"}}
            },
            "gates": [
              {"name": "errors", "source": "prom", "query": "sum(rate(e{v=\"{{variant}}\"}[5m]))", "max": 0.01, "failure_limit": 3},
              {"name": "latency", "kind": "relative", "source": "prom", "query": "q{v=\"{{variant}}\"}", "max_ratio": 1.2, "max_delta": 0.05},
              {"name": "throughput", "kind": "relative", "source": "stats", "pointer": "/rps", "direction": "lower_is_worse", "max_ratio": 1.5, "shadow": true}
            ],
            "max_hold": {"after": "2h", "then": "rollback"}
            """#)
        #expect(
            plan.sources["prom"]
                == .prometheus(
                    HTTPEndpoint(
                        url: "https://prom:9090", timeout: TimeSpan(seconds: 3), headers: ["X-Scope-OrgID": "team-a"],
                        bearerTokenEnv: "PROM_TOKEN")))
        #expect(
            plan.sources["stats"]
                == .http(
                    HTTPEndpoint(
                        url: "http://127.0.0.1:8080/stats?v={{variant}}", basicAuthUser: "u", basicAuthPasswordEnv: "P")
                ))
        #expect(plan.gates[0].failureLimit == 3)
        #expect(plan.gates[1].rule == .relative(direction: .higherIsWorse, maxRatio: 1.2, maxDelta: 0.05))
        #expect(plan.gates[2].rule == .relative(direction: .lowerIsWorse, maxRatio: 1.5, maxDelta: nil))
        #expect(plan.gates[2].query == "/rps")
        #expect(plan.gates[2].shadow)
        #expect(plan.maxHold == Plan.MaxHold(after: TimeSpan(seconds: 7200), then: .rollback))
    }

    @Test(arguments: [
        (
            #""sources": {"p": {"type": "prometheus", "url": "prom:9090"}}"#,
            #"p.json: sources.p.url: "prom:9090" is not an http:// or https:// URL"#
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p", "bearer_token": "s3cret"}}"#,
            "p.json: sources.p.bearer_token: unknown field"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p", "headers": {"Authorization": "Bearer x"}}}"#,
            "p.json: sources.p.headers.Authorization: put credentials in bearer_token_env, bearer_token_file or basic_auth, not in the plan"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "source": "p", "max": 1}]"#,
            "p.json: gates[0].query: is required for a prometheus source (PromQL)"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "source": "p", "query": "x{v=\"{{varient}}\"}", "max": 1}]"#,
            "p.json: gates[0].query: unknown template {{varient}} (known: {{baseline}}, {{canary}}, {{flag}}, {{percent}}, {{variant}})"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "kind": "relative", "source": "p", "query": "x", "max_ratio": 1.2}]"#,
            "p.json: gates[0].query: a relative gate reads the same metric for canary and baseline, so it must use {{variant}}"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "kind": "relative", "source": "p", "query": "x{{variant}}", "max": 1}]"#,
            "p.json: gates[0].max: unknown field"
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "kind": "relative", "source": "p", "query": "x{{variant}}", "max_ratio": 0.8}]"#,
            "p.json: gates[0].max_ratio: 0.8 is below 1 (1.2 allows 20% worse)"
        ),
        (
            #""sources": {"h": {"type": "http", "url": "http://h"}}, "gates": [{"name": "g", "source": "h", "pointer": "rps", "max": 1}]"#,
            #"p.json: gates[0].pointer: "rps" is not a JSON Pointer (it starts with /)"#
        ),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://p"}}, "gates": [{"name": "g", "source": "p", "query": "x", "max": 1, "failure_limit": 0}]"#,
            "p.json: gates[0].failure_limit: 0 is not a whole number from 1 to 1000"
        ),
        (#""max_hold": {"after": "5m"}"#, "p.json: max_hold.after: 5m is not longer than the longest bake (10m)"),
        (#""max_hold": {"after": "1h", "then": "hold"}"#, #"p.json: max_hold.then: "hold" is not pause or rollback"#),
    ])
    func refusesBadSourcesAndGates(rest: String, message: String) {
        #expect(throws: PlanError.self) { try Self.parse(rest) }
        do { _ = try Self.parse(rest) } catch { #expect(error.description == message) }
    }
}
