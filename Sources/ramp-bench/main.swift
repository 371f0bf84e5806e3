// ramp-bench: benchmarks that anyone can rerun, reported in BENCHMARKS.md.
//
//   swift run -c release ramp-bench eval [--python PATH] [--evaluations N]
//   swift run -c release ramp-bench simulate [--runs N] [--looks N] [--per-look N] [--seed S] [--design-runs N]
//   swift run -c release ramp-bench record [--events N] [--ramp .build/release/ramp]
//   swift run -c release ramp-bench tick [--rollouts 1000,3000,10000]
//   swift run -c release ramp-bench verify [--entries 100000,1000000] --ramp .build/release/ramp
//   swift run -c release ramp-bench postgres --server postgresql://ramp@127.0.0.1:PORT [--rollouts 10000]
//
// `eval` measures FlagEvaluator (the in-process API) on (a) a plain 5% flag and (b) a flag with two JsonLogic
// rules before the 5% split, on one thread, and the same two flags exported to a flagd file and evaluated by the
// Python flagd provider (file mode) in the same run, as a ratio.
import Foundation
import RampCore
import RampEngine

struct Measurement {
    var name: String
    var nanoseconds: Double
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ramp-bench: \(message)\n".utf8))
    exit(2)
}

let plain = """
    {"flag": "plain", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
     "steps": [{"percent": 5, "bake": "1d"}]}
    """
let rules = """
    {"flag": "rules", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
     "rules": [{"when": {"ends_with": [{"var": "email"}, "@example.com"]}, "variant": "on"},
               {"when": {"in": [{"var": "region"}, ["cn-1", "ru-1"]]}, "variant": "off"}],
     "steps": [{"percent": 5, "bake": "1d"}]}
    """

/// The contexts every evaluator sees, in order: most miss both rules, some hit one.
func contexts(_ count: Int) -> [EvaluationContext] {
    (0..<count).map { i in
        EvaluationContext(
            targetingKey: "user-\(i)",
            attributes: [
                "email": .string(i % 10 == 0 ? "u\(i)@example.com" : "u\(i)@mail.org"),
                "region": .string(i % 25 == 0 ? "cn-1" : "eu-1"),
            ])
    }
}

/// Best of `rounds` timed passes over the contexts, in nanoseconds per evaluation; by key, or through a handle.
func measure(
    _ flag: String, _ evaluator: FlagEvaluator, _ inputs: [EvaluationContext], rounds: Int = 5, handle: Bool = false
) -> Double {
    var best = Double.infinity
    var sink = 0
    let flagHandle = evaluator.handle(flag)
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        if handle {
            for context in inputs where evaluator.evaluate(flagHandle, context: context).variant == "on" { sink += 1 }
        } else {
            for context in inputs where evaluator.evaluate(flag, context: context).variant == "on" { sink += 1 }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        best = min(best, elapsed / Double(inputs.count))
    }
    if sink < 0 { print(sink) }
    return best
}

let pythonScript = #"""
    import json, sys, time
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.provider import ProviderStatus
    path, count = sys.argv[1], int(sys.argv[2])
    api.set_provider(FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=path))
    client = api.get_client()
    for _ in range(100):
        if client.get_provider_status() == ProviderStatus.READY:
            break
        time.sleep(0.1)
    contexts = [EvaluationContext(targeting_key=f"user-{i}", attributes={
        "email": f"u{i}@example.com" if i % 10 == 0 else f"u{i}@mail.org",
        "region": "cn-1" if i % 25 == 0 else "eu-1"}) for i in range(count)]
    result = {}
    for flag in ("plain", "rules"):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter_ns()
            for c in contexts:
                client.get_string_details(flag, "", c)
            best = min(best, (time.perf_counter_ns() - start) / count)
        result[flag] = best
    print(json.dumps(result))
    """#

func runEval(_ arguments: [String]) {
    var python: String? = ProcessInfo.processInfo.environment["RAMP_FLAGD_PYTHON"]
    var count = 200_000
    var i = 0
    while i < arguments.count {
        switch arguments[i] {
        case "--python" where i + 1 < arguments.count: python = arguments[i + 1]; i += 1
        case "--evaluations" where i + 1 < arguments.count:
            guard let n = Int(arguments[i + 1]), n > 0 else { fail("--evaluations takes a positive number") }
            count = n
            i += 1
        default: fail("eval: unknown argument \(arguments[i]) (--python PATH, --evaluations N)")
        }
        i += 1
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-bench-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = dir.appendingPathComponent("ramp.db").path
    let flagFile = dir.appendingPathComponent("flags.json").path
    do {
        let ramp = try Ramp(storePath: store, create: true)
        let now = Instant(seconds: 1_767_225_600)
        for plan in [plain, rules] {
            _ = try ramp.submit(
                text: plan, file: "bench.json", baseDir: dir.path, actor: "bench", reason: nil, now: now)
        }
        _ = try ramp.tick(now: now, actor: "bench")
        try Ramp.writeAtomically(try ramp.flagdDocument(), to: flagFile)
        let evaluator = try FlagEvaluator(storePath: store, refreshInterval: .seconds(3600))
        let inputs = contexts(count)
        _ = measure("rules", evaluator, Array(inputs.prefix(10_000)), rounds: 1)  // warm up
        let swift = [
            "plain": measure("plain", evaluator, inputs), "rules": measure("rules", evaluator, inputs),
            "plain-handle": measure("plain", evaluator, inputs, handle: true),
            "rules-handle": measure("rules", evaluator, inputs, handle: true),
        ]
        var pythonNanoseconds: [String: Double]?
        if let python, FileManager.default.isExecutableFile(atPath: python) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", pythonScript, flagFile, String(min(count, 50_000))]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if case .object(let members) = try JSONParser.parse(String(decoding: data, as: UTF8.self)) {
                pythonNanoseconds = members.compactMapValues(\.numberValue)
            }
        }
        print("flag evaluation, one thread, \(count) contexts (best of 5 passes)")
        for (flag, label) in [("plain", "(a) plain 5% flag"), ("rules", "(b) two rules + 5% split")] {
            var line =
                "\(label.padding(toLength: 26, withPad: " ", startingAt: 0))  ramp \(String(format: "%7.0f", swift[flag]!)) ns/eval"
            if let p = pythonNanoseconds?[flag] {
                line +=
                    "   Python flagd provider \(String(format: "%8.0f", p)) ns/eval   ratio \(String(format: "%.0f", p / swift[flag]!))×"
            }
            print(line)
        }
        for (flag, label) in [("plain-handle", "(a) through a handle"), ("rules-handle", "(b) through a handle")] {
            let line =
                "\(label.padding(toLength: 26, withPad: " ", startingAt: 0))  ramp \(String(format: "%7.0f", swift[flag] ?? .nan)) ns/eval"
            print(line)
        }
        if pythonNanoseconds == nil { print("(no Python provider: pass --python PATH or set RAMP_FLAGD_PYTHON)") }
    } catch {
        fail("\(error)")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "eval": runEval(Array(arguments.dropFirst()))
case "simulate": runSimulate(Array(arguments.dropFirst()))
case "record": runRecord(Array(arguments.dropFirst()))
case "tick": runTick(Array(arguments.dropFirst()))
case "verify": runVerify(Array(arguments.dropFirst()))
case "tick-build": runTickBuild(Array(arguments.dropFirst()))
case "postgres": runPostgres(Array(arguments.dropFirst()))
case "race-ticker": runRaceTicker(Array(arguments.dropFirst()))
case "listen": runListen(Array(arguments.dropFirst()))
case "bandit": runBandit(Array(arguments.dropFirst()))
default:
    print(
        """
        usage: ramp-bench eval [--python PATH] [--evaluations N]
               ramp-bench simulate [--runs N] [--looks N] [--per-look N] [--seed S] [--alpha A] [--design-runs N]
               ramp-bench record [--events N] [--baseline-events N] [--ramp PATH]
               ramp-bench tick [--rollouts N[,N...]]
               ramp-bench verify [--entries N[,N...]] --ramp PATH
               ramp-bench bandit [--runs N] [--seed S] [--intervals N] [--per-interval N]
        """)
    exit(arguments.isEmpty || arguments == ["--help"] ? 0 : 2)
}
