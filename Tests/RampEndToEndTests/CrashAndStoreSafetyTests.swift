import Foundation
import RampCore
import Testing

/// Inputs that used to stop ramp with a trap, or to damage a store or a file beside it: each is now refused or
/// handled, with the store as it was.
@Suite struct CrashAndStoreSafetyTests {
    /// Runs `python3 -c script args…` to completion.
    static func python(_ script: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        try process.run()
        process.waitUntilExit()
    }

    @Test func aMannWhitneyGateWithATinyAlphaIsJudgedNotTrappedOn() throws {
        let box = Sandbox()
        box.write(
            "mw.json",
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 10}, {"percent": 50}], "sources": {"ev": {"type": "events"}},
             "gates": [{"name": "lat", "source": "ev", "kind": "statistical", "query": "lat", "test": "mann_whitney",
                        "alpha": 1e-17, "min_samples": 10, "expected_samples": 100}]}
            """)
        #expect(box.ramp(["submit", box.dir.appendingPathComponent("mw.json").path, "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
        var lines: [String] = []
        for i in 0..<40 {
            let variant = i % 2 == 0 ? "on" : "off"
            lines.append(
                #"{"type": "exposure", "flag": "f", "variant": "\#(variant)", "key": "u\#(i)", "at": "\#(t(1))"}"#)
            lines.append(
                #"{"type": "outcome", "metric": "lat", "value": \#(100 + i), "key": "u\#(i)", "at": "\#(t(1))"}"#)
        }
        #expect(box.ramp(["record", "-", "--now", t(1)], stdin: lines.joined(separator: "\n") + "\n").status == 0)
        let tick = box.ramp(["tick", "--now", t(2)])
        #expect(!tick.killed && tick.status == 0, "\(tick.stderr)")
        #expect(box.status("f", at: t(2))["checks"]?.arrayValue?.first?["verdict"] != nil)
    }

    /// Numbers past every integer: a rule's `substr` position, a `fractional` weight, a concurrency.
    @Test func numbersPastTheIntegerRangeAreNeverTrappedOn() throws {
        let box = Sandbox()
        box.write(
            "jl.json",
            #"{"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 5}], "rules": [{"when": {"==": [{"substr": ["abc", {"var": "n"}]}, "x"]}, "variant": "off"}]}"#
        )
        #expect(box.ramp(["submit", box.dir.appendingPathComponent("jl.json").path, "--now", t(0)]).status == 0)
        for n in ["1e20", "-1e20", "9.3e18", "1e300", "\"1e20\""] {
            let ran = box.ramp(["eval", "f", "--context", #"{"targetingKey": "a", "n": \#(n)}"#, "--now", t(0)])
            #expect(!ran.killed && ran.status == 0, "n = \(n): \(ran.stderr)")
        }
        let shares = Array(repeating: #"["on", 999999999999999]"#, count: 9_300).joined(separator: ", ")
        box.write(
            "fr.json",
            #"{"flag": "g", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 5}], "rules": [{"when": {"fractional": [\#(shares)]}, "variant": "off"}]}"#
        )
        let validated = box.ramp(["plan", "validate", box.dir.appendingPathComponent("fr.json").path])
        #expect(!validated.killed, "\(validated.stderr)")
        for _ in 0..<2 { box.ramp(["submit", box.plan("h\(UUID().uuidString.prefix(4))"), "--now", t(0)]) }
        let tick = box.ramp(["tick", "--concurrency", "4611686018427387904", "--now", t(0)])
        #expect(!tick.killed && tick.status == 3, "\(tick.stderr)")
    }

    /// Text with a NUL inside is stored as it is: the log still verifies, and two keys stay two keys.
    @Test func aNULInsideTextIsKeptNotCut() throws {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\nprintf 'upstream\\000said' >&2\nexit 1\n", executable: true)
        let plan = box.plan("f", extra: #", "on": {"error": "rollback"}"#)
        box.ramp(["submit", plan, "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.setMetric("errors", "0.002")
        let verified = box.ramp(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let lines = [
            #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k\u0000x"}"#,
            #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k\u0000y"}"#,
        ]
        #expect(box.ramp(["record", "-", "--now", t(1)], stdin: lines.joined(separator: "\n") + "\n").status == 0)
        let keys = try box.dump().split(separator: "\n").filter { $0.contains("k\u{0}") }
        #expect(keys.count == 2, "\(keys)")
        let flag = box.ramp(
            ["record", "-", "--now", t(1)],
            stdin: #"{"type": "exposure", "flag": "f\u0000junk", "variant": "on", "key": "k"}"# + "\n")
        #expect(flag.status == 3, "\(flag.stderr)")
    }

    /// `--out` and the export setting never replace a store (this one or another), a folder or a device.
    @Test(.enabled(if: Backend.isSQLite, "the store is a file here")) func anOutputPathNeverReplacesAStoreOrADevice()
        throws
    {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try Data(contentsOf: URL(fileURLWithPath: box.store))
        // A named pipe stands for a device: not a regular file, and harmless to this machine if ever replaced.
        let pipe = box.dir.appendingPathComponent("pipe").path
        #expect(mkfifo(pipe, 0o644) == 0)
        for args in [
            ["export", "--format", "flagd", "--out", box.store], ["report", "f", "--out", box.store],
            ["config", "export.flagd", box.store, "--now", t(1)],
            ["export", "--format", "flagd", "--out", pipe],
            ["export", "--format", "flagd", "--out", box.store + "-wal"],
            ["config", "export.flagd", "/", "--now", t(1)],
        ] {
            let ran = box.ramp(args)
            #expect(ran.status == 3, "\(args): \(ran.stdout)\(ran.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.store)) == before)
        #expect(box.ramp(["audit", "verify"]).status == 0)
        var status = stat()
        #expect(stat(pipe, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO)
    }

    /// Another program's database that happens to set a user_version ramp has used is not a ramp store.
    @Test(arguments: [3, 10])
    func aForeignDatabaseWithAVersionOfOursIsLeftAsItWas(version: Int) throws {
        let box = Sandbox()
        let foreign = box.dir.appendingPathComponent("other.sqlite").path
        try Self.python(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma journal_mode=persist'); "
                + "c.execute('create table t(x)'); c.execute('pragma user_version=\(version)'); c.commit()",
            [foreign])
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        for args in [["status"], ["tick"], ["audit", "verify"], ["config", "bucketing", "cbor"]] {
            let ran = box.ramp(args + ["--store", foreign], useStore: false)
            #expect(ran.status == 1, "\(args): \(ran.stderr)")
            #expect(ran.stderr.contains("not a usable ramp store: it says schema version \(version)"), "\(ran.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)
        #expect(!FileManager.default.fileExists(atPath: foreign + "-wal"))
    }

    /// Times ramp could not write back as it read them, and waits no rollout could outlive.
    @Test func timesOutsideTheCalendarAndCenturyLongWaitsAreRefused() {
        let box = Sandbox()
        for now in ["0000-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"] {
            let ran = box.ramp(["submit", box.plan("f"), "--now", now])
            #expect(ran.status == 3, "\(now): \(ran.stderr)")
        }
        #expect(!box.storeExists())
        let events = Sandbox()
        events.ramp(["submit", events.plan("f"), "--now", t(0)])
        let past = events.ramp(["record", "exposure", "f", "on", "u1", "--at", "1950-01-01T00:00:00Z", "--now", t(0)])
        #expect(past.status == 3 && past.stderr.contains("outside the years ramp keeps"), "\(past.stderr)")
        let long = box.plan("g", steps: [(5, "999999999d", false)])
        #expect(box.ramp(["plan", "validate", long]).status == 3)
        #expect(box.ramp(["config", "rehearsal", "on"]).status == 0)
        let late = box.ramp(["submit", box.plan("h"), "--now", "9999-12-31T23:59:59-01:00"])
        #expect(late.status == 3, "\(late.stderr)")
    }

    /// Keys and arguments are compared as exact bytes: one that is not UTF-8 is refused, and one with a control
    /// character is echoed escaped.
    @Test func argumentsThatAreNotUTF8AreRefusedAndKeysAreEchoedEscaped() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try box.dump()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", #""$0" record exposure f on "$(printf 'k\377')" --store "$1" --now "$2""#, Sandbox.binary, box.store,
            t(1),
        ]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 3)
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said == "ramp: argument 5 is not valid UTF-8 text\n", "\(said)")
        #expect(try box.dump() == before)
        let echoed = box.ramp(["eval", "f", "--keys", "-", "--now", t(1)], stdin: "k\u{1b}]0;pwned\u{7}\n")
        #expect(!echoed.stdout.unicodeScalars.contains { $0 != "\n" && $0 != "\t" && Escape.isControl($0) })
        #expect(echoed.stdout.contains(#"k\u{1b}]0;pwned\u{7}"#), "\(echoed.stdout)")
        let json = box.ramp(["eval", "f", "--keys", "-", "--json", "--now", t(1)], stdin: "k\u{202e}x\n")
        #expect(json.stdout.contains(#"k\u202ex"#), "\(json.stdout)")
        #expect(json.json.first?["key"]?.stringValue == "k\u{202e}x", "\(json.stdout)")
    }

    @Test func aBadEventLineIsNamedByItsLineNumberAndRefusedAsInvalidInput() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let stdin =
            "\n\n" + #"{"type": "exposure", "flag": "f", "variant": "on", "key": "a"}"# + "\n\n"
            + #"{"type": "exposure", "flag": "nope", "variant": "on", "key": "b"}"# + "\n"
        let ran = box.ramp(["record", "-", "--now", t(1)], stdin: stdin)
        #expect(ran.status == 3, "\(ran.stderr)")
        #expect(ran.stderr.hasPrefix("ramp: standard input line 5: "), "\(ran.stderr)")
        let one = box.ramp(
            ["record", "-", "--now", t(1)], stdin: #"{"type": "exposure", "flag": "nope", "variant": "on", "key": "b"}"#
        )
        #expect(one.status == 3 && one.stderr.hasPrefix("ramp: standard input line 1: "), "\(one.stderr)")
    }

    @Test func namesWithInvisibleFormatCharactersAreRefused() {
        let box = Sandbox()
        for name in ["e\u{200b}rrors", "err\u{202e}ors", "\u{feff}errors"] {
            box.write(
                "n.json",
                #"{"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 5}], "sources": {"m": {"type": "command", "command": ["/bin/echo", "1"]}}, "gates": [{"name": "\#(name)", "source": "m", "max": 1}]}"#
            )
            let ran = box.ramp(["plan", "validate", box.dir.appendingPathComponent("n.json").path])
            #expect(ran.status == 3, "\(ran.stdout)\(ran.stderr)")
            #expect(ran.stderr.contains("has a control character"), "\(ran.stderr)")
        }
    }
}
