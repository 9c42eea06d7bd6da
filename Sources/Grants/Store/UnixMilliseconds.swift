import Glibc

/// Wall-clock milliseconds since 1970: the order of revocations and audit entries.
public enum UnixMilliseconds {
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
