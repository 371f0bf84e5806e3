/// A moment in UTC with one-second resolution: what the state machine and the audit log use for time.
///
/// RampCore reads no clock; instants come in as values, so tests and simulations never sleep.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.seconds < b.seconds }
    /// Saturating: a stored time far out of range (a damaged store) cannot trap.
    public static func + (a: Instant, b: TimeSpan) -> Instant { Instant(seconds: saturating(a.seconds, b.seconds)) }
    public static func - (a: Instant, b: Instant) -> TimeSpan {
        TimeSpan(seconds: b.seconds == .min ? .max : saturating(a.seconds, -b.seconds))
    }

    /// The seconds of 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59Z: the times RFC 3339 can write.
    public static let representable: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    /// A whole number of Unix seconds as an instant, if it is one RFC 3339 can write.
    public init?(unixSeconds value: Double) {
        guard value.isFinite, value == value.rounded(), let seconds = Int64(exactly: value),
            Self.representable.contains(seconds)
        else { return nil }
        self.seconds = seconds
    }

    private static func saturating(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// RFC 3339 in UTC, e.g. `2026-01-01T00:10:00Z`.
    public var description: String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = Self.civil(fromDays: days)
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM` (fractional seconds are dropped).
    public init?(rfc3339 text: String) {
        let c = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= c.count else { return nil }
            var n: Int64 = 0
            for i in range {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                n = n * 10 + Int64(c[i] - 48)
            }
            return n
        }
        guard c.count >= 20, c[4] == 45, c[7] == 45, c[10] == 84 || c[10] == 116 || c[10] == 32, c[13] == 58,
            c[16] == 58, let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10),
            let h = number(11..<13), let mi = number(14..<16), let s = number(17..<19),
            (1...12).contains(mo), (1...Self.daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        if c[i] == 46 {
            i += 1
            let digitsStart = i
            while i < c.count, c[i] >= 48, c[i] <= 57 { i += 1 }
            if i == digitsStart { return nil }
        }
        var offset: Int64 = 0
        if i == c.count - 1, c[i] == 90 || c[i] == 122 {
            offset = 0
        } else if i + 6 == c.count, c[i] == 43 || c[i] == 45, c[i + 3] == 58, let oh = number(i + 1..<i + 3),
            let om = number(i + 4..<i + 6), oh < 24, om < 60
        {
            offset = (oh * 3600 + om * 60) * (c[i] == 45 ? -1 : 1)
        } else {
            return nil
        }
        let seconds = Self.days(fromCivil: y, m: mo, d: d) * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offset
        // An offset can carry a time past the years 0000–9999, which the canonical form cannot write.
        guard Self.representable.contains(seconds) else { return nil }
        self.seconds = seconds
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil and civil_from_days.
    private static func days(fromCivil year: Int64, m: Int64, d: Int64) -> Int64 {
        let y = m <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// A length of time in whole seconds, written in plans as `90s`, `10m`, `2h`, `1h30m` or `1d`.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static let zero = TimeSpan(seconds: 0)
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.seconds < b.seconds }

    /// Parses one or more `<whole number><unit>` parts, units `d`, `h`, `m`, `s`, largest first.
    public init?(parsing text: String) {
        let units: [(Character, Int64)] = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        var total: Int64 = 0
        var digits = ""
        var nextUnit = 0
        var sawPart = false
        for ch in text {
            if ch.isASCII, ch.isNumber {
                digits.append(ch)
                continue
            }
            guard !digits.isEmpty, digits.count <= 9, let n = Int64(digits),
                let unitIndex = units.firstIndex(where: { $0.0 == ch }), unitIndex >= nextUnit
            else { return nil }
            total += n * units[unitIndex].1
            nextUnit = unitIndex + 1
            digits = ""
            sawPart = true
        }
        // At most a century: longer waits protect nothing, and a time that far ahead soon leaves the calendar.
        guard digits.isEmpty, sawPart, total <= Self.longest.seconds else { return nil }
        seconds = total
    }

    /// The longest duration ramp reads: 36500d.
    public static let longest = TimeSpan(seconds: 36_500 * 86_400)

    /// `1h30m` for a number of seconds (rounded up), or `more than 1000 years` beyond what a plan could wait.
    public static func describing(seconds: Double) -> String {
        guard seconds.isFinite else { return "forever" }
        guard seconds < 1000 * 365 * 86_400 else { return "more than 1000 years" }
        return TimeSpan(seconds: Int64(max(0, seconds).rounded(.up))).description
    }

    /// The shortest plan-style spelling: `1h30m`, `45s`, `0s`.
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = abs(seconds)
        var out = seconds < 0 ? "-" : ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
