/// JSON Pointer (RFC 6901): `/a/b/0` names a value inside a document; `~1` is `/` and `~0` is `~` in a token.
public enum JSONPointer {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case missing(String)
        public var description: String {
            switch self {
            case .malformed(let pointer): "\"\(pointer)\" is not a JSON Pointer"
            case .missing(let pointer): "no value at \(pointer)"
            }
        }
    }

    /// The value `pointer` names in `document`; the empty pointer is the whole document.
    public static func resolve(_ pointer: String, in document: JSONValue) throws(Failure) -> JSONValue {
        if pointer.isEmpty { return document }
        guard pointer.hasPrefix("/") else { throw .malformed(pointer) }
        var current = document
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard !raw.replacing("~0", with: "").replacing("~1", with: "").contains("~") else {
                throw .malformed(pointer)
            }
            let token = raw.replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object(let members):
                guard let next = members[String(token)] else { throw .missing(pointer) }
                current = next
            case .array(let items):
                guard let index = Int(token), index >= 0, index < items.count, token == "\(index)" else {
                    throw .missing(pointer)
                }
                current = items[index]
            default:
                throw .missing(pointer)
            }
        }
        return current
    }
}
