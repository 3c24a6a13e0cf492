// Timestamp: wall-clock text for virtual instants, always UTC, integer arithmetic only (the
// `TZ=GMT0` of tcpdump's own test suite), so output is identical on every machine.

import SimCore

public struct CivilTime: Equatable, Sendable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int
}

public enum Timestamp {
    /// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Civil date to days since 1970-01-01.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(_ t: SimTime) -> CivilTime {
        var secs = t.ns / 1_000_000_000
        var nanos = t.ns % 1_000_000_000
        if nanos < 0 { nanos += 1_000_000_000; secs -= 1 }
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civil(fromDays: Int(days))
        return CivilTime(year: y, month: m, day: d, hour: Int(rem / 3600), minute: Int(rem % 3600 / 60),
                         second: Int(rem % 60), nanosecond: Int(nanos))
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// "05:53:10.859956": what tcpdump prints by default (microsecond precision, truncated).
    public static func timeOfDay(_ t: SimTime) -> String {
        let c = civil(t)
        return "\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(c.nanosecond / 1000, 6))"
    }

    /// "2018-11-11 05:53:10.859956": tcpdump -tttt.
    public static func dateAndTime(_ t: SimTime) -> String {
        let c = civil(t)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2)) " + timeOfDay(t)
    }

    /// Parses "2018-11-11T05:53:10.859956Z", "2018-11-11 05:53:10", "05:53:10.859956" (on
    /// 1970-01-01) into an instant.
    public static func parse(_ text: String) -> SimTime? {
        var s = Substring(text.trimmingSpaces)
        if s.hasSuffix("Z") { s = s.dropLast() }
        var days = 0
        if let sep = s.firstIndex(where: { $0 == "T" || $0 == " " }) {
            let date = s[..<sep].split(separator: "-")
            guard date.count == 3, let y = Int(date[0]), let m = Int(date[1]), let d = Int(date[2]),
                  (1...12).contains(m), (1...31).contains(d) else { return nil }
            days = Timestamp.days(year: y, month: m, day: d)
            s = s[s.index(after: sep)...]
        }
        let hms = s.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, let h = Int(hms[0]), let mi = Int(hms[1]), (0..<24).contains(h), (0..<60).contains(mi),
              let secs = SimTime.parseSeconds(String(hms[2])), secs < .seconds(61) else { return nil }
        return SimTime(ns: Int64(days) * 86_400_000_000_000 + Int64(h) * 3_600_000_000_000 + Int64(mi) * 60_000_000_000 + secs.ns)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
