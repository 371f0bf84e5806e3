public import RampCore
import RampStore

/// Everything an engine call can refuse or fail with; the CLI maps each case to one exit code.
public enum RampError: Error, Sendable, CustomStringConvertible {
    /// A plan (or other input) that is malformed or invalid.
    case invalid(PlanError)
    /// Input other than a plan that cannot be used (a bad key file, a bad time).
    case badInput(String)
    /// An unknown flag or rollout.
    case notFound(String)
    /// The request does not fit the current state (an active rollout exists, not awaiting approval, lost a race).
    case conflict(String)
    case store(StoreError)
    /// The system failed outside the store: a file that could not be written. Not the input's fault.
    case system(String)

    public var description: String {
        switch self {
        case .invalid(let error): error.description
        case .badInput(let message), .notFound(let message), .conflict(let message), .system(let message): message
        case .store(let error): error.description
        }
    }
}
