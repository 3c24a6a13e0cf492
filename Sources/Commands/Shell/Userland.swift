// Userland: the user-space state of a scenario's world that outlives one command: the
// key-value store the machines share (what etcd holds in a real cluster) and the files each
// machine's programs write (/run/flannel/subnet.env). One instance per scenario run.
// Guarantees: everything is kept in key order or creation order, never hash order.
// Leaves out: a file system tree (paths are plain keys), permissions, the network traffic
// between clients and the etcd server.

import NetKernel

public final class Userland {
    /// The etcd key space every machine reaches (etcdctl, flanneld).
    public let etcd = EtcdStore()
    private var files: [String: [String: String]] = [:]

    public init() {}

    /// The contents of `path` on `machine`, nil when it does not exist.
    public func file(_ path: String, on machine: Machine) -> String? {
        files[machine.name]?[path]
    }

    public func writeFile(_ path: String, _ text: String, on machine: Machine) {
        files[machine.name, default: [:]][path] = text
    }

    /// Appends in place (a redirected process writes line after line).
    public func appendFile(_ path: String, _ text: String, on machine: Machine) {
        files[machine.name, default: [:]][path, default: ""] += text
    }
}
