import Grants
import Testing

@Suite("Grant types")
struct GrantTypeTests {
    @Test("the token endpoint's grant_type values are the RFC names (docs/gateway.md §6)")
    func wireNames() {
        #expect(GrantType(rawValue: "urn:ietf:params:oauth:grant-type:jwt-bearer") == .jwtBearer)
        #expect(GrantType(rawValue: "authorization_code") == .authorizationCode)
        #expect(GrantType(rawValue: "refresh_token") == .refreshToken)
        #expect(GrantType(rawValue: "password") == nil)
        #expect(GrantType(rawValue: "client_credentials") == nil)
    }
}
