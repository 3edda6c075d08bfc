import Foundation
import TroupeCore
import TroupeRetrieval

/// How recall results read for people: in `memory recall`, the REPL's `:recall` and `:why`,
/// and transcripts.
public enum RecallText {
    /// `45s`, `12m`, `5.2h`, `3.1d`.
    public static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: return "\(Int(seconds))s"
        case ..<3600: return "\(Int(seconds / 60))m"
        case ..<86_400: return String(format: "%.1fh", seconds / 3600)
        default: return String(format: "%.1fd", seconds / 86_400)
        }
    }

    /// One component: `semantic 0.803×0.50 (cosine 0.803; dense spread 0.21)`.
    public static func explain(_ c: ScoreComponent) -> String {
        let raw: String
        switch c.name {
        case "lexical": raw = "bm25 \(String(format: "%.2f", c.raw))"
        case "semantic": raw = "cosine \(String(format: "%.3f", c.raw))" + (c.spread.map { String(format: "; dense spread %.2f", $0) } ?? "")
        case "recency": raw = "age \(age(c.raw))"
        case "context": raw = c.source.map { "from \($0)" } ?? "no neighbour"
        case "date": raw = c.raw == 0 ? "on the date named" : "\(age(c.raw)) from the date named"
        default: raw = "raw \(String(format: "%.2f", c.raw))"
        }
        return "\(c.name) \(String(format: "%.3f", c.value))×\(String(format: "%.2f", c.weight)) (\(raw))"
    }

    /// What a head line says of a record's origin: `  (said by user in turn 3 · a person's
    /// words, trust 4/4)` when it has provenance, `  [disputes <id>]` when it disputes a fact; else "".
    /// One line whatever the metadata holds: an imported file names whom it likes.
    public static func provenance(_ metadata: JSONValue?) -> String {
        var out = ""
        if let provenance = Provenance(metadata) { out += "  (\(provenance.summary))" }
        if case .object(let m)? = metadata, case .string(let disputed)? = m["disputes"] { out += "  [disputes \(disputed)]" }
        return out.replacingOccurrences(of: "\n", with: " ")
    }

    /// A hit in two or three lines: rank, score, whose and which slice, id, day; the content;
    /// with `why`, every component. Provenance when the memory came from a conversation or an
    /// import, and the fact it disputes if it does.
    public static func lines(_ hit: RecallHit, rank: Int, why: Bool) -> [String] {
        let r = hit.record
        var head = "\(rank). [\(String(format: "%.3f", hit.score))] \(r.owner)/\(r.slice.rawValue)  \(r.id)  \(Timestamp.format(r.createdAt).prefix(10))"
        head += provenance(r.metadata)
        if r.tags.contains(InstructionLikeText.tag) { head += "  [flagged: looks like an instruction]" }
        var out = [head, "   " + r.content.replacingOccurrences(of: "\n", with: "\n   ")]
        if why { out.append("   why: " + hit.components.map(explain).joined(separator: " + ")) }
        return out
    }
}
