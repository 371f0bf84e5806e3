/// A share of traffic in basis points (1% = 100), so that 0.5% is exact and comparisons never meet rounding.
public struct Percent: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale = 10_000
    public static let zero = Percent(basisPoints: 0)
    public static let full = Percent(basisPoints: scale)

    public var basisPoints: Int

    public init(basisPoints: Int) { self.basisPoints = basisPoints }

    /// A percentage from a plan's number; nil unless it is a multiple of 0.01 in [0, 100].
    public init?(_ value: Double) {
        let scaled = (value * 100).rounded()
        guard value.isFinite, value >= 0, value <= 100, abs(scaled - value * 100) < 1e-6 else { return nil }
        basisPoints = Int(scaled)
    }

    public static func < (a: Percent, b: Percent) -> Bool { a.basisPoints < b.basisPoints }

    /// The percentage as a number: 5, 0.5, 12.25.
    public var value: Double { Double(basisPoints) / 100 }

    /// `5%`, `0.5%`, `12.25%`.
    public var description: String { JSONValue.format(value) + "%" }
}
