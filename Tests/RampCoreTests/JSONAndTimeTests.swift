import RampCore
import Testing

@Suite struct JSONTests {
    @Test func parsesAllValueKinds() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e2, true, false, null], "b": "x\u00e9\n\ud83d\ude00"} "#)
        #expect(value == ["a": [1, -250, true, false, nil], "b": "xé\n😀"])
    }

    @Test func canonicalFormSortsKeysAndPrintsIntegersWithoutFraction() throws {
        let value = try JSONParser.parse(#"{"z": 1.0, "a": {"d": 0.25, "c": "q\"t"}, "m": [3, 1e-7]}"#)
        #expect(value.canonical == #"{"a":{"c":"q\"t","d":0.25},"m":[3,1e-07],"z":1}"#)
        #expect(try JSONParser.parse(value.canonical) == value)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "line 1, column 9: expected a string key"),
        ("{\"a\": 1}\n x", "line 2, column 2: unexpected content after the document"),
        ("[1, 2", "line 1, column 6: expected ',' or ']' in array"),
        ("{\"a\": 1, \"a\": 2}", "line 1, column 10: duplicate key \"a\""),
        ("01", "line 1, column 2: unexpected content after the document"),
        ("\"abc", "line 1, column 5: unterminated string"),
        ("tru", "line 1, column 4: invalid literal, expected 'true'"),
        ("", "line 1, column 1: unexpected end of input, expected a value"),
    ])
    func reportsSyntaxErrorsWithLineAndColumn(text: String, message: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
        do {
            _ = try JSONParser.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }
}

@Suite struct TimeTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-01-01T00:00:00Z", 1_767_225_600),
        ("2000-02-29T12:34:56Z", 951_827_696),
        ("2026-01-01T02:00:00+02:00", 1_767_225_600),
        ("2026-01-01T00:00:00.999Z", 1_767_225_600),
    ])
    func parsesRFC3339(text: String, seconds: Int64) {
        #expect(Instant(rfc3339: text)?.seconds == seconds)
    }

    @Test func printsUTCAndRoundTrips() {
        for seconds: Int64 in [0, 951_827_696, 1_767_225_600, 4_102_444_799] {
            let instant = Instant(seconds: seconds)
            #expect(Instant(rfc3339: instant.description) == instant)
        }
        #expect(Instant(seconds: 951_827_696).description == "2000-02-29T12:34:56Z")
    }

    @Test(arguments: [
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01 00:00", "yesterday", "2026-01-01T00:00:00",
    ])
    func rejectsMalformedTimes(text: String) {
        #expect(Instant(rfc3339: text) == nil)
    }

    @Test(arguments: [("90s", Int64(90)), ("10m", 600), ("2h", 7200), ("1h30m", 5400), ("1d", 86_400), ("0s", 0)])
    func parsesDurations(text: String, seconds: Int64) {
        #expect(TimeSpan(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "10", "m", "1.5h", "10m1h", "5 m", "-1s", "1w"])
    func rejectsMalformedDurations(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func printsDurationsInPlanStyle() {
        #expect(TimeSpan(seconds: 5400).description == "1h30m")
        #expect(TimeSpan(seconds: 252).description == "4m12s")
        #expect(TimeSpan.zero.description == "0s")
    }
}

@Suite struct CanonicalSpliceTests {
    /// An object with members already encoded gives the same bytes as the whole tree encoded.
    @Test func anObjectWithEncodedMembersIsTheCanonicalFormOfTheWhole() {
        let checks: JSONValue = [["gate": "e\"rr", "value": 0.5, "verdict": "pass"], ["gate": "ü", "value": nil]]
        let rest: [String: JSONValue] = [
            "rollout": ["state": "progressing", "step": 2], "segments": ["to": []], "a": 1,
        ]
        var whole = rest
        whole["checks"] = checks
        #expect(
            JSONValue.canonicalObject(rest, encoded: ["checks": checks.canonical]) == JSONValue.object(whole).canonical)
        #expect(JSONValue.canonicalObject([:], encoded: [:]) == "{}")
        #expect(JSONValue.canonicalObject(["z": 1], encoded: ["y": "[]", "zz": "2"]) == #"{"y":[],"z":1,"zz":2}"#)
    }
}
