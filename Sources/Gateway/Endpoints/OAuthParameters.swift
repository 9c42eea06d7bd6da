import Foundation
import Grants
import Hummingbird
import JWT
import NIOCore

/// The parameters of a request to the token, revocation or introspection
/// endpoint, from a form body (RFC 6749 §4) or a JSON body (Atlassian's 3LO
/// examples post JSON, docs/protocols.md §4).
struct OAuthParameters: Decodable, Sendable {
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

    /// Reads and decodes the body by its `Content-Type`.
    /// - Throws: `OAuthError` `invalid_request` for another content type, an
    ///   oversized body, or one that does not decode.
    static func read(_ request: Request) async throws(OAuthError) -> OAuthParameters {
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/x-www-form-urlencoded" || mediaType == "application/json" else {
            throw OAuthError(
                .invalidRequest,
                "send the parameters as application/x-www-form-urlencoded or application/json, not \"\(mediaType.prefix(64))\""
            )
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw OAuthError(.invalidRequest, "the request body is over \(maxBodyBytes) bytes")
        }
        if mediaType == "application/json" {
            // Foundation's decoder keeps the last of two equal keys, other stacks the first:
            // a parameter given twice is refused before decoding.
            do {
                _ = try JSONValue.parse(body.readableBytesView)
            } catch  where error.code == .duplicateKey {
                throw OAuthError(.invalidRequest, "the JSON body names a parameter twice: \(error.reason)")
            } catch {
                throw OAuthError(.invalidRequest, "the JSON body is not valid JSON: \(error.reason)")
            }
        }
        do {
            if mediaType == "application/json" {
                return try JSONDecoder().decode(OAuthParameters.self, from: Data(buffer: body))
            }
            return try URLEncodedFormDecoder().decode(OAuthParameters.self, from: String(buffer: body))
        } catch {
            throw OAuthError(
                .invalidRequest, "the \(mediaType) body could not be read: every parameter must be a single string")
        }
    }
}
