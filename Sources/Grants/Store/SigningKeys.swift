import Foundation
import JWT
import Policy

/// Why the access-token signing key could not be loaded: a setting of
/// `gateway.json` (`accessTokens`) to correct, named by its JSON pointer.
public struct SigningKeyError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The key that signs access tokens (`accessTokens` in `gateway.json`, docs/policies.md):
/// the PEM private key of `keyFile` when set, else the one generated on first start
/// and kept in the store.
public enum SigningKeys {
    public static func load(settings: AccessTokenSettings, folder: String, store: Store) async throws -> JWTKey {
        guard let algorithm = JWSAlgorithm(rawValue: settings.algorithm), algorithm.family != .hmac else {
            throw SigningKeyError(
                message: "gateway.json: /accessTokens/algorithm: \(settings.algorithm) cannot sign access tokens; "
                    + "use ES256, ES384, ES512, RS256, PS256 or EdDSA")
        }
        guard let keyFile = settings.keyFile else { return try await store.accessTokenKey(algorithm: algorithm) }
        let path = keyFile.hasPrefix("/") ? keyFile : folder + "/" + keyFile
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SigningKeyError(message: "gateway.json: /accessTokens/keyFile: \(keyFile) cannot be read")
        }
        do {
            let unnamed = try JWTKey.pem(text, algorithm: algorithm)
            guard unnamed.canSign, let publicPEM = unnamed.publicKeyPEM() else {
                throw SigningKeyError(message: "gateway.json: /accessTokens/keyFile: \(keyFile) holds no private key")
            }
            // The kid names the key by its public half, so every gateway with the same file agrees.
            let kid = "lg-" + String(Hex.lowercase(Digest.sha256.hash(Array(publicPEM.utf8))).prefix(16))
            // Named, not read again: the PEM is parsed once per load.
            return unnamed.withKeyID(kid)
        } catch let error as JWTError {
            throw SigningKeyError(message: "gateway.json: /accessTokens/keyFile: \(keyFile): \(error.reason)")
        }
    }
}
