internal import CSHA256

/// SHA-256 (FIPS 180-4), from our own small C target (`CSHA256`): the CPU's SHA extensions when it has them,
/// chosen once at run time, and a portable implementation everywhere else; both give the same digests
/// (tested on NIST's vectors).
///
/// ```swift
/// SHA256.hex("abc")  // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
public struct SHA256: Sendable {
    private var context = csha256_ctx()

    public init() { csha256_init(&context) }

    /// Feeds more bytes into the hash.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let contiguous: Bool? = bytes.withContiguousStorageIfAvailable { buffer in
            csha256_update(&context, buffer.baseAddress, buffer.count)
            return true
        }
        if contiguous == nil { update(bytes: Array(bytes)) }
    }

    /// Feeds the bytes of a buffer into the hash.
    public mutating func update(bytes: UnsafeRawBufferPointer) {
        csha256_update(&context, bytes.baseAddress, bytes.count)
    }

    private mutating func update(bytes: [UInt8]) {
        bytes.withUnsafeBytes { update(bytes: $0) }
    }

    /// Pads, finishes and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            csha256_final(&context, buffer.baseAddress!)
            count = 32
        }
    }

    /// The digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The lowercase hexadecimal digest of a string's UTF-8 bytes.
    public static func hex(_ text: String) -> String {
        var text = text
        return Hex.encode(text.withUTF8 { hash($0) })
    }

    /// Whether hashing goes through the CPU's SHA extensions now.
    public static var accelerated: Bool { csha256_accelerated() != 0 }

    /// For tests and benchmarks: `true` sends every later block, in every thread, through the portable path;
    /// `false` returns to the automatic choice. Digests never change.
    public static func forcePortable(_ on: Bool) { csha256_force_portable(on ? 1 : 0) }
}

/// Lowercase hexadecimal encoding and decoding.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a hexadecimal string, or nil when it is not one.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
