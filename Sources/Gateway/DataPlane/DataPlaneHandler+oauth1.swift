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
        let loopBound = NIOLoopBound((handler: self, request: request), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        request.snapshot.grants.oauth1.nonces.spend(checked.nonce.key, expiresAt: checked.nonce.expiresAt) {
            outcome in
            if eventLoop.inEventLoop {
                loopBound.value.handler.nonceSpent(outcome, checked, loopBound.value.request)
            } else {
                eventLoop.execute { loopBound.value.handler.nonceSpent(outcome, checked, loopBound.value.request) }
            }
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
