import NIOCore
import Policy
import Testing

@testable import Gateway

/// The client connection's timeouts as the sweeps of the event loop see them (`ConnectionTimer`).
@Suite("Client connection timeouts")
struct ConnectionTimerTests {
    static let settings: ConnectionSettings = {
        var settings = ConnectionSettings()
        settings.headerTimeoutMs = 1_000
        settings.bodyTimeoutMs = 1_000
        settings.keepAliveTimeoutMs = 2_000
        return settings
    }()

    /// Sweeps every 100 ms from `start` for `milliseconds`, with `reads(ms)` reads seen so far.
    static func sweep(
        _ timer: inout ConnectionTimer, from start: NIODeadline, for milliseconds: Int64,
        phase: ConnectionTimer.Phase, reads: (Int64) -> Int
    ) -> (verdict: ConnectionTimer.Verdict, at: Int64) {
        var elapsed: Int64 = 0
        while elapsed <= milliseconds {
            let verdict = timer.check(
                now: start + .milliseconds(elapsed), reads: reads(elapsed), phase: phase, settings: settings)
            if verdict != .fine { return (verdict, elapsed) }
            elapsed += 100
        }
        return (.fine, elapsed)
    }

    @Test("an idle connection closes after keepAliveTimeoutMs, without an answer")
    func idle() {
        let start = NIODeadline.now()
        var timer = ConnectionTimer(now: start)
        let result = Self.sweep(&timer, from: start, for: 5_000, phase: .betweenRequests) { _ in 0 }
        #expect(result.verdict == .close)
        #expect((2_000...2_200).contains(result.at))
    }

    @Test("bytes of a head that never completes: a 408 headerTimeoutMs after they began")
    func slowHead() {
        let start = NIODeadline.now()
        var timer = ConnectionTimer(now: start)
        // One read every 200 ms from 500 ms on: never idle, never a whole head.
        let result = Self.sweep(&timer, from: start, for: 5_000, phase: .betweenRequests) { ms in
            ms < 500 ? 0 : Int(ms / 200)
        }
        guard case .requestTimeout = result.verdict else {
            Issue.record("expected a 408, got \(result.verdict)")
            return
        }
        #expect((1_500...1_700).contains(result.at))
    }

    @Test("a body that pauses longer than bodyTimeoutMs is a 408 while no answer began, else a close")
    func pausedBody() {
        let start = NIODeadline.now()
        var answerable = ConnectionTimer(now: start)
        let phase = ConnectionTimer.Phase.receivingBody(heldBack: false, whole: false, answerable: true)
        let first = Self.sweep(&answerable, from: start, for: 5_000, phase: phase) { ms in ms < 300 ? Int(ms) : 300 }
        guard case .requestTimeout = first.verdict else {
            Issue.record("expected a 408, got \(first.verdict)")
            return
        }
        var answering = ConnectionTimer(now: start)
        let late = ConnectionTimer.Phase.receivingBody(heldBack: false, whole: false, answerable: false)
        #expect(Self.sweep(&answering, from: start, for: 5_000, phase: late) { _ in 1 }.verdict == .close)
    }

    @Test("reads the gateway holds back never time a body out; a trickle to an endpoint does")
    func heldBackAndWhole() {
        let start = NIODeadline.now()
        var held = ConnectionTimer(now: start)
        let heldBack = ConnectionTimer.Phase.receivingBody(heldBack: true, whole: false, answerable: true)
        #expect(Self.sweep(&held, from: start, for: 5_000, phase: heldBack) { _ in 1 }.verdict == .fine)
        var trickle = ConnectionTimer(now: start)
        let whole = ConnectionTimer.Phase.receivingBody(heldBack: false, whole: true, answerable: true)
        let result = Self.sweep(&trickle, from: start, for: 5_000, phase: whole) { ms in Int(ms / 100) }
        guard case .requestTimeout = result.verdict else {
            Issue.record("expected a 408, got \(result.verdict)")
            return
        }
        #expect((1_000...1_200).contains(result.at))
    }

    @Test("while the answer is made nothing times out")
    func answering() {
        let start = NIODeadline.now()
        var timer = ConnectionTimer(now: start)
        #expect(Self.sweep(&timer, from: start, for: 10_000, phase: .answering) { _ in 0 }.verdict == .fine)
    }
}
