/// ramp's exit codes, documented in README.md ("Exit codes").
enum ExitCode {
    static let ok: Int32 = 0
    /// The store or the system failed (cannot open, disk, SQL).
    static let failure: Int32 = 1
    /// The command line is wrong: unknown verb or option, missing argument.
    static let usage: Int32 = 2
    /// The input is invalid: a malformed or invalid plan, an unreadable file, a bad time.
    static let invalid: Int32 = 3
    /// The named flag (or store) does not exist.
    static let notFound: Int32 = 4
    /// The request does not fit the state: an active rollout exists, not awaiting approval, no active rollout.
    static let conflict: Int32 = 5
    /// `ramp audit verify` found the log altered, or the store disagreeing with it.
    static let auditFailed: Int32 = 6
}
