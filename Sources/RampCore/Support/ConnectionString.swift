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

    private static func redactedURI(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        var tail = String(rest[authorityEnd...])
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at]
            if let colon = user.firstIndex(of: ":") {
                authority = String(user[..<colon]) + ":***" + String(authority[at...])
            }
        }
        if let question = tail.firstIndex(of: "?") {
            let query = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
                .map { pair in pair.hasPrefix("password=") ? "password=***" : String(pair) }
            tail = String(tail[...question]) + query.joined(separator: "&")
        }
        return String(text[..<schemeEnd.upperBound]) + authority + tail
    }

    /// `host=db password='a b' user=x` → `host=db password=*** user=x` (a quoted value may hold spaces and `\'`).
    private static func redactedKeywords(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "password") {
            out += rest[..<range.lowerBound]
            var after = rest[range.upperBound...].drop(while: { $0 == " " })
            let startsKeyword =
                range.lowerBound == rest.startIndex || rest[rest.index(before: range.lowerBound)] == " "
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
