import Foundation

/// A thread that opens and closes connections to some ports, one after the
/// other, as fast as it can: new connections arriving at every moment of a
/// shutdown. It stops by itself once every port refuses (the listeners are
/// closed), after `limit` seconds, or when told to.
final class Knocker: @unchecked Sendable {
    /// How many connections were accepted so far; finished when the knocking stops.
    let accepted = Watched(0)
    private let stopped = Watched(false)

    init(ports: [Int], limit: TimeInterval = 30) {
        let thread = Thread { [accepted, stopped] in
            let deadline = Date().addingTimeInterval(limit)
            while !stopped.current, Date() < deadline {
                let open = ports.filter { RawHTTP.knock(port: $0) }.count
                if open == 0 { break }
                accepted.update { $0 += open }
            }
            accepted.finish()
        }
        thread.start()
    }

    deinit { stop() }

    func stop() { stopped.update { $0 = true } }
}
