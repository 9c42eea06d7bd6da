/// Every way a token, key or JSON document can be refused.
///
/// Callers switch on `code`; `reason` is a human-readable message that never
/// contains a secret or a whole token. Two errors are equal when their codes are,
/// so tests can write `#expect(throws: JWTError(.expired))`.
public struct JWTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that react differently to each failure.
    public enum Code: String, Sendable, CaseIterable {
        // Shape of the token, checked before any crypto.
        case tokenTooLarge
        case segmentTooLarge
        case malformedToken
        case invalidBase64URL
        // JSON.
        case invalidJSON
        case duplicateKey
        case jsonTooDeep
        case jsonTooLarge
        case headerNotObject
        case claimsNotObject
        // Header.
        case missingAlgorithm
        case algorithmNone
        case algorithmMismatch
        case unsupportedAlgorithm
        case unsupportedCriticalHeader
        case unknownKeyID
        case invalidHeader
        // Signature and keys.
        case emptySignature
        case invalidSignature
        case invalidKey
        case keyAlgorithmMismatch
        case keyCannotSign
        case cryptoFailure
        // Claims.
        case missingClaim
        case invalidClaim
        case expired
        case notYetValid
        case issuedInFuture
        case lifetimeTooLong
        case issuerMismatch
        case audienceMismatch
        case subjectMismatch
        case typeMismatch
        // Connect.
        case unknownIssuer
        case qshMismatch
        case contextQSHNotAllowed
        case invalidQueryEncoding
    }

    public let code: Code
    /// Why, in words a user can act on. Never holds a secret or a whole token.
    public let reason: String

    public init(_ code: Code, _ reason: String = "") {
        self.code = code
        self.reason = reason
    }

    public static func == (lhs: JWTError, rhs: JWTError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        reason.isEmpty ? code.rawValue : "\(code.rawValue): \(reason)"
    }
}
