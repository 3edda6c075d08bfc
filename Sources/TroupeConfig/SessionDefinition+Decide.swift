import Foundation
import TroupeCore

extension SessionDefinition {
    /// `decide:` — who decides (a persona of the session; the moderator when not named), the
    /// question, and two or more options, written to the session's `decisions` slice.
    ///
    ///     decide:
    ///       by: bellona
    ///       question: Which store do we choose for server mode?
    ///       options: ["PostgreSQL is the store for server mode.", "SQLite behind a network service is the store for server mode."]
    static func readDecision(
        _ root: MappingReader, source: YAMLSource, personas: [PersonaID], policy: Policy, decisions: PersonaID?
    ) -> Decision? {
        guard let node = root.node("decide"), let d = root.mapping("decide") else { return nil }
        defer { d.finish() }
        var by: PersonaID?
        if let name = d.name("by") {
            if personas.contains(name) { by = name } else {
                source.error("'\(name)' decides but does not take part in this session (personas: \(personas.map(\.rawValue).joined(separator: ", ")))", at: d.node("by"))
            }
        } else if case .moderator(let moderator) = policy {
            by = moderator
        } else {
            source.error("say who decides: 'decide.by' names a persona of this session", at: node)
        }
        let question = d.string("question", required: true)
        let options = d.strings("options") ?? []
        if d.node("options") == nil {
            source.error("missing required key 'decide.options' (two or more choices)", at: node)
        } else if options.count < 2 || Set(options).count != options.count || options.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            source.error("'decide.options' needs two or more different, non-empty choices", at: d.node("options"))
        }
        if decisions == nil {
            source.error("a decision is written to the session's decisions slice: add 'decisions: <shared slice>'", at: node)
        }
        guard let by, let question, options.count >= 2 else { return nil }
        return Decision(by: by, question: question, options: options)
    }
}
