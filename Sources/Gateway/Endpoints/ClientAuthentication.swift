import Foundation
import Grants
import HTTPTypes
import JWT
import Policy

/// An OAuth client of the gateway, as the policy says now: a 2LOi app by its
/// `oauthClientId` (secret: the shared secret) or a 3LO client by its
/// `oauth2.clientId` (secret: `oauth2.clientSecret`).
struct OAuthClient: Sendable {
    let clientID: String
    let app: AppPolicy
}

/// Client authentication at the revocation and introspection endpoints:
/// `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1), never both.
enum ClientAuthentication {
    static func authenticate(
        headers: HTTPFields, parameters: OAuthParameters, policy: CompiledPolicy
    ) throws(OAuthError) -> OAuthClient {
        let fromHeader = try basicCredentials(headers)
        if let (id, _) = fromHeader {
            // RFC 6749 §2.3.1: one method only; a client_id beside Basic must name the same client.
            guard parameters.client_secret == nil else {
                throw OAuthError(
                    .invalidRequest,
                    "authenticate the client one way: an Authorization header or client_id and client_secret")
            }
            if let named = parameters.client_id, named != id {
                throw OAuthError(.invalidClient, "client_id does not name the client of the Authorization header")
            }
        }
        guard let (id, secret) = fromHeader ?? parameters.client_id.map({ ($0, parameters.client_secret ?? "") }) else {
            throw OAuthError(
                .invalidClient, "the client must authenticate (HTTP Basic, or client_id and client_secret)")
        }
        guard let (app, expected) = policy.oauthClient(id: id), let expected,
            ConstantTime.equals(Array(secret.utf8), expected.bytes)
        else {
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        guard app.enabled else { throw OAuthError(.invalidClient, "the app \(app.key) is disabled") }
        return OAuthClient(clientID: id, app: app)
    }

    /// `Basic base64(urlencode(id):urlencode(secret))`, or nil without an Authorization header.
    private static func basicCredentials(_ headers: HTTPFields) throws(OAuthError) -> (String, String)? {
        guard let header = headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
            let id = text[..<colon].removingPercentEncoding,
            let secret = text[text.index(after: colon)...].removingPercentEncoding
        else {
            throw OAuthError(.invalidClient, "the Authorization header must be Basic base64(client_id:client_secret)")
        }
        return (id, secret)
    }
}

extension CompiledPolicy {
    /// The app whose `oauthClientId` or `oauth2.clientId` is `id`, with the secret that authenticates it.
    func oauthClient(id: String) -> (AppPolicy, Secret?)? {
        for app in document.apps {
            if app.oauthClientId == id { return (app, app.sharedSecret) }
            if let client = app.oauth2, client.clientId == id { return (app, client.clientSecret) }
        }
        return nil
    }

}

extension ClientAuthentication {
    /// Client authentication for the authorization code and refresh grants: a
    /// confidential 3LO client with its `oauth2.clientSecret` (Basic, post or
    /// JSON body), or a public one by its `client_id` alone (PKCE protects its codes).
    static func threeLegged(
        headers: HTTPFields, parameters: OAuthParameters, policy: CompiledPolicy
    ) throws(OAuthError) -> ThreeLeggedClient {
        let authenticated: OAuthClient
        if headers[.authorization] != nil || parameters.client_secret != nil {
            authenticated = try authenticate(headers: headers, parameters: parameters, policy: policy)
        } else {
            guard let id = parameters.client_id else {
                throw OAuthError(
                    .invalidClient,
                    "the client must authenticate (HTTP Basic, client_secret_post, or client_id for a public client)")
            }
            guard let (app, _) = policy.oauthClient(id: id), let client = app.oauth2, client.clientId == id,
                client.isPublic
            else {
                throw OAuthError(
                    .invalidClient, "client authentication failed: a confidential client must send its secret")
            }
            guard app.enabled else { throw OAuthError(.invalidClient, "the app \(app.key) is disabled") }
            authenticated = OAuthClient(clientID: id, app: app)
        }
        guard let client = authenticated.app.oauth2, client.clientId == authenticated.clientID else {
            throw OAuthError(
                .unauthorizedClient, "the client \(authenticated.clientID) is not an OAuth 2.0 (3LO) client")
        }
        if let named = parameters.client_id, named != client.clientId {
            throw OAuthError(.invalidClient, "client_id does not name the authenticated client")
        }
        return ThreeLeggedClient(
            appKey: authenticated.app.key, clientID: client.clientId, isPublic: client.isPublic,
            scopes: client.scopes)
    }
}
