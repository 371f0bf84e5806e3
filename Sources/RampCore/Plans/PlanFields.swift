/// Reads one JSON object field by field, remembering which keys were used so unknown keys are refused.
struct Fields {
    let file: String
    let path: String
    let members: [String: JSONValue]
    /// The keys read so far (a plan object has a few dozen at most: a list is cheaper than hashing each).
    var used: [String] = []

    init(file: String, path: String, value: JSONValue) throws(PlanError) {
        self.file = file
        self.path = path
        guard case .object(let members) = value else {
            throw PlanError(file: file, path: path, message: "expected an object, found \(value.typeName)")
        }
        self.members = members
    }

    /// A field that is required but missing is more likely misspelt: an unknown field one typo away from it is
    /// named instead, with the hint.
    func fail(_ key: String?, _ message: String) -> PlanError {
        if let key, message.hasPrefix("is required"), members[key] == nil,
            let typo = members.keys.sorted().first(where: {
                !used.contains($0) && Spelling.suggestion(for: $0, among: [key]) != nil
            })
        {
            return PlanError(file: file, path: join(typo), message: "unknown field (did you mean \"\(key)\"?)")
        }
        return PlanError(file: file, path: join(key), message: message)
    }

    func join(_ key: String?) -> String {
        guard let key else { return path }
        return path.isEmpty ? key : "\(path).\(key)"
    }

    mutating func value(_ key: String) -> JSONValue? {
        if !used.contains(key) { used.append(key) }
        return members[key]
    }

    mutating func string(_ key: String) throws(PlanError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw fail(key, "expected a string, found \(v.typeName)") }
        return s
    }

    mutating func requiredString(_ key: String) throws(PlanError) -> String {
        guard let s = try string(key) else { throw fail(key, "is required") }
        return s
    }

    mutating func number(_ key: String) throws(PlanError) -> Double? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v else { throw fail(key, "expected a number, found \(v.typeName)") }
        return n
    }

    mutating func bool(_ key: String) throws(PlanError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw fail(key, "expected true or false, found \(v.typeName)") }
        return b
    }

    mutating func span(_ key: String, minimum: TimeSpan) throws(PlanError) -> TimeSpan? {
        guard let text = try string(key) else { return nil }
        guard let span = TimeSpan(parsing: text) else {
            throw fail(key, "\"\(text)\" is not a duration (use forms like 90s, 10m, 2h, 1h30m, 1d)")
        }
        guard span >= minimum else { throw fail(key, "\(span) is shorter than the minimum \(minimum)") }
        return span
    }

    func rejectUnknown() throws(PlanError) {
        if let unknown = members.keys.filter({ !used.contains($0) }).sorted().first {
            throw fail(unknown, "unknown field" + Spelling.hint(for: unknown, among: used))
        }
    }
}
