import Foundation
public import RampCore

/// What can be seen wrong with a source before it is ever read: a command that is not there or not executable, a
/// credential that this environment does not have. Plans are checked where they are validated and submitted,
/// which is often a shell whose environment differs from cron's, so these are warnings, not refusals.
public enum SourceCheck {
    /// One sentence per problem, naming the source.
    public static func warnings(source name: String, _ spec: SourceSpec, baseDir: String) -> [String] {
        switch spec {
        case .command(let argv, _):
            guard let executable = argv.first, !executable.contains("{{") else { return [] }
            if CommandSource.resolve(executable, baseDir: baseDir) != nil { return [] }
            guard executable.contains("/") else {
                return ["source \(name): command \(executable) is not an executable on PATH"]
            }
            let path =
                executable.hasPrefix("/")
                ? executable : URL(fileURLWithPath: baseDir).appendingPathComponent(executable).standardized.path
            let exists = FileManager.default.fileExists(atPath: path)
            return ["source \(name): command \(path) " + (exists ? "is not executable" : "does not exist")]
        case .prometheus(let endpoint), .http(let endpoint):
            var out: [String] = []
            let environment = ProcessInfo.processInfo.environment
            for variable in [endpoint.bearerTokenEnv, endpoint.basicAuthPasswordEnv].compactMap({ $0 })
            where environment[variable]?.isEmpty ?? true {
                out.append(
                    "source \(name): environment variable \(variable) is not set here "
                        + "(cron and systemd start ramp with an environment of their own: set it there too)")
            }
            if let file = endpoint.bearerTokenFile, !FileManager.default.isReadableFile(atPath: file) {
                out.append("source \(name): bearer_token_file \(file) cannot be read")
            }
            return out
        case .events:
            return []
        }
    }
}
