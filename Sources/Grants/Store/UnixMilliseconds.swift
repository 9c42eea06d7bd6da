import JWT

/// Wall-clock milliseconds since 1970: the order of revocations and audit entries.
public enum UnixMilliseconds {
    public static func now() -> Int64 { UnixTime.nowMilliseconds() }
}
