import JWT
import Policy
import Synchronization

/// Slows down password and API-token guessing on the login form and HTTP Basic
/// (docs/gateway.md §4). Failures are counted per (client address, account),
/// after the login is resolved to its account, so the email and the name share
/// one count; and per client address across accounts, with a higher allowance.
/// An attacker elsewhere cannot lock a user out, and cannot go on guessing
/// under another spelling. After a key's free attempts within `window` seconds,
/// attempts are refused for `firstDelay` seconds, doubling with each further
/// failure, up to `maxDelay`.
final class LoginThrottle: Sendable {
    /// What one counter counts, and how many failures it allows before slowing down.
    struct Key: Hashable, Sendable {
        let name: String
        let freeAttempts: Int
    }

    struct Counter: Sendable {
        var failures: Int
        var firstFailure: Int64
        var blockedUntil: Int64
    }

    /// Failures allowed for one account from one address.
    static let accountAttempts = 5
    /// Failures allowed from one address over every account.
    static let addressAttempts = 20
    let window: Int64 = 15 * 60
    let firstDelay: Int64 = 5
    let maxDelay: Int64 = 300
    private let counters = Mutex<[String: Counter]>([:])

    /// The counters of an attempt: `account` is the account id the login resolved
    /// to, or the lower-cased login when it names nobody.
    static func keys(account: String, address: String?) -> [Key] {
        let from = address ?? "-"
        return [
            Key(name: "account:\(account)@\(from)", freeAttempts: accountAttempts),
            Key(name: "address:\(from)", freeAttempts: addressAttempts),
        ]
    }

    /// Seconds to wait before another attempt, or nil when one may be made now.
    func retryAfter(keys: [Key], now: Int64 = UnixTime.now()) -> Int64? {
        counters.withLock { table in
            keys.compactMap { table[$0.name] }.map { $0.blockedUntil - now }.filter { $0 > 0 }.max()
        }
    }

    func failed(keys: [Key], now: Int64 = UnixTime.now()) {
        counters.withLock { table in
            if table.count > 100_000 { table = table.filter { now - $0.value.firstFailure < window } }
            for key in keys {
                var counter = table[key.name] ?? Counter(failures: 0, firstFailure: now, blockedUntil: 0)
                if now - counter.firstFailure > window {
                    counter = Counter(failures: 0, firstFailure: now, blockedUntil: 0)
                }
                counter.failures += 1
                if counter.failures >= key.freeAttempts {
                    counter.blockedUntil =
                        now + min(maxDelay, firstDelay << min(20, counter.failures - key.freeAttempts))
                }
                table[key.name] = counter
            }
        }
    }

    /// A success clears the account's count from that address, not the address's.
    func succeeded(keys: [Key]) {
        guard let account = keys.first else { return }
        _ = counters.withLock { $0.removeValue(forKey: account.name) }
    }
}

extension CompiledPolicy {
    /// The throttle's name for a login: the account it names, so every spelling of
    /// one user counts together, or the lower-cased login when it names nobody.
    func throttleAccount(login: String) -> String {
        user(login: login)?.accountId ?? "unknown:" + login.lowercased()
    }
}
