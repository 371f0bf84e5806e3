import Foundation
import RampCore
import Testing

/// The Python OpenFeature flagd provider (file mode, offline), an independent evaluator of the file
/// `ramp export --format flagd` writes: 0.5.2 for the current bucketing generation, 0.6.1 for the next (CBOR).
/// Tests/run-all.sh installs both into virtual environments.
enum FlagdProvider {
    static func python(_ generation: BucketingGeneration) -> String {
        let (variable, version) =
            generation == .concat ? ("RAMP_FLAGD_PYTHON", "0.5.2") : ("RAMP_FLAGD_PYTHON_NEXT", "0.6.1")
        return ProcessInfo.processInfo.environment[variable]
            ?? Sandbox.packageRoot.appendingPathComponent(".build/python-flagd-\(version)/bin/python").path
    }

    /// Reads JSON lines `{"flag": …, "context": {"targetingKey": …, …}}` and prints `variant<TAB>reason<TAB>error`
    /// for each.
    static let script = #"""
        import json, logging, sys, time
        from openfeature import api
        from openfeature.contrib.provider.flagd import FlagdProvider
        from openfeature.contrib.provider.flagd.config import ResolverType
        from openfeature.evaluation_context import EvaluationContext
        from openfeature.provider import ProviderStatus
        # The provider logs a traceback for every value that is no version (ramp's contexts hold some on purpose).
        logging.disable(logging.CRITICAL)
        api.set_provider(FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=sys.argv[1]))
        client = api.get_client()
        for _ in range(100):
            if client.get_provider_status() == ProviderStatus.READY:
                break
            time.sleep(0.1)
        out = []
        for line in sys.stdin.read().splitlines():
            request = json.loads(line)
            attributes = dict(request["context"])
            key = attributes.pop("targetingKey", None)
            context = EvaluationContext(targeting_key=key, attributes=attributes)
            # Ask for the value's own type: the first typed call that is not a TYPE_MISMATCH answers.
            for get, default in [(client.get_object_details, {}), (client.get_string_details, ""),
                                 (client.get_boolean_details, False), (client.get_integer_details, 0),
                                 (client.get_float_details, 0.0)]:
                d = get(request["flag"], default, context)
                code = d.error_code.value if d.error_code is not None and hasattr(d.error_code, "value") else d.error_code
                if code != "TYPE_MISMATCH":
                    break
            reason = d.reason.value if hasattr(d.reason, "value") else d.reason
            code = d.error_code.value if d.error_code is not None and hasattr(d.error_code, "value") else (d.error_code or "")
            out.append(f"{d.variant or ''}\t{reason}\t{code}")
        print("\n".join(out))
        """#

    /// Evaluates each (flag, context) through the provider reading `file`: "variant<TAB>reason<TAB>error" per request.
    static func evaluate(_ generation: BucketingGeneration, file: String, _ requests: [(String, JSONValue)]) throws
        -> [String]
    {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: self.python(generation))
        python.arguments = ["-c", script, file]
        let stdin = Pipe()
        let stdout = Pipe()
        python.standardInput = stdin
        python.standardOutput = stdout
        try python.run()
        let input = requests.map { JSONValue.object(["flag": .string($0.0), "context": $0.1]).canonical }
            .joined(separator: "\n")
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        return output.split(separator: "\n", omittingEmptySubsequences: false).prefix(requests.count).map(String.init)
    }

    /// `ramp eval --contexts -` in `box` for each of `flags` over `contexts`: "variant<TAB>reason<TAB>error" per flag
    /// and context, in the order `evaluate` answers.
    static func rampAnswers(_ box: Sandbox, flags: [String], contexts: [JSONValue]) -> [String] {
        let input = contexts.map(\.canonical).joined(separator: "\n")
        return flags.flatMap { flag in
            box.ramp(["eval", flag, "--contexts", "-"], stdin: input).lines.map { line in
                let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return "\(parts[1])\t\(parts[3])\t\(parts.count > 4 ? parts[4] : "")"
            }
        }
    }

    /// Where ramp's and the provider's answers to `requests` differ, and how often each flag gave each of the
    /// provider's answers ("flag variant<TAB>reason<TAB>error").
    static func compare(_ requests: [(String, JSONValue)], ramp: [String], python: [String])
        -> (disagreements: [String], tally: [String: Int])
    {
        var disagreements: [String] = []
        var tally: [String: Int] = [:]
        for (i, request) in requests.enumerated() where i < min(ramp.count, python.count) {
            if ramp[i] != python[i] {
                disagreements.append("\(request.0) \(request.1.canonical): ramp \(ramp[i]), flagd \(python[i])")
            }
            tally["\(request.0) \(python[i])", default: 0] += 1
        }
        return (disagreements, tally)
    }

    static func isInstalled(_ generation: BucketingGeneration) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: python(generation)) else {
            Issue.record("no Python flagd provider at \(python(generation)): run Tests/run-all.sh, which installs it")
            return false
        }
        return true
    }
}

/// A store with flags in every state ramp exports — rules, segment steps, several shares, killed, disabled,
/// completed, rolled back — and the contexts that hit and miss their rules.
private struct Fleet {
    let box = Sandbox()
    var flags: [String] = []

    static let targeting = """
        "segments": {
          "internal": {"ends_with": [{"var": "email"}, "@example.com"]},
          "blocked": {"in": [{"var": "region"}, ["cn-1", "ru-1"]]}
        },
        "rules": [
          {"segment": "blocked", "variant": "off"},
          {"when": {"and": [{"sem_ver": [{"var": "app"}, ">=", "2.1.0"]}, {"==": [{"var": "plan"}, "beta"]}]}, "variant": "on"}
        ],
        """

    /// A plan with the targeting above (or none) and `steps` written as JSON.
    func plan(_ flag: String, steps: String, targeting: Bool = true) -> String {
        box.write(
            "\(flag).json",
            """
            {
              "flag": "\(flag)",
              "variants": {"on": {"color": "green"}, "off": {"color": "grey"}},
              "canary": "on", "baseline": "off",
              \(targeting ? Self.targeting : "")
              "steps": [\(steps)]
            }
            """)
        return box.dir.appendingPathComponent("\(flag).json").path
    }

    /// Writes the plan `json` for `flag`, submits it and counts the flag in.
    mutating func submit(_ flag: String, _ json: String) {
        box.write("\(flag).json", json)
        box.ramp(["submit", box.dir.appendingPathComponent("\(flag).json").path, "--now", t(0)])
        flags.append(flag)
    }

    init(_ generation: BucketingGeneration) {
        if generation != .concat {
            #expect(box.ramp(["config", "bucketing", generation.rawValue, "--now", t(0)]).status == 0)
        }
        let ladder =
            #"{"segment": "internal", "bake": "1h"}, {"percent": 1, "bake": "1h"}, {"percent": 25, "bake": "1h"}, {"percent": 100}"#
        // Shares without rules: a plain fractional split.
        for share in [0.5, 5, 50] {
            let flag = "share-\(JSONValue.format(share * 100))"
            box.ramp([
                "submit", plan(flag, steps: #"{"percent": \#(share), "bake": "1d"}"#, targeting: false), "--now", t(0),
            ])
            flags.append(flag)
        }
        // The same ladder stopped at each of its states: one clock, each flag paused (or killed, disabled, aborted) at
        // its stop while the others go on.
        let ladderFlags = [
            "pending", "segment-step", "one-percent", "quarter", "completed", "killed", "disabled", "rolled-back",
        ]
        for flag in ladderFlags {
            box.ramp(["submit", plan(flag, steps: ladder), "--now", t(0)])
        }
        flags += ladderFlags
        // A rule that buckets by an attribute of any JSON type (`fractional` with a bucketBy): strings under both
        // generations, numbers, booleans and objects hashed by their CBOR under the next one.
        submit(
            "bucket-by",
            """
            {"flag": "bucket-by", "variants": {"on": {"color": "green"}, "off": {"color": "grey"}},
             "canary": "on", "baseline": "off",
             "rules": [{"when": {"==": [{"fractional": [{"var": "org"}, ["a", 50], ["b", 30], ["c", 20]]}, "a"]},
                        "variant": "on"}],
             "steps": [{"percent": 1, "bake": "1d"}]}
            """)
        // Three variants with base weights (the third keeps its share while the canary takes 25% of the pool it
        // shares with the baseline), and a rule that chooses its own variant or passes (null) to the split.
        submit(
            "three-way",
            """
            {"flag": "three-way",
             "variants": {"on": {"color": "green"}, "off": {"color": "grey"}, "third": {"color": "blue"}},
             "canary": "on", "baseline": "off", "weights": {"off": 5, "on": 1, "third": 3},
             "rules": [{"choose": {"if": [{"==": [{"var": "plan"}, "beta"]}, "third", null]}},
                       {"when": {"ends_with": [{"var": "email"}, "@example.com"]}, "variant": "on"}],
             "steps": [{"percent": 25, "bake": "1d"}, {"percent": 100}]}
            """)
        // A choosing rule whose answer is `false` (the variant "false"), with a split after it: strict `!==` keeps
        // the answer where a loose `!=` would pass it on.
        submit(
            "choose-false",
            """
            {"flag": "choose-false", "variants": {"on": 1, "off": 0, "false": -1},
             "canary": "on", "baseline": "off",
             "rules": [{"choose": {"if": [{"==": [{"var": "plan"}, "beta"]}, false, null]}}],
             "steps": [{"percent": 50, "bake": "1d"}, {"percent": 100}]}
            """)
        // The same weights without rules: ramp evaluates the split on its typed path.
        submit(
            "weighted",
            """
            {"flag": "weighted",
             "variants": {"on": {"color": "green"}, "off": {"color": "grey"}, "third": {"color": "blue"}},
             "canary": "on", "baseline": "off", "weights": {"off": 5, "on": 1, "third": 3},
             "steps": [{"percent": 25, "bake": "1d"}, {"percent": 100}]}
            """)
        #expect(box.ramp(["pause", "pending", "--now", t(0)]).status == 0)
        let stops: [Int64: [(String, String)]] = [
            0: [("pause", "segment-step")],
            61: [("pause", "one-percent"), ("kill", "killed"), ("disable", "disabled"), ("abort", "rolled-back")],
            122: [("pause", "quarter")],
        ]
        for minute: Int64 in [0, 61, 122, 183, 244] {
            box.ramp(["tick", "--now", t(minute)])
            for (command, flag) in stops[minute] ?? [] {
                #expect(box.ramp([command, flag, "--now", t(minute)]).status == 0)
            }
        }
        #expect(box.status("completed")["state"] == "completed")
        #expect(box.status("quarter")["percent"] == 25)
    }

    /// 10,000 contexts: internal and outside emails, blocked regions, app versions and plans that do and do not
    /// match the rule, and a few without a targeting key.
    static let contexts: [JSONValue] = (0..<10_000).map { i in
        var context: [String: JSONValue] = [
            "email": .string(i % 7 == 0 ? "u\(i)@example.com" : "u\(i)@mail.org"),
            "region": .string(i % 11 == 0 ? "cn-1" : i % 13 == 0 ? "ru-1" : "eu-1"),
            // Versions as text and as numbers (read by their text: 2 is 2.0.0, 2.5 is 2.5.0).
            "app": [
                .string("1.9.0"), .string("2.1.0"), .string("v2.3.4"), .string("2.1.0-beta.1"), .string("3.0"),
                .number(2), .number(3), .number(2.5), .number(2.05), .number(-4),
            ][i % 10],
            "plan": .string(i % 3 == 0 ? "beta" : "free"),
        ]
        // The bucketing attribute in every JSON type: integers (small, negative, past 2^32), integral floats,
        // fractions that are exact halves, singles or only doubles, booleans, objects with nested values, empty
        // text, null, missing.
        let org: JSONValue? = [
            .string("acme-\(i % 50)"), .number(Double(i)), .number(-Double(i)), .number(Double(i) * 1_000_003),
            .number(Double(i) + 0.5), .number(Double(i) / 3), .number(Double(i % 100) / 1024),
            .number(Double(i) * 1e300), .bool(i % 2 == 0),
            ["id": .number(Double(i)), "name": .string("n\(i % 7)"), "tags": [.number(1.5), .bool(true), .null]],
            .string(""), .null, nil,
        ][i % 13]
        if let org { context["org"] = org }
        if i % 997 != 5 { context["targetingKey"] = .string("user-\(i * 7919 % 1_000_003)") }
        return .object(context)
    }

    /// Contexts whose targetingKey is not a string: flagd's split serves them the default variant. The Python
    /// provider 0.5.x raises on them instead (it adds the key to the flag key as text), so only the next
    /// generation's provider is asked.
    static let otherKeys: [JSONValue] = (0..<200).map { i in
        [
            "targetingKey": [.number(Double(i)), .bool(i % 2 == 0), ["id": .number(Double(i))], [.string("u")]][i % 4],
            "email": .string(i % 7 == 0 ? "u\(i)@example.com" : "u\(i)@mail.org"), "region": "eu-1",
            "app": "2.1.0", "plan": .string(i % 3 == 0 ? "beta" : "free"), "org": .string("acme-\(i % 50)"),
        ]
    }

    static func contexts(_ generation: BucketingGeneration) -> [JSONValue] {
        generation == .cbor ? contexts + otherKeys : contexts
    }

    /// `ramp eval --contexts -` for every flag: "variant<TAB>reason<TAB>error" per flag and context.
    func rampAnswers(_ generation: BucketingGeneration) -> [String] {
        FlagdProvider.rampAnswers(box, flags: flags, contexts: Self.contexts(generation))
    }

    func export() -> String {
        let file = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["export", "--format", "flagd", "--out", file]).status == 0)
        return file
    }
}

@Suite struct FlagdAgreementTests {
    @Test(arguments: BucketingGeneration.allCases)
    func thePythonFlagdProviderAgreesWithRampEvalOnVariantAndReason(_ generation: BucketingGeneration) throws {
        guard FlagdProvider.isInstalled(generation) else { return }
        let fleet = Fleet(generation)
        let file = fleet.export()
        let ramp = fleet.rampAnswers(generation)
        let requests = fleet.flags.flatMap { flag in Fleet.contexts(generation).map { (flag, $0) } }
        let python = try FlagdProvider.evaluate(generation, file: file, requests)
        #expect(ramp.count == requests.count && python.count == requests.count)
        let (disagreements, tally) = FlagdProvider.compare(requests, ramp: ramp, python: python)
        #expect(disagreements.count == 0, "\(disagreements.count) disagreements, e.g. \(disagreements.prefix(3))")
        // Agreement is not agreement on one answer: every state shows the reasons it should.
        for expected in [
            "share-5000 on\tTARGETING_MATCH\t", "share-5000 off\tTARGETING_MATCH\t", "share-5000 off\tDEFAULT\t",
            "segment-step on\tTARGETING_MATCH\t", "segment-step off\tDEFAULT\t", "segment-step off\tTARGETING_MATCH\t",
            "quarter on\tTARGETING_MATCH\t", "killed off\tSTATIC\t", "rolled-back off\tDEFAULT\t",
            "rolled-back on\tTARGETING_MATCH\t", "completed on\tTARGETING_MATCH\t", "disabled \tDISABLED\t",
        ] {
            #expect(tally[expected, default: 0] > 0, "no \(expected)")
        }
        // The attribute split matches for about half of its hashable values, under either generation.
        let byAttribute = tally["bucket-by on\tTARGETING_MATCH\t", default: 0]
        #expect(byAttribute > (generation == .cbor ? 3000 : 200), "bucket-by matched \(byAttribute) times")
        if generation == .cbor {
            // A targetingKey that is no string gets the default variant from a split, not an error.
            #expect(tally["share-5000 off\tDEFAULT\t", default: 0] >= Fleet.otherKeys.count)
        }
        // Three ways: the beta plan gets the third variant by the choosing rule, internal users the canary, and the
        // split gives the canary 25% of the on/off pool (6/9 of users), the third variant 3/9.
        let threeWay = Fleet.contexts(generation).count
        for (variant, low, high) in [("on", 0.12, 0.30), ("off", 0.25, 0.45), ("third", 0.45, 0.65)] {
            let count = tally["three-way \(variant)\tTARGETING_MATCH\t", default: 0]
            #expect(
                Double(count) > low * Double(threeWay) && Double(count) < high * Double(threeWay),
                "three-way \(variant): \(count) of \(threeWay)")
        }
        for variant in ["on", "off", "third"] {
            #expect(tally["weighted \(variant)\tTARGETING_MATCH\t", default: 0] > 1_000, "weighted \(variant)")
        }
        // The beta third of users get "false"; the split shares the rest.
        for variant in ["false", "on", "off"] {
            #expect(tally["choose-false \(variant)\tTARGETING_MATCH\t", default: 0] > 2_000, "choose-false \(variant)")
        }
        let quarter = tally["quarter on\tTARGETING_MATCH\t", default: 0]
        #expect(quarter > 3000 && quarter < 5200)  // 25%, plus internal users and the beta rule, less blocked regions
    }

    /// Each state's export, read by the Python provider of the current generation: what a client sees.
    @Test func eachExportedStateServesWhatItShouldThroughTheProvider() throws {
        guard FlagdProvider.isInstalled(.concat) else { return }
        let fleet = Fleet(.concat)
        let file = fleet.export()
        let insider: JSONValue = ["targetingKey": "u1", "email": "ana@example.com", "region": "eu-1", "app": "1.0.0"]
        let outsider: JSONValue = ["targetingKey": "u1", "email": "bo@mail.org", "region": "eu-1", "app": "1.0.0"]
        let blockedInsider: JSONValue = ["targetingKey": "u1", "email": "ana@example.com", "region": "cn-1"]
        let cases: [(String, JSONValue, String)] = [
            // A killed flag serves its baseline to everyone, rules and segments included: no targeting at all.
            ("killed", insider, "off\tSTATIC\t"), ("killed", outsider, "off\tSTATIC\t"),
            // A segment step: the segment gets the canary, everyone else the default (baseline), blocked wins.
            ("segment-step", insider, "on\tTARGETING_MATCH\t"), ("segment-step", outsider, "off\tDEFAULT\t"),
            ("segment-step", blockedInsider, "off\tTARGETING_MATCH\t"),
            // Completed: everyone gets the canary, except the blocked rule that comes first.
            ("completed", outsider, "on\tTARGETING_MATCH\t"), ("completed", blockedInsider, "off\tTARGETING_MATCH\t"),
            // Rolled back: share and segments gone, the flag's own rules stay.
            ("rolled-back", insider, "off\tDEFAULT\t"), ("rolled-back", outsider, "off\tDEFAULT\t"),
            ("rolled-back", ["targetingKey": "u", "app": "2.2.0", "plan": "beta"], "on\tTARGETING_MATCH\t"),
            // A disabled flag gives no variant to anyone (the caller's default), rules and split included.
            ("disabled", insider, "\tDISABLED\t"), ("disabled", outsider, "\tDISABLED\t"),
            // Unknown flags are errors, as flagd says.
            ("nope", outsider, "\tERROR\tFLAG_NOT_FOUND"),
        ]
        let python = try FlagdProvider.evaluate(.concat, file: file, cases.map { ($0.0, $0.1) })
        for (i, c) in cases.enumerated() {
            #expect(python[i] == c.2, "\(c.0) \(c.1.canonical)")
        }
        let document = try JSONParser.parse(String(contentsOfFile: file, encoding: .utf8))
        #expect(document["flags"]?["segment-step"]?["metadata"]?["rampSegments"] == "internal")
        #expect(document["flags"]?["killed"]?["targeting"] == nil)
        #expect(document["flags"]?["disabled"]?["state"] == "DISABLED")
        #expect(document["flags"]?["quarter"]?["state"] == "ENABLED")
        #expect(document["flags"]?["completed"]?["metadata"]?["rampState"] == "completed")
        #expect(document["flags"]?["rolled-back"]?["metadata"]?["rampState"] == "rolled_back")
    }
}
