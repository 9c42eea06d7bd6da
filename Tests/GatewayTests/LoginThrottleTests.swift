import Testing

@testable import Gateway

@Suite("Slowing down guessing: per account and address, then per address")
struct LoginThrottleTests {
    @Test("five failures for an account from one address block that address only; the user elsewhere is not locked out")
    func noLockOut() {
        let throttle = LoginThrottle()
        let attacker = LoginThrottle.keys(account: "bob-id", address: "203.0.113.9")
        for _ in 0..<4 { throttle.failed(keys: attacker, now: 1_000) }
        #expect(throttle.retryAfter(keys: attacker, now: 1_000) == nil)
        throttle.failed(keys: attacker, now: 1_000)
        #expect(throttle.retryAfter(keys: attacker, now: 1_000) == 5)
        #expect(
            throttle.retryAfter(keys: LoginThrottle.keys(account: "bob-id", address: "198.51.100.7"), now: 1_000) == nil
        )
    }

    @Test("one address guessing across accounts is slowed down after 20 failures")
    func sprayFromOneAddress() {
        let throttle = LoginThrottle()
        for index in 0..<19 {
            throttle.failed(keys: LoginThrottle.keys(account: "user-\(index)", address: "a"), now: 10)
        }
        #expect(throttle.retryAfter(keys: LoginThrottle.keys(account: "someone", address: "a"), now: 10) == nil)
        throttle.failed(keys: LoginThrottle.keys(account: "user-19", address: "a"), now: 10)
        #expect(throttle.retryAfter(keys: LoginThrottle.keys(account: "someone", address: "a"), now: 10) == 5)
        #expect(throttle.retryAfter(keys: LoginThrottle.keys(account: "someone", address: "b"), now: 10) == nil)
    }

    @Test("a success clears the account's count from that address, not the address's")
    func success() {
        let throttle = LoginThrottle()
        let keys = LoginThrottle.keys(account: "bob-id", address: "a")
        for _ in 0..<4 { throttle.failed(keys: keys, now: 0) }
        throttle.succeeded(keys: keys)
        throttle.failed(keys: keys, now: 0)
        #expect(throttle.retryAfter(keys: keys, now: 0) == nil)
    }
}
