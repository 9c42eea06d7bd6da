import NIOCore
import NIOPosix

/// One value per event loop of a group (a floor's upstream pool), built before the
/// server starts and only touched on its own loop.
final class PerLoop<Value>: @unchecked Sendable {
    private let values: [ObjectIdentifier: Value]

    init(_ group: MultiThreadedEventLoopGroup, _ make: (any EventLoop) -> Value) {
        var values: [ObjectIdentifier: Value] = [:]
        for loop in group.makeIterator() { values[ObjectIdentifier(loop)] = make(loop) }
        self.values = values
    }

    subscript(loop: any EventLoop) -> Value { values[ObjectIdentifier(loop)]! }
}
