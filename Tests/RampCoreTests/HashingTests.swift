import RampCore
import Testing

@Suite struct SHA256Tests {
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
