/// Prometheus' text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one line per sample, label
/// values escaped (`\\`, `\"`, `\n`), values as Go prints them (`NaN`, `+Inf`, `-Inf`, shortest decimals).
public struct MetricsExposition: Sendable {
    public enum Kind: String, Sendable { case gauge, counter }

    public struct Family: Sendable {
        public var name: String
        public var help: String
        public var kind: Kind
        public var samples: [(labels: [(String, String)], value: Double)]
    }

    public private(set) var families: [Family] = []

    public init() {}

    /// Adds a family; samples may be added to it with `add`. A family with no samples is still described.
    public mutating func describe(_ name: String, _ kind: Kind, _ help: String) {
        families.append(Family(name: name, help: help, kind: kind, samples: []))
    }

    /// A sample of the family most recently described under `name`.
    public mutating func add(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        guard let index = families.lastIndex(where: { $0.name == name }) else { return }
        families[index].samples.append((labels, value))
    }

    public var text: String {
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += family.name
                if !sample.labels.isEmpty {
                    out +=
                        "{" + sample.labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                }
                out += " " + Self.format(sample.value) + "\n"
            }
        }
        return out
    }

    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// `NaN`, `+Inf`, `-Inf`, or the shortest decimal (integers without a fraction).
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return JSONValue.format(value)
    }
}
