import Grants
import JWT
import Testing

@testable import Gateway

/// The cache of verified API tokens and OAuth 1.0a access tokens (docs/links.md,
/// "Verified credentials in memory"): what it answers and when it stops.
@Suite("Verified credentials in memory: hits, bounds, revocation, expiry")
struct VerifiedCredentialCacheTests {
    let now = ContinuousClock.now
    let unixNow = UnixTime.now()

    /// A revocation list that has just caught up with the store.
    func currentList() -> RevocationList {
        let list = RevocationList()
        list.markSynced(at: now)
        return list
    }

    @Test("a credential the store vouched for is answered from memory; another one is not")
    func hit() {
        let cache = VerifiedCredentialCache<String>()
        let list = currentList()
        cache.insert("lgat_one", value: "alice", revocationID: "api-token:at-1", expiresAt: nil, verifiedAt: now)
        #expect(cache.lookup("lgat_one", revocations: list, now: now, unixNow: unixNow) == "alice")
        #expect(cache.lookup("lgat_two", revocations: list, now: now, unixNow: unixNow) == nil)
        #expect(cache.lookup("lgat_on", revocations: list, now: now, unixNow: unixNow) == nil)
    }

    @Test("it holds at most its capacity: stale entries go first, then all of them")
    func bounded() {
        let cache = VerifiedCredentialCache<Int>(capacity: 4, lifetime: .seconds(60))
        let list = currentList()
        cache.insert("old", value: 0, revocationID: "r-old", expiresAt: nil, verifiedAt: now - .seconds(120))
        for index in 1...3 {
            cache.insert("t\(index)", value: index, revocationID: "r\(index)", expiresAt: nil, verifiedAt: now)
        }
        #expect(cache.count == 4)
        // Full: the stale entry makes room, the live ones stay.
        cache.insert("t4", value: 4, revocationID: "r4", expiresAt: nil, verifiedAt: now)
        #expect(cache.count == 4)
        #expect(cache.lookup("t1", revocations: list, now: now, unixNow: unixNow) == 1)
        // Full of live entries: it starts over rather than grow.
        for index in 5...40 {
            cache.insert("t\(index)", value: index, revocationID: "r\(index)", expiresAt: nil, verifiedAt: now)
            #expect(cache.count <= 4)
        }
        #expect(cache.lookup("t40", revocations: list, now: now, unixNow: unixNow) == 40)
    }

    @Test("a credential named by the revocation list is dropped")
    func revoked() {
        let cache = VerifiedCredentialCache<String>()
        let list = currentList()
        cache.insert("lgat_one", value: "alice", revocationID: "api-token:at-1", expiresAt: nil, verifiedAt: now)
        cache.insert("lgat_two", value: "bob", revocationID: "api-token:at-2", expiresAt: nil, verifiedAt: now)
        list.insert([Revocation(tokenID: "api-token:at-1", expiresAt: unixNow + 3600)])
        #expect(cache.lookup("lgat_one", revocations: list, now: now, unixNow: unixNow) == nil)
        #expect(cache.count == 1)
        #expect(cache.lookup("lgat_two", revocations: list, now: now, unixNow: unixNow) == "bob")
    }

    @Test("an expired credential, or one vouched for too long ago, is not answered")
    func expiry() {
        let cache = VerifiedCredentialCache<String>(lifetime: .seconds(300))
        let list = currentList()
        cache.insert("at", value: "alice", revocationID: "oauth1:a", expiresAt: unixNow + 10, verifiedAt: now)
        #expect(cache.lookup("at", revocations: list, now: now, unixNow: unixNow + 9) == "alice")
        #expect(cache.lookup("at", revocations: list, now: now, unixNow: unixNow + 10) == nil)
        #expect(cache.count == 0)
        cache.insert("lgat", value: "bob", revocationID: "api-token:b", expiresAt: nil, verifiedAt: now)
        let later = now + .seconds(300)
        list.markSynced(at: later)
        #expect(cache.lookup("lgat", revocations: list, now: later, unixNow: unixNow) == nil)
    }

    @Test("without a recent read of the revocations from the store, memory is not trusted")
    func staleList() {
        let cache = VerifiedCredentialCache<String>(staleness: .milliseconds(1500))
        cache.insert("lgat", value: "alice", revocationID: "api-token:a", expiresAt: nil, verifiedAt: now)
        #expect(cache.lookup("lgat", revocations: RevocationList(), now: now, unixNow: unixNow) == nil)
        let list = currentList()
        #expect(cache.lookup("lgat", revocations: list, now: now + .seconds(1), unixNow: unixNow) == "alice")
        #expect(cache.lookup("lgat", revocations: list, now: now + .seconds(2), unixNow: unixNow) == nil)
        // Still there: a later poll makes it trusted again.
        list.markSynced(at: now + .seconds(2))
        #expect(cache.lookup("lgat", revocations: list, now: now + .seconds(2), unixNow: unixNow) == "alice")
    }

    @Test("the table is keyed by the digest, never by the credential")
    func digestKeyed() {
        let digest = VerifiedCredentialCache<String>.digest("lgat_secret")
        #expect(digest == Digest.sha256.hash(Array("lgat_secret".utf8)))
        #expect(digest.count == 32)
    }
}
