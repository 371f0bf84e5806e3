// How statistical verdicts write numbers for people: percentages, counts, significant digits.

/// `1.31%`.
func percent(_ x: Double) -> String {
    let hundred = x * 100
    guard abs(hundred) < 1e15 else { return JSONValue.format(hundred) + "%" }
    return hundred == hundred.rounded() ? "\(Int(hundred))%" : "\(decimals(hundred, hundred < 10 ? 2 : 1))%"
}

/// `4,100`.
func count(_ x: Double) -> String {
    guard x.isFinite, abs(x) < 1e15 else { return JSONValue.format(x) }
    let value = Int(x.rounded())
    let digits = Array(String(value.magnitude).utf8)
    var out: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
    for (i, digit) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(UInt8(ascii: ",")) }
        out.append(digit)
    }
    return String(decoding: out, as: UTF8.self)
}

/// Four significant digits, or scientific for very small values: `0.0312`, `2.1e-7`.
func format(_ x: Double) -> String {
    if x == 0 || !x.isFinite { return JSONValue.format(x) }
    let magnitude = abs(x)
    if magnitude < 1e-4 {
        var exponent = 0
        var mantissa = magnitude
        while mantissa < 1 {
            mantissa *= 10
            exponent -= 1
        }
        return "\(x < 0 ? "-" : "")\(decimals(mantissa, 1))e\(exponent)"
    }
    var places = 3
    var scale = magnitude
    while scale >= 10, places > 0 {
        scale /= 10
        places -= 1
    }
    while scale < 1 {
        scale *= 10
        places += 1
    }
    return decimals(x, places)
}

/// `x` rounded to `places` decimals, written without exponent.
func decimals(_ x: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    guard x.isFinite, abs(x) * scale < 1e15 else { return JSONValue.format(x) }
    let rounded = (abs(x) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    let sign = x < 0 && rounded != 0 ? "-" : ""
    if places == 0 { return "\(sign)\(whole)" }
    let digits = String(fraction)
    return "\(sign)\(whole).\(String(repeating: "0", count: places - digits.count))\(digits)"
}
