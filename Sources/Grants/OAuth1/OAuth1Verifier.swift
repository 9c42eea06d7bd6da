import Foundation
import JWT
import Policy

/// A signed request that passed the checks of docs/protocols.md §6.
public struct VerifiedOAuth1Request: Sendable {
    public let consumer: OAuth1ConsumerKey
    /// 2-legged (with its requestor, if any) or 3-legged (with its token).
    public let flow: OAuth1Flow
    /// `oauth_callback`, when sent (the request-token step).
    public let callback: String?
    /// `oauth_verifier`, when sent (the access-token step).
    public let verifier: String?
    /// `oauth_session_handle`, when sent (renewing an access token).
    public let sessionHandle: String?
}

/// Verifies OAuth 1.0a signed requests (RFC 5849 §3.2, docs/protocols.md §6): version,
/// the required parameters, RSA-SHA1 only, the consumer, the timestamp within
/// ±5 minutes, the signature over the base string, then the nonce once.
public struct OAuth1Verifier: Sendable {
    public static let timestampWindow: Int64 = 300
    static let required = [
        "oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce",
    ]

    /// Where nonces are spent.
    public let nonces: OAuth1NonceLedger

    /// A verifier that spends nonces through a ledger of its own on `store`.
    public init(store: Store) {
        self.init(nonces: OAuth1NonceLedger(store: store))
    }

    public init(nonces: OAuth1NonceLedger) {
        self.nonces = nonces
    }

    /// Verifies `request` against the application links of `policy`, and spends its nonce.
    public func verify(
        _ request: OAuth1Request, policy: some GrantPolicy, now: Int64 = UnixTime.now()
    ) async throws -> VerifiedOAuth1Request {
        let checked = try check(request, policy: policy, now: now)
        guard try await nonces.spend(checked.nonce.key, expiresAt: checked.nonce.expiresAt, now: now) else {
            throw OAuth1Problem.spentNonce
        }
        return checked.request
    }

    /// Every check but the nonce's, on the calling thread: what `verify` does before it
    /// spends the nonce. The caller spends `nonce` (`OAuth1NonceLedger.spend`) before it
    /// trusts the request, and refuses it with `OAuth1Problem.spentNonce` when it was spent.
    public func check(
        _ request: OAuth1Request, policy: some GrantPolicy, now: Int64 = UnixTime.now()
    ) throws(OAuth1Problem) -> CheckedOAuth1Request {
        let parameters = request.protocolParameters
        if let version = parameters["oauth_version"], version != "1.0" {
            throw OAuth1Problem(.versionRejected, "oauth_version must be 1.0")
        }
        guard let consumerKey = Self.present("oauth_consumer_key", in: parameters),
            let method = Self.present("oauth_signature_method", in: parameters),
            let encodedSignature = Self.present("oauth_signature", in: parameters),
            let timestampText = Self.present("oauth_timestamp", in: parameters),
            let nonce = Self.present("oauth_nonce", in: parameters)
        else {
            let absent = Self.required.filter { Self.present($0, in: parameters) == nil }
            throw OAuth1Problem(.parameterAbsent, "missing \(absent.joined(separator: ", "))")
        }
        guard method == "RSA-SHA1" else {
            throw OAuth1Problem(.signatureMethodRejected, "only RSA-SHA1 is accepted, not \(method.prefix(20))")
        }
        guard let consumer = policy.oauth1Consumer(consumerKey: consumerKey) else {
            throw OAuth1Problem(
                .consumerKeyUnknown, "no application link has the consumer key \(consumerKey.prefix(80))")
        }
        guard let timestamp = Int64(timestampText), abs(timestamp - now) <= Self.timestampWindow else {
            throw OAuth1Problem(
                .timestampRefused, "oauth_timestamp must be within 5 minutes of the site's clock (\(now))")
        }
        guard let signature = Data(base64Encoded: encodedSignature),
            consumer.key.verify(signature: Array(signature), message: request.signatureBase)
        else {
            throw OAuth1Problem(.signatureInvalid, "the RSA-SHA1 signature does not verify with the link's public key")
        }
        let token = if case .threeLegged(let token) = request.flow { token } else { "" }
        let nonceKey = "\(consumerKey)\u{0}\(token)\u{0}\(timestamp)\u{0}\(nonce)"
        let verified = VerifiedOAuth1Request(
            consumer: consumer, flow: request.flow, callback: request.callback,
            verifier: request.verifier, sessionHandle: request.sessionHandle)
        return CheckedOAuth1Request(
            request: verified, nonce: OAuth1Nonce(key: nonceKey, expiresAt: timestamp + Self.timestampWindow * 2))
    }
}

extension OAuth1Verifier {
    /// The value of the parameter `name`, unless it was not sent or sent empty.
    static func present(_ name: String, in parameters: OAuth1ProtocolParameters) -> String? {
        guard let value = parameters[name], !value.isEmpty else { return nil }
        return value
    }
}

/// A signed request whose every check passed but its nonce's (`OAuth1Verifier.check`).
public struct CheckedOAuth1Request: Sendable {
    public let request: VerifiedOAuth1Request
    /// What must be spent before the request is trusted.
    public let nonce: OAuth1Nonce
}

/// A nonce to spend: its key (consumer, token, timestamp and nonce; it holds the
/// access token, so only its digest is stored) and when its timestamp leaves the window.
public struct OAuth1Nonce: Sendable {
    public let key: String
    public let expiresAt: Int64
}

extension OAuth1Problem {
    /// The refusal of a nonce spent before.
    public static var spentNonce: OAuth1Problem {
        OAuth1Problem(.nonceUsed, "this oauth_nonce was used before with this timestamp")
    }
}
