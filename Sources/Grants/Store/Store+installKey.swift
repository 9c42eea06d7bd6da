import JWT
import SQLKit

extension Store {
    /// The `signing_keys` slot of the Connect install key (docs/connect-install.md).
    static let installKeySlot = "connect-install"

    /// The RS256 key that signs lifecycle callbacks to Connect apps (`linkgate app
    /// install`, docs/connect-install.md): generated on first use and kept in the
    /// store beside the access-token key, so every gateway sharing the store
    /// serves its public key and every command signs with it. Two processes
    /// generating it at once agree: the first insert wins and both read it back.
    public func connectInstallKey() async throws(StoreError) -> JWTKey {
        if let key = try await storedInstallKey() { return key }
        let kid = "lg-install-" + SecureRandom.identifier(bytes: 12)
        let generated: JWTKey
        do {
            generated = try JWTKey.generate(.rs256, keyID: kid)
        } catch {
            throw StoreError(.query, "an RS256 install key could not be generated: \(error)")
        }
        guard let pem = generated.privateKeyPEM() else {
            throw StoreError(.query, "the generated install key could not be written as PEM")
        }
        let slot = Self.installKeySlot
        try await session("keep the install key") { database in
            try await database.raw(
                """
                INSERT INTO signing_keys (slot, kid, algorithm, private_key_pem, created_at)
                VALUES (\(bind: slot), \(bind: kid), 'RS256', \(bind: pem), \(bind: UnixTime.now()))
                ON CONFLICT (slot) DO NOTHING
                """
            ).run()
        }
        guard let key = try await storedInstallKey() else {
            throw StoreError(.query, "the install key was stored but cannot be read back")
        }
        return key
    }

    /// The PEM public key of the install key whose `kid` is `kid`, or nil when there is none
    /// (`GET /connect-install-keys/{kid}`).
    public func connectInstallPublicKey(kid: String) async throws(StoreError) -> String? {
        guard let key = try await storedInstallKey(), key.keyID == kid else { return nil }
        return key.publicKeyPEM()
    }

    private func storedInstallKey() async throws(StoreError) -> JWTKey? {
        let slot = Self.installKeySlot
        let row = try await read("read the install key") { database in
            try await database.raw("SELECT kid, private_key_pem FROM signing_keys WHERE slot = \(bind: slot)")
                .first().map { row in
                    (
                        try row.decode(column: "kid", as: String.self),
                        try row.decode(column: "private_key_pem", as: String.self)
                    )
                }
        }
        guard let (kid, pem) = row else { return nil }
        do {
            return try JWTKey.pem(pem, algorithm: .rs256, keyID: kid)
        } catch {
            throw StoreError(.query, "the store's install key \(kid) cannot be loaded: \(error)")
        }
    }
}

extension Store {
    /// Forgets every user's consent to the app `key` (`linkgate app uninstall`): a
    /// later install of the same key asks users again. Returns how many were forgotten.
    public func forgetConsents(ofApp key: String) async throws(StoreError) -> Int {
        try await session("forget the app's consents") { database in
            let count =
                try await database.raw("SELECT COUNT(*) AS count FROM consents WHERE app_key = \(bind: key)")
                .first()?.decode(column: "count", as: Int.self) ?? 0
            try await database.raw("DELETE FROM consents WHERE app_key = \(bind: key)").run()
            return count
        }
    }
}
