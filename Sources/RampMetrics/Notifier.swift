import Foundation
public import RampCore

/// Sends one notification to one target: a webhook POST, a Slack message, or a command's stdin.
///
/// Secrets (a URL from `url_env`/`url_file`, the signing key) are read at this moment and never leave it: they are
/// taken out of every error message.
public enum Notifier {
    /// nil when the target took it (HTTP 2xx, or the command exited 0); else what went wrong.
    public static func send(_ target: NotifyTarget, notification: NotifyMessage) -> String? {
        deliver(target, notification: notification).map {
            Redaction.apply($0, secrets: MetricSources.storeSecrets)
        }
    }

    private static func deliver(_ target: NotifyTarget, notification: NotifyMessage) -> String? {
        let document = notification.document(target: target.name)
        switch target.kind {
        case .command:
            return runCommand(target, notification: notification, body: Array(document.canonical.utf8))
        case .webhook, .slack:
            let url: String
            switch resolveURL(target) {
            case .success(let resolved): url = resolved
            case .failure(let failure): return failure.message
            }
            // The whole URL, and its path and query as sent or decoded: a webhook's secret is often in one of them.
            var secrets = [url]
            if let parts = URLComponents(string: url) {
                for part in [parts.path, parts.percentEncodedPath] where part.count > 1 { secrets.append(part) }
                for part in [parts.query, parts.percentEncodedQuery].compactMap({ $0 }) where !part.isEmpty {
                    secrets.append(part)
                }
            }
            let body = Array((target.kind == .slack ? notification.slackMessage : document).canonical.utf8)
            var headers = [
                "Content-Type": "application/json", "Idempotency-Key": notification.key,
                "X-Ramp-Event": notification.event.rawValue,
            ]
            if let name = target.secretEnv {
                guard let key = ProcessInfo.processInfo.environment[name], !key.isEmpty else {
                    return "secret_env: environment variable \(name) is not set; not sent unsigned"
                }
                secrets.append(key)
                headers["X-Ramp-Signature-256"] = HMACSHA256.signature(key: key, body: body)
            }
            switch HTTPClient.post(url, headers: headers, body: body, timeout: target.timeout) {
            case .failure(let failure):
                return Redaction.apply(failure.message, secrets: secrets)
            case .success(let response) where (200..<300).contains(response.status):
                return nil
            case .success(let response):
                return Redaction.apply(
                    "HTTP \(response.status)" + HTTPClient.excerpt(response.body, secrets: secrets), secrets: secrets)
            }
        }
    }

    /// The URL, read now from the plan, the environment or a file.
    static func resolveURL(_ target: NotifyTarget) -> Result<String, HTTPFailure> {
        switch target.url {
        case .literal(let url)?:
            return .success(url)
        case .env(let name)?:
            guard let url = ProcessInfo.processInfo.environment[name], !url.isEmpty else {
                return .failure(HTTPFailure("url_env: environment variable \(name) is not set"))
            }
            return .success(url.trimmingCharacters(in: .whitespacesAndNewlines))
        case .file(let path)?:
            guard let data = FileManager.default.contents(atPath: path),
                let text = String(data: data, encoding: .utf8),
                let line = text.split(whereSeparator: \.isNewline).first, !line.isEmpty
            else { return .failure(HTTPFailure("url_file: cannot read a URL from \(path)")) }
            return .success(line.trimmingCharacters(in: .whitespaces))
        case nil:
            return .failure(HTTPFailure("no URL"))
        }
    }

    /// Runs the target's command without a shell, in its own process group, with the document on stdin.
    private static func runCommand(_ target: NotifyTarget, notification: NotifyMessage, body: [UInt8]) -> String? {
        guard let executable = CommandSource.resolve(target.command[0], baseDir: target.baseDir) else {
            return "command \(target.command[0]): not found"
        }
        var environment = ProcessInfo.processInfo.environment
        environment["RAMP_EVENT"] = notification.event.rawValue
        environment["RAMP_IDEMPOTENCY_KEY"] = notification.key
        environment["RAMP_FLAG"] = notification.flag
        let result: Subprocess.Result
        do {
            result = try Subprocess.run(
                executable: executable, arguments: Array(target.command.dropFirst()), environment: environment,
                directory: target.baseDir, timeoutSeconds: target.timeout.seconds, stdin: body)
        } catch {
            return "command \(target.command[0]): cannot start: \(error)"
        }
        if result.timedOut { return "command \(target.command[0]): killed after its \(target.timeout) timeout" }
        if let signal = result.signal { return "command \(target.command[0]): killed by signal \(signal)" }
        if let status = result.exitStatus, status != 0 {
            let errorText = String(decoding: result.stderr.prefix(300), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " | ")
            return "command \(target.command[0]): exit status \(status)" + (errorText.isEmpty ? "" : ": " + errorText)
        }
        return nil
    }
}
