/// Takes secrets out of text that came from outside (a server's error, a body, a command's stderr) before it is
/// stored as evidence or printed: the audit log is append-only, so a secret that reached it could never be removed.
public enum Redaction {
    public static let mark = "[redacted]"

    /// `text` with every occurrence of each secret (of at least 4 characters) replaced, and with the value of
    /// anything that looks like an `Authorization` header or a `Bearer`/`Basic` credential replaced too.
    /// A secret is also found as a JSON string writes it (`/` as `\/`, a quote or backslash escaped), since a
    /// server that echoes it in a JSON error body may escape it.
    public static func apply(_ text: String, secrets: [String] = []) -> String {
        var out = text
        let spellings = Set(
            secrets.filter { $0.count >= 4 }.flatMap {
                [$0, jsonEscaped($0, slash: false), jsonEscaped($0, slash: true)]
            })
        for secret in spellings.sorted(by: { $0.count > $1.count }) {
            out = out.replacing(secret, with: mark)
        }
        return credentialPatterns(out)
    }

    /// The secret as a JSON encoder writes it: a quote and a backslash escaped, and a slash too where the encoder
    /// escapes it (PHP's does, Python's, Go's and JavaScript's do not).
    private static func jsonEscaped(_ secret: String, slash: Bool) -> String {
        var out = ""
        for c in secret {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "/" where slash: out += "\\/"
            default: out.append(c)
            }
        }
        return out
    }

    /// `Authorization: x`, `authorization=x`, `"Authorization":"x"`, `Bearer x`, `Basic x`: the value goes.
    static func credentialPatterns(_ text: String) -> String {
        guard text.lowercased().contains("authorization") || text.contains("Bearer ") || text.contains("Basic ") else {
            return text
        }
        var out = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if let (prefix, after, endsAtSpace) = matchCredentialLead(rest) {
                let value = after.prefix { !isValueEnd($0) && !(endsAtSpace && $0 == " ") }
                // The white space after the value is not part of it.
                let trailing = value.reversed().prefix(while: \.isWhitespace)
                out += prefix + mark + String(trailing.reversed())
                rest = after.dropFirst(value.count)
            } else {
                out.append(rest.removeFirst())
            }
        }
        return out
    }

    /// What ends a credential's value: a credential (RFC 7235's token68) never holds these, and `|` joins the lines
    /// of a command's stderr that ramp keeps.
    private static func isValueEnd(_ c: Character) -> Bool {
        c == "\"" || c == "'" || c == "," || c == "}" || c == ";" || c.isNewline || c == "&" || c == "<" || c == "|"
    }

    /// At the start of `text`: a credential's lead (kept), where its value starts, and whether a space ends it.
    private static func matchCredentialLead(_ text: Substring) -> (String, Substring, Bool)? {
        // The schemes as HTTP writes them (RFC 7235), followed by a token68 credential.
        for scheme in ["Bearer ", "Basic "] where text.hasPrefix(scheme) {
            let after = text.dropFirst(scheme.count)
            guard let first = after.first, first.isASCII, first.isLetter || first.isNumber || "-._~+/".contains(first)
            else { return nil }
            return (scheme, after, true)
        }
        guard text.prefix(13).lowercased() == "authorization" else { return nil }
        var after = text.dropFirst(13)
        var lead = String(text.prefix(13))
        // A separator: `:`, `=`, `":"`, with spaces and quotes around it.
        let separators = after.prefix { $0 == " " || $0 == "\"" || $0 == "'" || $0 == ":" || $0 == "=" }
        guard separators.contains(":") || separators.contains("=") else { return nil }
        lead += separators
        after = after.dropFirst(separators.count)
        return (lead, after, false)
    }
}
