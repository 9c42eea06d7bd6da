import Grants
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import Gateway

@Suite("Token request bodies: forms decoded on bytes, JSON by member, each parameter once")
struct OAuthParametersTests {
    static func form(_ text: String) throws(OAuthError) -> OAuthParameters {
        try OAuthParameters.decoding(form: Array(text.utf8))
    }

    static func json(_ text: String) throws(OAuthError) -> OAuthParameters {
        try OAuthParameters.decoding(json: Array(text.utf8))
    }

    @Test("a form fills the parameters it names; + is a space, %2B a plus, an empty value is empty, UTF-8 decodes")
    func form() throws {
        let parameters = try Self.form(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=READ+WRITE"
                + "&client_secret=a%2Bb+c&code=&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fn%3D%C3%A9&extra=1&bare")
        #expect(parameters.grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        #expect(parameters.scope == "READ WRITE")
        #expect(parameters.client_secret == "a+b c")
        #expect(parameters.code == "")
        #expect(parameters.redirect_uri == "https://app.example/cb?n=é")
        #expect(parameters.assertion == nil && parameters.refresh_token == nil)
    }

    @Test(
        "a broken escape, text that is not UTF-8 or a parameter given twice is 400 invalid_request",
        arguments: [
            "grant_type=%zz", "grant_type=authorization_code&code=%2", "%zz=1", "assertion=%FF",
            "grant_type=a&grant_type=a", "scope=&scope=READ", "extra=1&extra=2", "grant_type=a&grant%5Ftype=b",
        ])
    func refused(body: String) {
        #expect(throws: OAuthError(.invalidRequest, "")) { try Self.form(body) }
    }

    @Test("the refusal says what is wrong and never quotes a value")
    func messages() {
        #expect {
            try Self.form("grant_type=refresh_token&refresh_token=secret%zz")
        } throws: { error in
            let message = (error as? OAuthError)?.message ?? ""
            return message.contains("refresh_token") && message.contains("'%'") && !message.contains("secret")
        }
        #expect {
            try Self.form("client_id=a&client_id=b")
        } throws: { error in
            (error as? OAuthError)?.message.contains("\"client_id\" twice") == true
        }
    }

    @Test("a JSON body: known members are strings or null, others are ignored, a repeated member is refused")
    func json() throws {
        let parameters = try Self.json(#"{"grant_type":"refresh_token","refresh_token":"r+1","scope":null,"x":[1]}"#)
        #expect(parameters.grant_type == "refresh_token")
        #expect(parameters.refresh_token == "r+1", "JSON strings are not form-decoded")
        #expect(parameters.scope == nil)
        for body in [#"{"code":1}"#, #"{"code":["a"]}"#, "[]", "\"x\"", "{", #"{"a":"1","a":"2"}"#] {
            #expect(throws: OAuthError(.invalidRequest, ""), "\(body)") { try Self.json(body) }
        }
    }

    @Test("the media type is read without its parameters, in any case")
    func mediaType() {
        #expect(OAuthParameters.mediaType(of: "application/x-www-form-urlencoded") == OAuthParameters.formType)
        #expect(OAuthParameters.mediaType(of: "Application/JSON ; charset=utf-8") == OAuthParameters.jsonType)
        #expect(OAuthParameters.mediaType(of: " \tapplication/json") == OAuthParameters.jsonType)
        #expect(OAuthParameters.mediaType(of: "") == "")
        #expect(OAuthParameters.mediaType(of: "text/plain") == "text/plain")
    }

    @Test("read: the body of a request, by its Content-Type; another type is refused")
    func read() async throws {
        func request(_ contentType: String, _ body: String) -> Request {
            let head = HTTPRequest(
                method: .post, scheme: "http", authority: "127.0.0.1", path: "/oauth2/token",
                headerFields: [.contentType: contentType])
            return Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body)))
        }
        let form = try await OAuthParameters.read(
            request("application/x-www-form-urlencoded; charset=UTF-8", "grant_type=a+b"))
        #expect(form.grant_type == "a b")
        let json = try await OAuthParameters.read(request("application/json", #"{"grant_type":"a+b"}"#))
        #expect(json.grant_type == "a+b")
        await #expect(throws: OAuthError(.invalidRequest, "")) {
            try await OAuthParameters.read(request("text/plain", "grant_type=a"))
        }
    }
}
