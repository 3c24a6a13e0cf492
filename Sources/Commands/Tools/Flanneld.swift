// Flanneld: flannel's daemon (flanneld v0.28.9 with the etcd subnet manager), started on each
// machine (`flanneld --iface=eth0 &`). What it does, in main.go's order: fetch the network
// config from etcd (retrying every second while it is missing or invalid, printing "timed out"
// on stdout between tries), find the external interface (--iface by name or address, else the
// default route's device), let the backend (udp or vxlan) take a subnet lease and program the
// kernel, add its FORWARD rules (chain FLANNEL-FWD, --iptables-forward-rules), write
// /run/flannel/subnet.env, then watch the other machines' leases: those present at start in
// key order, later ones as etcd announces them.
// Output: flanneld logs to stderr in klog's format; only its error lines are printed here
// ("E0102 15:04:05.000000    1234 main.go:384] ..."), exactly as klog writes them, with the
// machine's wall clock in UTC and the process id. Its many info lines are left out, as if its
// stderr went to a log file, to keep transcripts readable.
// Timing: startup takes no virtual time (the steps that follow see its devices and lease); a
// lease another machine writes reaches the watch 1 ms later.
// Leaves out: the kube subnet manager, --ip-masq, --iface-regex, lease renewal, the healthz
// server, other backends (host-gw, ipip, wireguard...), the etcd client traffic on the wire.

import SimCore
import NetKernel
import Wire

/// The interface flanneld sends on (backend.ExternalInterface).
struct FlannelExternalInterface {
    let device: NetDevice
    /// The interface's address (the UDP backend listens on it).
    let ifaceAddress: IPv4Address
    /// --public-ip, else the interface's address: what other machines send to.
    let externalAddress: IPv4Address
}

/// A backend: RegisterNetwork() and Run()'s reaction to lease events.
protocol FlannelBackend: AnyObject {
    /// Kernel-independent: RegisterNetwork(): takes the lease and programs the kernel.
    func register(config: FlannelNetworkConfig) throws -> FlannelLease
    /// The MTU written to subnet.env.
    var mtu: Int { get }
    func leaseAdded(_ l: FlannelLease)
    func leaseRemoved(_ l: FlannelLease)
    /// The daemon stops (SIGINT): close descriptors.
    func stop()
}

struct FlannelBackendError: Error { let message: String }

public final class Flanneld: SimProcess {
    struct Options {
        var etcdPrefix = "/coreos.com/network"
        var ifaces: [String] = []
        var ifaceCanReach: String?
        var subnetFile = "/run/flannel/subnet.env"
        var publicIP: String?
        var iptablesForwardRules = true
        var subnetLeaseRenewMargin = 60
    }

    static let version = "v0.28.9"
    /// Time for a lease written by another machine to reach this daemon's watch.
    static let watchLatency = SimTime.milliseconds(1)

    public let name = "flanneld"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    /// A daemon: only one that has already failed ends.
    public var endsOnItsOwn: Bool { isFinished }
    public var stallHint: String? { "flanneld is a daemon: start it in the background with a trailing &" }

    let ctx: ToolContext
    let opts: Options
    let manager: FlannelSubnetManager
    var rng: SplitMix64
    private var backend: FlannelBackend?
    private(set) var config: FlannelNetworkConfig?
    private(set) var ownLease: FlannelLease?
    /// The other machines' leases (lease.LeaseWatcher.Leases), in the order they were seen.
    private var others: [FlannelLease] = []
    private var watchID: Int?
    private var retry: EventID?

    private init(ctx: ToolContext, opts: Options) {
        self.ctx = ctx
        self.opts = opts
        pid = ctx.machine.allocatePID()
        manager = FlannelSubnetManager(store: ctx.userland.etcd, prefix: opts.etcdPrefix)
        rng = SplitMix64(seed: ctx.kernel.seed, stream: "flanneld/\(ctx.machine.name)")
    }

    // MARK: - Command line (Go's flag package: -name, --name, =value or the next word)

    static let stringFlags: Set<String> = ["etcd-endpoints", "etcd-prefix", "etcd-keyfile", "etcd-certfile", "etcd-cafile",
                                           "etcd-username", "etcd-password", "iface", "iface-can-reach", "subnet-file",
                                           "public-ip", "public-ipv6", "healthz-ip", "net-config-path", "v",
                                           "subnet-lease-renew-margin", "healthz-port", "iptables-resync"]
    static let boolFlags: Set<String> = ["ip-masq", "ip-masq-fully-random-disable", "kube-subnet-mgr", "version",
                                         "iptables-forward-rules", "ip-blackhole-route", "set-node-network-unavailable"]

    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var o = Options()
        var i = 0
        var showVersion = false
        while i < args.count {
            let a = args[i]
            i += 1
            guard a.hasPrefix("-"), a != "-" else { break }  // flag parsing stops at the first argument
            if a == "--" { break }
            var name = String(a.dropFirst(a.hasPrefix("--") ? 2 : 1))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if boolFlags.contains(name) {
                let on: Bool
                switch value {
                case nil, "1", "t", "T", "true", "TRUE", "True": on = true
                case "0", "f", "F", "false", "FALSE", "False": on = false
                default:
                    ctx.eprintln("invalid boolean value \"\(value!)\" for -\(name): parse error")
                    return usage(ctx)
                }
                switch name {
                case "version": showVersion = on
                case "iptables-forward-rules": o.iptablesForwardRules = on
                case "ip-masq" where on, "kube-subnet-mgr" where on:
                    ctx.eprintln("flanneld: --\(name) is not modelled here")
                    return .finished(1)
                default: break
                }
                continue
            }
            guard stringFlags.contains(name) else {
                ctx.eprintln("flag provided but not defined: -\(name)")
                return usage(ctx)
            }
            if value == nil {
                guard i < args.count else {
                    ctx.eprintln("flag needs an argument: -\(name)")
                    return usage(ctx)
                }
                value = args[i]
                i += 1
            }
            let v = value!
            switch name {
            case "etcd-prefix": o.etcdPrefix = v
            case "iface": o.ifaces.append(v)
            case "iface-can-reach": o.ifaceCanReach = v
            case "subnet-file": o.subnetFile = v
            case "public-ip": o.publicIP = v
            case "subnet-lease-renew-margin", "healthz-port", "iptables-resync":
                guard let n = Int(v) else {
                    ctx.eprintln("invalid value \"\(v)\" for flag -\(name): parse error")
                    return usage(ctx)
                }
                if name == "subnet-lease-renew-margin" { o.subnetLeaseRenewMargin = n }
            default: break
            }
        }
        if showVersion {
            ctx.eprintln(version)
            return .finished(0)
        }
        let d = Flanneld(ctx: ctx, opts: o)
        if o.subnetLeaseRenewMargin >= 24 * 60 || o.subnetLeaseRenewMargin <= 0 {
            d.klog("E", "main.go", 233, "Invalid subnet-lease-renew-margin option, out of acceptable range")
            return .finished(1)
        }
        d.fetchConfig()
        // Even a daemon that failed at once is a process: in the background its status is
        // nobody's business (bash reports the job later); in the foreground it is the step's.
        return .process(d)
    }

    /// flag.ExitOnError calls flanneld's usage(), which exits 0.
    private static func usage(_ ctx: ToolContext) -> ShellOutcome {
        ctx.eprintln("Usage: flanneld [OPTION]...")
        return .finished(0)
    }

    // MARK: - Startup (main())

    /// getConfig(): retried every second until the config is there and valid.
    private func fetchConfig() {
        retry = nil
        do {
            let c = try manager.networkConfig()
            config = c
            boot(c)
        } catch let e as FlannelNetworkConfig.Failure {
            klog("E", "main.go", 536, "Couldn't fetch network config: \(e.message)")
            retry = ctx.kernel.clock.schedule(after: .seconds(1)) { [weak self] in
                guard let self, !self.isFinished else { return }
                self.ctx.println("timed out")
                self.fetchConfig()
            }
        } catch {}
    }

    private func boot(_ c: FlannelNetworkConfig) {
        guard let ext = externalInterface() else { return }
        let be: FlannelBackend
        switch c.backendType {
        case "udp": be = FlannelUDPBackend(daemon: self, ext: ext)
        case "vxlan":
            guard let v = makeVXLANBackend(daemon: self, ext: ext) else {
                klog("E", "main.go", 376, "Error fetching backend: the vxlan backend is not available in this build")
                return exit(1)
            }
            be = v
        case "host-gw", "ipip", "wireguard", "ipsec", "alloc", "extension", "tencentvpc":
            klog("E", "main.go", 376, "Error fetching backend: the \(c.backendType) backend is not modelled here (udp and vxlan are)")
            return exit(1)
        default:
            klog("E", "main.go", 376, "Error fetching backend: unknown backend type: \(c.backendType)")
            return exit(1)
        }
        let lease: FlannelLease
        do {
            lease = try be.register(config: c)
        } catch let e as FlannelBackendError {
            klog("E", "main.go", 384, "Error registering network: \(e.message)")
            return exit(1)
        } catch {
            return exit(1)
        }
        backend = be
        ownLease = lease
        if opts.iptablesForwardRules { addForwardRules(c.network) }
        writeSubnetFile(c, lease: lease, mtu: be.mtu)
        watchLeases()
    }

    /// ipmatch.LookupExtIface() for each --iface in turn, or the default route's device.
    private func externalInterface() -> FlannelExternalInterface? {
        let ns = ctx.namespace
        func lookup(_ spec: String?) throws -> FlannelExternalInterface {
            var dev: NetDevice?
            var addr: IPv4Address?
            if let s = spec {
                if let a = IPv4Address(s) {
                    dev = ns.devices.first { d in d.addresses.contains { $0.local == a } }
                    guard dev != nil else { throw FlannelBackendError(message: "error looking up interface \(s): no interface with given IP found") }
                    addr = a
                } else {
                    dev = ns.device(named: s)
                    guard dev != nil else { throw FlannelBackendError(message: "error looking up interface \(s): route ip+net: no such network interface") }
                }
            } else {
                // GetDefaultGatewayInterface(): the first main-table route to 0.0.0.0/0.
                guard let r = ns.fib.routes(in: RouteTable.main).first(where: { $0.destination.length == 0 }) else {
                    throw FlannelBackendError(message: "failed to get default interface: unable to find default route")
                }
                guard let d = r.device else { throw FlannelBackendError(message: "failed to get default interface: found default route but could not determine interface") }
                dev = d
            }
            let d = dev!
            if addr == nil {
                guard let a = d.addresses.first?.local else { throw FlannelBackendError(message: "failed to find IPv4 address for interface \(d.name)") }
                addr = a
            }
            var external = addr!
            if let p = opts.publicIP {
                guard let a = IPv4Address(p) else { throw FlannelBackendError(message: "invalid public IP address: \(p)") }
                external = a
            }
            return FlannelExternalInterface(device: d, ifaceAddress: addr!, externalAddress: external)
        }
        if opts.ifaces.isEmpty && opts.ifaceCanReach == nil {
            do { return try lookup(nil) } catch let e as FlannelBackendError {
                klog("E", "main.go", 328, "Failed to find any valid interface to use: \(e.message)")
            } catch {}
            exit(1)
            return nil
        }
        for spec in opts.ifaces {
            // A miss is only an info line ("Could not find valid interface matching ...").
            if let e = try? lookup(spec) { return e }
        }
        if let target = opts.ifaceCanReach, let dst = IPv4Address(target), let r = try? ns.routeOutput(to: dst) {
            return FlannelExternalInterface(device: r.device, ifaceAddress: r.source,
                                            externalAddress: opts.publicIP.flatMap(IPv4Address.init) ?? r.source)
        }
        klog("E", "main.go", 367, "Failed to find interface to use that matches the interfaces and/or regexes provided")
        exit(1)
        return nil
    }

    /// SetupAndEnsureForwardRules(): FORWARD jumps to FLANNEL-FWD, which accepts the network's
    /// traffic both ways (what iptables-restore leaves in place).
    private func addForwardRules(_ network: IPv4Prefix) {
        let n = "\(network)"
        let comment = ["-m", "comment", "--comment", "flanneld forward"]
        let commands: [[String]] = [
            ["-t", "filter", "-N", "FLANNEL-FWD"],
            ["-t", "filter", "-A", "FORWARD"] + comment + ["-j", "FLANNEL-FWD"],
            ["-t", "filter", "-A", "FLANNEL-FWD", "-s", n] + comment + ["-j", "ACCEPT"],
            ["-t", "filter", "-A", "FLANNEL-FWD", "-d", n] + comment + ["-j", "ACCEPT"],
        ]
        let quiet = ToolContext(kernel: ctx.kernel, machine: ctx.machine, namespace: ctx.namespace, out: BufferSink(),
                                epoch: ctx.epoch, userland: ctx.userland)
        for c in commands { _ = Iptables.run(c, quiet) }
    }

    /// subnet.WriteSubnetFile().
    private func writeSubnetFile(_ c: FlannelNetworkConfig, lease: FlannelLease, mtu: Int) {
        let first = IPv4Address(raw: lease.subnet.address.raw &+ 1)
        let text = "FLANNEL_NETWORK=\(c.network)\nFLANNEL_SUBNET=\(first)/\(lease.subnet.length)\nFLANNEL_MTU=\(mtu)\nFLANNEL_IPMASQ=false\n"
        ctx.userland.writeFile(opts.subnetFile, text, on: ctx.machine)
    }

    /// FLANNEL_SUBNET of an earlier subnet.env (ReadCIDRFromSubnetFile()), as a subnet.
    func previousSubnet() -> IPv4Prefix? {
        guard let text = ctx.userland.file(opts.subnetFile, on: ctx.machine) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("FLANNEL_SUBNET=") {
            if let p = IPv4Prefix(String(line.dropFirst("FLANNEL_SUBNET=".count))) { return p.masked }
        }
        return nil
    }

    // MARK: - Leases of the other machines (subnet.WatchLeases + lease.LeaseWatcher)

    private func watchLeases() {
        for l in manager.leases() { added(l) }
        watchID = manager.store.watch(prefix: manager.subnetsKey + "/") { [weak self] event in
            guard let self else { return }
            self.ctx.kernel.clock.schedule(after: Flanneld.watchLatency) { [weak self] in
                guard let self, !self.isFinished else { return }
                switch event {
                case .put(let kv):
                    if let l = FlannelSubnetManager.lease(from: kv) { self.added(l) }
                case .delete(let key):
                    if let sn = FlannelSubnetManager.parseSubnetKey(key) { self.removed(sn) }
                }
            }
        }
    }

    private func added(_ l: FlannelLease) {
        guard l.subnet != ownLease?.subnet else { return }
        if let i = others.firstIndex(where: { $0.subnet == l.subnet }) { others[i] = l } else { others.append(l) }
        backend?.leaseAdded(l)
    }

    private func removed(_ sn: IPv4Prefix) {
        guard sn != ownLease?.subnet, let i = others.firstIndex(where: { $0.subnet == sn }) else { return }
        let l = others.remove(at: i)
        backend?.leaseRemoved(l)
    }

    // MARK: - Process

    /// klog's line: severity, MMDD hh:mm:ss.uuuuuu, the pid right-aligned in 7, file:line.
    func klog(_ severity: Character, _ file: String, _ line: Int, _ message: String) {
        ctx.eprintln(Flanneld.klogHeader(severity, wall: ctx.wallNow, pid: pid, file: file, line: line) + message)
    }

    static func klogHeader(_ severity: Character, wall: SimTime, pid: Int32, file: String, line: Int) -> String {
        let ns = max(wall.ns, 0)
        let secs = ns / 1_000_000_000
        let days = Int(secs / 86400), rem = Int(secs % 86400)
        // H. Hinnant's civil_from_days (month and day only).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        func pad(_ v: Int, _ w: Int, _ c: Character = "0") -> String {
            let s = String(v)
            return String(repeating: c, count: max(0, w - s.count)) + s
        }
        let micros = Int((ns % 1_000_000_000) / 1000)
        return "\(severity)\(pad(m, 2))\(pad(d, 2)) \(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(micros, 6)) "
            + "\(pad(Int(pid), 7, " ")) \(file):\(line)] "
    }

    private func exit(_ status: Int32) {
        guard !isFinished else { return }
        if let r = retry { ctx.kernel.clock.cancel(r) }
        retry = nil
        if let w = watchID { manager.store.cancelWatch(w) }
        watchID = nil
        backend?.stop()
        isFinished = true
        exitStatus = status
        onExit?(status)
    }

    /// SIGINT: the shutdown handler cancels everything; flanneld exits 0. Its lease stays in
    /// etcd, its devices stay (the udp backend's tun goes with its descriptor).
    public func interrupt() { exit(0) }
}
