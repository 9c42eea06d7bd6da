import Grants
import JWT
import Policy
import Scopes
import Testing

@testable import Gateway

@Suite("One error model: codes, the status table, challenges and the mapping of other modules' errors")
struct GatewayErrorTests {
    @Test("every code is snake_case, and errors are equal by code")
    func codes() {
        for code in GatewayError.Code.allCases {
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(code)")
        }
        #expect(GatewayError(.expired, "one text") == GatewayError(.expired, "another"))
        #expect(GatewayError(.expired, "text") != GatewayError(.qshMismatch, "text"))
    }

    @Test("JWT, identity, OAuth 2.0 and OAuth 1.0a codes keep their names as reasons")
    func mappedReasons() {
        #expect(GatewayError(JWTError(.qshMismatch, "x"), scheme: .jwt).reason == "qsh_mismatch")
        #expect(GatewayError(JWTError(.invalidBase64URL, "x"), scheme: .jwt).reason == "invalid_base64url")
        #expect(GatewayError(JWTError(.unknownKeyID, "x"), scheme: .bearer).reason == "unknown_key_id")
        for code in JWTError.Code.allCases where code != .tokenTooLarge {
            let error = GatewayError(JWTError(code, "x"), scheme: .jwt)
            #expect(error.status == 401 && error.error == "invalid_token", "\(code)")
        }
        #expect(GatewayError(OAuthError(.invalidGrant, "x")).reason == "invalid_grant")
        #expect(GatewayError(OAuthError(.invalidClient, "x")).status == 401)
        #expect(GatewayError(OAuthError(.invalidClient, "x")).challenges == [#"Basic realm="linkgate""#])
        let nonce = GatewayError(OAuth1Problem(.nonceUsed, "x"), realm: "https://site.example")
        #expect(nonce.status == 401 && nonce.error == "nonce_used")
        #expect(nonce.challenges == [#"OAuth realm="https://site.example", oauth_problem="nonce_used""#])
        #expect(GatewayError(OAuth1Problem(.userRefused, "x"), realm: "r").status == 503)
        #expect(GatewayError(OAuth1Problem(.tokenRevoked, "x"), realm: "r").error == "token_revoked")
        #expect(GatewayError(.tokenRevoked, "x", scheme: .bearer).error == "invalid_token")
    }

    @Test(
        "the status table",
        arguments: [
            (GatewayError.Code.badTarget, 400), (.formTooLarge, 413), (.headersTooLarge, 431), (.methodNotAllowed, 405),
            (.unauthenticated, 401), (.qshMismatch, 401), (.userRequired, 400), (.noRoute, 404),
            (.insufficientScope, 403),
            (.resourceUndetermined, 403), (.basicThrottled, 429), (.serverError, 500), (.upstreamUnreachable, 502),
            (.storeUnavailable, 503), (.upstreamTimeout, 504),
        ])
    func statuses(code: GatewayError.Code, status: Int) {
        #expect(code.status == status)
    }

    @Test("denials map to the statuses, errors and challenges of docs/gateway.md §4")
    func denials() {
        let scope = GatewayError(Denial.insufficientScope(required: [Scope("WRITE")]), scheme: .bearer)
        #expect(scope.status == 403)
        #expect(
            scope.body
                == #"{"error":"insufficient_scope","error_description":"needs one of the scopes: WRITE","required_scopes":["WRITE"]}"#
        )
        #expect(scope.challenges == [#"Bearer realm="linkgate", error="insufficient_scope", scope="WRITE""#])
        #expect(GatewayError(Denial.insufficientScope(required: [Scope("WRITE")]), scheme: .jwt).challenges.isEmpty)
        #expect(GatewayError(Denial.noRoute(method: "GET", path: "/x"), scheme: .jwt).status == 404)
        let unauthenticated = GatewayError(Denial.unauthenticated, scheme: .jwt)
        #expect(unauthenticated.status == 401)
        #expect(unauthenticated.challenges == [#"Bearer realm="linkgate""#, #"JWT realm="linkgate""#])
        let context = GatewayError(Denial.contextTokenNotAllowed, scheme: .jwt)
        #expect(
            context.reason == "context_qsh_not_allowed" && context.status == 401 && context.error == "invalid_token")
        #expect(context.challenges.first?.hasPrefix(#"JWT realm="linkgate", error="invalid_token""#) == true)
    }

    @Test("whatever a handler throws becomes one answer; the unforeseen is a 500 that names only a type")
    func answering() {
        struct Surprise: Error { let secret = "hunter2" }
        #expect(GatewayError(answering: OAuthError(.invalidScope, "x"), realm: "r").code == .invalidScope)
        #expect(GatewayError(answering: StoreError(.unavailable, "down"), realm: "r").code == .storeUnavailable)
        let surprise = GatewayError(answering: Surprise(), realm: "r")
        #expect(surprise.status == 500 && !surprise.body.contains("hunter2"))
    }

    @Test("a response carries the body, no-store, the challenges, Retry-After and the request id")
    func response() {
        var throttled = GatewayError(.basicThrottled, "wait", scheme: .basic)
        throttled.retryAfter = 7
        let response = throttled.response(requestId: "abc")
        #expect(response.status.code == 429)
        #expect(response.headers[.retryAfter] == "7")
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(response.headers[.xRequestID] == "abc")
        #expect(response.headers[.wwwAuthenticate] == #"Basic realm="linkgate""#)
    }
}
