/// Pure decision logic: scope implication, permission grants, route rules and
/// the explain trace. No I/O, no dependency on the rest of Linkgate.
public enum ScopesModule {}
