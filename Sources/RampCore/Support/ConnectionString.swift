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

    /// The user part is everything before the string's last `@` (a password may hold `?`, `/` or `@`, and libpq
    /// takes them), so more is hidden rather than less; a query parameter whose key, percent-decoded, names a
    /// password (`password`, `sslpassword`, `%70assword`) is hidden too.
    private static func redactedURI(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        var rest = String(text[schemeEnd.upperBound...])
        if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            rest = String(rest[..<colon]) + ":***" + String(rest[at...])
        }
        let userEnd = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let question = rest[userEnd...].firstIndex(of: "?") {
            let query = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
                .map { pair -> String in
                    let key = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
                    return isPasswordKey(percentDecoded(String(key))) ? String(key) + "=***" : String(pair)
                }
            rest = String(rest[...question]) + query.joined(separator: "&")
        }
        return String(text[..<schemeEnd.upperBound]) + rest
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
        if isPostgres(text), let schemeEnd = text.firstRange(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                found.append(String(rest[rest.index(after: colon)..<at]))
            }
            let userEnd = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
            if let question = rest[userEnd...].firstIndex(of: "?") {
                for pair in rest[rest.index(after: question)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    if parts.count == 2, isPasswordKey(percentDecoded(String(parts[0]))) {
                        found.append(String(parts[1]))
                    }
                }
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
        let schemeEnd = text.firstRange(of: "://")!.upperBound
        let rest = text[schemeEnd...]
        let userEnd = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        let question = rest[userEnd...].firstIndex(of: "?")
        let given = Set(
            (question.map { rest[rest.index(after: $0)...] } ?? "").split(separator: "&").map {
                percentDecoded(String($0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]))
            })
        let added = defaults.filter { !given.contains($0.0) }.map { "\($0.0)=\($0.1)" }
        guard !added.isEmpty else { return text }
        let separator =
            question == nil ? (text.hasSuffix("?") ? "" : "?") : (text.hasSuffix("&") || text.hasSuffix("?") ? "" : "&")
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
