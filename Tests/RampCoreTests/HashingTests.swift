import Foundation
import RampCore
import Testing

/// Serialized: two tests switch the process-wide choice of path (digests never change, but `accelerated` does).
@Suite(.serialized) struct SHA256Tests {
    /// FIPS 180-4 / NIST CSRC example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func matchesNISTVectors(message: String, digest: String) {
        #expect(SHA256.hex(message) == digest)
    }

    @Test func matchesTheOneMillionAVector() {
        #expect(
            Hex.encode(SHA256.hash(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesEqualOneShotAtEveryPaddingBoundary() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 200] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var hasher = SHA256()
            for chunk in stride(from: 0, to: length, by: 13) { hasher.update(bytes[chunk..<min(chunk + 13, length)]) }
            #expect(hasher.finalize() == SHA256.hash(bytes), "length \(length)")
        }
    }

    /// Byte-oriented vectors from NIST's CAVP files SHA256ShortMsg.rsp and SHA256LongMsg.rsp (CAVS 11.0).
    static let cavp: [(String, String, String)] = [
        ("ShortMsg Len = 8", "d3", "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1"),
        ("ShortMsg Len = 16", "11af", "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98"),
        ("ShortMsg Len = 24", "b4190e", "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2"),
        ("ShortMsg Len = 64", "5738c929c4f4ccb6", "963bb88f27f512777aab6c8b1a02c70ec0ad651d428f870036e1917120fb48bf"),
        (
            "ShortMsg Len = 448",
            "2d52447d1244d2ebc28650e7b05654bad35b3a68eedc7f8515306b496d75f3e73385dd1b002625024b81a02f2fd6dffb"
                + "6e6d561cb7d0bd7a",
            "cfb88d6faf2de3a69d36195acec2e255e2af2b7d933997f348e09f6ce5758360"
        ),
        (
            "ShortMsg Len = 504",
            "e2f76e97606a872e317439f1a03fcd92e632e5bd4e7cbc4e97f1afc19a16fde92d77cbe546416b51640cddb92af99653"
                + "4dfd81edb17c4424cf1ac4d75aceeb",
            "18041bd4665083001fba8c5411d2d748e8abbfdcdfd9218cb02b68a78e7d4c23"
        ),
        (
            "ShortMsg Len = 512",
            "5a86b737eaea8ee976a0a24da63e7ed7eefad18a101c1211e2b3650c5187c2a8a650547208251f6d4237e661c7bf4c77"
                + "f335390394c37fa1a9f9be836ac28509",
            "42e61e174fbb3897d6dd6cef3dd2802fe67b331953b06114a65c772859dfc1aa"
        ),
        (
            "LongMsg Len = 1304",
            "451101250ec6f26652249d59dc974b7361d571a8101cdfd36aba3b5854d3ae086b5fdd4597721b66e3c0dc5d8c606d96"
                + "57d0e323283a5217d1f53f2f284f57b85c8a61ac8924711f895c5ed90ef17745ed2d728abd22a5f7a13479a462d71b56"
                + "c19a74a40b655c58edfe0a188ad2cf46cbf30524f65d423c837dd1ff2bf462ac4198007345bb44dbb7b1c861298cdf61"
                + "982a833afc728fae1eda2f87aa2c9480858bec",
            "3c593aa539fdcdae516cdf2f15000f6634185c88f505b39775fb9ab137a10aa2"
        ),
        (
            "LongMsg Len = 2096",
            "6b918fb1a5ad1f9c5e5dbdf10a93a9c8f6bca89f37e79c9fe12a57227941b173ac79d8d440cde8c64c4ebc84a4c803d1"
                + "98a296f3de060900cc427f58ca6ec373084f95dd6c7c427ecfbf781f68be572a88dbcbb188581ab200bfb99a3a816407"
                + "e7dd6dd21003554d4f7a99c93ebfce5c302ff0e11f26f83fe669acefb0c1bbb8b1e909bd14aa48ba3445c88b0e1190ee"
                + "f765ad898ab8ca2fe507015f1578f10dce3c11a55fb9434ee6e9ad6cc0fdc4684447a9b3b156b908646360f24fec2d8f"
                + "a69e2c93db78708fcd2eef743dcb9353819b8d667c48ed54cd436fb1476598c4a1d7028e6f2ff50751db36ab6bc32435"
                + "152a00abd3d58d9a8770d9a3e52d5a3628ae3c9e0325",
            "46500b6ae1ab40bde097ef168b0f3199049b55545a1588792d39d594f493dca7"
        ),
    ]

    /// Both paths of the C target — the CPU's SHA extensions and the portable code — on every vector, whole and in
    /// pieces. On a CPU with SHA extensions (Linux says `sha_ni`), the automatic choice must be the accelerated one.
    @Test func bothPathsMatchTheNISTVectors() throws {
        var vectors = Self.cavp.map { (name: $0.0, bytes: Hex.decode($0.1) ?? [], digest: $0.2) }
        vectors += [
            ("empty", [], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "1,000,000 a", Array(repeating: UInt8(ascii: "a"), count: 1_000_000),
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
            ),
        ]
        #expect(vectors.count == 12)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpuHasSHA = cpuinfo.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.contains(" sha_ni") }
        defer { SHA256.forcePortable(false) }
        for portable in [false, true] {
            SHA256.forcePortable(portable)
            if portable || cpuHasSHA { #expect(SHA256.accelerated == !portable) }
            for (name, bytes, digest) in vectors {
                #expect(Hex.encode(SHA256.hash(bytes)) == digest, "\(name), portable: \(portable)")
                var pieces = SHA256()
                for start in stride(from: 0, to: bytes.count, by: 7) {
                    pieces.update(bytes[start..<min(start + 7, bytes.count)])
                }
                #expect(Hex.encode(pieces.finalize()) == digest, "\(name) in 7-byte pieces, portable: \(portable)")
            }
        }
    }

    /// The two paths agree on every length from 0 to 1,000 bytes (every padding case, many blocks).
    @Test func bothPathsAgreeOnEveryLength() {
        defer { SHA256.forcePortable(false) }
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        for length in 0...1000 {
            SHA256.forcePortable(false)
            let automatic = SHA256.hash(bytes[..<length])
            SHA256.forcePortable(true)
            #expect(SHA256.hash(bytes[..<length]) == automatic, "length \(length)")
        }
    }

    @Test func hexRoundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xfe, 0xff]
        #expect(Hex.encode(bytes) == "00017f80feff")
        #expect(Hex.decode("00017F80FEff") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite struct Murmur3Tests {
    /// The reference vectors of MurmurHash3_x86_32 (SMHasher); each also checked with Python's mmh3:
    /// python3 -c "import mmh3; print(hex(mmh3.hash(b'!Ce\x87', 0x5082EDEE, signed=False)))"
    @Test(arguments: [
        ([UInt8](), UInt32(0), UInt32(0)),
        ([], 1, 0x514E_28B7),
        ([], 0xFFFF_FFFF, 0x81F1_6F39),
        ([0xff, 0xff, 0xff, 0xff], 0, 0x7629_3B50),
        ([0x21, 0x43, 0x65, 0x87], 0, 0xF55B_516B),
        ([0x21, 0x43, 0x65, 0x87], 0x5082_EDEE, 0x2362_F9DE),
        ([0x21, 0x43, 0x65], 0, 0x7E4A_8634),
        ([0x21, 0x43], 0, 0xA0F7_B07A),
        ([0x21], 0, 0x7266_1CF4),
        ([0, 0, 0, 0], 0, 0x2362_F9DE),
        ([0, 0, 0], 0, 0x85F0_B427),
        ([0, 0], 0, 0x30F4_C306),
        ([0], 0, 0x514E_28B7),
    ])
    func matchesReferenceVectors(bytes: [UInt8], seed: UInt32, expected: UInt32) {
        #expect(Murmur3.x86_32(bytes, seed: seed) == expected)
    }

    @Test func hashesStringsAsUTF8() {
        #expect(Murmur3.x86_32("Hello, world!", seed: 1234) == 0xFAF6_CDB3)
        #expect(Murmur3.x86_32("The quick brown fox jumps over the lazy dog") == 0x2E4F_F723)
        // python3 -c "import mmh3; print(hex(mmh3.hash('flagkey-user-1', 0, signed=False)))"
        #expect(Murmur3.x86_32("flagkey-user-1") == 0x01DB_FEC0)
        #expect(Murmur3.x86_32("é") == Murmur3.x86_32([0xC3, 0xA9]))
    }

    /// Two strings fed one after the other (whole words at a word boundary, bytes around it) hash as their bytes
    /// fed one by one, at every split.
    @Test func stringsInPiecesHashAsTheirBytes() {
        let text = "checkout-v2user-4711-ü-0123456789"
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            var pieces = Murmur3.Hasher()
            pieces.combine(String(decoding: bytes[..<split], as: UTF8.self))
            pieces.combine(String(decoding: bytes[split...], as: UTF8.self))
            var single = Murmur3.Hasher()
            for byte in bytes { single.combine(byte: byte) }
            if String(decoding: bytes[..<split], as: UTF8.self).utf8.count == split {
                #expect(pieces.finalize() == single.finalize(), "split at \(split)")
            }
        }
    }
}

/// The variant a flag serves to a targeting key.
private func variant(_ flag: Flag, _ key: String) -> String? {
    CompiledFlag(flag).resolve(EvaluationContext(targetingKey: key), timestamp: 0).variant
}

@Suite struct BucketingTests {
    /// Expected values from Python:
    /// python3 -c "import mmh3; h = mmh3.hash('checkout-v2user-42', 0, signed=False); print(h, h*100 >> 32, h*10000 >> 32)"
    @Test func bucketIsTheHashScaledToTheTotalWeight() {
        #expect(Murmur3.x86_32("checkout-v2" + "user-42") == 3_621_864_327)
        #expect(Bucketing.bucket(flagKey: "checkout-v2", targetingKey: "user-42", totalWeight: 100) == 84)
        #expect(Bucketing.bucket(flagKey: "checkout-v2", targetingKey: "user-42", totalWeight: 10_000) == 8432)
    }

    /// Basis points (10,000 total) give the same answer as flagd's integer percentages (100 total).
    @Test func basisPointsAgreeWithWholePercentWeights() throws {
        for percent in [0, 1, 5, 25, 50, 99, 100] {
            var flag = Flag(key: "f", variants: ["on": true, "off": false], baseline: "off", canary: "on")
            flag.canaryPercent = Percent(Double(percent))!
            let whole = try JsonLogic([
                "fractional": [["on", .number(Double(percent))], ["off", .number(Double(100 - percent))]]
            ])
            for i in 0..<2000 {
                let key = "user-\(i)"
                let environment = TargetingEnvironment(
                    flagKey: "f", context: EvaluationContext(targetingKey: key), timestamp: 0, bucketing: .concat)
                #expect(variant(flag, key) == (percent == 0 ? "off" : whole.apply(environment).stringValue))
            }
        }
    }

    @Test func aUserInTheCanaryStaysInItAsTheShareGrows() {
        let shares: [Double] = [0, 0.5, 1, 5, 10, 25, 50, 75, 99.99, 100]
        var flag = Flag(key: "checkout-v2", variants: ["on": true, "off": false], baseline: "off", canary: "on")
        var previous = Set<String>()
        for share in shares {
            flag.canaryPercent = Percent(share)!
            let inCanary = Set((0..<20_000).map { "user-\($0)" }.filter { variant(flag, $0) == "on" })
            #expect(previous.isSubset(of: inCanary), "someone left the canary when it grew to \(share)%")
            let observed = Double(inCanary.count) / 20_000 * 100
            #expect(abs(observed - share) < 1.0, "\(share)% target, \(observed)% observed")
            previous = inCanary
        }
        #expect(previous.count == 20_000)
    }

    @Test func aKilledFlagServesTheBaselineToEveryone() {
        var flag = Flag(
            key: "f", variants: ["on": true, "off": false], baseline: "off", canary: "on", canaryPercent: .full)
        #expect(variant(flag, "anyone") == "on")
        flag.killed = true
        #expect((0..<1000).allSatisfy { variant(flag, "user-\($0)") == "off" })
        #expect(CompiledFlag(flag).resolve(EvaluationContext(targetingKey: "x"), timestamp: 0).reason == .static)
    }

    @Test func aDisabledFlagAnswersDisabledWithNoVariantWhateverTheTypeAsked() {
        var flag = Flag(
            key: "f", variants: ["on": true, "off": false], baseline: "off", canary: "on", canaryPercent: .full)
        flag.disabled = true
        let resolution = CompiledFlag(flag).resolve(EvaluationContext(targetingKey: "x"), timestamp: 0)
        #expect(resolution == Resolution(value: nil, variant: nil, reason: .disabled))
        #expect(resolution.expecting(.string) == resolution)
        #expect(flag.servedPercent == .zero && flag.canaryPercent == .full)
    }
}

/// The evaluator's typed path (conditions, then the split hashed straight from the keys) against the general
/// JsonLogic evaluation of the flag's exported targeting: the same answer for every flag shape and caller.
@Suite struct CompiledFlagTests {
    @Test func theTypedPathAnswersExactlyAsTheJsonLogicOfTheTargeting() {
        var seed: UInt64 = 0x5eed
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let shares = [0, 1, 500, 5000, 9999, 10_000]
        let emails = ["a@corp.example", "b@other.example", ""]
        var compared = 0
        for _ in 0..<400 {
            var flag = Flag(
                key: ["checkout-v2", "k", "ünï"][next(3)], variants: ["on": true, "off": false, "x": "third"],
                baseline: "off", canary: "on")
            flag.canaryPercent = Percent(basisPoints: shares[next(shares.count)])
            // Base weights: none (the baseline alone), small, or fine enough to need flagd's whole total.
            flag.weights =
                [
                    [:], ["off": 1, "x": 1], ["on": 2, "off": 1, "x": 3], ["off": 100_000, "x": 7],
                    ["off": 1, "x": 214_748], ["on": 0, "off": 3, "x": 0],
                ][next(6)]
            flag.killed = next(6) == 0
            flag.disabled = next(10) == 0
            flag.segments = ["internal": ["ends_with": [["var": "email"], "@corp.example"]]]
            if next(2) == 0 { flag.canarySegments = ["internal"] }
            if next(3) == 0 { flag.canarySegments.append("missing") }
            for _ in 0..<next(3) {
                let variant = ["on", "off", "x", "nope"][next(4)]
                let rule: TargetingRule =
                    next(2) == 0
                    ? TargetingRule(when: .segment(["internal", "absent"][next(2)]), variant: variant)
                    : TargetingRule(when: .logic(["in": [["var": "region"], ["eu", "us"]]]), variant: variant)
                flag.rules.append(rule)
            }
            let compiled = CompiledFlag(flag)
            for _ in 0..<25 {
                let key: String? = [nil, "", "user-\(next(1000))", "üser-\(next(50))"][next(4)]
                var attributes: [String: JSONValue] = ["email": .string(emails[next(3)])]
                if next(2) == 0 { attributes["region"] = ["eu", "apac", 7][next(3)] }
                let context = EvaluationContext(targetingKey: key, attributes: attributes)
                for generation in [BucketingGeneration.concat, .cbor] {
                    let fast = compiled.resolve(context, timestamp: 1_700_000_000, bucketing: generation)
                    let general = compiled.resolveByLogic(context, timestamp: 1_700_000_000, bucketing: generation)
                    #expect(fast == general, "\(flag) \(context) \(generation)")
                    compared += 1
                }
            }
        }
        #expect(compared == 20_000)
    }

    @Test func theDefaultWeightsSplitExactlyAsBeforeCanaryFirst() {
        for bp in [0, 1, 500, 9_999, 10_000] {
            var flag = Flag(key: "k", variants: ["on": true, "off": false], baseline: "off", canary: "on")
            flag.canaryPercent = Percent(basisPoints: bp)
            #expect(flag.split.map(\.variant) == ["on", "off"])
            #expect(flag.split.map(\.weight) == [bp, 10_000 - bp])
            flag.weights = ["off": 1]
            #expect(flag.split.map(\.weight) == [bp, 10_000 - bp])
        }
    }

    @Test func aRolloutMovesUsersOnlyWithinTheCanaryAndBaselinePool() {
        var flag = Flag(
            key: "model", variants: ["a": 1, "b": 2, "c": 3, "d": 4], baseline: "a", canary: "b",
            weights: ["a": 2, "b": 1, "c": 3, "d": 0])
        var previous: [String: String] = [:]
        let keys = (0..<4_000).map { "user-\($0)" }
        for bp in [0, 100, 2_500, 5_000, 10_000] {
            flag.canaryPercent = Percent(basisPoints: bp)
            // Canary, baseline, then the others by name; a variant of weight 0 has no share.
            #expect(flag.split.map(\.variant) == ["b", "a", "c"])
            #expect(flag.split.map(\.weight) == [3 * bp, 3 * (10_000 - bp), 30_000])
            let compiled = CompiledFlag(flag)
            var now: [String: String] = [:]
            for key in keys {
                now[key] = compiled.resolve(EvaluationContext(targetingKey: key, attributes: [:]), timestamp: 0).variant
            }
            for key in keys where !previous.isEmpty {
                // "c" keeps exactly its users; no canary user ever goes back; "d" gets no one.
                #expect((previous[key] == "c") == (now[key] == "c"))
                if previous[key] == "b" { #expect(now[key] == "b") }
                #expect(now[key] != "d")
            }
            previous = now
        }
    }

    @Test func weightsAreScaledDownOnlyPastFlagdsTotalAndNeverChangeAnAssignment() {
        // 220,000 × 10,000 passes 2^31 − 1: divided by the greatest common divisor, the same ratios.
        let fine = Flag.split(base: ["a": 200_000, "c": 20_000], canary: "b", baseline: "a", basisPoints: 2_500)
        #expect(fine?.map(\.weight) == [5, 15, 2])
        #expect(
            Flag.split(base: ["a": 214_748, "c": 0], canary: "b", baseline: "a", basisPoints: 2_500)?.map(\.weight)
                == [536_870_000, 1_610_610_000])
        // Weights outside flagd's range (a caller's own Flag) give no split, never an overflow.
        #expect(Flag.split(base: ["a": Int.max], canary: "b", baseline: "a", basisPoints: 2_500) == nil)
        #expect(Flag.split(base: ["a": 1, "c": -5], canary: "b", baseline: "a", basisPoints: 2_500) == nil)
        #expect(Flag(key: "k", variants: ["a": 1], baseline: "a", canary: "b", weights: ["a": Int.max]).split.isEmpty)
        // Too fine to write within the total: refused by the plan (see PlanParserTests).
        #expect(Flag.split(base: ["a": 2_000_000_001, "c": 7], canary: "b", baseline: "a", basisPoints: 2_500) == nil)
        // Integer percents, basis points and their scalings assign every hash alike.
        for hash in stride(from: UInt32(0), to: UInt32.max - 9_999_999, by: 9_999_991) {
            let percent = Bucketing.bucket(hash: hash, totalWeight: 100) < 25
            let basisPoints = Bucketing.bucket(hash: hash, totalWeight: 10_000) < 2_500
            let fine = Bucketing.bucket(hash: hash, totalWeight: 2_000_000_000) < 500_000_000
            #expect(percent == basisPoints && basisPoints == fine)
        }
    }

    @Test func aChoosingRuleComesWholeAloneAndPassesNullOnOtherwise() {
        let logic: JSONValue = ["if": [["==": [["var": "tier"], "gold"]], "c", .null]]
        var flag = Flag(key: "k", variants: ["a": 1, "b": 2, "c": 3], baseline: "a", canary: "a")
        flag.rules = [TargetingRule(choose: logic)]
        #expect(flag.targeting == logic)
        flag.canary = "b"
        flag.canaryPercent = Percent(basisPoints: 5_000)
        #expect(
            flag.targeting
                == ["if": [["!==": [logic, .null]], logic, ["fractional": [["b", 5_000], ["a", 5_000]]]]])
        let compiled = CompiledFlag(flag)
        let gold = compiled.resolve(EvaluationContext(targetingKey: "u", attributes: ["tier": "gold"]), timestamp: 0)
        #expect(gold.variant == "c")
        let answers = Set(
            (0..<200).compactMap {
                compiled.resolve(EvaluationContext(targetingKey: "u\($0)", attributes: [:]), timestamp: 0).variant
            })
        #expect(answers == ["a", "b"])
    }

    @Test func typedAccessorsGiveTheValueOrTheDefault() {
        let on = Resolution(value: true, variant: "on", reason: .static)
        #expect(on.bool(default: false) && on.string(default: "d") == "d" && on.int(default: 3) == 3)
        let number = Resolution(value: 4, variant: "four", reason: .static)
        #expect(number.int(default: 0) == 4 && number.double(default: 0) == 4 && !number.bool(default: false))
        #expect(Resolution(value: 4.5, variant: "x", reason: .static).int(default: -1) == -1)
        #expect(Resolution(value: "s", variant: "x", reason: .static).string(default: "") == "s")
        #expect(Resolution.error(.flagNotFound, "no").bool(default: true))
        #expect(Resolution(value: nil, variant: nil, reason: .disabled).double(default: 2.5) == 2.5)
    }
}

/// The next bucketing generation's hash of any JSON value: murmur3 of its canonical CBOR, pinned to the bytes the
/// Python flagd provider 0.6.x hashes — `cbor2.dumps(normalize_numbers(json.loads(text)), canonical=True)` with
/// cbor2 5.9.0 — for every kind of JSON value and each width of number.
@Suite struct CBORBucketingTests {
    static let vectors: [(String, String)] = [
        (#"{"b":1,"aa":2,"a":3}"#, "a361610361620162616102"), ("1.5", "f93e00"), ("0.1", "fb3fb999999999999a"),
        ("100000.5", "fa47c35040"), ("1e300", "fb7e37e43c8800759c"),
        ("-9223372036854775808.0", "3b7fffffffffffffff"), ("9223372036854775808.0", "1b8000000000000000"),
        ("18446744073709551616.0", "fa5f800000"), ("true", "f5"), (#"[1,"x",null]"#, "83016178f6"),
        ("5.960464477539063e-08", "f90001"), ("1e-7", "fb3e7ad7f29abcaf48"),
        ("3.4028234663852886e+38", "fa7f7fffff"), ("1.401298464324817e-45", "fa00000001"), ("100.5", "f95648"),
        ("1000.5", "f963d1"), ("-0.5", "f9b800"), ("3.0", "03"), ("-1.0", "20"), ("24", "1818"), ("256", "190100"),
        ("65536", "1a00010000"), ("4294967296", "1b0000000100000000"), ("-0.0", "00"), (#""""#, "60"),
        (#"{"id":7,"name":"n0","tags":[1.5,true,null]}"#, "a362696407646e616d65626e30647461677383f93e00f5f6"),
        ("-4294967297.0", "3b0000000100000000"), ("1e20", "fb4415af1d78b58c40"),
    ]

    @Test func eachJSONValueHashesAsItsCanonicalCBOR() throws {
        for (text, hex) in Self.vectors {
            let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
            var hasher = Murmur3.Hasher()
            hasher.combine(bytes)
            #expect(Bucketing.cborHash(try JSONParser.parse(text)) == hasher.finalize(), "\(text)")
        }
        // A string hashes the same through either path.
        #expect(Bucketing.cborHash("acme") == Bucketing.hash("acme", generation: .cbor))
    }
}
