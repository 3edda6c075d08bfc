import Foundation
import TroupeConfig
import TroupeLLM

/// What of the prompt a model may copy into its reply, and the reply without it.
///
/// A small model continues the text it was given: it opens with its own name as a speaker
/// label ("Athena:"), or starts writing the recalled-memories block or a chat turn of its own.
/// None of that is the reply: requests stop before the markers, and what a backend let through
/// anyway (one that ignores stop strings) is cut before the reply is stored or formed.
enum ReplyCleanup {
    /// Markup of the prompt that never belongs in a reply.
    static let promptMarkers = SamplingOptions.promptMarkers + ["<|im_start|>", "<|im_end|>"]

    /// `reply` cut before the first prompt marker, without a leading speaker label naming the
    /// persona, trimmed. A reply that was all leak is empty.
    static func cleaned(_ reply: String, persona: PersonaDefinition) -> String {
        var text = Substring(reply)
        if let marker = promptMarkers.compactMap({ text.range(of: $0, options: .caseInsensitive)?.lowerBound }).min() {
            text = text[..<marker]
        }
        let opening = text.drop { $0.isWhitespace }
        let names = Set([persona.name.rawValue, persona.displayName]).filter { !$0.isEmpty }
        for name in names {
            for label in [name + ":", name + " says:"] where opening.lowercased().hasPrefix(label.lowercased()) {
                text = opening.dropFirst(label.count).drop { $0.isWhitespace }
            }
        }
        // A reply with nothing to cut is kept as it came, spacing and all.
        return text.count == reply.count ? reply : text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
