import Foundation
public import RampCore

/// Prometheus' instant-query API (`/api/v1/query`), evaluated at the tick's clock.
///
/// A scalar or a single-sample vector gives a value; an empty vector or NaN is no data; several series, a range
/// vector, an HTTP failure, a refused connection or a `"status": "error"` body is an error with Prometheus' words.
public struct PrometheusSource: MetricSource {
    public var endpoint: HTTPEndpoint

    public init(endpoint: HTTPEndpoint) { self.endpoint = endpoint }

    public func read(query: String?, context: MetricContext) -> Reading {
        guard let query else { return .error("prometheus: the gate has no query") }
        var base = context.renderURL(endpoint.url)
        while base.hasSuffix("/") { base.removeLast() }
        let url = "\(base)/api/v1/query?query=\(HTTPClient.encode(query))&time=\(context.now.seconds)"
        let reading: Reading
        switch HTTPClient.get(url, endpoint: endpoint) {
        case .failure(let failure):
            reading = .error("prometheus \(base): \(failure.message)")
        case .success(let response):
            reading = Self.interpret(
                response.status, response.body, secrets: HTTPClient.secrets(endpoint) + context.secrets)
        }
        return HTTPClient.redacted(reading, endpoint, also: context.secrets)
    }

    /// Turns an API response into a reading.
    static func interpret(_ status: Int, _ body: Data, secrets: [String] = []) -> Reading {
        let document = try? JSONParser.parse(String(decoding: body, as: UTF8.self))
        if let document, document["status"]?.stringValue == "error" {
            let kind = document["errorType"]?.stringValue ?? "error"
            return .error("prometheus: \(kind): \(document["error"]?.stringValue ?? "unknown error")")
        }
        guard status == 200 else {
            return .error("prometheus: HTTP \(status)\(HTTPClient.excerpt(body, secrets: secrets))")
        }
        guard let document, document["status"]?.stringValue == "success", let data = document["data"],
            let type = data["resultType"]?.stringValue
        else { return .error("prometheus: not an API response\(HTTPClient.excerpt(body, secrets: secrets))") }
        switch (type, data["result"]) {
        case ("scalar", .array(let pair)?):
            return sample(pair)
        case ("vector", .array(let series)?):
            if series.isEmpty { return .noData("prometheus: query returned no series") }
            if series.count > 1 {
                return .error(
                    "prometheus: query returned \(series.count) series; a gate needs exactly one (aggregate, e.g. sum(...))"
                )
            }
            guard case .array(let pair)? = series[0]["value"] else {
                return .error("prometheus: sample without a value")
            }
            return sample(pair)
        default:
            return .error("prometheus: query returned a \(type); a gate needs an instant vector or a scalar")
        }
    }

    private static func sample(_ pair: [JSONValue]) -> Reading {
        guard pair.count == 2, let text = pair[1].stringValue else { return .error("prometheus: malformed sample") }
        switch text {
        case "NaN": return .noData("prometheus: value is NaN (no traffic?)")
        case "+Inf", "-Inf": return .error("prometheus: value is \(text), not a finite number")
        default:
            guard let value = DecimalText.parse(text) else {
                return .error(
                    "prometheus: value \(JSONValue.string(String(text.prefix(40))).canonical) is not a number")
            }
            guard value.isFinite else {
                return .error("prometheus: value \(String(text.prefix(40))) is out of range for a finite number")
            }
            return .value(value)
        }
    }
}
