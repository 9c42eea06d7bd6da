import Grants
import NIOCore
import NIOHTTP1

/// The OAuth 1.0a step of the fast path (docs/gateway.md §3, "Forwarding"): a signed
/// request without a body, checked in `begin`, waits here for its nonce's batch
/// (`OAuth1NonceLedger`) without holding the event loop, then is decided on it.
extension DataPlaneHandler {
    /// Spends a checked OAuth 1.0a request's nonce, reading nothing more from the
    /// client meanwhile, and goes on with the request on the event loop once the store has it.
    func spendNonce(
        _ checked: OAuth1Authentication.Checked, _ request: ParsedRequest, context: ChannelHandlerContext
    ) {
        state = .authorizing(requestEnded: false)
        request.snapshot.grants.oauth1.nonces.spend(checked.nonce, on: context.eventLoop, with: (self, request)) {
            waiting, outcome in
            waiting.0.nonceSpent(outcome, checked, waiting.1)
        }
    }

    /// Decides and forwards the request once its nonce is spent, or refuses it.
    private func nonceSpent(
        _ outcome: Result<Bool, StoreError>, _ checked: OAuth1Authentication.Checked, _ request: ParsedRequest
    ) {
        // The connection closed or timed out meanwhile: nothing is owed.
        guard case .authorizing(let requestEnded) = state, !isClosing, let context else { return }
        do throws(GatewayError) {
            let authenticated = try countingRefusal({ () throws(GatewayError) in
                try plane.authenticator.oauth1.spent(outcome, checked, snapshot: request.snapshot)
            })
            decide(authenticated, request, expectsContinue: false, requestEnded: requestEnded, context: context)
        } catch {
            refuse(
                error, head: request.head, record: request.record, started: request.started, expectsContinue: false,
                requestEnded: requestEnded)
        }
        resumeReading()
    }
}

extension OAuth1NonceLedger {
    /// Spends `nonce` and calls `then` with `value` and the outcome on `eventLoop`,
    /// the thread of the connection that waits (at once when the nonce was seen here before).
    func spend<Value>(
        _ nonce: OAuth1Nonce, on eventLoop: any EventLoop, with value: Value,
        then: @escaping (Value, Result<Bool, StoreError>) -> Void
    ) {
        let waiting = NIOLoopBound((value: value, then: then), eventLoop: eventLoop)
        spend(nonce.key, expiresAt: nonce.expiresAt) { outcome in
            if eventLoop.inEventLoop {
                waiting.value.then(waiting.value.value, outcome)
            } else {
                eventLoop.execute { waiting.value.then(waiting.value.value, outcome) }
            }
        }
    }
}
