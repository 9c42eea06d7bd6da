import JWT
import Synchronization

/// Slows down password guessing on the login form and HTTP Basic: after `freeAttempts` failures in
/// `window` seconds for one account or one client address, further attempts are
/// refused for `firstDelay` seconds, doubling with each further failure, up to `maxDelay`.
final class LoginThrottle: Sendable {
    struct Counter: Sendable {
        var failures: Int
        var firstFailure: Int64
        var blockedUntil: Int64
    }

    let freeAttempts = 5
    let window: Int64 = 15 * 60
    let firstDelay: Int64 = 5
    let maxDelay: Int64 = 300
    private let counters = Mutex<[String: Counter]>([:])

    /// Seconds to wait before another attempt, or nil when one may be made now.
    func retryAfter(keys: [String], now: Int64 = UnixTime.now()) -> Int64? {
        counters.withLock { table in
            keys.compactMap { table[$0] }.map { $0.blockedUntil - now }.filter { $0 > 0 }.max()
        }
    }

    func failed(keys: [String], now: Int64 = UnixTime.now()) {
        counters.withLock { table in
            if table.count > 100_000 { table = table.filter { now - $0.value.firstFailure < window } }
            for key in keys {
                var counter = table[key] ?? Counter(failures: 0, firstFailure: now, blockedUntil: 0)
                if now - counter.firstFailure > window {
                    counter = Counter(failures: 0, firstFailure: now, blockedUntil: 0)
                }
                counter.failures += 1
                if counter.failures >= freeAttempts {
                    counter.blockedUntil = now + min(maxDelay, firstDelay << min(20, counter.failures - freeAttempts))
                }
                table[key] = counter
            }
        }
    }

    func succeeded(key: String) {
        _ = counters.withLock { $0.removeValue(forKey: key) }
    }

    static func keys(username: String, address: String?) -> [String] {
        ["user:" + username.lowercased()] + (address.map { ["address:" + $0] } ?? [])
    }
}
