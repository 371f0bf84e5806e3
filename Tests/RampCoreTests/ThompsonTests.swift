import Foundation
import RampCore
import Testing

/// Thompson sampling's draws and probabilities, pinned against scipy (Tests/Support/check_thompson.py, run by the
/// spotify-confidence environment's Python, which has scipy).
@Suite struct ThompsonTests {
    static var installed: Bool {
        guard FileManager.default.isExecutableFile(atPath: GroupSequentialTests.python) else {
            Issue.record("no scipy at \(GroupSequentialTests.python): run Tests/run-all.sh, which installs it")
            return false
        }
        return true
    }

    static func scipy(_ input: JSONValue) throws -> JSONValue {
        try JSONParser.parse(
            PythonCheck.run("Tests/Support/check_thompson.py", input: input, python: GroupSequentialTests.python))
    }

    /// 20,000 seeded draws of each distribution pass scipy's Kolmogorov–Smirnov test against its exact CDF, shapes
    /// below and above 1 included (the seed is fixed, so the p-values are too).
    @Test func theDrawsFollowTheirDistributions() throws {
        guard Self.installed else { return }
        var random = SeededRandom(seed: 42)
        let cases: [(String, [Double])] = [
            ("beta", [3, 7]), ("beta", [0.5, 0.5]), ("beta", [200, 800]), ("beta", [1, 1]), ("gamma", [0.3]),
            ("gamma", [2.5]), ("normal", []),
        ]
        let samples: [JSONValue] = cases.map { kind, params in
            let draws = (0..<20_000).map { _ -> Double in
                switch kind {
                case "beta": random.beta(params[0], params[1])
                case "gamma": random.gamma(params[0])
                default: random.normal()
                }
            }
            return [
                "kind": .string(kind), "params": .array(params.map(JSONValue.number)),
                "draws": .array(draws.map(JSONValue.number)),
            ]
        }
        let result = try Self.scipy(["samples": .array(samples), "best": []])
        let pValues = result["ks"]?.arrayValue?.compactMap(\.numberValue) ?? []
        #expect(pValues.count == cases.count)
        for (i, p) in pValues.enumerated() {
            #expect(p > 0.01, "\(cases[i]): Kolmogorov–Smirnov p \(p)")
        }
        // The test can fail: draws from the wrong distribution are refused.
        let wrong = (0..<20_000).map { _ in random.beta(3, 8) }
        let refused = try Self.scipy([
            "samples": [["kind": "beta", "params": [3, 7], "draws": .array(wrong.map(JSONValue.number))]],
            "best": [],
        ])
        #expect((refused["ks"]?.arrayValue?.first?.numberValue ?? 1) < 0.001)
    }

    /// The probability that each arm is best, by 200,000 seeded draws, is scipy's integral within the draws'
    /// error (4 standard errors at most 0.0045).
    @Test func theProbabilityOfBeingBestIsScipysIntegral() throws {
        guard Self.installed else { return }
        let sets: [[Thompson.Posterior]] = [
            [.beta(alpha: 21, beta: 181), .beta(alpha: 31, beta: 171), .beta(alpha: 26, beta: 176)],
            [.beta(alpha: 1, beta: 1), .beta(alpha: 2, beta: 1)],
            [
                .beta(alpha: 500, beta: 9_500), .beta(alpha: 520, beta: 9_480), .beta(alpha: 480, beta: 9_520),
                .beta(alpha: 505, beta: 9_495),
            ],
            [
                .normal(mean: 10, standardError: 1), .normal(mean: 11, standardError: 1.5),
                .normal(mean: 9.5, standardError: 0.5),
            ],
        ]
        let arms: [JSONValue] = sets.map { set in
            [
                "arms": .array(
                    set.map { arm -> JSONValue in
                        switch arm {
                        case .beta(let a, let b): ["beta", .number(a), .number(b)]
                        case .normal(let m, let se): ["normal", .number(m), .number(se)]
                        }
                    })
            ]
        }
        let exact = try Self.scipy(["samples": [], "best": .array(arms)])["best"]?.arrayValue ?? []
        #expect(exact.count == sets.count)
        for (i, set) in sets.enumerated() where i < exact.count {
            let drawn = try #require(Thompson.probabilityBest(set, draws: 200_000, seed: UInt64(i) + 1))
            let truth = exact[i].arrayValue?.compactMap(\.numberValue) ?? []
            #expect(truth.count == set.count && abs(truth.reduce(0, +) - 1) < 1e-6, "\(truth)")
            for (p, q) in zip(drawn, truth) {
                #expect(abs(p - q) < 0.0045, "set \(i): drawn \(drawn), scipy \(truth)")
            }
        }
    }

    @Test func aSeedReproducesTheDrawsAndTheWeights() throws {
        let arms: [Thompson.Posterior] = [
            try #require(.conversions(28, of: 200)), try #require(.conversions(30, of: 200)),
            try #require(.mean(0.145, variance: 0.1, units: 200)),
        ]
        let first = Thompson.probabilityBest(arms, draws: 5_000, seed: 99)
        // Every arm has a chance here, so another seed draws differently.
        #expect(first?.allSatisfy { $0 > 0.05 } == true, "\(String(describing: first))")
        #expect(first == Thompson.probabilityBest(arms, draws: 5_000, seed: 99))
        #expect(first != Thompson.probabilityBest(arms, draws: 5_000, seed: 100))
        let weights = try #require(Thompson.weights(probabilityBest: [0.9, 0.1, 0], floor: 0.05))
        #expect(weights.map { ($0 * 1e9).rounded() / 1e9 } == [0.815, 0.135, 0.05].map { ($0 * 1e9).rounded() / 1e9 })
        #expect(abs(weights.reduce(0, +) - 1) < 1e-12)
    }

    @Test func badPosteriorsAndFloorsAreRefused() {
        var random = SeededRandom(seed: 1)
        for shape in [Double.nan, -.infinity, -1e7, -1, 0, .infinity] {
            #expect(random.gamma(shape).isNaN, "\(shape)")
        }
        #expect(random.beta(.nan, 1).isNaN)
        // Shapes so small that both Gamma draws underflow still give a draw in [0, 1].
        #expect((0..<100).allSatisfy { _ in (0...1).contains(random.beta(1e-300, 1e-300)) })
        #expect(Thompson.Posterior.conversions(5, of: 4) == nil)
        #expect(Thompson.Posterior.conversions(-1, of: 4) == nil)
        #expect(Thompson.Posterior.mean(.nan, variance: 1, units: 10) == nil)
        #expect(Thompson.Posterior.mean(1, variance: -1, units: 10) == nil)
        #expect(Thompson.Posterior.mean(1, variance: 1, units: 1) == nil)
        #expect(Thompson.probabilityBest([.beta(alpha: 0, beta: 1)], draws: 10, seed: 1) == nil)
        #expect(Thompson.probabilityBest([.beta(alpha: .infinity, beta: 1)], draws: 10, seed: 1) == nil)
        #expect(Thompson.probabilityBest([], draws: 10, seed: 1) == nil)
        #expect(Thompson.probabilityBest([.beta(alpha: 1, beta: 1)], draws: 0, seed: 1) == nil)
        #expect(Thompson.weights(probabilityBest: [0.5, 0.5], floor: 0.6) == nil)
        #expect(Thompson.weights(probabilityBest: [0.5, .nan], floor: 0) == nil)
        #expect(Thompson.weights(probabilityBest: [0, 0], floor: 0.1) == nil)
    }
}
