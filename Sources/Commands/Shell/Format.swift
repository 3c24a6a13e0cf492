// Format: C-style number formatting the tools use (%g, %.Nf), done through the C library's
// own vsnprintf in the "C" locale so that output matches the real tools exactly.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum CFormat {
    static func format(_ fmt: String, _ args: CVarArg...) -> String {
        withVaList(args) { va in
            var buf = [CChar](repeating: 0, count: 128)
            _ = buf.withUnsafeMutableBufferPointer { p in vsnprintf(p.baseAddress, p.count, fmt, va) }
            return String(cString: buf)
        }
    }

    /// "%-16s" etc. are done in Swift: pad to a width with spaces on the right.
    static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
