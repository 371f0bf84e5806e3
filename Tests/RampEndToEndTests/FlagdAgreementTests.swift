import Foundation
import RampCore
import Testing

/// The Python OpenFeature flagd provider (0.5.2, file mode, offline), as an independent evaluator of the file
/// `ramp export --format flagd` writes. Tests/run-all.sh installs it into a virtual environment.
enum FlagdProvider {
    static let python: String =
        ProcessInfo.processInfo.environment["RAMP_FLAGD_PYTHON"]
        ?? Sandbox.packageRoot.appendingPathComponent(".build/python-flagd-0.5.2/bin/python").path

    /// Reads lines `flag<TAB>key` and prints `flag<TAB>key<TAB>variant<TAB>reason`.
    static let script = #"""
        import sys, time
        from openfeature import api
        from openfeature.contrib.provider.flagd import FlagdProvider
        from openfeature.contrib.provider.flagd.config import ResolverType
        from openfeature.evaluation_context import EvaluationContext
        from openfeature.provider import ProviderStatus
        api.set_provider(FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=sys.argv[1]))
        client = api.get_client()
        for _ in range(100):
            if client.get_provider_status() == ProviderStatus.READY:
                break
            time.sleep(0.1)
        out = []
        for line in sys.stdin.read().splitlines():
            flag, key = line.split("\t")
            d = client.get_object_details(flag, {}, EvaluationContext(targeting_key=key))
            out.append(f"{flag}\t{key}\t{d.variant}\t{d.reason.value if hasattr(d.reason, 'value') else d.reason}")
        print("\n".join(out))
        """#
}

@Suite struct FlagdAgreementTests {
    @Test func thePythonFlagdProviderAgreesWithRampEvalOnEveryKey() throws {
        guard FileManager.default.isExecutableFile(atPath: FlagdProvider.python) else {
            Issue.record("no Python flagd provider at \(FlagdProvider.python): run Tests/run-all.sh, which installs it")
            return
        }
        let box = Sandbox()
        let shares: [Double] = [0.5, 1, 5, 25, 50, 99.99, 100]
        var flags: [String] = []
        for share in shares {
            let flag = "share-\(JSONValue.format(share * 100))"
            box.ramp(["submit", box.plan(flag, steps: [(share, "1h", false)]), "--now", t(0)])
            flags.append(flag)
        }
        box.ramp(["submit", box.plan("killed", steps: [(50, "1h", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["kill", "killed", "--now", t(1)])
        box.ramp(["submit", box.plan("pending"), "--now", t(2)])
        flags += ["pending", "killed"]
        let file = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["export", "--format", "flagd", "--out", file]).status == 0)

        let keys = (0..<10_000).map { "user-\($0 * 7919 % 1_000_003)" } + ["", "é", "a\u{1F600}b", "-"]
        var expected: [String: String] = [:]
        for flag in flags {
            for line in box.ramp(["eval", flag, "--keys", "-"], stdin: keys.joined(separator: "\n")).lines {
                let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
                expected["\(flag)\t\(parts[0])"] = String(parts[1])
            }
        }
        let input = flags.flatMap { flag in keys.filter { !$0.isEmpty }.map { "\(flag)\t\($0)" } }.joined(
            separator: "\n")
        let python = Process()
        python.executableURL = URL(fileURLWithPath: FlagdProvider.python)
        python.arguments = ["-c", FlagdProvider.script, file]
        let stdin = Pipe()
        let stdout = Pipe()
        python.standardInput = stdin
        python.standardOutput = stdout
        try python.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)

        var compared = 0
        var disagreements: [String] = []
        var canary: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4 else { continue }
            let key = "\(parts[0])\t\(parts[1])"
            if expected[key] != parts[2] {
                disagreements.append("\(key): ramp \(expected[key] ?? "nil"), flagd \(parts[2])")
            }
            if parts[2] == "on" { canary[parts[0], default: 0] += 1 }
            compared += 1
        }
        #expect(compared == flags.count * (keys.count - 1))
        #expect(disagreements.count == 0, "e.g. \(disagreements.prefix(5))")
        // The shares are really different, so agreement is not agreement on "everyone gets the baseline".
        #expect((canary["share-2500"] ?? 0) > 2000 && (canary["share-2500"] ?? 0) < 3000)
        #expect(canary["share-10000"] == keys.count - 1)
        #expect(canary["killed"] == nil && canary["pending"] == nil)
        #expect(box.status("pending")["state"] == "pending")
        #expect(box.status("killed")["killed"] == true)
    }
}
