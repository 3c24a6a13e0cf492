// Errno: the kernel's error returns, as userland sees them through netlink and system calls.
// Guarantees: each case carries the strerror() text glibc prints, so tools can word errors
// exactly as the real ones (iproute2's "RTNETLINK answers: File exists").

public enum Errno: Int32, Error, Sendable {
    case EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9
    case EAGAIN = 11, ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19
    case ENOTDIR = 20, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOSPC = 28, ERANGE = 34
    case ELOOP = 40, ENOTSUP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99
    case ENETDOWN = 100, ENETUNREACH = 101, ECONNRESET = 104, ENOBUFS = 105, EISCONN = 106
    case ENOTCONN = 107, ETIMEDOUT = 110, ECONNREFUSED = 111, EHOSTDOWN = 112, EHOSTUNREACH = 113
    case ENONET = 64, EPROTO = 71, EDESTADDRREQ = 89, ENOPROTOOPT = 92
    case EMSGSIZE = 90, EPROTONOSUPPORT = 93, EPIPE = 32

    /// glibc's strerror() text.
    public var message: String {
        switch self {
        case .EPERM: return "Operation not permitted"
        case .ENOENT: return "No such file or directory"
        case .ESRCH: return "No such process"
        case .EINTR: return "Interrupted system call"
        case .EIO: return "Input/output error"
        case .ENXIO: return "No such device or address"
        case .E2BIG: return "Argument list too long"
        case .EBADF: return "Bad file descriptor"
        case .EAGAIN: return "Resource temporarily unavailable"
        case .ENOMEM: return "Cannot allocate memory"
        case .EACCES: return "Permission denied"
        case .EBUSY: return "Device or resource busy"
        case .EEXIST: return "File exists"
        case .EXDEV: return "Invalid cross-device link"
        case .ENODEV: return "No such device"
        case .ENOTDIR: return "Not a directory"
        case .EINVAL: return "Invalid argument"
        case .ENFILE: return "Too many open files in system"
        case .EMFILE: return "Too many open files"
        case .ENOSPC: return "No space left on device"
        case .ERANGE: return "Numerical result out of range"
        case .ELOOP: return "Too many levels of symbolic links"
        case .ENOTSUP: return "Operation not supported"
        case .EAFNOSUPPORT: return "Address family not supported by protocol"
        case .EADDRINUSE: return "Address already in use"
        case .EADDRNOTAVAIL: return "Cannot assign requested address"
        case .ENETDOWN: return "Network is down"
        case .ENETUNREACH: return "Network is unreachable"
        case .ECONNRESET: return "Connection reset by peer"
        case .ENOBUFS: return "No buffer space available"
        case .EISCONN: return "Transport endpoint is already connected"
        case .ENOTCONN: return "Transport endpoint is not connected"
        case .ETIMEDOUT: return "Connection timed out"
        case .ECONNREFUSED: return "Connection refused"
        case .EHOSTDOWN: return "Host is down"
        case .EHOSTUNREACH: return "No route to host"
        case .EMSGSIZE: return "Message too long"
        case .ENONET: return "Machine is not on the network"
        case .EPROTO: return "Protocol error"
        case .EDESTADDRREQ: return "Destination address required"
        case .ENOPROTOOPT: return "Protocol not available"
        case .EPROTONOSUPPORT: return "Protocol not supported"
        case .EPIPE: return "Broken pipe"
        }
    }
}

/// An error from a kernel request: the errno plus, where the kernel gives one, the netlink
/// extended-ack text that iproute2 prints as "Error: ...".
public struct KernelError: Error, Equatable, CustomStringConvertible {
    public let errno: Errno
    public let extack: String?
    public init(_ errno: Errno, _ extack: String? = nil) {
        self.errno = errno
        self.extack = extack
    }
    public var description: String { extack.map { "Error: \($0)" } ?? errno.message }
}
