import Foundation
import TroupeCore
import Yams

/// One vocabulary for session files, and errors that say how to fix what is wrong.
///
/// A memory's words are `text` wherever they appear: an opening's, an injected message's, a
/// seeded memory's, and the words an expectation looks for. `content` (the word of `memory
/// add` and of import lines) and `contains` (the older expectation key) are accepted as its
/// aliases. A key written in the wrong place is told where it belongs.
extension SessionDefinition {
    /// The key for a memory's words, and the aliases accepted for it.
    static let textKey = "text"
    static let textAliases = ["content", "contains"]

    /// Where each key of a session file lives: `""` is the top level. A key of two places
    /// (`moderator`: who moderates, in `turns`; whether they may end, in `stop`) is told to
    /// move to the first.
    static let places: KeyValuePairs<String, [String]> = [
        "": [
            "title", "personas", "shared", "opening", "memories", "inject", "turns", "parallel", "decisions", "max_rounds", "stop",
            "expect", "decide", "seed", "clock", "start", "sampling",
        ],
        "turns": ["policy", "order", "moderator", "transitions", "repeat"],
        "stop": ["phrase", "done", "time", "tokens", "moderator"],
        "sampling": ["temperature", "max_tokens"],
    ]

    /// The text under `text` or one of its aliases; giving two of them is an error.
    static func text(_ m: MappingReader, required: Bool) -> String? {
        let keys = [textKey] + textAliases
        let given = keys.filter { m.node.mapping?[$0] != nil }
        guard given.count <= 1 else {
            m.source.error(
                "'\(given[0])' and '\(given[1])' name the same thing (\(keys.joined(separator: ", ")) are one key): keep '\(textKey)'",
                at: m.keyNode(given[1]))
            for key in keys { _ = m.node(key) }
            return nil
        }
        guard let key = given.first else {
            for key in keys { _ = m.node(key) }
            if required {
                m.source.error(
                    "missing required key '\(qualified(m, textKey))' (the words; '\(textAliases.joined(separator: "' and '"))' are accepted too)",
                    at: m.node)
            }
            return nil
        }
        for other in keys where other != key { _ = m.node(other) }
        return m.string(key, required: required)
    }

    /// Reports each key of `m` (at `place`) that belongs somewhere else, with where to move it,
    /// so that ``MappingReader/finish()`` does not call it merely unknown.
    static func misplacedKeys(_ m: MappingReader, at place: String) {
        let here = places.first { $0.key == place }?.value ?? []
        for (key, value) in m.node.mapping ?? [:] {
            guard let text = key.scalar?.string, !here.contains(text) else { continue }
            if let home = places.first(where: { $0.key != place && $0.value.contains(text) })?.key {
                let example = value.scalar.map { "\(text): \($0.string)" } ?? "\(text): …"
                let fix = home.isEmpty ? "move it to the top level (\(example))" : "move it under '\(home)' (\(home): {\(example)})"
                m.source.error("'\(text)' does not belong \(place.isEmpty ? "at the top level" : "in '\(place)'"): \(fix)", at: key)
                _ = m.node(text)
            } else if place.isEmpty, textAliases.contains(text) || text == "query" {
                m.source.error("'\(text)' does not belong at the top level: it is part of an expectation (expect: - recalls: {…, \(text): …})", at: key)
                _ = m.node(text)
            }
        }
    }

    /// Why `persona` may not use the shared slice `slice`, and the two ways to fix it.
    static func notAMember(_ persona: PersonaID, of slice: RuntimeConfig.SharedSlice, role: String = "takes part") -> String {
        "'\(persona)' \(role) but is not a member of shared slice '\(slice.name)' (members: "
            + slice.members.map(\.rawValue).joined(separator: ", ")
            + "): leave '\(slice.name)' out of this session, or add \(persona) to its members in the runtime config (shared_slices)"
    }

    private static func qualified(_ m: MappingReader, _ key: String) -> String { m.path.isEmpty ? key : "\(m.path).\(key)" }
}
