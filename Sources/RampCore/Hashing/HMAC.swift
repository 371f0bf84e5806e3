/// HMAC-SHA-256 (RFC 2104): signs a body with a shared key, as webhooks are signed (`X-Hub-Signature-256`).
public enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    public static func code(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// `sha256=<lowercase hex>`, the form GitHub's `X-Hub-Signature-256` header carries.
    public static func signature(key: String, body: [UInt8]) -> String {
        "sha256=" + Hex.encode(code(key: Array(key.utf8), message: body))
    }
}
