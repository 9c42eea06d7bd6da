import Foundation
import NIOCore
import NIOPosix

/// How the gateway's threads are set up: one NIO event loop per CPU the process
/// may run on, and Swift concurrency's global executor replaced by those same
/// loops, so a request is not handed between NIO's threads and Swift's pool at
/// every `await` (measured: about 9 context switches per proxied request before).
public enum EventLoopRuntime {
    /// Call first thing in `main`, before any task starts. Only `serve` needs it.
    public static func prepare(arguments: [String] = CommandLine.arguments) {
        guard arguments.dropFirst().first == "serve" else { return }
        if ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil {
            setenv("NIO_SINGLETON_GROUP_LOOP_COUNT", String(allowedCPUCount()), 1)
        }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The CPUs this process may run on (`taskset`, cpusets: `Cpus_allowed` in
    /// /proc/self/status), never more than NIO's count.
    static func allowedCPUCount() -> Int {
        let all = System.coreCount
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return all }
        let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { total, character in
            total + (character.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? min(count, all) : all
    }
}
