import Foundation
import RampCore
import Testing

/// Commands, options and events at random against the binary: never a crash; every refusal is one line on stderr,
/// a documented exit code, and the store exactly as it was.
@Suite struct FuzzEndToEndTests {
    static let values = [
        "1e308", "-1", "0", "NaN", "nan", "inf", "-inf", "", "\u{1b}[2J", "a\nb", "99999999999999999999", "1e-300/s",
        "1e308/s", "200/s", "0.5", "150%", "1%", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z", "2026-01-01T00:30:00Z", String(repeating: "x", count: 2000), "30s", "0s",
        "99999999999d", "1h1h", "-5m", "f", "g", "on", "off", "concat", "cbor", "--", "-", "--help", "\u{FFFD}",
        "{\"targetingKey\": 1}", "9223372036854775807", "-9223372036854775808", "4611686018427387904",
        "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    ]

    static let eventLines = [
        #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k"}"#,
        #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k", "at": 1e20}"#,
        #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k", "at": -1e300}"#,
        #"{"type": "exposure", "flag": "f", "variant": "nope", "key": "k"}"#,
        #"{"type": "outcome", "metric": "error", "value": 1e400, "variant": "on"}"#,
        #"{"type": "outcome", "metric": "error", "value": 1e308, "variant": "on"}"#,
        #"{"type": "outcome", "metric": "error", "value": 1, "key": "k", "extra": 1}"#,
        #"{"type": "outcome", "metric": "", "value": 1, "key": "k"}"#,
        #"{"type": "exposure"}"#, "[1, 2]", "{", "null", "\u{0}",
        #"{"type": "exposure", "at": "2026-02-30T00:00:00Z"}"#,
    ]

    static func command(_ random: inout SeededRandom, plan: String) -> (args: [String], stdin: String?) {
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        func value() -> String { pick(values) }
        switch random.next() % 14 {
        case 0: return (["tick", "--concurrency", value()], nil)
        case 1: return (["tick", "--check-retention", value()], nil)
        case 2: return ([pick(["pause", "resume", "approve", "promote", "abort", "kill", "unkill"]), value()], nil)
        case 3: return (["eval", value(), "--key", value()], nil)
        case 4: return (["eval", "f", "--context", value()], nil)
        case 5: return (["record", "outcome", value(), value(), "--variant", value()], nil)
        case 6:
            let lines = (0..<(1 + Int(random.next() % 4))).map { _ in pick(eventLines) }
            return (["record", "-"], lines.joined(separator: "\n") + "\n")
        case 7:
            return (
                [
                    "plan", "check", plan, "--traffic", value(), "--baseline-rate", value(), "--mde", value(),
                    "--power", value(),
                ],
                nil
            )
        case 8: return (["run", "--max-ticks", value(), "--interval", value(), "--now", value()], nil)
        case 9: return (["audit", "log", "--since", value()], nil)
        case 10: return (["config", pick(["bucketing", "export.flagd", "rehearsal", value()]), value()], nil)
        case 11: return (["status", value(), "--now", value()], nil)
        case 12: return (["explain", value(), "--json"], nil)
        default: return ([value(), value(), "--" + value()], nil)
        }
    }

    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func randomCommandsNeverCrashAndRefusalsChangeNothing(seed: UInt64) throws {
        let box = Sandbox()
        let plan = box.plan("f")
        box.ramp(["submit", plan, "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        var random = SeededRandom(seed: seed)
        var refused = 0
        for _ in 0..<400 {
            let (args, stdin) = Self.command(&random, plan: plan)
            let before = try box.dump()
            let withTime = args.contains("--now") ? args : args + ["--now", t(10)]
            let ran = box.ramp(withTime, stdin: stdin)
            #expect(!ran.killed, "\(args) crashed: \(ran.stderr)")
            #expect([0, 2, 3, 4, 5].contains(ran.status), "\(args): exit \(ran.status): \(ran.stderr)")
            if ran.status != 0 {
                refused += 1
                #expect(
                    ran.stderr.hasSuffix("\n") && ran.stderr.dropLast().contains("\n") == false,
                    "\(args): \(ran.stderr)")
                #expect(try box.dump() == before, "\(args) refused but changed the store")
            }
        }
        #expect(refused > 100, "the commands must mostly be refusals, or the test explores little")
    }
}
