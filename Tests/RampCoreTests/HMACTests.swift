import RampCore
import Testing

/// HMAC-SHA-256 against RFC 4231's test vectors, and GitHub's documented webhook signature example.
@Suite struct HMACTests {
    static func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }

    @Test(arguments: [
        // RFC 4231 test case 1: a 20-byte key.
        (
            String(repeating: "0b", count: 20), "4869205468657265",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        // Test case 2: a key shorter than the block ("Jefe").
        (
            "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        // Test case 3: 20 bytes of 0xaa, 50 bytes of 0xdd.
        (
            String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        // Test case 6: a 131-byte key, longer than the block, is hashed first.
        (
            String(repeating: "aa", count: 131),
            "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
    ])
    func matchesRFC4231(key: String, data: String, expected: String) {
        #expect(Hex.encode(HMACSHA256.code(key: Self.bytes(key), message: Self.bytes(data))) == expected)
    }

    /// GitHub's "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    @Test func signsAsGitHubDocumentsIt() {
        #expect(
            HMACSHA256.signature(key: "It's a Secret to Everybody", body: Array("Hello, World!".utf8))
                == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }
}
