import Foundation
import JWT
import Policy

/// A signed request that passed the checks of docs/protocols.md §6.
public struct VerifiedOAuth1Request: Sendable {
    public let consumer: OAuth1ConsumerKey
    /// `oauth_token`; nil or empty for 2-legged requests.
    public let token: String?
    public let parameters: [String: String]

    public var isTwoLegged: Bool { token?.isEmpty ?? true }
}

/// Verifies OAuth 1.0a signed requests (RFC 5849 §3.2, docs/protocols.md §6): version,
/// the required parameters, RSA-SHA1 only, the consumer, the timestamp within
/// ±5 minutes, the signature over the base string, then the nonce once.
public struct OAuth1Verifier: Sendable {
    public static let timestampWindow: Int64 = 300
    static let required = ["oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce"]

    let store: Store
    let consumers: @Sendable (String) -> OAuth1ConsumerKey?

    public init(store: Store, consumers: @escaping @Sendable (String) -> OAuth1ConsumerKey?) {
        self.store = store
        self.consumers = consumers
    }

    public func verify(_ request: OAuth1Request, now: Int64 = UnixTime.now()) async throws -> VerifiedOAuth1Request {
        let parameters = request.protocolParameters
        if let version = parameters["oauth_version"], version != "1.0" {
            throw OAuth1Problem(.versionRejected, "oauth_version must be 1.0")
        }
        let absent = Self.required.filter { (parameters[$0] ?? "").isEmpty }
        guard absent.isEmpty else {
            throw OAuth1Problem(.parameterAbsent, "missing \(absent.joined(separator: ", "))")
        }
        guard parameters["oauth_signature_method"] == "RSA-SHA1" else {
            throw OAuth1Problem(.signatureMethodRejected,
                                "only RSA-SHA1 is accepted, not \(parameters["oauth_signature_method"]!.prefix(20))")
        }
        let consumerKey = parameters["oauth_consumer_key"]!
        guard let consumer = consumers(consumerKey) else {
            throw OAuth1Problem(.consumerKeyUnknown, "no application link has the consumer key \(consumerKey.prefix(80))")
        }
        guard let timestamp = Int64(parameters["oauth_timestamp"]!), abs(timestamp - now) <= Self.timestampWindow else {
            throw OAuth1Problem(.timestampRefused, "oauth_timestamp must be within 5 minutes of the site's clock (\(now))")
        }
        guard let signature = Data(base64Encoded: parameters["oauth_signature"]!),
              consumer.key.verify(signature: Array(signature), message: Array(request.signatureBaseString.utf8))
        else {
            throw OAuth1Problem(.signatureInvalid, "the RSA-SHA1 signature does not verify with the link's public key")
        }
        let token = parameters["oauth_token"]
        let nonceKey = [consumerKey, token ?? "", String(timestamp), parameters["oauth_nonce"]!].joined(separator: "\u{0}")
        guard try await store.recordNonce(nonceKey, expiresAt: timestamp + Self.timestampWindow * 2) else {
            throw OAuth1Problem(.nonceUsed, "this oauth_nonce was used before with this timestamp")
        }
        return VerifiedOAuth1Request(consumer: consumer, token: token, parameters: parameters)
    }
}
