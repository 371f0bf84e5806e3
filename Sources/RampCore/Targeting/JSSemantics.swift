/// JavaScript's conversions and comparisons over JSON values, as the reference JsonLogic implementation
/// (json-logic-js, whose behaviour jsonlogic.com documents) applies them: `==` coerces, `<` compares strings as
/// strings and everything else as numbers, `+` parses floats.
enum JS {
    /// JsonLogic's truthiness: JavaScript's, except that an empty array is false. `"0"` is true.
    static func truthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let b): b
        case .number(let n): n != 0 && !n.isNaN
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object: true
        }
    }

    /// `String(value)`: numbers in JavaScript's form, arrays joined with commas, objects as `[object Object]`.
    static func string(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): number(n)
        case .string(let s): s
        case .array(let items): items.map { item in item == .null ? "" : string(item) }.joined(separator: ",")
        case .object: "[object Object]"
        }
    }

    /// A number as JavaScript prints it: `1`, `0.5`, `NaN`, `Infinity`, `1e+21`. (Integers from 2^53 up to 1e21
    /// print in exponent form here, where JavaScript writes every digit.)
    static func number(_ n: Double) -> String {
        if n.isNaN { return "NaN" }
        if n.isInfinite { return n > 0 ? "Infinity" : "-Infinity" }
        if n == n.rounded(), abs(n) < 1e21 {
            if abs(n) < 9_007_199_254_740_992 { return String(Int64(n)) }
            return exponentForm(n)
        }
        return exponentForm(n)
    }

    /// Swift's shortest round-trip digits rewritten in JavaScript's exponent style (`1e+21`, `1e-7`).
    private static func exponentForm(_ n: Double) -> String {
        let text = "\(n)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        var mantissa = text[..<e]
        if mantissa.hasSuffix(".0") { mantissa = mantissa.dropLast(2) }
        var exponent = text[text.index(after: e)...]
        var sign = "+"
        if exponent.first == "-" || exponent.first == "+" {
            if exponent.first == "-" { sign = "-" }
            exponent = exponent.dropFirst()
        }
        while exponent.count > 1, exponent.first == "0" { exponent = exponent.dropFirst() }
        return "\(mantissa)e\(sign)\(exponent)"
    }

    /// `Number(value)`: `null` and `""` are 0, booleans 0 or 1, strings parsed whole (else NaN), arrays through
    /// their string form, objects NaN.
    static func toNumber(_ value: JSONValue) -> Double {
        switch value {
        case .null: 0
        case .bool(let b): b ? 1 : 0
        case .number(let n): n
        case .string(let s): toNumber(s)
        case .array: toNumber(string(value))
        case .object: .nan
        }
    }

    private static let whitespace: Set<Unicode.Scalar> = [
        " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{A0}", "\u{FEFF}",
    ]

    static func toNumber(_ text: String) -> Double {
        let scalars = text.unicodeScalars.drop(while: whitespace.contains).reversed().drop(while: whitespace.contains)
        let trimmed = String(String.UnicodeScalarView(scalars.reversed()))
        if trimmed.isEmpty { return 0 }
        switch trimmed {
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        let lower = trimmed.lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            let digits = lower.dropFirst(2)
            guard !digits.isEmpty, let value = UInt64(digits, radix: radix) else { return .nan }
            return Double(value)
        }
        guard trimmed.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }),
            trimmed.unicodeScalars.contains(where: { ("0"..."9").contains($0) }),
            let value = Double(trimmed)
        else { return .nan }
        return value
    }

    /// `parseFloat(String(value))`: the longest numeric prefix after leading whitespace, else NaN.
    static func parseFloat(_ value: JSONValue) -> Double {
        if case .number(let n) = value { return n }
        let text = Array(string(value).unicodeScalars.drop(while: whitespace.contains))
        var end = 0
        func digits() -> Int {
            let start = end
            while end < text.count, ("0"..."9").contains(text[end]) { end += 1 }
            return end - start
        }
        if end < text.count, text[end] == "+" || text[end] == "-" { end += 1 }
        let signLength = end
        if text[end...].starts(with: "Infinity".unicodeScalars) {
            return signLength == 1 && text[0] == "-" ? -.infinity : .infinity
        }
        var mantissa = digits()
        if end < text.count, text[end] == "." {
            end += 1
            mantissa += digits()
            if mantissa == 0 { return .nan }
        }
        guard mantissa > 0 else { return .nan }
        let beforeExponent = end
        if end < text.count, text[end] == "e" || text[end] == "E" {
            end += 1
            if end < text.count, text[end] == "+" || text[end] == "-" { end += 1 }
            if digits() == 0 { end = beforeExponent }
        }
        var prefix = String.UnicodeScalarView()
        prefix.append(contentsOf: text[..<end])
        return Double(String(prefix)) ?? .nan
    }

    /// `a == b`: same types compare by value (arrays and objects by identity, so never equal here); null equals
    /// only null; booleans become numbers; a string meets a number as a number; an array or object meets a primitive
    /// through its string form.
    static func looseEquals(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.bool(let x), .bool(let y)): return x == y
        case (.bool(let x), _): return looseEquals(.number(x ? 1 : 0), b)
        case (_, .bool(let y)): return looseEquals(a, .number(y ? 1 : 0))
        case (.number(let x), .string(let y)): return x == toNumber(y)
        case (.string(let x), .number(let y)): return toNumber(x) == y
        case (.array, .array), (.object, .object), (.array, .object), (.object, .array): return false
        case (.array, _), (.object, _): return looseEquals(.string(string(a)), b)
        case (_, .array), (_, .object): return looseEquals(a, .string(string(b)))
        }
    }

    /// `a === b`: same type and value; arrays and objects are never identical here.
    static func strictEquals(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
        case (.bool(let x), .bool(let y)): x == y
        default: false
        }
    }

    /// `a < b`: two strings (after arrays and objects become strings) compare by UTF-16 code units, anything else
    /// as numbers; nil when a number is NaN (every comparison with NaN is false).
    private static func lessThan(_ a: JSONValue, _ b: JSONValue) -> Bool? {
        let pa = primitive(a)
        let pb = primitive(b)
        if case .string(let x) = pa, case .string(let y) = pb {
            return x.utf16.lexicographicallyPrecedes(y.utf16)
        }
        let x = toNumber(pa)
        let y = toNumber(pb)
        if x.isNaN || y.isNaN { return nil }
        return x < y
    }

    private static func primitive(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array, .object: .string(string(value))
        default: value
        }
    }

    static func less(_ a: JSONValue, _ b: JSONValue) -> Bool { lessThan(a, b) ?? false }
    static func greater(_ a: JSONValue, _ b: JSONValue) -> Bool { lessThan(b, a) ?? false }
    static func lessOrEqual(_ a: JSONValue, _ b: JSONValue) -> Bool { lessThan(b, a).map { !$0 } ?? false }
    static func greaterOrEqual(_ a: JSONValue, _ b: JSONValue) -> Bool { lessThan(a, b).map { !$0 } ?? false }
}
