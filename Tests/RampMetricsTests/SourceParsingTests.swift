import Foundation
import RampCore
import Testing

@testable import RampMetrics

@Suite struct PrometheusResponseTests {
    /// Response bodies in the shapes of Prometheus' HTTP API (`/api/v1/query`).
    @Test(arguments: [
        (
            200,
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"0.0123"]}]}}"#,
            Reading.value(0.0123)
        ),
        (200, #"{"status":"success","data":{"resultType":"scalar","result":[1767225600,"42"]}}"#, .value(42)),
        (
            200, #"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            .noData("prometheus: query returned no series")
        ),
        (
            200, #"{"status":"success","data":{"resultType":"scalar","result":[1767225600,"NaN"]}}"#,
            .noData("prometheus: value is NaN (no traffic?)")
        ),
        (
            200,
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}"#,
            .error("prometheus: query returned 2 series; a gate needs exactly one (aggregate, e.g. sum(...))")
        ),
        (
            200, #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
            .error("prometheus: query returned a matrix; a gate needs an instant vector or a scalar")
        ),
        (
            200, #"{"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}}"#,
            .error("prometheus: value is +Inf, not a finite number")
        ),
        (
            400, #"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#,
            .error("prometheus: bad_data: 1:5: parse error: unclosed left parenthesis")
        ),
        (503, "Service Unavailable", .error("prometheus: HTTP 503: Service Unavailable")),
        (200, "<html>login</html>", .error("prometheus: not an API response: <html>login</html>")),
    ])
    func interpretsEveryShapeOfAnswer(status: Int, body: String, expected: Reading) {
        #expect(PrometheusSource.interpret(status, Data(body.utf8)) == expected)
    }

    /// The exposition format's spellings are `NaN`, `+Inf`, `-Inf` and decimal floats; every other spelling that
    /// Go's ParseFloat or Swift's `Double(_:)` would take is refused, and so is a decimal that overflows.
    @Test(arguments: [
        ("-inf", false), ("-Infinity", false), ("+inf", false), ("inf", false), ("Inf", false), ("infinity", false),
        ("nan", false), ("NAN", false), ("0x10", false), ("0x1p-2", false), ("1_000", false), (" 1", false),
        ("1 ", false), ("", false), ("+", false), (".", false), ("e5", false), ("1e", false), ("1e+", false),
        ("１", false), ("1,5", false), ("--1", false), ("-1e400", false), ("1e400", false), ("1e99999", false),
        ("0.5", true), ("-2", true), ("+3.25", true), (".5", true), ("5.", true), ("1e-3", true), ("2E+2", true),
        ("1e-400", true),
    ])
    func sampleValuesAreParsedAsTheExpositionFormatDefinesThem(text: String, accepted: Bool) throws {
        let body =
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"#
            + JSONValue.string(text).canonical + "]}]}}"
        let reading = PrometheusSource.interpret(200, Data(body.utf8))
        if accepted {
            guard case .value(let v) = reading else {
                Issue.record("\(text): \(reading)")
                return
            }
            #expect(v.isFinite)
        } else {
            guard case .error = reading else {
                Issue.record("\(text) was not refused: \(reading)")
                return
            }
        }
    }

    @Test func queryParametersKeepPlusSignsAndBraces() {
        #expect(HTTPClient.encode(#"a + b{x="y z"}"#) == "a%20%2B%20b%7Bx%3D%22y%20z%22%7D")
        #expect(HTTPClient.encode("rate(x[5m])") == "rate%28x%5B5m%5D%29")
    }

    @Test(arguments: [
        ("0.25\n", Reading.value(0.25)), ("  7 ", .value(7)), ("", .noData("command c printed nothing")),
        ("NaN", .noData("command c printed NaN")), ("-nan", .noData("command c printed NaN")),
        ("12 ms", .error(#"command c printed "12 ms", not a number"#)),
        ("inf", .error(#"command c printed "inf", not a number"#)),
    ])
    func commandOutputIsOneNumber(output: String, expected: Reading) {
        #expect(CommandSource.parse(output, command: "c") == expected)
    }

    @Test func credentialsComeFromTheEnvironmentOrAFileAndAreRequiredWhenNamed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try Data(" from-file \n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(
            try HTTPClient.credentials(HTTPEndpoint(url: "http://x", bearerTokenFile: file.path)).get()
                == "Bearer from-file")
        #expect(try HTTPClient.credentials(HTTPEndpoint(url: "http://x")).get() == nil)
        let missing = HTTPClient.credentials(HTTPEndpoint(url: "http://x", bearerTokenEnv: "RAMP_TEST_SURELY_UNSET"))
        #expect(throws: HTTPFailure.self) { try missing.get() }
        if case .failure(let failure) = missing {
            #expect(failure.message == "bearer token: environment variable RAMP_TEST_SURELY_UNSET is not set")
        }
        #expect(throws: HTTPFailure.self) {
            try HTTPClient.credentials(HTTPEndpoint(url: "http://x", bearerTokenFile: "/nonexistent/token")).get()
        }
    }

    @Test func basicAuthTakesItsPasswordFromTheEnvironment() throws {
        setenv("RAMP_TEST_BASIC_PASSWORD", "pa:ss", 1)
        let endpoint = HTTPEndpoint(
            url: "http://x", basicAuthUser: "ramp", basicAuthPasswordEnv: "RAMP_TEST_BASIC_PASSWORD")
        // base64("ramp:pa:ss")
        #expect(try HTTPClient.credentials(endpoint).get() == "Basic cmFtcDpwYTpzcw==")
    }
}
