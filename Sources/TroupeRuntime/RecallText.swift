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

    /// One component as what it adds to the score, then the figure it comes from as that figure
    /// is: `semantic +0.480 (cosine 0.180; the best here 0.180; weight 0.48)`, `lexical +0.040
    /// (bm25 1.35 of a full match's 6.70; weight 0.20)`, `superseded -0.312 (repeats m-1 v1)`.
    /// Never a share of the best candidate in place of the cosine.
    public static func explain(_ c: ScoreComponent) -> String {
        func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
        var parts: [String]
        switch c.name {
        case _ where c.place != nil: parts = ["place \(c.place ?? 0) of the \(c.name) ranking"]
        case "lexical":
            // Three significant digits: in a small memory a word in most records scores 0.002.
            parts = [c.raw > 0 ? "bm25 \(String(format: "%.3g", c.raw))" : "no query word"]
            if c.raw > 0, let full = c.reference { parts[0] += " of a full match's \(String(format: "%.3g", full))" }
        case "semantic":
            parts = ["cosine \(f(c.raw))"]
            if let best = c.reference { parts.append("the best here \(f(best))") }
        case "recency": parts = ["age \(age(c.raw))"]
        case "importance": parts = [f(c.raw, 2)]
        case "context":
            parts = [c.source.map { "from \($0), relevance \(f(c.raw))" } ?? "no neighbour"]
            if c.value == 0, c.raw > 0 { parts[0] += ", which repeats a superseded value" }
        case "date": parts = [c.raw == 0 ? "on the date named" : "\(age(c.raw)) from the date named"]
        case "trust": parts = ["rank \(Int(c.raw))/\(Provenance.highestTrust)"]
        case "superseded": return "superseded \(f(c.contribution)) (repeats \(c.source ?? "a fact") v\(Int(c.raw)), since superseded)"
        default: parts = ["raw \(f(c.raw, 2))"]
        }
        if c.name == "semantic" || c.name == "lexical", let spread = c.spread { parts.append("dense spread \(f(spread, 2))") }
        parts.append("weight \(f(c.weight, 2))")
        let sign = c.contribution < 0 ? "" : "+"
        return "\(c.name) \(sign)\(f(c.contribution)) (\(parts.joined(separator: "; ")))"
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
