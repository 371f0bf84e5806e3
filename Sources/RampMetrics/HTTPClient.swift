import Dispatch
import Foundation
import RampCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A blocking HTTP GET with the endpoint's credentials and a whole-second deadline.
///
/// The timeout bounds the whole reading — connect, headers and body — so a server that trickles its answer cannot
/// hold a tick. A redirect is followed only within the configured origin (scheme, host and port), so credentials
/// never reach another one.
enum HTTPClient {
    struct Response {
        var status: Int
        var body: Data
    }

    /// The response, or an error message that says what failed.
    static func get(_ url: String, endpoint: HTTPEndpoint) -> Result<Response, HTTPFailure> {
        guard let target = URL(string: url), target.scheme == "http" || target.scheme == "https" else {
            return .failure(HTTPFailure("\(url) is not a valid URL"))
        }
        var request = URLRequest(url: target)
        request.httpMethod = "GET"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("ramp", forHTTPHeaderField: "User-Agent")
        for (name, value) in endpoint.headers { request.setValue(value, forHTTPHeaderField: name) }
        switch credentials(endpoint) {
        case .failure(let failure): return .failure(failure)
        case .success(let authorization?): request.setValue(authorization, forHTTPHeaderField: "Authorization")
        case .success(nil): break
        }
        return perform(request, timeout: endpoint.timeout, followRedirects: true)
    }

    /// POSTs `body` with `headers`; no redirect is followed (a notification goes where it was configured to).
    static func post(_ url: String, headers: [String: String], body: [UInt8], timeout: TimeSpan)
        -> Result<Response, HTTPFailure>
    {
        guard let target = URL(string: url), target.scheme == "http" || target.scheme == "https" else {
            return .failure(HTTPFailure("the URL is not a valid http:// or https:// URL"))
        }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.setValue("ramp", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body)
        return perform(request, timeout: timeout, followRedirects: false)
    }

    /// Sends one request with a whole-second deadline for all of it.
    private static func perform(_ request: URLRequest, timeout: TimeSpan, followRedirects: Bool)
        -> Result<Response, HTTPFailure>
    {
        let target = request.url!
        let configuration = URLSessionConfiguration.ephemeral
        // Linux URLSession fires sub-second timeouts at once: the plan's timeout is whole seconds, at least 1.
        configuration.timeoutIntervalForRequest = TimeInterval(max(1, timeout.seconds))
        configuration.timeoutIntervalForResource = TimeInterval(max(1, timeout.seconds))
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let redirects = RedirectGuard(origin: Origin(target), followAny: followRedirects)
        let session = URLSession(configuration: configuration, delegate: redirects, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failure(HTTPFailure(describe(error, timeout: timeout))))
            } else if let http = response as? HTTPURLResponse {
                box.set(.success(Response(status: http.statusCode, body: data ?? Data())))
            } else {
                box.set(.failure(HTTPFailure("no HTTP response")))
            }
            done.signal()
        }
        task.resume()
        // The deadline for the whole reading: URLSession's timeouts restart with every byte that arrives.
        let seconds = max(1, min(timeout.seconds, 86_400))
        if done.wait(timeout: .now() + .seconds(Int(seconds))) == .timedOut {
            task.cancel()
            return .failure(HTTPFailure("timed out after \(timeout)"))
        }
        if let refused = redirects.refused, case .success(let response)? = box.value,
            (300..<400).contains(response.status)
        {
            if !followRedirects {
                return .failure(
                    HTTPFailure("HTTP \(response.status) redirects to \(refused); a notification is not sent on"))
            }
            return .failure(
                HTTPFailure(
                    "HTTP \(response.status) redirects to another origin (\(refused)); not followed, so credentials "
                        + "stay with \(Origin(target).description)"))
        }
        return box.value ?? .failure(HTTPFailure("no response"))
    }

    /// The secret values this endpoint sends (token, password, the header value), to redact from evidence.
    static func secrets(_ endpoint: HTTPEndpoint) -> [String] {
        guard case .success(let header?) = credentials(endpoint) else { return [] }
        var out = [header]
        if let space = header.firstIndex(of: " ") { out.append(String(header[header.index(after: space)...])) }
        if let name = endpoint.basicAuthPasswordEnv, let password = ProcessInfo.processInfo.environment[name] {
            out.append(password)
        }
        return out
    }

    /// A reading with the endpoint's secrets and anything like a credential taken out of its message.
    static func redacted(_ reading: Reading, _ endpoint: HTTPEndpoint, also: [String] = []) -> Reading {
        switch reading {
        case .value: reading
        case .noData(let why): .noData(Redaction.apply(why, secrets: secrets(endpoint) + also))
        case .error(let why): .error(Redaction.apply(why, secrets: secrets(endpoint) + also))
        }
    }

    /// The Authorization header value, read now from the environment or a file, never stored.
    static func credentials(_ endpoint: HTTPEndpoint) -> Result<String?, HTTPFailure> {
        let environment = ProcessInfo.processInfo.environment
        if let name = endpoint.bearerTokenEnv {
            guard let token = environment[name], !token.isEmpty else {
                return .failure(HTTPFailure("bearer token: environment variable \(name) is not set"))
            }
            return .success("Bearer \(token)")
        }
        if let path = endpoint.bearerTokenFile {
            guard let data = FileManager.default.contents(atPath: path),
                let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !token.isEmpty
            else { return .failure(HTTPFailure("bearer token: cannot read \(path)")) }
            return .success("Bearer \(token)")
        }
        if let user = endpoint.basicAuthUser, let name = endpoint.basicAuthPasswordEnv {
            guard let password = environment[name] else {
                return .failure(HTTPFailure("basic auth: environment variable \(name) is not set"))
            }
            return .success("Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        return .success(nil)
    }

    private static func describe(_ error: any Error, timeout: TimeSpan) -> String {
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: return "timed out after \(timeout)"
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost: return "unknown host"
            case .networkConnectionLost: return "connection lost"
            default: break
            }
        }
        return error.localizedDescription
    }

    /// Percent-encodes a query parameter: everything but RFC 3986's unreserved characters (so `+` in PromQL
    /// stays a plus, not a space).
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xf, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The first bytes of a body, for error messages.
    /// The start of a body, as evidence: secrets are taken out of it before it is shortened, so a secret the cut
    /// would fall inside never survives in part.
    static func excerpt(_ body: Data, secrets: [String]) -> String {
        let whole = String(decoding: body.prefix(65_536), as: UTF8.self)
        let text = String(Redaction.apply(whole, secrets: secrets).prefix(200))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": " + text.replacingOccurrences(of: "\n", with: " ")
    }
}

struct HTTPFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Scheme, host and port: where credentials may go.
struct Origin: Equatable, CustomStringConvertible {
    var scheme: String
    var host: String
    var port: Int

    init(_ url: URL) {
        scheme = url.scheme?.lowercased() ?? ""
        host = url.host?.lowercased() ?? ""
        port = url.port ?? (scheme == "https" ? 443 : 80)
    }

    var description: String { "\(scheme)://\(host):\(port)" }
}

/// Follows a redirect only within the origin; remembers the first one it refused.
private final class RedirectGuard: NSObject, URLSessionTaskDelegate, @unchecked Sendable {  // `stored` under `lock`
    let origin: Origin
    /// False: no redirect is followed, not even within the origin.
    let followAny: Bool
    private let lock = NSLock()
    private var stored: String?

    init(origin: Origin, followAny: Bool) {
        self.origin = origin
        self.followAny = followAny
    }

    var refused: String? { lock.withLock { stored } }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        guard followAny, let url = request.url, Origin(url) == origin else {
            lock.withLock { stored = request.url.map { Origin($0).description } ?? "an unreadable location" }
            completionHandler(nil)
            return
        }
        completionHandler(request)
    }
}

/// The response handed from URLSession's delegate queue to the waiting thread.
private final class ResponseBox: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var stored: Result<HTTPClient.Response, HTTPFailure>?
    func set(_ value: Result<HTTPClient.Response, HTTPFailure>) { lock.withLock { stored = value } }
    var value: Result<HTTPClient.Response, HTTPFailure>? { lock.withLock { stored } }
}
