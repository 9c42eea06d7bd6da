import JWT
import SQLKit

extension Store {
    /// The key that signs access tokens when `accessTokens.keyFile` is absent:
    /// generated on first start and kept in the store, so every gateway sharing
    /// the store signs and verifies with the same key. Two gateways starting at
    /// once agree: the first insert wins and both read it back.
    public func accessTokenKey(algorithm: JWSAlgorithm = .es256) async throws(StoreError) -> JWTKey {
        if let key = try await storedKey(algorithm: algorithm) { return key }
        let kid = "lg-" + SecureRandom.identifier(bytes: 12)
        let generated: JWTKey
        do {
            generated = try JWTKey.generate(algorithm, keyID: kid)
        } catch {
            throw StoreError(.query, "a \(algorithm.rawValue) signing key could not be generated: \(error)")
        }
        guard let pem = generated.privateKeyPEM() else {
            throw StoreError(.query, "the generated signing key could not be written as PEM")
        }
        let name = algorithm.rawValue
        try await session("keep the signing key") { database in
            try await database.raw(
                """
                INSERT INTO signing_keys (slot, kid, algorithm, private_key_pem, created_at)
                VALUES ('current', \(bind: kid), \(bind: name), \(bind: pem), \(bind: UnixTime.now()))
                ON CONFLICT (slot) DO NOTHING
                """
            ).run()
        }
        guard let key = try await storedKey(algorithm: algorithm) else {
            throw StoreError(.query, "the signing key was stored but cannot be read back")
        }
        return key
    }

    private func storedKey(algorithm: JWSAlgorithm) async throws(StoreError) -> JWTKey? {
        let row = try await read("read the signing key") { database in
            try await database.raw("SELECT kid, algorithm, private_key_pem FROM signing_keys WHERE slot = 'current'")
                .first().map { row in
                    (
                        try row.decode(column: "kid", as: String.self),
                        try row.decode(column: "algorithm", as: String.self),
                        try row.decode(column: "private_key_pem", as: String.self)
                    )
                }
        }
        guard let (kid, storedAlgorithm, pem) = row else { return nil }
        guard storedAlgorithm == algorithm.rawValue else {
            throw StoreError(
                .query,
                "the store's signing key is \(storedAlgorithm), but gateway.json asks for \(algorithm.rawValue); "
                    + "set accessTokens.keyFile or keep the algorithm")
        }
        do {
            return try JWTKey.pem(pem, algorithm: algorithm, keyID: kid)
        } catch {
            throw StoreError(.query, "the store's signing key \(kid) cannot be loaded: \(error)")
        }
    }
}
