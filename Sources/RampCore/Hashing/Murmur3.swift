/// MurmurHash3 x86_32, the hash behind flagd's `fractional` bucketing.
public enum Murmur3 {
    /// The 32-bit hash of `bytes` with `seed`.
    public static func x86_32<Bytes: Sequence>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        var hasher = Hasher(seed: seed)
        hasher.combine(bytes)
        return hasher.finalize()
    }

    /// The hash of a string's UTF-8 bytes.
    public static func x86_32(_ text: String, seed: UInt32 = 0) -> UInt32 {
        var hasher = Hasher(seed: seed)
        hasher.combine(text)
        return hasher.finalize()
    }

    /// The hash of bytes fed in pieces, so that two strings hash as one without being joined first.
    public struct Hasher {
        private var h: UInt32
        private var k: UInt32 = 0
        private var shift: UInt32 = 0
        private var count = 0
        private static let c1: UInt32 = 0xcc9e_2d51
        private static let c2: UInt32 = 0x1b87_3593

        public init(seed: UInt32 = 0) { h = seed }

        @inline(__always) public mutating func combine(byte: UInt8) {
            k |= UInt32(byte) << shift
            shift += 8
            count += 1
            if shift == 32 {
                k = (k &* Self.c1).rotatedLeft(15) &* Self.c2
                h ^= k
                h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
                k = 0
                shift = 0
            }
        }

        public mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            for byte in bytes { combine(byte: byte) }
        }

        /// A string's UTF-8 bytes.
        public mutating func combine(_ text: String) {
            var text = text
            text.withUTF8 { combine(buffer: $0) }
        }

        /// Bytes from a buffer: whole 4-byte words at once while the hasher is at a word boundary.
        public mutating func combine(buffer: UnsafeBufferPointer<UInt8>) {
            var i = 0
            let n = buffer.count
            while shift != 0, i < n {
                combine(byte: buffer[i])
                i += 1
            }
            while i + 4 <= n {
                let word =
                    UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16
                    | UInt32(buffer[i + 3]) << 24
                h ^= (word &* Self.c1).rotatedLeft(15) &* Self.c2
                h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
                count += 4
                i += 4
            }
            while i < n {
                combine(byte: buffer[i])
                i += 1
            }
        }

        public func finalize() -> UInt32 {
            var h = self.h
            if shift != 0 { h ^= (k &* Self.c1).rotatedLeft(15) &* Self.c2 }
            h ^= UInt32(truncatingIfNeeded: count)
            h ^= h >> 16
            h &*= 0x85eb_ca6b
            h ^= h >> 13
            h &*= 0xc2b2_ae35
            h ^= h >> 16
            return h
        }
    }
}

extension UInt32 {
    @inline(__always) fileprivate func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}
