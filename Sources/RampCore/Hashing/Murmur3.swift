/// MurmurHash3 x86_32, the hash behind flagd's `fractional` bucketing.
public enum Murmur3 {
    /// The 32-bit hash of `bytes` with `seed`.
    public static func x86_32<Bytes: Collection>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        var h = seed
        var k: UInt32 = 0
        var shift: UInt32 = 0
        var count = 0
        for byte in bytes {
            k |= UInt32(byte) << shift
            shift += 8
            count += 1
            if shift == 32 {
                k = (k &* c1).rotatedLeft(15) &* c2
                h ^= k
                h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
                k = 0
                shift = 0
            }
        }
        if shift != 0 {
            k = (k &* c1).rotatedLeft(15) &* c2
            h ^= k
        }
        h ^= UInt32(truncatingIfNeeded: count)
        h ^= h >> 16
        h &*= 0x85eb_ca6b
        h ^= h >> 13
        h &*= 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The hash of a string's UTF-8 bytes.
    public static func x86_32(_ text: String, seed: UInt32 = 0) -> UInt32 {
        var text = text
        return text.withUTF8 { x86_32($0, seed: seed) }
    }
}

extension UInt32 {
    @inline(__always) fileprivate func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}
