/// An unordered set of scopes: what a credential holds, or what implication gives it.
public struct ScopeSet: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    @usableFromInline var members: Set<Scope>

    /// Creates a set from any scopes.
    public init<S: Sequence>(_ scopes: S) where S.Element == Scope {
        members = Set(scopes)
    }

    /// Creates a set from a space-separated list (`"READ write:jira-work"`), the
    /// shape of an OAuth `scope` parameter; empty items are ignored.
    public init(parsing list: String) {
        members = Set(list.split(separator: " ").map { Scope(String($0)) })
    }

    public init(arrayLiteral elements: Scope...) { self.init(elements) }

    public static let empty = ScopeSet([])

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    @inlinable public func contains(_ scope: Scope) -> Bool { members.contains(scope) }

    public func union(_ other: ScopeSet) -> ScopeSet {
        var result = self
        result.members.formUnion(other.members)
        return result
    }

    public func intersection(_ other: ScopeSet) -> ScopeSet {
        var result = self
        result.members.formIntersection(other.members)
        return result
    }

    public func makeIterator() -> Set<Scope>.Iterator { members.makeIterator() }

    /// The names in a stable order, for headers, messages and tests.
    public var sorted: [Scope] { members.sorted() }

    /// Space-separated, sorted: the shape of `X-Linkgate-Scopes` and OAuth `scope`.
    public var description: String { sorted.map(\.name).joined(separator: " ") }
}
