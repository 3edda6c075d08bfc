import Foundation

/// RFC 3339 timestamps with millisecond precision, as used in import and export lines.
///
/// Written by hand rather than with `ISO8601DateFormatter`: it is exact to the millisecond,
/// allocation-free, and fast enough for imports of hundreds of thousands of lines.
public enum Timestamp {
    /// Formats `date` as `2026-11-23T14:15:28.123Z` (UTC, always three fraction digits).
    public static func format(_ date: Date) -> String {
        format(milliseconds: date.millisecondsSince1970)
    }

    /// Formats milliseconds since 1970 as an RFC 3339 UTC timestamp.
    public static func format(milliseconds: Int64) -> String {
        let (days, msOfDay) = floorDivMod(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let h = msOfDay / 3_600_000, m = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60
        let ms = msOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))."
            + "\(pad(ms, 3))Z"
    }

    /// Parses `YYYY-MM-DD` (that day's midnight, UTC) or `YYYY-MM-DDTHH:MM[:SS[.fff…]]` with `Z`
    /// or `±HH:MM` (a space may stand for `T`). A time without its zone is refused: it could be
    /// any of 26 hours. Fractions beyond milliseconds are truncated.
    public static func parse(_ text: String) -> Date? {
        parseMilliseconds(text).map(Date.init(millisecondsSince1970:))
    }

    /// Parses a timestamp to milliseconds since 1970; see ``parse(_:)``.
    public static func parseMilliseconds(_ text: String) -> Int64? {
        var p = Scanner(Array(text.utf8))
        guard let year = p.digits(4), p.take(UInt8(ascii: "-")), let month = p.digits(2),
            p.take(UInt8(ascii: "-")), let day = p.digits(2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var ms: Int64 = 0
        var offsetMinutes: Int64 = 0
        if !p.atEnd {
            guard p.take(UInt8(ascii: "T")) || p.take(UInt8(ascii: "t")) || p.take(UInt8(ascii: " ")),
                let h = p.digits(2), p.take(UInt8(ascii: ":")), let mi = p.digits(2), h < 24, mi < 60
            else { return nil }
            var s: Int64 = 0
            if p.take(UInt8(ascii: ":")) {
                guard let sec = p.digits(2), sec < 61 else { return nil }
                s = Int64(sec)
                if p.take(UInt8(ascii: ".")) {
                    guard let (fraction, count) = p.fraction() else { return nil }
                    ms = count >= 3 ? fraction : fraction * Int64([100, 10, 1][count - 1])
                }
            }
            ms += (Int64(h) * 3600 + Int64(mi) * 60 + s) * 1000
            // A time needs its zone (RFC 3339): without one it could be any of 26 hours.
            if p.take(UInt8(ascii: "Z")) || p.take(UInt8(ascii: "z")) {
            } else if let sign = p.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                _ = p.take(sign)
                guard let oh = p.digits(2), p.take(UInt8(ascii: ":")), let om = p.digits(2), oh < 24,
                    om < 60
                else { return nil }
                offsetMinutes = Int64(oh * 60 + om) * (sign == UInt8(ascii: "-") ? -1 : 1)
            } else {
                return nil
            }
            guard p.atEnd else { return nil }
        }
        let days = Self.days(fromCivil: year, month, day)
        return days * 86_400_000 + ms - offsetMinutes * 60_000
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms.
    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((m + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : -((-a + b - 1) / b)
        return (q, a - q * b)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }

        /// Up to three significant fraction digits (the rest are skipped) and how many were read.
        mutating func fraction() -> (Int64, Int)? {
            var value: Int64 = 0
            var count = 0
            while let byte = peek, byte >= 48, byte <= 57 {
                if count < 3 { value = value * 10 + Int64(byte - 48) }
                count += 1
                index += 1
            }
            return count == 0 ? nil : (value, min(count, 3))
        }
    }
}
