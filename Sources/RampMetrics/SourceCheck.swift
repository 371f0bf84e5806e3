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
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let problem = !exists ? "does not exist" : isDirectory.boolValue ? "is a directory" : "is not executable"
            return ["source \(name): command \(path) \(problem)"]
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

    /// The same checks for a notification target: its command, its URL's variable or file, its signing key.
    public static func warnings(target: NotifyTarget, baseDir: String) -> [String] {
        let name = "notify \(target.name)"
        var out: [String] = []
        if let executable = target.command.first, CommandSource.resolve(executable, baseDir: baseDir) == nil {
            let path =
                !executable.contains("/") || executable.hasPrefix("/")
                ? executable : URL(fileURLWithPath: baseDir).appendingPathComponent(executable).standardized.path
            out.append("\(name): command \(path) is not an executable" + (executable.contains("/") ? "" : " on PATH"))
        }
        let environment = ProcessInfo.processInfo.environment
        var variables: [String] = []
        if case .env(let variable)? = target.url { variables.append(variable) }
        if let variable = target.secretEnv { variables.append(variable) }
        for variable in variables where environment[variable]?.isEmpty ?? true {
            out.append(
                "\(name): environment variable \(variable) is not set here "
                    + "(cron and systemd start ramp with an environment of their own: set it there too)")
        }
        if case .file(let file)? = target.url, !FileManager.default.isReadableFile(atPath: file) {
            out.append("\(name): url_file \(file) cannot be read")
        }
        return out
    }
}
