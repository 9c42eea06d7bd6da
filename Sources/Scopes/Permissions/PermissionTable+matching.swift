extension PermissionTable {
    /// The grants that give `user` `permission` on `resource`, in table order;
    /// empty when the user does not hold it.
    public func matches(_ permission: String, on resource: Resource, for user: ActingUser) -> [Match] {
        let exact = storage.index[Key(permission: permission, resource: resource)]
        var everyItem: [Holding]?
        if case .item(let type, _) = resource {
            everyItem = storage.index[Key(permission: permission, resource: .everyItem(type: type))]
        }
        if exact == nil, everyItem == nil { return [] }
        var result: [Match] = []
        if exact?.count ?? 0 <= PermissionTable.scanLimit, everyItem?.count ?? 0 <= PermissionTable.scanLimit {
            scan(exact, user, into: &result)
            scan(everyItem, user, into: &result)
        } else {
            withGranteeNumbers(of: user) { numbers in
                collect(exact, numbers, into: &result)
                collect(everyItem, numbers, into: &result)
            }
        }
        return PermissionTable.inTableOrder(result)
    }

    /// Whether `user` holds `permission` on `resource`.
    public func holds(_ permission: String, on resource: Resource, for user: ActingUser) -> Bool {
        !matches(permission, on: resource, for: user).isEmpty
    }

    /// Up to this many holders, a key is scanned by name; beyond, searched by number.
    static let scanLimit = 8

    /// Appends the holdings whose grantee is `user`, `anyone` or one of the
    /// user's groups, comparing names.
    private func scan(_ holdings: [Holding]?, _ user: ActingUser, into result: inout [Match]) {
        guard let holdings else { return }
        for holding in holdings {
            let number = Int(holding.grantee)
            let held =
                number == 0
                || (number <= storage.userNumbers.count
                    ? storage.granteeNames[number] == user.accountId
                    : user.groups.contains(storage.granteeNames[number]))
            guard held else { continue }
            let position = Int(holding.position)
            result.append(Match(index: position, grant: storage.grants[position]))
        }
    }

    /// Calls `body` with the numbers of `anyone`, the user and the user's groups,
    /// in a buffer on the stack.
    private func withGranteeNumbers(of user: ActingUser, _ body: (Slice<UnsafeMutableBufferPointer<Int32>>) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: user.groups.count + 2) { numbers in
            numbers[0] = 0  // anyone
            var count = 1
            if let number = storage.userNumbers[user.accountId] {
                numbers[count] = number
                count += 1
            }
            for group in user.groups {
                guard let number = storage.groupNumbers[group] else { continue }
                numbers[count] = number
                count += 1
            }
            body(numbers[..<count])
        }
    }

    /// Appends the holdings of the grantees `numbers` (binary search: a key may
    /// have many holders, a user few numbers).
    private func collect(
        _ holdings: [Holding]?, _ numbers: Slice<UnsafeMutableBufferPointer<Int32>>, into result: inout [Match]
    ) {
        guard let holdings else { return }
        for number in numbers {
            var low = 0
            var high = holdings.count
            while low < high {
                let middle = (low + high) / 2
                if holdings[middle].grantee < number { low = middle + 1 } else { high = middle }
            }
            while low < holdings.count, holdings[low].grantee == number {
                let position = Int(holdings[low].position)
                result.append(Match(index: position, grant: storage.grants[position]))
                low += 1
            }
        }
    }

    /// Sorted by position, each grant once: a user listed twice in one group, or
    /// in two groups with the same grant, must not show the grant twice.
    private static func inTableOrder(_ matches: [Match]) -> [Match] {
        guard matches.count > 1 else { return matches }
        var result = matches
        result.sort { $0.index < $1.index }
        var kept = 1
        for next in 1..<result.count where result[next].index != result[kept - 1].index {
            result[kept] = result[next]
            kept += 1
        }
        result.removeLast(result.count - kept)
        return result
    }
}
