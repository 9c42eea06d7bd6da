import Grants
import HTTPTypes
import Hummingbird
import JWT
import Policy
import Scopes

extension GatewayEndpoints {
    /// `POST /oauth2/token` (and `/oauth/token`): the grants of docs/gateway.md §6.
    func token(
        _ parameters: OAuthParameters, headers: HTTPFields, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        guard let grantType = parameters.grant_type, !grantType.isEmpty else {
            throw OAuthError(.invalidRequest, "grant_type is required")
        }
        switch GrantType(rawValue: grantType) {
        case .jwtBearer:
            return try await jwtBearer(parameters, snapshot: snapshot, context: context)
        case .authorizationCode:
            return try await threeLegged(
                .authorizationCode, parameters, headers: headers, snapshot: snapshot, context: context)
        case .refreshToken:
            return try await threeLegged(
                .refreshToken, parameters, headers: headers, snapshot: snapshot, context: context)
        case nil:
            throw OAuthError(
                .unsupportedGrantType,
                "the grant type \"\(grantType.prefix(80))\" is not supported; use "
                    + GrantType.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    /// RFC 7523 §2.1 with the rules of docs/protocols.md §3.
    private func jwtBearer(
        _ parameters: OAuthParameters, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        context.access.credential = "jwt-bearer-assertion"
        guard let assertion = parameters.assertion, !assertion.isEmpty else {
            throw OAuthError(.invalidRequest, "the jwt-bearer grant needs an assertion")
        }
        guard assertion.utf8.count <= PresentedCredential.maxTokenBytes else {
            throw OAuthError(.invalidRequest, "the assertion is over \(PresentedCredential.maxTokenBytes) bytes")
        }
        let result = try await snapshot.grants.jwtBearer.exchange(
            assertion: assertion, scope: parameters.scope, policy: snapshot.policy)
        context.access.appKey = result.claims.appKey
        context.access.accountId = result.claims.subject
        context.access.reason = "token_issued"
        metrics?.tokenGrant(type: "jwt_bearer")
        return OAuthResponses.json(TokenResponse.json(result))
    }
}

/// The RFC 6749 §5.1 body.
enum TokenResponse {
    static func json(_ result: TokenGrantResult) -> JSONValue {
        .object(
            JSONObject(
                [
                    ("access_token", .string(result.accessToken)),
                    ("token_type", "Bearer"),
                    ("expires_in", .integer(result.expiresIn)),
                    ("scope", .string(result.scope)),
                ] + (result.refreshToken.map { [("refresh_token", JSONValue.string($0))] } ?? [])))
    }
}

extension GatewayEndpoints {
    /// `grant_type=authorization_code` and `grant_type=refresh_token` (RFC 6749 §4.1.3, §6).
    func threeLegged(
        _ grantType: GrantType, _ parameters: OAuthParameters, headers: HTTPFields, snapshot: PolicySnapshot,
        context: GatewayRequestContext
    ) async throws -> Response {
        let policy = snapshot.policy
        context.access.credential = grantType == .authorizationCode ? "authorization-code-grant" : "refresh-token-grant"
        let client = try ClientAuthentication.threeLegged(headers: headers, parameters: parameters, policy: policy)
        context.access.appKey = client.appKey
        let grant = snapshot.grants.authorizationCode
        let result: TokenGrantResult
        if grantType == .authorizationCode {
            guard let code = parameters.code, !code.isEmpty else {
                throw OAuthError(.invalidRequest, "code is required")
            }
            result = try await grant.exchange(
                code: code, redirectURI: parameters.redirect_uri,
                codeVerifier: parameters.code_verifier, client: client, policy: policy)
            metrics?.tokenGrant(type: "authorization_code")
        } else {
            guard let token = parameters.refresh_token, !token.isEmpty else {
                throw OAuthError(.invalidRequest, "refresh_token is required")
            }
            result = try await grant.refresh(token: token, scope: parameters.scope, client: client, policy: policy)
            metrics?.tokenGrant(type: "refresh_token")
        }
        context.access.accountId = result.claims.subject
        context.access.reason = "token_issued"
        return OAuthResponses.json(TokenResponse.json(result))
    }
}
