import Foundation
public import RampCore

/// GETs a URL (templates filled in) and takes a number from its JSON body with a JSON Pointer (RFC 6901).
///
/// A number is a value; `null` is no data; a missing field, a non-number, a non-2xx status or a failed request
/// is an error.
public struct HTTPJSONSource: MetricSource {
    public var endpoint: HTTPEndpoint

    public init(endpoint: HTTPEndpoint) { self.endpoint = endpoint }

    public func read(query pointer: String?, context: MetricContext) -> Reading {
        HTTPClient.redacted(readUnredacted(pointer, context), endpoint, also: context.secrets)
    }

    private func readUnredacted(_ pointer: String?, _ context: MetricContext) -> Reading {
        let url = context.renderURL(endpoint.url)
        switch HTTPClient.get(url, endpoint: endpoint) {
        case .failure(let failure):
            return .error("http \(url): \(failure.message)")
        case .success(let response):
            guard (200..<300).contains(response.status) else {
                let secrets = HTTPClient.secrets(endpoint) + context.secrets
                return .error(
                    "http \(url): HTTP \(response.status)\(HTTPClient.excerpt(response.body, secrets: secrets))")
            }
            let document: JSONValue
            do {
                document = try JSONParser.parse(String(decoding: response.body, as: UTF8.self))
            } catch {
                return .error("http \(url): body is not JSON (\(error))")
            }
            do {
                switch try JSONPointer.resolve(pointer ?? "", in: document) {
                case .number(let value): return .value(value)
                case .null: return .noData("http \(url): null at \(pointer ?? "")")
                case let other: return .error("http \(url): \(pointer ?? "") is \(other.typeName), not a number")
                }
            } catch {
                return .error("http \(url): \(error)")
            }
        }
    }
}
