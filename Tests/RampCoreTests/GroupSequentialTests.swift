import Foundation
import RampCore
import Testing

/// The group-sequential boundaries: against published values, against their own definition, and against an
/// independent implementation (spotify-confidence's solver, with scipy's multivariate normal for the exit
/// probabilities; Tests/Support/check_group_sequential.py, installed by Tests/run-all.sh).
@Suite struct GroupSequentialTests {
    /// Lan-DeMets spending, one-sided α 0.025, five equal looks: the boundaries tabulated for this design in the
    /// group-sequential literature (spotify-confidence's port of R's ldbounds gives them too, below).
    @Test func fiveEqualLooksGiveThePublishedBoundaries() {
        let fractions = [0.2, 0.4, 0.6, 0.8, 1.0]
        let obf = GroupSequential.boundaries(fractions: fractions, spending: .obrienFleming, alpha: 0.025)
        for (ramp, published) in zip(obf, [4.877, 3.357, 2.680, 2.290, 2.031]) {
            #expect(abs(ramp - published) < 1e-3, "O'Brien-Fleming-type: ramp \(obf)")
        }
        let pocock = GroupSequential.boundaries(fractions: fractions, spending: .pocock, alpha: 0.025)
        for (ramp, published) in zip(pocock, [2.438, 2.427, 2.410, 2.397, 2.386]) {
            #expect(abs(ramp - published) < 1e-3, "Pocock-type: ramp \(pocock)")
        }
    }

    /// The first look has no past: its boundary is the normal quantile of what is spent by then.
    @Test func theFirstBoundaryIsTheQuantileOfTheFirstSpend() {
        for spending in AlphaSpending.allCases {
            for (t, alpha) in [(0.05, 0.05), (0.3, 0.05), (0.5, 0.1), (1.0, 0.01)] {
                let z = GroupSequential.boundaries(fractions: [t], spending: spending, alpha: alpha)[0]
                let expected = min(Normal.quantile(1 - spending.spent(t, alpha: alpha)), GroupSequential.truncation)
                #expect(abs(z - expected) < 1e-8, "\(spending) t \(t) α \(alpha): \(z) vs \(expected)")
            }
        }
    }

    /// Under the null, the looks' exit probabilities add up to the spending function at every look, however
    /// irregular the looks; under a drift, crossing is likelier, and the last boundary is above the single look's.
    @Test func eachLookSpendsWhatTheSpendingFunctionAllows() {
        var random = SeededRandom(seed: 7)
        var fractions: [Double] = []
        var t = 0.0
        while t < 1 {
            t = min(1, t + 0.01 + random.uniform() * 0.09)
            fractions.append(t)
        }
        for spending in AlphaSpending.allCases {
            var test = GroupSequential(spending: spending, alpha: 0.05)
            for (k, t) in fractions.enumerated() {
                test.look(at: t)
                #expect(abs(test.spent - spending.spent(t, alpha: 0.05)) < 1e-9, "\(spending) look \(k + 1)")
            }
            #expect(test.boundaries.last! > Normal.quantile(0.95))
            let null = GroupSequential.crossings(fractions: fractions, boundaries: test.boundaries, drift: 0)
            #expect(abs(null.reduce(0, +) - 0.05) < 1e-9)
            let power = GroupSequential.crossings(fractions: fractions, boundaries: test.boundaries, drift: 2.5)
            #expect(power.reduce(0, +) > 0.7)
        }
    }

    static let python =
        ProcessInfo.processInfo.environment["RAMP_CONFIDENCE_PYTHON"]
        ?? packageRoot.appendingPathComponent(".build/python-confidence/bin/python").path
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs Tests/Support/check_group_sequential.py on `designs` and returns what it computed for each.
    static func independent(_ designs: [(AlphaSpending, Double, [Double], [Double])]) throws -> [JSONValue] {
        let input = JSONValue.array(
            designs.map { spending, alpha, fractions, boundaries in
                [
                    "spending": .string(spending.rawValue), "alpha": .number(alpha),
                    "fractions": .array(fractions.map(JSONValue.number)),
                    "boundaries": .array(boundaries.map(JSONValue.number)),
                ]
            })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputFile = folder.appendingPathComponent("designs.json")
        let outputFile = folder.appendingPathComponent("out.json")
        try Data(input.canonical.utf8).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/Support/check_group_sequential.py"]
        process.currentDirectoryURL = packageRoot
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        try process.run()
        // Bounded: a solver that hangs fails the test instead of the run.
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "check_group_sequential.py failed")
        let text = try String(contentsOf: outputFile, encoding: .utf8)
        guard case .array(let results) = try JSONParser.parse(text) else { throw CancellationError() }
        return results
    }

    /// ramp's boundaries for even, irregular, dense and sparse looks, each spending function and several α, agree
    /// with spotify-confidence's solver within 0.002 in z (its own precision: it stops within 1e-7 of each look's
    /// α); for up to four looks, scipy's multivariate normal at ramp's boundaries gives the α the spending function
    /// allows by each look, within 0.003% of α.
    @Test func theBoundariesAgreeWithSpotifyConfidenceAndScipy() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("no spotify-confidence at \(Self.python): run Tests/run-all.sh, which installs it")
            return
        }
        var random = SeededRandom(seed: 2026)
        var irregular: [Double] = []
        var t = 0.0
        while t < 1 {
            t = min(1, t + 0.01 + random.uniform() * 0.07)
            irregular.append(t)
        }
        let every = (1...100).map { Double($0) / 100 }
        let schedules: [(AlphaSpending, Double, [Double])] = [
            (.obrienFleming, 0.05, [0.25, 0.5, 0.75, 1]),
            (.pocock, 0.05, [0.25, 0.5, 0.75, 1]),
            (.obrienFleming, 0.1, [0.13, 0.41, 0.58, 1]),
            (.pocock, 0.01, [0.3, 0.31, 0.9]),
            (.obrienFleming, 0.05, [0.5, 0.8]),
            (.obrienFleming, 0.05, irregular),
            (.pocock, 0.05, irregular),
            (.obrienFleming, 0.05, every),
            (.pocock, 0.2, every),
        ]
        let designs = schedules.map { spending, alpha, fractions in
            (
                spending, alpha, fractions,
                GroupSequential.boundaries(fractions: fractions, spending: spending, alpha: alpha)
            )
        }
        let results = try Self.independent(designs)
        try #require(results.count == designs.count)
        for ((spending, alpha, fractions, ramp), result) in zip(designs, results) {
            let name = "\(spending.rawValue) α \(alpha), \(fractions.count) looks"
            let confidence = (result["confidence"]?.arrayValue ?? []).compactMap(\.numberValue)
            try #require(confidence.count == ramp.count, "\(name): \(result)")
            let spent = (result["spent"]?.arrayValue ?? []).compactMap(\.numberValue)
            // spotify-confidence, like ldbounds, finds each boundary to within 1e-7 of its look's α increment, and
            // puts it at z = 8 without spending when the increment is below that: its boundaries are as exact as
            // ramp's where the increment is at least 1e-4 (most looks; all but the first few of O'Brien-Fleming).
            var compared = 0
            for (k, (ours, theirs)) in zip(ramp, confidence).enumerated()
            where spent[k] - (k > 0 ? spent[k - 1] : 0) >= 1e-4 {
                compared += 1
                #expect(abs(ours - theirs) < 2e-3, "\(name), look \(k + 1): ramp \(ours), spotify-confidence \(theirs)")
            }
            #expect(compared >= ramp.count / 2, "\(name): only \(compared) looks compared")
            for (t, theirs) in zip(fractions, spent) {
                #expect(abs(spending.spent(t, alpha: alpha) - theirs) < 1e-12, "\(name): spent by \(t)")
            }
            if let crossed = result["crossed"]?.arrayValue?.compactMap(\.numberValue) {
                #expect(crossed.count == fractions.count)
                for (k, (probability, allowed)) in zip(crossed, spent).enumerated() {
                    #expect(
                        abs(probability - allowed) < 3e-5 * alpha,
                        "\(name), by look \(k + 1): scipy \(probability), α(t) \(allowed)")
                }
            }
        }
    }
}
