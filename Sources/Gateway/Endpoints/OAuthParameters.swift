import Grants
import Hummingbird
import JWT
import NIOCore

/// The parameters of a request to the token, revocation or introspection
/// endpoint, from a form body (RFC 6749 §4) or a JSON body (Atlassian's 3LO
/// examples post JSON, docs/protocols.md §4).
struct OAuthParameters: Sendable {
    var grant_type: String?
    var assertion: String?
    var scope: String?
    var client_id: String?
    var client_secret: String?
    var token: String?
    var token_type_hint: String?
    var code: String?
    var redirect_uri: String?
    var code_verifier: String?
    var refresh_token: String?

    /// Largest body accepted: a form with an 8 KiB assertion fits many times over.
    static let maxBodyBytes = 64 * 1024

    static let formType = "application/x-www-form-urlencoded"
    static let jsonType = "application/json"

    /// Reads and decodes the body by its `Content-Type`.
    /// - Throws: `OAuthError` `invalid_request` for another content type, an
    ///   oversized body, or one that does not decode.
    static func read(_ request: Request) async throws(OAuthError) -> OAuthParameters {
        let mediaType = Self.mediaType(of: request.headers[.contentType] ?? "")
        guard mediaType == formType || mediaType == jsonType else {
            throw OAuthError(
                .invalidRequest,
                "send the parameters as \(formType) or \(jsonType), not \"\(mediaType.prefix(64))\"")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw OAuthError(.invalidRequest, "the request body is over \(maxBodyBytes) bytes")
        }
        return mediaType == jsonType
            ? try decoding(json: body.readableBytesView) : try decoding(form: body.readableBytesView)
    }

    /// The media type of a `Content-Type` value, lower-cased, without parameters.
    static func mediaType(of contentType: String) -> String {
        guard let type = contentType.lowercased().split(separator: ";").first else { return "" }
        let isBlank = { (character: Character) in character == " " || character == "\t" }
        return String(type.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }

    /// The parameters of an `application/x-www-form-urlencoded` body, decoded on its
    /// bytes (`URLEncodedForm`: `+` is a space, `%XX` a byte, UTF-8 throughout).
    /// - Throws: `invalid_request` for a malformed `%` escape or text that is not
    ///   UTF-8, naming the parameter, and for a parameter named twice (RFC 6749 §3.1:
    ///   parameters MUST NOT be included more than once), whether known or not.
    static func decoding(form bytes: some Collection<UInt8>) throws(OAuthError) -> OAuthParameters {
        let pairs: [URLEncodedForm.Parameter]
        do {
            pairs = try URLEncodedForm.parameters(bytes)
        } catch {
            throw OAuthError(.invalidRequest, "the \(formType) body could not be read: \(error.reason)")
        }
        var parameters = OAuthParameters()
        var others: Set<String> = []
        for (name, value) in pairs {
            let isNew: Bool
            if let field = field(named: name) {
                isNew = parameters[keyPath: field] == nil
                parameters[keyPath: field] = value
            } else {
                isNew = others.insert(name).inserted
            }
            guard isNew else {
                throw OAuthError(
                    .invalidRequest, "the \(formType) body names the parameter \"\(name.prefix(64))\" twice")
            }
        }
        return parameters
    }

    /// The parameters of a JSON body: an object whose members this endpoint knows are
    /// strings (or null, for absent); other members are ignored.
    /// - Throws: `invalid_request` for text that is not JSON, a member named twice
    ///   (decoders disagree on which one wins), or a known member that is not a string.
    static func decoding(json bytes: some Collection<UInt8>) throws(OAuthError) -> OAuthParameters {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch  where error.code == .duplicateKey {
            throw OAuthError(.invalidRequest, "the JSON body names a parameter twice: \(error.reason)")
        } catch {
            throw OAuthError(.invalidRequest, "the JSON body is not valid JSON: \(error.reason)")
        }
        let notStrings = OAuthError(
            .invalidRequest, "the \(jsonType) body could not be read: every parameter must be a single string")
        guard case .object(let members) = document else { throw notStrings }
        var parameters = OAuthParameters()
        for (name, value) in members {
            guard let field = field(named: name) else { continue }
            switch value {
            case .string(let text): parameters[keyPath: field] = text
            case .null: parameters[keyPath: field] = nil
            default: throw notStrings
            }
        }
        return parameters
    }

    /// The field a parameter name sets, or nil for a parameter these endpoints do not read.
    private static func field(named name: String) -> WritableKeyPath<OAuthParameters, String?>? {
        switch name {
        case "grant_type": \.grant_type
        case "assertion": \.assertion
        case "scope": \.scope
        case "client_id": \.client_id
        case "client_secret": \.client_secret
        case "token": \.token
        case "token_type_hint": \.token_type_hint
        case "code": \.code
        case "redirect_uri": \.redirect_uri
        case "code_verifier": \.code_verifier
        case "refresh_token": \.refresh_token
        default: nil
        }
    }
}
