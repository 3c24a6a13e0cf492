// EtcdStore: the key space of an etcd v3 cluster as its clients see it: keys kept in byte
// order, a revision that every change increases, create-only puts (a transaction comparing
// the key's version with 0, as flanneld creates its lease), and watches on a prefix.
// Guarantees: ranges come back in key byte order, as etcd returns them; watchers are told in
// the order they registered, each change once.
// Leaves out: leases and their TTLs (flannel's 24 h subnet leases never expire here), the
// cluster itself (members, raft, compaction), authentication, and the client traffic.

public final class EtcdStore {
    public struct KeyValue: Equatable {
        public let key: String
        public var value: String
        public let createRevision: Int
        public var modRevision: Int
        public var version: Int
    }

    public enum Event: Equatable {
        case put(KeyValue)
        case delete(key: String)
    }

    /// Entries in key byte order.
    public private(set) var entries: [KeyValue] = []
    /// The store's revision (1 when empty, as a new etcd reports it).
    public private(set) var revision = 1
    private var watchers: [(id: Int, prefix: String, handler: (Event) -> Void)] = []
    private var nextWatchID = 1

    public init() {}

    private static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Index of `key`, or where it would go.
    private func search(_ key: String) -> (index: Int, found: Bool) {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if EtcdStore.less(entries[mid].key, key) { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < entries.count && entries[lo].key == key)
    }

    public func get(_ key: String) -> KeyValue? {
        let s = search(key)
        return s.found ? entries[s.index] : nil
    }

    /// Keys in [key, rangeEnd), or every key starting with `key` when `prefix` is set.
    public func range(_ key: String, rangeEnd: String? = nil, prefix: Bool = false) -> [KeyValue] {
        if !prefix && rangeEnd == nil { return get(key).map { [$0] } ?? [] }
        var out: [KeyValue] = []
        var i = search(key).index
        while i < entries.count {
            let e = entries[i]
            if prefix {
                guard e.key.utf8.starts(with: key.utf8) else { break }
            } else if let end = rangeEnd, !EtcdStore.less(e.key, end) {
                break
            }
            out.append(e)
            i += 1
        }
        return out
    }

    /// Sets `key`; with `createOnly` nothing happens (false) when the key exists.
    @discardableResult
    public func put(_ key: String, _ value: String, createOnly: Bool = false) -> Bool {
        let s = search(key)
        if s.found && createOnly { return false }
        revision += 1
        let kv: KeyValue
        if s.found {
            entries[s.index].value = value
            entries[s.index].modRevision = revision
            entries[s.index].version += 1
            kv = entries[s.index]
        } else {
            kv = KeyValue(key: key, value: value, createRevision: revision, modRevision: revision, version: 1)
            entries.insert(kv, at: s.index)
        }
        notify(.put(kv), key: key)
        return true
    }

    /// Deletes `key` (or every key under it with `prefix`); returns how many were deleted.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) -> Int {
        let doomed = prefix ? range(key, prefix: true).map(\.key) : (get(key).map { [$0.key] } ?? [])
        guard !doomed.isEmpty else { return 0 }
        revision += 1
        for k in doomed {
            let s = search(k)
            entries.remove(at: s.index)
            notify(.delete(key: k), key: k)
        }
        return doomed.count
    }

    /// Calls `handler` with every later change of a key under `prefix`. Returns the watch id.
    @discardableResult
    public func watch(prefix: String, _ handler: @escaping (Event) -> Void) -> Int {
        let id = nextWatchID
        nextWatchID += 1
        watchers.append((id, prefix, handler))
        return id
    }

    public func cancelWatch(_ id: Int) {
        watchers.removeAll { $0.id == id }
    }

    private func notify(_ e: Event, key: String) {
        for w in watchers where key.utf8.starts(with: w.prefix.utf8) { w.handler(e) }
    }
}
