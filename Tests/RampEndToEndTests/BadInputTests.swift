import Foundation
import RampCore
import Testing

/// Bad input gets one clear line naming what and where, a documented non-zero exit, and leaves the store as it was.
@Suite struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var args: [String]
        var status: Int32
        var stderr: String
        var files: [String: String] = [:]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "malformed JSON", args: ["submit", "bad.json"], status: 3,
            stderr: "ramp: bad.json: line 2, column 1: expected ',' or '}' in object\n",
            files: ["bad.json": "{\"flag\": \"g\"\n"]),
        Case(
            name: "non-increasing steps", args: ["submit", "steps.json"], status: 3,
            stderr: "ramp: steps.json: steps[1].percent: 1 is not above the previous step's 5\n",
            files: [
                "steps.json":
                    #"{"flag": "g", "variants": {"a": 1, "b": 2}, "canary": "b", "baseline": "a", "steps": [{"percent": 5}, {"percent": 1}]}"#
            ]),
        Case(
            name: "unknown key", args: ["submit", "unknown.json"], status: 3,
            stderr: "ramp: unknown.json: stepz: unknown field (did you mean \"steps\"?)\n",
            files: ["unknown.json": #"{"flag": "g", "canary": "b", "baseline": "a", "stepz": []}"#]),
        Case(
            name: "wrong type", args: ["plan", "validate", "type.json"], status: 3,
            stderr: "ramp: type.json: steps: expected an array, found a string\n",
            files: ["type.json": #"{"flag": "g", "canary": "b", "baseline": "a", "steps": "1,5,100"}"#]),
        Case(
            name: "unknown source", args: ["submit", "source.json"], status: 3,
            stderr: #"ramp: source.json: gates[0].source: unknown source "prom" (defined: none)"# + "\n",
            files: [
                "source.json":
                    #"{"flag": "g", "variants": {"a": 1, "b": 2}, "canary": "b", "baseline": "a", "steps": [{"percent": 100}], "gates": [{"name": "x", "source": "prom", "max": 1}]}"#
            ]),
        Case(
            name: "a new flag without variants", args: ["submit", "novariants.json"], status: 3,
            stderr: #"ramp: novariants.json: variants: is required to create the new flag "g""# + "\n",
            files: ["novariants.json": #"{"flag": "g", "canary": "b", "baseline": "a", "steps": [{"percent": 100}]}"#]),
        Case(
            name: "variants that differ from the stored flag", args: ["submit", "differ.json"], status: 3,
            stderr:
                #"ramp: differ.json: variants: differ from flag "f"'s stored variants (off, on); leave them out to use the stored ones"#
                + "\n",
            files: [
                "differ.json":
                    #"{"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 100}]}"#
            ]),
        Case(
            name: "a missing plan file", args: ["submit", "nope.json"], status: 3,
            stderr: "ramp: nope.json: no such file\n"),
        Case(
            name: "a plan that is not UTF-8", args: ["plan", "validate", "binary.json"], status: 3,
            stderr: "ramp: binary.json: is not UTF-8 text\n", files: ["binary.json": "\u{FFFF}"]),
        Case(name: "an unknown flag", args: ["pause", "nope"], status: 4, stderr: "ramp: unknown flag \"nope\"\n"),
        Case(
            name: "an unknown flag for eval", args: ["eval", "nope", "--key", "k"], status: 4,
            stderr: "ramp: unknown flag \"nope\"\n"),
        Case(
            name: "a verb that does not fit the state", args: ["approve", "f"], status: 5,
            stderr: "ramp: cannot approve f: it is progressing, not awaiting approval\n"),
        Case(
            name: "resume when not paused", args: ["resume", "f"], status: 5,
            stderr: "ramp: cannot resume f: it is not paused\n"),
        Case(
            name: "an unknown verb", args: ["deploy", "f"], status: 2,
            stderr: "ramp: unknown command \"deploy\" (see ramp --help)\n"),
        Case(
            name: "a command one typo away", args: ["sumbit", "x.json"], status: 2,
            stderr: "ramp: unknown command \"sumbit\" (did you mean \"submit\"?) (see ramp --help)\n"),
        Case(
            name: "a subcommand one typo away", args: ["audit", "verfy"], status: 2,
            stderr: "ramp: audit: expected one of: log, checkpoint, verify (did you mean \"verify\"?)\n"),
        Case(
            name: "an option one typo away", args: ["tick", "--verbos"], status: 2,
            stderr: "ramp: tick: unknown option --verbos (did you mean \"--verbose\"?) (see ramp tick --help)\n"),
        Case(
            name: "an unknown option", args: ["status", "--colour"], status: 2,
            stderr: "ramp: status: unknown option --colour (see ramp status --help)\n"),
        Case(
            name: "a missing argument", args: ["pause"], status: 2,
            stderr: "ramp: pause: missing FLAG (see ramp pause --help)\n"),
        Case(
            name: "an incomplete group verb", args: ["audit"], status: 2,
            stderr: "ramp: audit: expected one of: log, checkpoint, verify\n"),
        Case(
            name: "a bad clock", args: ["tick", "--now", "tomorrow"], status: 3,
            stderr: "ramp: --now: \"tomorrow\" is not a time like 2026-01-01T00:00:00Z\n"),
        Case(
            name: "a bad interval", args: ["run", "--interval", "soon"], status: 3,
            stderr: "ramp: --interval: \"soon\" is not a duration of at least 1s (like 30s, 5m)\n"),
        Case(
            name: "eval without a key", args: ["eval", "f"], status: 2,
            stderr:
                "ramp: eval: give --key KEY (and --context), or one of --keys - and --contexts - (see ramp eval --help)\n"
        ),
    ]

    @Test(arguments: cases)
    func badInputIsRefusedWithOneLineAndLosesNothing(c: Case) throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        for (name, text) in c.files {
            if name == "binary.json" {
                try Data([0x7b, 0xff, 0xfe, 0x7d]).write(to: box.dir.appendingPathComponent(name))
            } else {
                box.write(name, text)
            }
        }
        let before = try box.dump()
        let ran = box.ramp(c.args.contains("--now") ? c.args : c.args + ["--now", t(1)])
        #expect(ran.status == c.status, "\(ran.stderr)")
        #expect(ran.stderr == c.stderr)
        #expect(ran.stdout.isEmpty)
        #expect(try box.dump() == before)
    }

    @Test(.enabled(if: Backend.isSQLite, "writes garbage into the SQLite file"))
    func aCorruptStoreIsNamedAndLeftUntouched() throws {
        let box = Sandbox()
        let garbage = Data(repeating: 0x5a, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: box.store))
        for args in [["status"], ["tick"], ["audit", "verify"], ["submit", box.plan("f")]] {
            let ran = box.ramp(args)
            #expect(ran.status == 1, "\(args)")
            #expect(ran.stderr.hasPrefix("ramp: \(box.store): not a usable ramp store:"), "\(args): \(ran.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.store)) == garbage)
    }

    @Test func readingAStoreThatDoesNotExistCreatesNothing() {
        let box = Sandbox()
        let ran = box.ramp(["status"])
        #expect(ran.status == 4)
        #expect(ran.stderr == "ramp: \(box.store): no store here (submit a plan to create one, or pass --store)\n")
        #expect(!box.storeExists())
    }

    @Test func theStoreComesFromTheFlagThenTheEnvironmentThenTheWorkingDirectory() {
        let box = Sandbox()
        let plan = box.plan("f")
        #expect(
            box.ramp(
                ["submit", plan], env: ["RAMP_STORE": box.dir.appendingPathComponent("env.db").path], useStore: false
            ).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.dir.appendingPathComponent("env.db").path))
        #expect(box.ramp(["submit", plan], useStore: false).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.dir.appendingPathComponent("ramp.db").path))
    }

    @Test func helpIsThereForEveryCommand() {
        let box = Sandbox()
        let overview = box.ramp(["--help"], useStore: false)
        #expect(overview.status == 0)
        for verb in [
            "plan validate", "submit", "status", "tick", "run", "pause", "resume", "approve", "promote", "abort",
            "kill", "unkill", "eval", "audit log", "audit checkpoint", "audit verify", "demo", "metrics", "completions",
        ] {
            #expect(overview.stdout.contains("\n  \(verb) "), "\(verb) is listed")
            let help = box.ramp(verb.split(separator: " ").map(String.init) + ["--help"], useStore: false)
            #expect(help.status == 0)
            #expect(help.stdout.hasPrefix("usage: ramp \(verb)"), "\(verb): \(help.stdout)")
        }
    }
}
