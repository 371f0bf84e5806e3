/// A plan that cannot be accepted, with where: `plans/x.json: steps[2].percent: 25 is not above …`.
public struct PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The plan file as the user named it.
    public var file: String
    /// The field path inside the document (`steps[2].percent`), or a line/column for syntax errors.
    public var path: String
    public var message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)" }
}
