import Foundation
import RampCore
import Testing

/// Runs one of Tests/Support's Python checks on a JSON input (bounded: a check that hangs fails the test) and
/// returns what it printed, parsed.
enum PythonScript {
    static func python(_ variable: String, venv: String) -> String {
        ProcessInfo.processInfo.environment[variable]
            ?? Sandbox.packageRoot.appendingPathComponent(".build/\(venv)/bin/python").path
    }
    static var gbstats: String { python("RAMP_GBSTATS_PYTHON", venv: "python-gbstats") }
    static var scipy: String { python("RAMP_CONFIDENCE_PYTHON", venv: "python-confidence") }

    static func run(_ script: String, input: JSONValue, python: String) throws -> JSONValue {
        try #require(FileManager.default.isExecutableFile(atPath: python), "no \(python): run Tests/run-all.sh")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputFile = folder.appendingPathComponent("in.json")
        let outputFile = folder.appendingPathComponent("out.json")
        try Data(input.canonical.utf8).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/Support/\(script)"]
        process.currentDirectoryURL = Sandbox.packageRoot
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(script) failed")
        return try JSONParser.parse(try String(contentsOf: outputFile, encoding: .utf8))
    }
}

/// Relative agreement for numbers from two implementations (absolute near 0).
func agrees(_ a: Double?, _ b: Double?, within tolerance: Double = 1e-9) -> Bool {
    guard let a, let b else { return false }
    return abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

extension Sandbox {
    func experimentPlan(_ flag: String, _ body: String) -> String {
        write("\(flag).json", "{\"flag\": \"\(flag)\", \(body)}")
        return dir.appendingPathComponent("\(flag).json").path
    }
}

@Suite struct ExperimentEndToEndTests {
    static let threeArms = """
        "kind": "experiment", "variants": {"a": "A", "b": "B", "c": "C"}, "control": "a",
        "primary": {"metric": "buy", "type": "proportion", "better": "higher", "mde": 0.1},
        "guardrails": [{"metric": "ms", "type": "mean", "better": "lower", "margin": 0.05}],
        "sample": 100000, "cohorts": ["country"], "interval": "1h"
        """

    /// Events a test writes, with what it knows of each arm: units, conversions, and the guardrail's values.
    struct Recorded {
        var lines: [String] = []
        var units: [String: Int] = [:]
        var buys: [String: Int] = [:]
        var ms: [String: [Double]] = [:]
        var byCountry: [String: [String: (units: Int, buys: Int)]] = [:]

        /// `perArm` units of each arm; arm `i`'s k-th unit buys when (k × 7919) mod 1000 is below its rate in
        /// thousandths, and takes a latency around 300 ms plus its offset.
        mutating func add(flag: String, arms: [(String, rate: Int, offset: Double, count: Int)], at time: String) {
            for (arm, rate, offset, count) in arms {
                for k in 0..<count {
                    let key = "\(arm)-\(k)-\(time)"
                    let country = ["de", "fr", "us"][(k * 13 + arm.utf8.count) % 3]
                    lines.append(
                        #"{"type":"exposure","flag":"\#(flag)","variant":"\#(arm)","key":"\#(key)","at":"\#(time)","attributes":{"country":"\#(country)"}}"#
                    )
                    units[arm, default: 0] += 1
                    byCountry[country, default: [:]][arm, default: (0, 0)].units += 1
                    if (k * 7919) % 1000 < rate {
                        lines.append(#"{"type":"outcome","metric":"buy","value":1,"key":"\#(key)","at":"\#(time)"}"#)
                        buys[arm, default: 0] += 1
                        byCountry[country]![arm]!.buys += 1
                    }
                    let value = 300 + offset + Double((k * 37) % 101) - 50
                    lines.append(#"{"type":"outcome","metric":"ms","value":\#(value),"key":"\#(key)","at":"\#(time)"}"#)
                    ms[arm, default: []].append(value)
                }
            }
        }

        var stdin: String { lines.joined(separator: "\n") + "\n" }
    }

    /// The readout's numbers, from a real store through `ramp experiment report --json`, against independent
    /// implementations: each arm's data against what the test recorded, every lift, interval and p-value (fixed
    /// and always-valid) against GrowthBook's gbstats, the sample ratio test against scipy's chisquare, the power
    /// and the sample it needs against statsmodels, each cohort against the test's own counts, and the decision
    /// against the rule applied to gbstats' numbers.
    @Test func theReadoutAgreesWithGbstatsScipyAndStatsmodels() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("shop", Self.threeArms), "--now", t(0)]).status == 0)
        var events = Recorded()
        events.add(
            flag: "shop", arms: [("a", 100, 0, 3000), ("b", 160, 0, 3100), ("c", 104, 9, 2950)], at: t(5))
        let recorded = box.ramp(["record", "-", "--now", t(6)], stdin: events.stdin)
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let ran = box.ramp(["experiment", "report", "shop", "--json", "--now", t(30)])
        try #require(ran.status == 0, "\(ran.stderr)")
        let report = try #require(ran.json.first)
        #expect(report["basis"] == "always-valid")
        #expect(report["state"] == "running")
        let arms = try #require(report["arms"]?.arrayValue)
        #expect(arms.compactMap { $0["variant"]?.stringValue } == ["a", "b", "c"])
        // Each arm's data is what the test recorded.
        for arm in arms {
            let name = arm["variant"]!.stringValue!
            let values = events.ms[name]!
            #expect(arm["units"]?.numberValue == Double(events.units[name]!))
            #expect(arm["primary"]?["sum"]?.numberValue == Double(events.buys[name]!))
            #expect(arm["guardrails"]?[0]?["units"]?.numberValue == Double(values.count))
            #expect(agrees(arm["guardrails"]?[0]?["sum"]?.numberValue, values.reduce(0, +), within: 1e-12))
            #expect(
                agrees(
                    arm["guardrails"]?[0]?["sum_of_squares"]?.numberValue, values.reduce(0) { $0 + $1 * $1 },
                    within: 1e-12))
        }
        // gbstats: the lift of b and c over a, on the primary and the guardrail.
        func stats(_ metric: JSONValue?) -> JSONValue {
            [
                metric?["units"] ?? .null, metric?["sum"] ?? .null, metric?["sum_of_squares"] ?? .null,
            ]
        }
        var cases: [JSONValue] = []
        var ours: [JSONValue] = []
        for arm in arms.dropFirst() {
            for (kind, path) in [("proportion", arm["primary"]), ("mean", arm["guardrails"]?[0])] {
                let control = kind == "proportion" ? arms[0]["primary"] : arms[0]["guardrails"]?[0]
                cases.append([
                    "metric": .string(kind), "control": stats(control), "treatment": stats(path), "alpha": 0.05,
                    "tuning": 100000,
                ])
                ours.append(path?["lift"] ?? .null)
            }
        }
        let gbstats = try #require(
            try PythonScript.run("check_readout.py", input: .array(cases), python: PythonScript.gbstats).arrayValue)
        try #require(gbstats.count == ours.count)
        for (theirs, lift) in zip(gbstats, ours) {
            #expect(agrees(lift["estimate"]?.numberValue, theirs["estimate"]?.numberValue), "\(lift) \(theirs)")
            #expect(agrees(lift["p"]?.numberValue, theirs["p"]?.numberValue))
            #expect(agrees(lift["always_valid_p"]?.numberValue, theirs["sequential_p"]?.numberValue))
            for i in 0..<2 {
                #expect(agrees(lift["interval"]?[i]?.numberValue, theirs["interval"]?[i]?.numberValue))
                #expect(
                    agrees(
                        lift["always_valid_interval"]?[i]?.numberValue, theirs["sequential_interval"]?[i]?.numberValue))
            }
        }
        // The decision, by its stated rule on gbstats' always-valid intervals: b's purchases are better, its
        // latency within the margin and not shown worse; c's latency is shown worse.
        let bBuy = gbstats[0]["sequential_interval"]!
        let bMs = gbstats[1]["sequential_interval"]!
        let cMs = gbstats[3]["sequential_interval"]!
        #expect(bBuy[0]!.numberValue! > 0 && bMs[1]!.numberValue! < 0.05 && bMs[0]!.numberValue! <= 0)
        #expect(cMs[0]!.numberValue! > 0, "c's latency is shown worse")
        #expect(report["decision"]?["verdict"] == "ship")
        #expect(report["decision"]?["winner"] == "b")
        #expect(arms[2]["guardrails"]?[0]?["worse"] == true)
        // scipy: the sample ratio across the three arms against the planned thirds.
        let shares = arms.map { $0["planned_share"] ?? .null }
        #expect(shares.compactMap(\.numberValue) == [0.3334, 0.3333, 0.3333])
        let srm = try PythonScript.run(
            "check_srm.py", input: [["units": .array(arms.map { $0["units"]! }), "weights": .array(shares)]],
            python: PythonScript.scipy)
        #expect(agrees(report["sample_ratio"]?["chi_square"]?.numberValue, srm[0]?[0]?.numberValue))
        #expect(agrees(report["sample_ratio"]?["p"]?.numberValue, srm[0]?[1]?.numberValue))
        // statsmodels: the power at the units reached (the smallest treatment arm) and the units it needs.
        let rate = Double(events.buys["a"]!) / Double(events.units["a"]!)
        let effect = 0.1 * rate / (rate * (1 - rate)).squareRoot()
        let power = try PythonScript.run(
            "check_experiment_power.py",
            input: [
                [
                    "effect_size": .number(effect), "n_control": .number(Double(events.units["a"]!)),
                    "n_treatment": .number(Double(events.units["c"]!)), "alpha": 0.05, "power": 0.8, "guardrails": 1,
                ]
            ], python: PythonScript.scipy)
        #expect(agrees(report["sample"]?["power"]?.numberValue, power[0]?[0]?.numberValue))
        // statsmodels solves the two-tailed equation; ramp's closed form leaves out the far tail (below 1e-5).
        #expect(agrees(report["sample"]?["required_per_arm"]?.numberValue, power[0]?[1]?.numberValue, within: 1e-5))
        #expect(report["sample"]?["reached"]?.numberValue == Double(3000 + 3100 + 2950))
        // Each cohort's conversion rates, from the test's own counts.
        let cohort = try #require(report["cohorts"]?[0])
        #expect(cohort["attribute"] == "country")
        for value in cohort["values"]?.arrayValue ?? [] {
            let country = value["value"]!.stringValue!
            for arm in value["arms"]?.arrayValue ?? [] {
                let name = arm["variant"]!.stringValue!
                let counts = events.byCountry[country]![name]!
                #expect(arm["units"]?.numberValue == Double(counts.units))
                #expect(agrees(arm["primary"]?["value"]?.numberValue, Double(counts.buys) / Double(counts.units)))
            }
        }
        #expect(cohort["values"]?.arrayValue?.count == 3)
        // Each cohort's lifts against gbstats too.
        var cohortCases: [JSONValue] = []
        var cohortLifts: [JSONValue] = []
        for value in cohort["values"]?.arrayValue ?? [] {
            let arms = value["arms"]?.arrayValue ?? []
            for arm in arms.dropFirst() {
                cohortCases.append([
                    "metric": "proportion", "control": stats(arms.first?["primary"]),
                    "treatment": stats(arm["primary"]),
                    "alpha": 0.05, "tuning": 100000,
                ])
                cohortLifts.append(arm["primary"]?["lift"] ?? .null)
            }
        }
        let cohortStats = try #require(
            try PythonScript.run("check_readout.py", input: .array(cohortCases), python: PythonScript.gbstats)
                .arrayValue)
        #expect(cohortStats.count == 6)
        for (theirs, lift) in zip(cohortStats, cohortLifts) {
            #expect(agrees(lift["estimate"]?.numberValue, theirs["estimate"]?.numberValue), "\(lift) \(theirs)")
            #expect(agrees(lift["always_valid_p"]?.numberValue, theirs["sequential_p"]?.numberValue))
            #expect(
                agrees(lift["always_valid_interval"]?[0]?.numberValue, theirs["sequential_interval"]?[0]?.numberValue))
        }
        // The text report says the same.
        let text = box.ramp(["experiment", "report", "shop", "--now", t(30)])
        #expect(
            text.stdout.contains(
                "decision: ship b — b improves buy (its always-valid interval lies on the better side of no effect)"))
        #expect(text.stdout.contains("sample ratio: chi-square "))
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    static let bandit = """
        "kind": "bandit", "variants": {"v1": 1, "v2": 2, "v3": 3}, "control": "v1",
        "primary": {"metric": "click", "type": "proportion", "better": "higher"},
        "sample": 1000000, "interval": "10m", "burn_in": 100, "floor": 0.05
        """

    /// One Thompson-sampling reweight, end to end: its posteriors are the Beta posteriors of the clicks recorded,
    /// its probabilities of being best agree with scipy's integral (within the Monte Carlo error of 10,000 draws),
    /// its weights follow from them with the floor, the users it moved are the total-variation distance between
    /// the splits (measured over 20,000 keys through `ramp eval`), both flagd providers serve the new split key for
    /// key as ramp does, and `audit verify` replays the reweight from its entry.
    @Test func aBanditReweightIsThompsonSamplingThatMovesTheFewestUsers() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("model", Self.bandit), "--now", t(0)]).status == 0)
        let keys: [JSONValue] = (0..<20_000).map { ["targetingKey": .string("key-\($0)")] }
        let before = FlagdProvider.rampAnswers(box, flags: ["model"], contexts: keys)
        var lines: [String] = []
        // v3 leads: a contiguous re-split would move v2's users too, more than the weights' distance.
        let clicks = ["v1": 60, "v2": 70, "v3": 90]
        for (arm, count) in clicks {
            for k in 0..<600 {
                let key = "\(arm)-\(k)"
                lines.append(#"{"type":"exposure","flag":"model","variant":"\#(arm)","key":"\#(key)","at":"\#(t(1))"}"#)
                if k < count {
                    lines.append(#"{"type":"outcome","metric":"click","value":1,"key":"\#(key)","at":"\#(t(1))"}"#)
                }
            }
        }
        #expect(box.ramp(["record", "-", "--now", t(2)], stdin: lines.joined(separator: "\n")).status == 0)
        // Not due before its interval.
        #expect(box.ramp(["tick", "--now", t(5)]).status == 0)
        #expect(box.events(flag: "model") == ["experiment_start"])
        let tick = box.ramp(["tick", "--now", t(10)])
        #expect(tick.stdout.contains("model  experiment_reweight: reweight 1: v3 leads"), "\(tick.stdout)")
        let entry = try #require(box.ramp(["audit", "log", "--json", "--flag", "model"]).json.last)
        #expect(entry["event"] == "experiment_reweight")
        let record = try #require(entry["evidence"]?["bandit"])
        let arms = try #require(record["arms"]?.arrayValue)
        #expect(arms.compactMap { $0["variant"]?.stringValue } == ["v1", "v2", "v3"])
        var request: [JSONValue] = []
        for arm in arms {
            let name = arm["variant"]!.stringValue!
            #expect(
                arm["posterior"] == [
                    "beta": [.number(Double(1 + clicks[name]!)), .number(Double(1 + 600 - clicks[name]!))]
                ])
            request.append(["beta", .number(Double(1 + clicks[name]!)), .number(Double(1 + 600 - clicks[name]!))])
        }
        let scipy = try PythonScript.run(
            "check_thompson.py", input: ["best": [["arms": .array(request)]]], python: PythonScript.scipy)
        let exactValues = scipy["best"]?[0]?.arrayValue?.compactMap { $0.numberValue }
        let exact = try #require(exactValues)
        let best = arms.compactMap { $0["probability_best"]?.numberValue }
        for (p, q) in zip(best, exact) { #expect(abs(p - q) < 0.015, "P(best) \(p) against scipy's \(q)") }
        // The weights: the floor, and the rest by the probability of being best.
        for (arm, p) in zip(arms, best) {
            #expect(agrees(arm["weight"]?.numberValue, 0.05 + (1 - 3 * 0.05) * p / best.reduce(0, +), within: 1e-12))
            let units = try #require(arm["units_after"]?.numberValue)
            #expect(abs(units - 10_000 * arm["weight"]!.numberValue!) < 1, "largest remainders round each share")
        }
        // The fewest users moved: the total-variation distance, counted from the units before and after.
        let distance = arms.reduce(0.0) {
            $0 + max(0, $1["units_before"]!.numberValue! - $1["units_after"]!.numberValue!)
        }
        #expect(record["units_moved"]?.numberValue == distance)
        #expect(distance > 1000, "the reweight moves users at all")
        let after = FlagdProvider.rampAnswers(box, flags: ["model"], contexts: keys)
        let changed = zip(before, after).filter { $0 != $1 }.count
        #expect(abs(Double(changed) / 20_000 - distance / 10_000) < 0.012, "\(changed) keys changed variant")
        // Every flagd provider serves the exported split as ramp does.
        let file = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["export", "--format", "flagd", "--out", file]).status == 0)
        let sample = Array(keys.prefix(2_000))
        for generation in BucketingGeneration.allCases where FlagdProvider.isInstalled(generation) {
            if generation == .cbor { #expect(box.ramp(["config", "bucketing", "cbor"]).status == 0) }
            let requests = sample.map { ("model", $0) }
            let python = try FlagdProvider.evaluate(generation, file: file, requests)
            let ours = FlagdProvider.rampAnswers(box, flags: ["model"], contexts: sample)
            #expect(FlagdProvider.compare(requests, ramp: ours, python: python).disagreements.isEmpty)
            if generation == .cbor { #expect(box.ramp(["config", "bucketing", "concat"]).status == 0) }
        }
        // audit verify recomputes the reweight from what its entry records.
        #expect(box.ramp(["audit", "verify"]).status == 0)
        let report = try #require(box.ramp(["experiment", "report", "model", "--json", "--now", t(11)]).json.first)
        #expect(report["bandit"] == record)
        #expect(report["sample_ratio"] == .null)
    }

    /// A guardrail shown worse than its margin stops the experiment at the next tick: everyone back to the
    /// control, an `experiment_stop` entry with the evidence, a readout that keeps the control.
    @Test func aGuardrailShownWorseThanItsMarginStopsTheExperimentEveryoneToTheControl() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("shop", Self.threeArms), "--now", t(0)]).status == 0)
        var events = Recorded()
        // c is 40 ms (13%) slower: beyond the 5% margin.
        events.add(flag: "shop", arms: [("a", 100, 0, 2000), ("b", 100, 0, 2000), ("c", 100, 40, 2000)], at: t(5))
        #expect(box.ramp(["record", "-", "--now", t(6)], stdin: events.stdin).status == 0)
        let tick = box.ramp(["tick", "--now", t(60)])
        #expect(
            tick.stdout.contains(
                "shop  experiment_stop: guardrail ms failed: c is shown worse than a by more than its margin 5%"),
            "\(tick.stdout)")
        let entry = try #require(box.ramp(["audit", "log", "--json", "--flag", "shop"]).json.last)
        #expect(entry["evidence"]?["guardrails"]?[0]?["variant"] == "c")
        #expect(entry["evidence"]?["flag"]?["rules"] == [])
        let keys = (0..<300).map { #"{"targetingKey":"k\#($0)"}"# }.joined(separator: "\n")
        let answers = box.ramp(["eval", "shop", "--contexts", "-"], stdin: keys).lines
        #expect(answers.count == 300)
        #expect(answers.allSatisfy { $0.contains("\ta\t") && $0.hasSuffix("STATIC") }, "\(answers.prefix(3))")
        let report = try #require(box.ramp(["experiment", "report", "shop", "--json", "--now", t(90)]).json.first)
        #expect(report["state"] == "stopped")
        #expect(report["decision"]?["verdict"] == "keep-control")
        #expect(report["window"]?["until"] == .string(t(60)))
        // Nothing more happens to it.
        #expect(box.ramp(["tick", "--now", t(120)]).status == 0)
        #expect(box.events(flag: "shop") == ["experiment_start", "experiment_stop"])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// Shipping: the winner to everyone, or through a canary rollout of it; both audit events, and `audit verify`
    /// replays them.
    @Test func shippingServesTheWinnerOrStartsItsCanaryRollout() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("one", Self.threeArms), "--now", t(0)]).status == 0)
        #expect(box.ramp(["experiment", "ship", "one", "zz", "--now", t(1)]).status == 4)
        let shipped = box.ramp(["experiment", "ship", "one", "b", "--now", t(1)])
        #expect(shipped.status == 0, "\(shipped.stderr)")
        let keys = (0..<200).map { #"{"targetingKey":"k\#($0)"}"# }.joined(separator: "\n")
        #expect(box.ramp(["eval", "one", "--contexts", "-"], stdin: keys).lines.allSatisfy { $0.contains("\tb\t") })
        #expect(box.ramp(["experiment", "ship", "one", "c", "--now", t(2)]).status == 5)
        #expect(box.ramp(["experiment", "report", "one", "--json", "--now", t(2)]).json.first?["state"] == "shipped")

        #expect(box.ramp(["submit", box.experimentPlan("two", Self.threeArms), "--now", t(2)]).status == 0)
        // A rollout plan of the flag is refused while its experiment runs.
        box.write(
            "rollout.json",
            """
            {"flag": "two", "canary": "c", "baseline": "a", "steps": [{"percent": 10, "bake": "10m"}, {"percent": 100}],
             "interval": "1m"}
            """)
        let rollout = box.dir.appendingPathComponent("rollout.json").path
        let refused = box.ramp(["submit", rollout, "--now", t(3)])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("serves experiment #2's split (running)"), "\(refused.stderr)")
        // Shipping b through a plan whose canary is c is refused, and nothing changes.
        let dump = try box.dump()
        #expect(box.ramp(["experiment", "ship", "two", "b", "--rollout", rollout, "--now", t(3)]).status == 3)
        #expect(try box.dump() == dump)
        let ship = box.ramp(["experiment", "ship", "two", "c", "--rollout", rollout, "--now", t(3)])
        #expect(ship.status == 0, "\(ship.stderr)")
        #expect(ship.stdout.contains("rollout #1 of two is pending"))
        #expect(box.ramp(["eval", "two", "--contexts", "-"], stdin: keys).lines.allSatisfy { $0.contains("\ta\t") })
        #expect(box.ramp(["tick", "--now", t(4)]).stdout.contains("two  start: pending → progressing, 0% → 10%"))
        #expect(box.events(flag: "two") == ["experiment_start", "experiment_ship", "submit", "start"])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// Experiments in one layer hold disjoint ranges of it, so no user is in two; a range that overlaps a running
    /// experiment's is refused; an experiment in another layer is independent of both.
    @Test func experimentsInOneLayerNeverShareAUser() throws {
        let box = Sandbox()
        let two =
            #""kind": "experiment", "variants": {"a": 1, "b": 2}, "control": "a", "#
            + #""primary": {"metric": "buy", "type": "proportion", "better": "higher"}, "sample": 1000, "#
        for (flag, layer, range) in [
            ("left", "L", "[0, 5000]"), ("right", "L", "[5000, 10000]"), ("other", "M", "[0, 5000]"),
        ] {
            let plan = box.experimentPlan(flag, two + #""layer": {"name": "\#(layer)", "range": \#(range)}"#)
            #expect(box.ramp(["submit", plan, "--now", t(0)]).status == 0)
        }
        let dump = try box.dump()
        let overlapping = box.ramp([
            "submit", box.experimentPlan("middle", two + #""layer": {"name": "L", "range": [4000, 6000]}"#), "--now",
            t(1),
        ])
        #expect(overlapping.status == 5)
        #expect(overlapping.stderr.contains("overlaps experiment \"left\"'s [0, 5000)"), "\(overlapping.stderr)")
        #expect(try box.dump() == dump)
        let keys: [JSONValue] = (0..<4_000).map { ["targetingKey": .string("user-\($0)")] }
        let answers = FlagdProvider.rampAnswers(box, flags: ["left", "right", "other"], contexts: keys)
        let inside = (0..<3).map { f in (0..<4_000).map { answers[f * 4_000 + $0].contains("TARGETING_MATCH") } }
        #expect((0..<4_000).filter { inside[0][$0] && inside[1][$0] }.isEmpty, "no user in two experiments of L")
        #expect((0..<4_000).allSatisfy { inside[0][$0] || inside[1][$0] }, "L's two halves cover every user")
        let both = (0..<4_000).filter { inside[0][$0] && inside[2][$0] }.count
        #expect(abs(Double(both) / 4_000 - 0.25) < 0.03, "layers are independent: \(both) users in left and other")
    }

    /// A treatment that breaks everything has no variance to build an interval from (every request fails, the
    /// control none): the readout adjusts the counts (one success and one failure more per arm) so the guardrail
    /// still sees it and stops the experiment.
    @Test func aTreatmentThatFailsEveryRequestIsStoppedThoughItHasNoVariance() throws {
        let box = Sandbox()
        let plan = box.experimentPlan(
            "pay",
            #""kind": "experiment", "variants": {"old": 1, "new": 2}, "control": "old", "#
                + #""primary": {"metric": "paid", "type": "proportion", "better": "higher"}, "#
                + #""guardrails": [{"metric": "failed", "type": "proportion", "better": "lower"}], "#
                + #""sample": 100000, "interval": "10m""#)
        #expect(box.ramp(["submit", plan, "--now", t(0)]).status == 0)
        var lines: [String] = []
        for arm in ["old", "new"] {
            for k in 0..<400 {
                lines.append(
                    #"{"type":"exposure","flag":"pay","variant":"\#(arm)","key":"\#(arm)\#(k)","at":"\#(t(1))"}"#)
                if arm == "new" {
                    lines.append(
                        #"{"type":"outcome","metric":"failed","value":1,"key":"\#(arm)\#(k)","at":"\#(t(1))"}"#)
                }
            }
        }
        #expect(box.ramp(["record", "-", "--now", t(2)], stdin: lines.joined(separator: "\n")).status == 0)
        let tick = box.ramp(["tick", "--now", t(10)])
        #expect(
            tick.stdout.contains("pay  experiment_stop: guardrail failed failed: new is shown worse"), "\(tick.stdout)")
        let report = try #require(box.ramp(["experiment", "report", "pay", "--json", "--now", t(11)]).json.first)
        #expect(report["arms"]?[1]?["guardrails"]?[0]?["adjusted"] == true)
        #expect(report["arms"]?[1]?["guardrails"]?[0]?["value"] == 1)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// A killed flag serves everyone the control: its experiment waits, unchecked, and goes on once released.
    /// A split held after the planned sample ("end": "hold") refuses a rollout plan until `experiment stop` takes it
    /// down, and a new experiment on the flag replaces it (the old one's stop, then the new start).
    @Test func aKilledFlagPausesItsExperimentAndAHeldSplitIsTakenDownOrReplaced() throws {
        let box = Sandbox()
        let small = Self.threeArms.replacingOccurrences(of: "\"sample\": 100000", with: "\"sample\": 600")
        #expect(box.ramp(["submit", box.experimentPlan("shop", small), "--now", t(0)]).status == 0)
        var events = Recorded()
        events.add(flag: "shop", arms: [("a", 100, 0, 300), ("b", 100, 0, 300), ("c", 100, 0, 300)], at: t(5))
        #expect(box.ramp(["record", "-", "--now", t(6)], stdin: events.stdin).status == 0)
        #expect(box.ramp(["kill", "shop", "--now", t(7)]).status == 0)
        let held = box.ramp(["tick", "--now", t(70)])
        #expect(held.status == 0)
        #expect(box.events(flag: "shop") == ["experiment_start", "kill"])
        #expect(box.ramp(["unkill", "shop", "--now", t(71)]).status == 0)
        let tick = box.ramp(["tick", "--now", t(72)])
        #expect(
            tick.stdout.contains("shop  experiment_conclude: planned sample reached (900 of 600 units)"),
            "\(tick.stdout)")
        // Held: a rollout plan is refused, naming the way out.
        box.write(
            "rollout.json",
            #"{"flag": "shop", "canary": "b", "baseline": "a", "steps": [{"percent": 100}], "interval": "1m"}"#)
        let rollout = box.dir.appendingPathComponent("rollout.json").path
        let refused = box.ramp(["submit", rollout, "--now", t(73)])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("serves experiment #1's split (concluded)"), "\(refused.stderr)")
        // A new experiment replaces the held split: the old one's stop, then the new start.
        #expect(box.ramp(["submit", box.experimentPlan("shop", Self.threeArms), "--now", t(74)]).status == 0)
        #expect(
            box.events(flag: "shop") == [
                "experiment_start", "kill", "unkill", "experiment_conclude", "experiment_stop", "experiment_start",
            ])
        #expect(box.ramp(["experiment", "stop", "shop", "--now", t(75)]).status == 0)
        #expect(box.ramp(["submit", rollout, "--now", t(76)]).status == 0)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// `experiment ship --rollout` is one transaction: a rollout plan that `submit` refuses leaves the experiment
    /// running and the store as it was.
    @Test func aShipWhoseRolloutIsRefusedChangesNothing() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("shop", Self.threeArms), "--now", t(0)]).status == 0)
        box.write(
            "rollout.json",
            #"{"flag": "shop", "variants": {"a": "A", "b": "B", "c": "not C"}, "canary": "b", "baseline": "a", "#
                + #""steps": [{"percent": 100}], "interval": "1m"}"#)
        let dump = try box.dump()
        let ship = box.ramp([
            "experiment", "ship", "shop", "b", "--rollout", box.dir.appendingPathComponent("rollout.json").path,
            "--now", t(1),
        ])
        #expect(ship.status == 3)
        #expect(ship.stderr.contains("variants: differ from flag \"shop\"'s stored variants"), "\(ship.stderr)")
        #expect(try box.dump() == dump)
    }

    /// `audit verify` holds the experiments table to the log: a stopped experiment set running again behind the
    /// log's back is caught.
    @Test func anExperimentEditedBehindTheLogsBackFailsVerification() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.experimentPlan("shop", Self.threeArms), "--now", t(0)]).status == 0)
        #expect(box.ramp(["experiment", "stop", "shop", "--now", t(1)]).status == 0)
        #expect(box.ramp(["audit", "verify"]).status == 0)
        try box.tamper("UPDATE experiments SET state = 'running'")
        let verify = box.ramp(["audit", "verify"])
        #expect(verify.status == 6)
        #expect(
            verify.stderr.contains("experiment #1 (shop)'s state is running but the audit log says stopped"),
            "\(verify.stdout) \(verify.stderr)")
    }

    /// An experiment plan's sources get the warnings a rollout plan's do: `plan validate` and `submit` say that a
    /// credential variable is not set here.
    @Test func anExperimentPlansSourcesAreCheckedForWhatCronWillMiss() {
        let box = Sandbox()
        let plan = box.experimentPlan(
            "tok",
            #""kind": "experiment", "variants": {"a": 1, "b": 2}, "control": "a", "#
                + #""sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:1", "bearer_token_env": "RAMP_TEST_UNSET_TOKEN"}}, "#
                + #""primary": {"metric": "m", "type": "proportion", "better": "higher", "source": "p", "#
                + #""inputs": {"count": "a{variant=\"{{variant}}\"}", "total": "b{variant=\"{{variant}}\"}"}}, "sample": 100"#
        )
        let warning =
            "warning: source p: environment variable RAMP_TEST_UNSET_TOKEN is not set here (cron and systemd start "
            + "ramp with an environment of their own: set it there too)"
        let validated = box.ramp(["plan", "validate", plan], useStore: false)
        #expect(validated.status == 0)
        #expect(validated.lines.count == 2 && validated.lines[1] == "\(plan): \(warning)", "\(validated.stdout)")
        let json = box.ramp(["plan", "validate", plan, "--json"], useStore: false).json.first
        #expect(json?["kind"] == "experiment" && json?["warnings"]?.arrayValue?.count == 1)
        let submitted = box.ramp(["submit", plan, "--now", t(0)])
        #expect(submitted.status == 0)
        #expect(
            submitted.stderr.contains("ramp: warning: \(plan): source p: environment variable"), "\(submitted.stderr)")
    }

    /// What is refused: a plan ramp cannot run (one line naming the field, nothing created), an experiment on a
    /// flag with an active rollout, exposure attributes that are not flat; each leaves the store as it was.
    @Test func badExperimentInputIsRefusedAndChangesNothing() throws {
        let box = Sandbox()
        let bad = box.ramp([
            "submit",
            box.experimentPlan(
                "shop", Self.threeArms.replacingOccurrences(of: "\"control\": \"a\"", with: "\"control\": \"z\"")),
            "--now", t(0),
        ])
        #expect(bad.status == 3)
        #expect(bad.stderr.hasSuffix("shop.json: control: \"z\" is not one of the variants\n"), "\(bad.stderr)")
        #expect(!box.storeExists())
        #expect(box.ramp(["submit", box.plan("live"), "--now", t(0)]).status == 0)
        let dump = try box.dump()
        let onRollout = box.ramp([
            "submit",
            box.experimentPlan(
                "live",
                #""kind": "bandit", "variants": {"on": {"color": "green"}, "off": {"color": "grey"}}, "control": "off", "primary": {"metric": "x", "type": "mean", "better": "lower"}, "sample": 100"#
            ),
            "--now", t(1),
        ])
        #expect(onRollout.status == 5)
        #expect(onRollout.stderr.contains("flag \"live\" has an active rollout"), "\(onRollout.stderr)")
        let nested = box.ramp(
            ["record", "-", "--now", t(2)],
            stdin: #"{"type":"exposure","flag":"live","variant":"on","key":"k","attributes":{"a":{"b":1}}}"# + "\n")
        #expect(nested.status == 3)
        #expect(
            nested.stderr.contains("\"attributes\".\"a\" must be a string, number or boolean, found an object"),
            "\(nested.stderr)")
        #expect(try box.dump() == dump)
        #expect(box.ramp(["experiment", "stop", "live", "--now", t(3)]).status == 5)
        #expect(box.ramp(["experiment", "report", "live"]).status == 4)
        // A flag with targeting rules: users a rule chose would be in no arm, yet matched.
        box.write(
            "ruled.json",
            #"{"flag": "ruled", "variants": {"a": "A", "b": "B", "c": "C"}, "canary": "b", "baseline": "a", "#
                + #""rules": [{"when": {"==": [{"var": "tier"}, "staff"]}, "variant": "b"}], "#
                + #""steps": [{"percent": 100}], "interval": "1m"}"#)
        #expect(box.ramp(["submit", box.dir.appendingPathComponent("ruled.json").path, "--now", t(3)]).status == 0)
        #expect(box.ramp(["abort", "ruled", "--now", t(4)]).status == 0)
        let ruled = box.ramp(["submit", box.experimentPlan("ruled", Self.threeArms), "--now", t(5)])
        #expect(ruled.status == 5)
        #expect(ruled.stderr.contains("flag \"ruled\" has targeting rules"), "\(ruled.stderr)")
        // --restart is for rollout plans.
        #expect(
            box.ramp(["submit", box.experimentPlan("other", Self.threeArms), "--restart", "--now", t(6)]).status == 2)
    }
}

extension JSONValue {
    /// An array's element, or nil.
    subscript(index: Int) -> JSONValue? {
        guard let items = arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
