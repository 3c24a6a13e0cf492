// IDAllocator: the lowest free number from a floor upwards, as the kernel hands out bridge
// port numbers (find_portno()) and namespace ids (alloc_netid()).
// Guarantees: always the lowest number not in use; allocating in sequence costs O(1) (the
// search starts at the lowest number that can be free, not at the floor).

struct IDAllocator {
    private var used = Set<Int>()
    /// No number below this one is free.
    private var lowestFree: Int

    init(from floor: Int) { lowestFree = floor }

    mutating func allocate() -> Int {
        var n = lowestFree
        while used.contains(n) { n += 1 }
        used.insert(n)
        lowestFree = n + 1
        return n
    }

    mutating func release(_ n: Int) {
        guard used.remove(n) != nil else { return }
        lowestFree = min(lowestFree, n)
    }
}
