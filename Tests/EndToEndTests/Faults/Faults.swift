import Testing

/// The fault tests (docs/testing.md, "Fault tests"): an upstream that
/// resets, answers garbage or stalls; the PostgreSQL store stopped and started
/// again under load; the SQLite store's disk full or its files read-only. Each
/// suite is nested here, so `swift test --filter Faults` runs them all.
@Suite("Faults")
enum Faults {}
