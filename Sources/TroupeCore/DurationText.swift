/// Durations as people write them in config: `90s`, `90m`, `1h`, `7d`, `2w`, or combined (`1h30m`).
import Foundation

public enum DurationText {
    /// Seconds in `text`, or `nil` if it is not a duration.
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var sawUnit = false
        var chars = Array(trimmed)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isNumber || c == "." {
                number.append(c)
            } else {
                var unit = String(c)
                if c == "m", i + 1 < chars.count, chars[i + 1] == "s" {
                    unit = "ms"
                    i += 1
                }
                guard let value = Double(number), let scale = units[unit] else { return nil }
                total += value * scale
                number = ""
                sawUnit = true
            }
            i += 1
        }
        chars.removeAll()
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    /// The shortest text for `seconds` that `parse` reads back (`3600` → `1h`).
    public static func format(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        for (unit, scale) in [("w", 604_800.0), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        where seconds >= scale && seconds.truncatingRemainder(dividingBy: scale) == 0 {
            return "\(Int(seconds / scale))\(unit)"
        }
        return seconds < 1 ? "\(Int((seconds * 1000).rounded()))ms" : "\(seconds)s"
    }

    private static let units: [String: Double] = [
        "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800,
    ]
}
