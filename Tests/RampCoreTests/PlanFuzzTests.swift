import RampCore
import Testing

/// Plans mutated at random, thousands of them: each is a plan or a one-line error naming the file — never a crash
/// (which would end this process and fail the run), never a multi-line message.
@Suite struct PlanFuzzTests {
    static let seedPlans = [
        #"""
        {"flag": "f", "variants": {"on": {"color": "green"}, "off": false}, "canary": "on", "baseline": "off",
         "segments": {"staff": {"ends_with": [{"var": "email"}, "@example.com"]}},
         "rules": [{"segment": "staff", "variant": "on"}, {"when": {"==": [{"var": "country"}, "NZ"]}, "variant": "off"}],
         "steps": [{"segment": "staff", "bake": "1h"}, {"percent": 0.5, "bake": "10m"}, {"percent": 25, "approval": true},
                   {"percent": 100}],
         "sources": {"m": {"type": "command", "command": ["./m.sh", "{{variant}}"], "timeout": "5s"},
                     "p": {"type": "prometheus", "url": "http://127.0.0.1:9090/{{flag}}", "bearer_token_env": "T"},
                     "h": {"type": "http", "url": "https://x/stats?v={{variant}}", "basic_auth": {"username": "u", "password_env": "P"}},
                     "e": {"type": "events"}},
         "gates": [{"name": "a", "source": "m", "max": 0.01, "failure_limit": 3},
                   {"name": "b", "kind": "relative", "source": "p", "query": "sum(x{v=\"{{variant}}\"})", "max_ratio": 1.2, "max_delta": 0.01},
                   {"name": "c", "kind": "statistical", "source": "e", "test": "sequential", "metric": "proportion",
                    "query": "error", "expected_samples": 20000, "tolerance": 0.001, "pass": "non_inferiority"},
                   {"name": "d", "kind": "statistical", "source": "h", "test": "z", "expected_samples": 5000,
                    "inputs": {"count": "/e/{{variant}}", "total": "/n/{{variant}}"}, "shadow": true},
                   {"name": "s", "kind": "statistical", "source": "e", "test": "srm"}],
         "on": {"fail": "rollback", "no_data": "hold", "error": "pause"},
         "max_hold": {"after": "2h", "then": "rollback"}, "interval": "30s"}
        """#,
        #"{"flag": "g", "canary": "b", "baseline": "a", "steps": [{"percent": 100}]}"#,
        // Rules whose operations take numbers from the context, and a distribution test with its own alpha.
        #"""
        {"flag": "h", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
         "rules": [{"when": {"==": [{"substr": ["abcdef", {"var": "n"}, 2]}, "cd"]}, "variant": "on"},
                   {"when": {"fractional": [["on", 50], ["off", {"var": "w"}]]}, "variant": "off"},
                   {"when": {"sem_ver": [{"var": "v"}, ">=", "1.2.0"]}, "variant": "on"},
                   {"when": {"<": [{"%": [{"var": "n"}, 7]}, {"*": [{"var": "w"}, 2]}]}, "variant": "off"}],
         "steps": [{"percent": 10, "bake": "1m"}, {"percent": 50}],
         "sources": {"e": {"type": "events"}},
         "gates": [{"name": "mw", "kind": "statistical", "source": "e", "test": "mann_whitney", "query": "latency",
                    "alpha": 0.05, "min_samples": 3, "expected_samples": 30},
                   {"name": "w", "kind": "statistical", "source": "e", "test": "welch", "metric": "mean",
                    "query": "latency", "alpha": 0.01, "min_samples": 3, "expected_samples": 30}]}
        """#,
    ]

    /// Contexts with values at the corners, for the rules of every accepted plan.
    static let contexts: [String] = [
        #"{"n": 1e20, "w": 999999999999999, "v": 1e300}"#, #"{"n": -1e20, "w": -1, "v": "1.2.3"}"#,
        #"{"n": 9.3e18, "w": 1e308, "v": -0.0}"#, #"{"n": "1e20", "w": "x", "v": [1, 2]}"#,
        #"{"n": 3, "w": 0.5, "v": {"a": 1}}"#, "{}",
    ]

    /// Arm inputs at the corners, for the statistical gates of every accepted plan.
    static let arms: [ArmReading] = [
        .summary(ArmSummary(count: 1e308, mean: 1e308, variance: 1e308)),
        .summary(ArmSummary(count: 5, mean: -1e308, variance: 0)),
        .summary(.moments(count: 5, sum: 5e200, sumOfSquares: 1e308)),
        .summary(ArmSummary(count: 0, mean: 0, variance: 0)),
        .samples([1e308, -1e308, 0, .leastNonzeroMagnitude]), .samples([1, 1, 1]),
        .samples(Array(repeating: 7, count: 40)),
    ]

    /// Replacements that reach the corners: huge and tiny numbers, wrong types, control characters, deep nesting.
    static let tokens = [
        "1e400", "-1e400", "1e308", "-0", "0.000001", "100.001", "99999999999999999999", "-1", "0", "null", "true",
        "[]", "{}", "\"\"", "\"\\u0000\"", "\"a\\nb\"", "\"\\u001b[2J\"", "\"99999999999d\"", "\"1h1h\"", "\"0s\"",
        "\"{{nope}}\"", "\"{{\"", String(repeating: "[", count: 300), "\"x\"", "1.5", "NaN", "Infinity", "\"\u{FFFD}\"",
        "\"\u{2028}\"", "9007199254740993", "-9223372036854775809", "1e-17",
    ]

    static func mutate(_ text: String, _ random: inout SeededRandom) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<(1 + Int(random.next() % 3)) {
            guard !scalars.isEmpty else { break }
            let at = Int(random.next() % UInt64(scalars.count))
            switch random.next() % 4 {
            case 0: scalars.remove(at: at)
            case 1: scalars.insert(scalars[Int(random.next() % UInt64(scalars.count))], at: at)
            case 2:
                // Replace the value after a colon with a token.
                if let colon = scalars[at...].firstIndex(of: ":") {
                    let end = scalars[(colon + 1)...].firstIndex { $0 == "," || $0 == "}" } ?? scalars.count
                    let token = tokens[Int(random.next() % UInt64(tokens.count))]
                    scalars.replaceSubrange((colon + 1)..<end, with: Array(token.unicodeScalars))
                }
            default:
                scalars[at] = Unicode.Scalar(UInt8(random.next() % 128))
            }
        }
        var out = ""
        out.unicodeScalars.append(contentsOf: scalars)
        return out
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func mutatedPlansAreAPlanOrAOneLineError(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var accepted = 0
        for i in 0..<5_000 {
            let text = Self.mutate(Self.seedPlans[i % Self.seedPlans.count], &random)
            do {
                let plan = try PlanParser.parse(text, file: "fuzz.json")
                accepted += 1
                // An accepted plan is usable: its route, gates and limits can be computed, its rules evaluated
                // for any context, and its statistical gates judged on any inputs.
                _ = plan.effectiveMaxHold
                for step in plan.steps.indices { _ = plan.gates(at: plan.percent(atStep: step)) }
                if let variants = plan.variants {
                    let flag = Flag(
                        key: plan.flag, variants: variants, baseline: plan.baseline, canary: plan.canary,
                        canaryPercent: plan.steps[0].percent, rules: plan.rules ?? [], segments: plan.segments)
                    let compiled = CompiledFlag(flag)
                    for text in Self.contexts {
                        var context = (try? EvaluationContext(json: try JSONParser.parse(text))) ?? EvaluationContext()
                        context.targetingKey = "user-\(i)"
                        for generation in BucketingGeneration.allCases {
                            _ = compiled.resolve(context, timestamp: 0, bucketing: generation)
                            _ = compiled.resolveByLogic(context, timestamp: 0, bucketing: generation)
                        }
                    }
                }
                for gate in plan.gates where gate.statistical != nil {
                    let canary = Self.arms[Int(random.next() % UInt64(Self.arms.count))]
                    let baseline = Self.arms[Int(random.next() % UInt64(Self.arms.count))]
                    _ = gate.judge(canary: canary, baseline: baseline, share: 0.1)
                }
            } catch {
                let line = Escape.line(error.description)
                #expect(line.hasPrefix("fuzz.json"), "\(line)")
                #expect(!line.contains("\n"))
            }
        }
        #expect(accepted > 0, "the mutations must leave some plans valid, or the test explores nothing")
    }
}
