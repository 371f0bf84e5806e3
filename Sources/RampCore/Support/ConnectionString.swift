/// A PostgreSQL connection string as ramp may show it: the password — in a `postgres://` URI's user part, in a
/// `password=` query parameter, or as a `password=` keyword of the key/value form — replaced by `***`, so that
/// no message or log carries it.
///
/// ```swift
/// ConnectionString.redacted("postgres://ramp:s3cret@db:5432/ramp")  // "postgres://ramp:***@db:5432/ramp"
/// ```
public enum ConnectionString {
    public static func redacted(_ text: String) -> String {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return redactedURI(text)
        }
        return redactedKeywords(text)
    }

    /// Whether `text` names a PostgreSQL store rather than a file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// A `postgres://` URI cut where ramp needs it: the password, and the query's `key=value` pairs. The user
    /// part is everything before the string's last `@` (a password may hold `?`, `/` or `@`, and libpq takes
    /// them), so more is taken for the password rather than less; the query starts at the first `?` after it.
    private struct URI {
        let text: String
        /// Between the user part's first `:` and the last `@`.
        let password: Range<String.Index>?
        /// After the query's `?`, to the end.
        let query: Range<String.Index>?

        init?(_ text: String) {
            guard let schemeEnd = text.firstRange(of: "://")?.upperBound else { return nil }
            self.text = text
            let rest = text[schemeEnd...]
            let at = rest.lastIndex(of: "@")
            password = at.flatMap { at in rest[..<at].firstIndex(of: ":").map { rest.index(after: $0)..<at } }
            let userEnd = at.map { rest.index(after: $0) } ?? rest.startIndex
            query = rest[userEnd...].firstIndex(of: "?").map { text.index(after: $0)..<text.endIndex }
        }

        /// The query's pairs as written, each split at its first `=` (a pair without one is a key alone).
        var pairs: [(key: Substring, value: Substring?)] {
            guard let query else { return [] }
            return text[query].split(separator: "&", omittingEmptySubsequences: false).map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (parts[0], parts.count == 2 ? parts[1] : nil)
            }
        }
    }

    /// The password in the user part, and a query parameter whose key, percent-decoded, names a password
    /// (`password`, `sslpassword`, `%70assword`), hidden.
    private static func redactedURI(_ text: String) -> String {
        guard let uri = URI(text) else { return text }
        let queryStart = uri.query?.lowerBound ?? text.endIndex
        var out =
            uri.password.map { String(text[..<$0.lowerBound]) + "***" + String(text[$0.upperBound..<queryStart]) }
            ?? String(text[..<queryStart])
        if uri.query != nil {
            out += uri.pairs.map { pair in
                isPasswordKey(percentDecoded(String(pair.key)))
                    ? pair.key + "=***" : pair.key + (pair.value.map { "=" + $0 } ?? "")
            }.joined(separator: "&")
        }
        return out
    }

    private static func isPasswordKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        return lower == "password" || lower == "sslpassword"
    }

    /// `%XX` escapes decoded (a bad escape is kept as it is).
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count,
                let byte = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The password values a connection string holds (as written and percent-decoded), so that a message that
    /// quotes them (libpq's do) can have them hidden wherever they appear.
    public static func secrets(in text: String) -> [String] {
        var found: [String] = []
        if isPostgres(text), let uri = URI(text) {
            if let password = uri.password { found.append(String(text[password])) }
            for (key, value) in uri.pairs where isPasswordKey(percentDecoded(String(key))) {
                if let value { found.append(String(value)) }
            }
        } else {
            var rest = Substring(text)
            while let range = rest.firstRange(of: "password") {
                var after = rest[range.upperBound...].drop(while: { $0 == " " })
                guard after.first == "=" else {
                    rest = rest[range.upperBound...]
                    continue
                }
                after = after.dropFirst().drop(while: { $0 == " " })
                let value = after.first == "'" ? after.dropFirst().prefix { $0 != "'" } : after.prefix { $0 != " " }
                found.append(String(value))
                rest = after.dropFirst(value.count)
            }
        }
        return Array(Set(found.flatMap { [$0, percentDecoded($0)] }.filter { $0.count >= 2 })).sorted {
            $0.count > $1.count
        }
    }

    /// `message` with every password `connection` holds replaced by `***`.
    public static func hiding(_ connection: String, in message: String) -> String {
        var out = message
        for secret in secrets(in: connection) { out = out.replacing(secret, with: "***") }
        return out
    }

    /// Whether `text` looks like libpq's key/value form (`host=db dbname=ramp …`), which ramp does not take as a
    /// store: it would otherwise name a file.
    public static func isKeywordForm(_ text: String) -> Bool {
        let keys = [
            "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "sslmode",
            "connect_timeout", "options", "application_name",
        ]
        let trimmed = text.drop(while: { $0 == " " })
        return keys.contains { key in
            trimmed.hasPrefix(key) && trimmed.dropFirst(key.count).drop(while: { $0 == " " }).first == "="
        }
    }

    /// `text` (a `postgres://` URI) with ramp's defaults for the options it does not set: give up connecting
    /// after 10 s (`connect_timeout`), and probe an idle connection from this side after 30 s, three times 10 s
    /// apart, giving up on unacknowledged data after 60 s (`keepalives_*`, `tcp_user_timeout`), so that a
    /// server out of reach fails a command rather than hanging it.
    public static func withDefaults(_ text: String) -> String {
        guard isPostgres(text) else { return text }
        let defaults = [
            ("connect_timeout", "10"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
            ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
        ]
        guard let uri = URI(text) else { return text }
        let given = Set(uri.pairs.map { percentDecoded(String($0.key)) })
        let added = defaults.filter { !given.contains($0.0) }.map { "\($0.0)=\($0.1)" }
        guard !added.isEmpty else { return text }
        let separator =
            uri.query == nil
            ? (text.hasSuffix("?") ? "" : "?") : (text.hasSuffix("&") || text.hasSuffix("?") ? "" : "&")
        return text + separator + added.joined(separator: "&")
    }

    /// `host=db password='a b' user=x` → `host=db password=*** user=x` (a quoted value may hold spaces and `\'`).
    private static func redactedKeywords(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "password") {
            out += rest[..<range.lowerBound]
            var after = rest[range.upperBound...].drop(while: { $0 == " " })
            var keyStart = range.lowerBound
            if rest[..<keyStart].hasSuffix("ssl") { keyStart = rest.index(keyStart, offsetBy: -3) }
            let startsKeyword = keyStart == rest.startIndex || rest[rest.index(before: keyStart)] == " "
            guard startsKeyword, after.first == "=" else {
                out += rest[range]
                rest = rest[range.upperBound...]
                continue
            }
            after = after.dropFirst().drop(while: { $0 == " " })
            out += "password=***"
            if after.first == "'" {
                var i = after.index(after: after.startIndex)
                while i < after.endIndex, after[i] != "'" {
                    if after[i] == "\\" {
                        i = after.index(i, offsetBy: 2, limitedBy: after.endIndex) ?? after.endIndex
                    } else {
                        i = after.index(after: i)
                    }
                }
                rest = i < after.endIndex ? after[after.index(after: i)...] : after[after.endIndex...]
            } else {
                rest = after.drop(while: { $0 != " " })
            }
        }
        return out + rest
    }
}
