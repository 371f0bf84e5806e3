/// "Did you mean": the known word one typo away from an unknown one.
public enum Spelling {
    /// The candidate one edit away from `word` (a letter added, dropped, changed, or two neighbours swapped), if
    /// exactly one is; nil when none or several are.
    public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let near = Set(
            candidates.filter { $0 != word && isOneEditAway(Array(word.unicodeScalars), Array($0.unicodeScalars)) })
        return near.count == 1 ? near.first : nil
    }

    /// ` (did you mean "x"?)`, or nothing.
    public static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        suggestion(for: word, among: candidates).map { " (did you mean \"\($0)\"?)" } ?? ""
    }

    static func isOneEditAway(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Bool {
        if a.count == b.count {
            let differ = a.indices.filter { a[$0] != b[$0] }
            if differ.count == 1 { return true }
            // Two neighbours swapped.
            return differ.count == 2 && differ[1] == differ[0] + 1 && a[differ[0]] == b[differ[1]]
                && a[differ[1]] == b[differ[0]]
        }
        let (short, long) = a.count < b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        // One letter added: skipping one position of the longer makes them equal.
        var i = 0
        while i < short.count, short[i] == long[i] { i += 1 }
        return short[i...].elementsEqual(long[(i + 1)...])
    }
}

/// Untrusted text made safe for one line of output: control characters (a newline in a gate name, an escape
/// sequence in a server's error) are shown as `\n`, `\u{1b}`, never acted on.
public enum Escape {
    public static func line(_ text: String, keepingTabs: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !(keepingTabs && $0 == "\t") }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t" where keepingTabs: out.unicodeScalars.append(scalar)
            case "\t": out += "\\t"
            case _ where isControl(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the invisible format characters
    /// that reorder or hide text on screen (bidirectional overrides and isolates, zero-width characters, the BOM).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7f...0x9f).contains(v) || (0x200b...0x200f).contains(v) || (0x2028...0x202e).contains(v)
            || (0x2060...0x2064).contains(v) || (0x2066...0x2069).contains(v) || v == 0xfeff
    }
}
