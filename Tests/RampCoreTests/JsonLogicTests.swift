import RampCore
import Testing

/// Applies `rule` to `data` (both JSON text) and returns the result as canonical JSON.
private func apply(_ rule: String, _ data: String = "null") throws -> String {
    try JsonLogic(JSONParser.parse(rule)).apply(JSONParser.parse(data)).canonical
}

/// Every operation, with the corners where JsonLogic implementations part ways pinned to the reference
/// implementation's (json-logic-js, documented at jsonlogic.com) answer.
@Suite struct JsonLogicTests {
    /// (rule, data, expected result)
    typealias Case = (String, String, String)

    static let truthiness: [Case] = [
        // [] is false, "0" is true, {} is true: JsonLogic's own truthiness, not JavaScript's for [].
        (#"{"if": [[], "t", "f"]}"#, "null", #""f""#),
        (#"{"if": [[0], "t", "f"]}"#, "null", #""t""#),
        (#"{"if": ["0", "t", "f"]}"#, "null", #""t""#),
        (#"{"if": ["", "t", "f"]}"#, "null", #""f""#),
        (#"{"if": [0, "t", "f"]}"#, "null", #""f""#),
        (#"{"if": [-1, "t", "f"]}"#, "null", #""t""#),
        (#"{"if": [{}, "t", "f"]}"#, "null", #""t""#),
        (#"{"if": [null, "t", "f"]}"#, "null", #""f""#),
        (#"{"!": [[]]}"#, "null", "true"),
        (#"{"!!": [[]]}"#, "null", "false"),
        (#"{"!!": ["0"]}"#, "null", "true"),
        (#"{"!": true}"#, "null", "false"),
    ]

    static let equality: [Case] = [
        (#"{"==": [1, "1"]}"#, "null", "true"),
        (#"{"==": [1, 1.0]}"#, "null", "true"),
        (#"{"==": [0, false]}"#, "null", "true"),
        (#"{"==": ["", 0]}"#, "null", "true"),
        (#"{"==": [[], false]}"#, "null", "true"),
        (#"{"==": [[1], 1]}"#, "null", "true"),
        (#"{"==": [null, 0]}"#, "null", "false"),
        (#"{"==": [null, false]}"#, "null", "false"),
        (#"{"==": [null, null]}"#, "null", "true"),
        (#"{"==": ["abc", "abc"]}"#, "null", "true"),
        (#"{"==": ["1e3", 1000]}"#, "null", "true"),
        (#"{"==": ["abc", 0]}"#, "null", "false"),
        (#"{"!=": [1, "1"]}"#, "null", "false"),
        (#"{"!=": [1, 2]}"#, "null", "true"),
        (#"{"===": [1, "1"]}"#, "null", "false"),
        (#"{"===": [1, 1]}"#, "null", "true"),
        (#"{"===": [0, {"+": "0"}]}"#, "null", "true"),
        (#"{"!==": [1, "1"]}"#, "null", "true"),
        (#"{"!==": ["a", "a"]}"#, "null", "false"),
    ]

    static let comparison: [Case] = [
        (#"{"<": [1, 2]}"#, "null", "true"),
        (#"{"<": [2, 1]}"#, "null", "false"),
        (#"{"<": ["10", "9"]}"#, "null", "true"),  // two strings compare as strings
        (#"{"<": ["10", 9]}"#, "null", "false"),  // otherwise as numbers
        (#"{"<": [null, 1]}"#, "null", "true"),
        (#"{"<": ["abc", 1]}"#, "null", "false"),
        (#"{">=": ["abc", 1]}"#, "null", "false"),  // NaN compares false every way
        (#"{"<=": [2, 2]}"#, "null", "true"),
        (#"{">": [3, 2]}"#, "null", "true"),
        (#"{">=": [2, 3]}"#, "null", "false"),
        // The three-argument "between" forms: exclusive with <, inclusive with <=.
        (#"{"<": [1, 2, 3]}"#, "null", "true"),
        (#"{"<": [1, 1, 3]}"#, "null", "false"),
        (#"{"<=": [1, 1, 3]}"#, "null", "true"),
        (#"{"<=": [1, 4, 3]}"#, "null", "false"),
        (#"{"<": [1, {"var": "x"}, 10]}"#, #"{"x": 5}"#, "true"),
    ]

    static let logic: [Case] = [
        (#"{"if": []}"#, "null", "null"),
        (#"{"if": [true]}"#, "null", "true"),
        (#"{"if": [false, "a"]}"#, "null", "null"),
        (#"{"if": [false, "a", false, "b", "c"]}"#, "null", #""c""#),
        (#"{"if": [false, "a", true, "b", "c"]}"#, "null", #""b""#),
        (#"{"if": [false, "a", false, "b"]}"#, "null", "null"),
        (#"{"?:": [false, 1, 2]}"#, "null", "2"),
        // and/or return the deciding value, not a boolean.
        (#"{"and": [1, "", 2]}"#, "null", #""""#),
        (#"{"and": [1, 2]}"#, "null", "2"),
        (#"{"or": [0, "", []]}"#, "null", "[]"),
        (#"{"or": [0, "x"]}"#, "null", #""x""#),
        (#"{"or": []}"#, "null", "null"),
        // Lazy: the branch not taken is never evaluated (a var on a missing path would still be harmless).
        (#"{"or": [true, {"/": [1, 0]}]}"#, "null", "true"),
    ]

    static let data: [Case] = [
        (#"{"var": "a"}"#, #"{"a": 1}"#, "1"),
        (#"{"var": "a.b.c"}"#, #"{"a": {"b": {"c": "deep"}}}"#, #""deep""#),
        (#"{"var": ["a.b", "fallback"]}"#, #"{"a": {}}"#, #""fallback""#),
        (#"{"var": ["missing", "fallback"]}"#, "null", #""fallback""#),
        (#"{"var": "missing"}"#, #"{"a": 1}"#, "null"),
        (#"{"var": "x"}"#, #"{"x": null}"#, "null"),  // an explicit null is found, not missing
        (#"{"var": ["x", 5]}"#, #"{"x": null}"#, "null"),
        (#"{"var": "list.1"}"#, #"{"list": [5, 6]}"#, "6"),
        (#"{"var": 1}"#, #"["a", "b"]"#, #""b""#),
        (#"{"var": ""}"#, #"{"x": 1}"#, #"{"x":1}"#),
        (#"{"var": []}"#, #"{"x": 1}"#, #"{"x":1}"#),
        (#"{"var": {"cat": ["a", ".b"]}}"#, #"{"a": {"b": 7}}"#, "7"),
        (#"{"missing": ["a", "b"]}"#, #"{"a": 1}"#, #"["b"]"#),
        (#"{"missing": ["a", "b"]}"#, #"{"a": ""}"#, #"["a","b"]"#),
        (#"{"missing": "a"}"#, "null", #"["a"]"#),
        (#"{"missing": ["a.b"]}"#, #"{"a": {"b": 0}}"#, "[]"),
        (
            #"{"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr"], []]}]}}"#, #"{"financing": true}"#,
            #"["vin","apr"]"#
        ),
        (#"{"missing_some": [1, ["a", "b"]]}"#, #"{"a": 1}"#, "[]"),
        (#"{"missing_some": [2, ["a", "b", "c"]]}"#, #"{"a": 1}"#, #"["b","c"]"#),
    ]

    static let arithmetic: [Case] = [
        (#"{"+": [1, 2]}"#, "null", "3"),
        (#"{"+": ["1", "2"]}"#, "null", "3"),
        (#"{"+": ["3.5abc"]}"#, "null", "3.5"),  // parseFloat: the numeric prefix
        (#"{"+": []}"#, "null", "0"),
        (#"{"+": "0"}"#, "null", "0"),
        (#"{"-": [5, 2]}"#, "null", "3"),
        (#"{"-": [5]}"#, "null", "-5"),
        (#"{"-": ["5", "2"]}"#, "null", "3"),
        (#"{"*": [2, "3"]}"#, "null", "6"),
        (#"{"*": [2, 3, 4]}"#, "null", "24"),
        (#"{"/": [6, 4]}"#, "null", "1.5"),
        (#"{"%": [7, 3]}"#, "null", "1"),
        (#"{"%": [-7, 3]}"#, "null", "-1"),
        // Division by zero is Infinity (JSON writes it as null) and still compares as a number.
        (#"{"/": [1, 0]}"#, "null", "null"),
        (#"{">": [{"/": [1, 0]}, 1e300]}"#, "null", "true"),
        (#"{"if": [{"/": [1, 0]}, "t", "f"]}"#, "null", #""t""#),
        (#"{"%": [1, 0]}"#, "null", "null"),  // NaN
        (#"{"if": [{"%": [1, 0]}, "t", "f"]}"#, "null", #""f""#),
        (#"{"min": [3, 1, 2]}"#, "null", "1"),
        (#"{"max": [1, "3", 2]}"#, "null", "3"),
        (#"{"max": [1, "x"]}"#, "null", "null"),
        (#"{"min": []}"#, "null", "null"),  // Infinity
    ]

    static let strings: [Case] = [
        (#"{"cat": ["I love", " pie"]}"#, "null", #""I love pie""#),
        (#"{"cat": [1.0, 2]}"#, "null", #""12""#),
        (#"{"cat": [1.5, null, true]}"#, "null", #""1.5nulltrue""#),
        (#"{"cat": [[1, 2], "x"]}"#, "null", #""1,2x""#),
        (#"{"substr": ["jsonlogic", 4]}"#, "null", #""logic""#),
        (#"{"substr": ["jsonlogic", -5]}"#, "null", #""logic""#),
        (#"{"substr": ["jsonlogic", 0, 1]}"#, "null", #""j""#),
        (#"{"substr": ["jsonlogic", -5, -2]}"#, "null", #""log""#),
        (#"{"substr": ["jsonlogic", 1, -5]}"#, "null", #""son""#),
        (#"{"substr": ["héllo", 1, 2]}"#, "null", #""él""#),
        (#"{"in": ["Spring", "Springfield"]}"#, "null", "true"),
        (#"{"in": ["x", "Springfield"]}"#, "null", "false"),
        (#"{"in": ["Ringo", ["John", "Paul", "George", "Ringo"]]}"#, "null", "true"),
        (#"{"in": ["1", [1, 2]]}"#, "null", "false"),  // arrays compare strictly
        (#"{"in": [1, [1, 2]]}"#, "null", "true"),
        (#"{"in": ["a", null]}"#, "null", "false"),
        (#"{"starts_with": ["user@example.com", "user"]}"#, "null", "true"),
        (#"{"starts_with": ["user@example.com", "admin"]}"#, "null", "false"),
        (#"{"ends_with": ["user@example.com", "@example.com"]}"#, "null", "true"),
        (#"{"ends_with": ["user@example.org", "@example.com"]}"#, "null", "false"),
        (#"{"ends_with": [5, "5"]}"#, "null", "null"),  // flagd: not a string, no answer
        (#"{"starts_with": ["abc"]}"#, "null", "null"),
    ]

    static let arrays: [Case] = [
        (#"{"merge": []}"#, "null", "[]"),
        (#"{"merge": [[1], [2, 3]]}"#, "null", "[1,2,3]"),
        (#"{"merge": [1, [2, [3]]]}"#, "null", "[1,2,[3]]"),
        (#"{"merge": 1}"#, "null", "[1]"),
        (#"{"map": [[1, 2, 3], {"*": [{"var": ""}, 2]}]}"#, "null", "[2,4,6]"),
        (#"{"map": [{"var": "missing"}, {"var": ""}]}"#, "null", "[]"),
        (#"{"filter": [[1, 2, 3], {">": [{"var": ""}, 1]}]}"#, "null", "[2,3]"),
        (#"{"reduce": [[1, 2, 3], {"+": [{"var": "current"}, {"var": "accumulator"}]}, 10]}"#, "null", "16"),
        (#"{"reduce": [{"var": "missing"}, {"+": [1, 1]}, 7]}"#, "null", "7"),
        (#"{"all": [[1, 2], {">": [{"var": ""}, 0]}]}"#, "null", "true"),
        (#"{"all": [[1, -2], {">": [{"var": ""}, 0]}]}"#, "null", "false"),
        (#"{"all": [[], {">": [{"var": ""}, 0]}]}"#, "null", "false"),  // all of nothing is false
        (#"{"some": [[-1, 2], {">": [{"var": ""}, 0]}]}"#, "null", "true"),
        (#"{"some": [[], {"var": ""}]}"#, "null", "false"),
        (#"{"none": [[-1, -2], {">": [{"var": ""}, 0]}]}"#, "null", "true"),
        (#"{"none": [[], {"var": ""}]}"#, "null", "true"),
        (
            #"{"some": [{"var": "pies"}, {"==": [{"var": "filling"}, "apple"]}]}"#,
            #"{"pies": [{"filling": "pumpkin"}, {"filling": "apple"}]}"#, "true"
        ),
    ]

    static let semVer: [Case] = [
        (#"{"sem_ver": ["1.2.3", "=", "1.2.3"]}"#, "null", "true"),
        // Numbers are read by their text, as flagd's providers read them.
        (#"{"sem_ver": [{"var": "v"}, "=", "2.0.0"]}"#, #"{"v": 2}"#, "true"),
        (#"{"sem_ver": [{"var": "v"}, "=", "2.0.0"]}"#, #"{"v": 2.0}"#, "true"),
        (#"{"sem_ver": [{"var": "v"}, ">", "2.1.0"]}"#, #"{"v": 2.5}"#, "true"),
        (#"{"sem_ver": [{"var": "v"}, "<", "2.1.0"]}"#, #"{"v": 2.05}"#, "null"),  // "2.05": a leading zero
        (#"{"sem_ver": [{"var": "v"}, "=", "1.0.0"]}"#, #"{"v": -1}"#, "null"),
        (#"{"sem_ver": [{"var": "v"}, "=", "1.0.0"]}"#, #"{"v": 1e20}"#, "null"),
        (#"{"sem_ver": [{"var": "v"}, "=", "1.0.0"]}"#, #"{"v": true}"#, "null"),
        (#"{"sem_ver": ["v1.2.3", "=", "1.2.3"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.2", "=", "1.2.0"]}"#, "null", "true"),  // a missing patch is 0, as flagd pads it
        (#"{"sem_ver": ["1.2.3", "!=", "1.2.4"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.2.3", "<", "1.10.0"]}"#, "null", "true"),  // numbers, not strings
        (#"{"sem_ver": ["1.0.0-alpha", "<", "1.0.0"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.0.0-alpha.2", "<", "1.0.0-alpha.10"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.0.0-alpha", "<", "1.0.0-alpha.1"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.0.0-1", "<", "1.0.0-alpha"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.0.0+build.1", "=", "1.0.0+build.2"]}"#, "null", "true"),
        (#"{"sem_ver": ["2.0.0", ">", "1.99.99"]}"#, "null", "true"),
        (#"{"sem_ver": ["2.0.0", ">=", "2.0.0"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.9.0", "<=", "1.8.9"]}"#, "null", "false"),
        (#"{"sem_ver": ["1.5.0", "^", "1.0.0"]}"#, "null", "true"),
        (#"{"sem_ver": ["2.0.0", "^", "1.0.0"]}"#, "null", "false"),
        (#"{"sem_ver": ["1.2.9", "~", "1.2.0"]}"#, "null", "true"),
        (#"{"sem_ver": ["1.3.0", "~", "1.2.0"]}"#, "null", "false"),
        (#"{"sem_ver": ["not a version", "=", "1.0.0"]}"#, "null", "null"),
        (#"{"sem_ver": ["01.0.0", "=", "1.0.0"]}"#, "null", "null"),  // leading zeros are not semver
        (#"{"sem_ver": ["1.0.0", "===", "1.0.0"]}"#, "null", "null"),
        (#"{"sem_ver": [{"var": "app.version"}, ">=", "2.1.0"]}"#, #"{"app": {"version": "2.3.1"}}"#, "true"),
    ]

    static let passThrough: [Case] = [
        ("17", "null", "17"),
        (#""apple""#, "null", #""apple""#),
        (#"["a", {"var": "x"}]"#, #"{"x": 1}"#, #"["a",1]"#),
        (#"{"a": 1, "b": 2}"#, "null", #"{"a":1,"b":2}"#),  // two keys: data, not an operation
    ]

    @Test(arguments: [
        ("truthiness", truthiness), ("equality", equality), ("comparison", comparison), ("logic", logic),
        ("data", data), ("arithmetic", arithmetic), ("strings", strings), ("arrays", arrays), ("sem_ver", semVer),
        ("pass-through", passThrough),
    ])
    func operations(_ group: String, _ cases: [Case]) throws {
        for (rule, data, expected) in cases {
            #expect(try apply(rule, data) == expected, "\(group): \(rule) with \(data)")
        }
    }

    @Test func anUnknownOperationIsRefusedWhenCompiledWithItsPath() {
        #expect(throws: JsonLogicError(path: "if[0].ends", message: "unknown operation \"ends\"")) {
            try JsonLogic(JSONParser.parse(#"{"if": [{"ends": [1]}, "a"]}"#))
        }
    }

    @Test func javaScriptNumberConversions() throws {
        #expect(
            try apply(#"{"cat": [0.1, "|", 1e21, "|", -0, "|", 1e-7, "|", 123456789012]}"#)
                == #""0.1|1e+21|0|1e-7|123456789012""#)
    }
}

/// What a flag evaluation sees: flagd's injected context, and both generations of `fractional` bucketing.
@Suite struct TargetingTests {
    func environment(
        _ attributes: [String: JSONValue] = [:], key: String? = "user-42", generation: BucketingGeneration = .concat
    ) -> TargetingEnvironment {
        TargetingEnvironment(
            flagKey: "checkout-v2", context: EvaluationContext(targetingKey: key, attributes: attributes),
            timestamp: 1_767_225_600, bucketing: generation)
    }

    func rule(_ text: String) throws -> JsonLogic { try JsonLogic(JSONParser.parse(text)) }

    @Test func flagdInjectsTheFlagKeyTheTimestampAndTheTargetingKey() throws {
        #expect(try rule(#"{"var": "$flagd.flagKey"}"#).apply(environment()) == "checkout-v2")
        #expect(try rule(#"{"var": "$flagd.timestamp"}"#).apply(environment()) == 1_767_225_600)
        #expect(try rule(#"{"var": "targetingKey"}"#).apply(environment()) == "user-42")
        // The injected targetingKey wins over an attribute of that name; without one it is null.
        #expect(try rule(#"{"var": "targetingKey"}"#).apply(environment(["targetingKey": "x"], key: nil)) == .null)
        #expect(try rule(#"{"var": "email"}"#).apply(environment(["email": "a@b.c"])) == "a@b.c")
        let whole = try rule(#"{"var": ""}"#).apply(environment(["plan": "pro"]))
        #expect(
            whole["plan"] == "pro" && whole["targetingKey"] == "user-42" && whole["$flagd"]?["flagKey"] == "checkout-v2"
        )
    }

    /// A targetingKey that is no string is read by rules as given, and placed by no split: the default variant.
    @Test func aTargetingKeyThatIsNoStringIsReadButNotHashed() throws {
        for generation in BucketingGeneration.allCases {
            for key: JSONValue in [42, true, ["id": 7], [1, 2]] {
                let context = try EvaluationContext(json: ["targetingKey": key, "plan": "pro"])
                #expect(context.targetingKey == nil && context.otherTargetingKey == key)
                let environment = TargetingEnvironment(
                    flagKey: "f", context: context, timestamp: 0, bucketing: generation)
                #expect(try rule(#"{"var": "targetingKey"}"#).apply(environment) == key)
                #expect(try rule(#"{"var": ""}"#).apply(environment)["targetingKey"] == key)
                #expect(try rule(#"{"fractional": [["on", 50], ["off", 50]]}"#).apply(environment) == .null)
            }
        }
    }

    /// python3 -c "import mmh3; h = mmh3.hash('checkout-v2user-42', signed=False); print(h, h*10000 >> 32)"
    ///   → 3621864327 8432
    /// python3 -c "import mmh3, cbor2; h = mmh3.hash(cbor2.dumps(['checkout-v2', 'user-42'], canonical=True),
    ///   signed=False); print(h, h*10000 >> 32)"  → 947885791 2206
    @Test func bothBucketingGenerationsHashTheirOwnBytes() {
        #expect(Bucketing.hash(flagKey: "checkout-v2", targetingKey: "user-42", generation: .concat) == 3_621_864_327)
        #expect(Bucketing.hash(flagKey: "checkout-v2", targetingKey: "user-42", generation: .cbor) == 947_885_791)
        // CBOR length headers: one byte under 24, then 0x78 nn (and 0x79 nnnn past 255 bytes).
        // ... cbor2.dumps(['f', 'a' * 30]) → 1599281078; cbor2.dumps(['k', 'x' * 300]) → 2010371558;
        // cbor2.dumps(['flag', 'é']) → 4061981930; cbor2.dumps('custom') → 361633124
        #expect(
            Bucketing.hash(flagKey: "f", targetingKey: String(repeating: "a", count: 30), generation: .cbor)
                == 1_599_281_078)
        #expect(
            Bucketing.hash(flagKey: "k", targetingKey: String(repeating: "x", count: 300), generation: .cbor)
                == 2_010_371_558)
        #expect(Bucketing.hash(flagKey: "flag", targetingKey: "é", generation: .cbor) == 4_061_981_930)
        #expect(Bucketing.hash("custom", generation: .cbor) == 361_633_124)
        #expect(Bucketing.hash("custom", generation: .concat) == Murmur3.x86_32("custom"))
    }

    @Test func fractionalSplitsByTheHashScaledToTheTotalWeight() throws {
        let split = try rule(#"{"fractional": [["on", 5000], ["off", 5000]]}"#)
        // Buckets 8432 (concat) and 2206 (cbor) of 10,000, from the hashes above.
        #expect(split.apply(environment()) == "off")
        #expect(split.apply(environment(generation: .cbor)) == "on")
        // No targeting key, no bucket; a custom bucketing value needs none.
        #expect(split.apply(environment(key: nil)) == .null)
        #expect(split.apply(environment(key: "")) == .null)
        let custom = try rule(#"{"fractional": [{"var": "org"}, ["on", 50], ["off", 50]]}"#)
        let acme = custom.apply(environment(["org": "acme"], key: nil))
        #expect(
            acme != .null && (0..<50).allSatisfy { custom.apply(environment(["org": "acme"], key: "u\($0)")) == acme })
        // A missing weight is 1, a negative one 0; weights summing to 0 give no variant.
        #expect(try rule(#"{"fractional": [["only"]]}"#).apply(environment()) == "only")
        #expect(try rule(#"{"fractional": [["never", -5], ["always", 1]]}"#).apply(environment()) == "always")
        #expect(try rule(#"{"fractional": [["a", 0], ["b", 0]]}"#).apply(environment()) == .null)
        #expect(try rule(#"{"fractional": [["a", 1.5]]}"#).apply(environment()) == .null)
    }
}
