/// Numbers from outside, read as decimals only: a metric command's output, a value given to `ramp record`, a
/// Prometheus sample.
public enum DecimalText {
    /// A decimal float as the exposition format writes one (`-1.5`, `2e-3`, `.5`), and nothing else: no `inf`,
    /// `Infinity`, hexadecimal, underscores or spaces, which `Double(_:)` or Go's ParseFloat would also take.
    /// An overflowing literal (`1e400`) gives ±infinity, which the caller refuses.
    public static func parse(_ text: String) -> Double? {
        var bytes = text.utf8[...]
        func digits() -> Int {
            let count = bytes.prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }).count
            bytes = bytes.dropFirst(count)
            return count
        }
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        var mantissa = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return nil }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                bytes = bytes.dropFirst()
            }
            guard digits() > 0 else { return nil }
        }
        guard bytes.isEmpty else { return nil }
        return Double(text)
    }
}
