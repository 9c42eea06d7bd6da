import Testing

@testable import Grants

@Suite("JWT bearer grant: scopes")
struct JWTBearerGrantScopeTests {
    let app = AppScopes(names: ["READ", "WRITE", "ACT_AS_USER"]) { ["READ", "WRITE", "NONE"].contains($0) }

    @Test("no scope asked: all the app's scopes but ACT_AS_USER")
    func allScopes() throws {
        #expect(try JWTBearerGrant.grantedScopes(requested: nil, app: app) == ["READ", "WRITE"])
        #expect(try JWTBearerGrant.grantedScopes(requested: "  ", app: app) == ["READ", "WRITE"])
    }

    @Test("a scope may narrow, case-insensitively, and through implication")
    func narrowing() throws {
        #expect(try JWTBearerGrant.grantedScopes(requested: "read", app: app) == ["READ"])
        #expect(try JWTBearerGrant.grantedScopes(requested: "READ READ none", app: app) == ["READ", "NONE"])
    }

    @Test("a scope beyond the app's, or ACT_AS_USER itself, is invalid_scope")
    func widening() {
        #expect(throws: OAuthError(.invalidScope, "")) {
            try JWTBearerGrant.grantedScopes(requested: "READ DELETE", app: app)
        }
        #expect(throws: OAuthError(.invalidScope, "")) {
            try JWTBearerGrant.grantedScopes(requested: "ACT_AS_USER", app: app)
        }
    }
}
