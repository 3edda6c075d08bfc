import Foundation
import TroupeStore

/// The one-line progress display of long work (`memory import`), drawn on a terminal's stderr.
public enum ProgressLine {
    /// `[########------------]  42%  84,000 records  21,000 rec/s  ETA 6s`.
    public static func render(_ p: MemoryImporter.Progress, width: Int = 24) -> String {
        let fraction = p.totalBytes > 0 ? min(1, Double(p.bytesRead) / Double(p.totalBytes)) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let count = p.phase == .validating ? p.lines : p.records
        let rate = p.elapsed > 0 ? Double(count) / p.elapsed : 0
        var eta = "--"
        if fraction > 0, fraction < 1, p.elapsed > 0 {
            eta = formatSeconds(p.elapsed * (1 - fraction) / fraction)
        } else if fraction >= 1 {
            eta = "0s"
        }
        let noun = p.phase == .validating ? "lines checked" : "records"
        let percent = String(format: "%3d%%", Int(fraction * 100))
        return "[\(bar)] \(percent)  \(grouped(count)) \(noun)  \(grouped(Int(rate)))/s  ETA \(eta)"
    }

    /// `[########------------]  42%  840 embedded  120/s  ETA 6s`, for any counted work.
    public static func render(fraction: Double, count: Int, noun: String, elapsed: Double, width: Int = 24) -> String {
        let fraction = min(1, max(0, fraction))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(count) / elapsed : 0
        let eta = fraction >= 1 ? "0s" : fraction > 0 && elapsed > 0 ? formatSeconds(elapsed * (1 - fraction) / fraction) : "--"
        return "[\(bar)] \(String(format: "%3d%%", Int(fraction * 100)))  \(grouped(count)) \(noun)  \(grouped(Int(rate)))/s  ETA \(eta)"
    }

    /// `1,234,567`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0, i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func formatSeconds(_ s: Double) -> String {
        s < 60 ? "\(Int(s.rounded(.up)))s" : "\(Int(s) / 60)m\(String(format: "%02d", Int(s) % 60))s"
    }
}
