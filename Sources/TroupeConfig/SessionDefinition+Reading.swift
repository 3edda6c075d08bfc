import Foundation
import TroupeCore
import Yams

extension SessionDefinition {
    /// Reads and validates a session file against the configuration it runs in (personas,
    /// shared slices): the definition, or diagnostics with file, line and column, a caret, and a
    /// suggestion for a misspelt key or name.
    public static func load(_ url: URL, configuration: Configuration) -> (SessionDefinition?, [Diagnostic]) {
        let source = YAMLSource(contentsOf: url)
        let definition = read(source, configuration: configuration)
        return (source.hasErrors ? nil : definition, source.diagnostics)
    }

    static func read(_ source: YAMLSource, configuration: Configuration) -> SessionDefinition? {
        guard let root = MappingReader.root(of: source, expecting: "a session") else { return nil }
        let known = configuration.personas.map(\.name.rawValue)
        let sharedKnown = configuration.runtime.sharedSlices.map(\.name.rawValue)
        func persona(_ node: Node?, _ name: PersonaID?, among: [PersonaID]? = nil) -> PersonaID? {
            guard let name else { return nil }
            let pool = among?.map(\.rawValue) ?? known
            guard pool.contains(name.rawValue) else {
                var message = among == nil ? "unknown persona '\(name)'" : "'\(name)' does not take part in this session"
                if let guess = Suggestion.closest(to: name.rawValue, in: pool) { message += " (did you mean '\(guess)'?)" }
                source.error(message, at: node)
                return nil
            }
            return name
        }
        func speaker(_ reader: MappingReader, _ key: String, among: [PersonaID]) -> String {
            guard let node = reader.node(key), let text = node.scalar?.string else { return "user" }
            if text == "user" { return text }
            return persona(node, PersonaID(rawValue: text), among: among)?.rawValue ?? "user"
        }

        let title = root.string("title", required: true) ?? ""
        let personas = (root.names("personas") ?? []).compactMap { persona($0.1, $0.0) }
        if root.node("personas") == nil { source.error("missing required key 'personas'", at: root.node) }
        var shared: [PersonaID] = []
        for (name, node) in root.names("shared") ?? [] {
            guard let slice = configuration.sharedSlice(name.rawValue) else {
                var message = "shared slice '\(name)' is not declared in the runtime config"
                if let guess = Suggestion.closest(to: name.rawValue, in: sharedKnown) { message += " (did you mean '\(guess)'?)" }
                source.error(message, at: node)
                continue
            }
            if let outsider = personas.first(where: { !slice.members.contains($0) }) {
                source.error("'\(outsider)' takes part but is not a member of shared slice '\(name)'", at: node)
            }
            shared.append(name)
        }

        var opening = Message(from: "user", text: "")
        if let node = root.node("opening", required: true) {
            if node.scalar != nil {
                opening.text = root.string("opening") ?? ""
            } else if let m = root.mapping("opening") {
                opening = Message(from: speaker(m, "from", among: personas), text: m.string("text", required: true) ?? "")
                m.finish()
            }
        }

        let maxRounds = root.int("max_rounds", in: 1...1000) ?? 10
        var seeds: [Seed] = []
        for (index, node) in (root.sequence("memories") ?? []).enumerated() {
            guard let m = MappingReader(node, in: source, path: "memories[\(index)]") else { continue }
            let owner = m.name("persona") ?? m.name("shared")
            let slice = m.choice("slice", as: SliceKind.self)
            let content = m.string("content", required: true)
            let by = m.name("by")
            let importance = m.double("importance", in: 0...1) ?? 0.5
            let tags = m.strings("tags") ?? []
            m.finish()
            guard let owner, let content else {
                if owner == nil { source.error("a memory needs 'persona' or 'shared'", at: node) }
                continue
            }
            if let sharedSlice = configuration.sharedSlice(owner.rawValue) {
                guard let writer = by ?? sharedSlice.members.first(where: personas.contains) else {
                    source.error("no persona of this session can write to '\(owner)': name one with 'by'", at: node)
                    continue
                }
                seeds.append(Seed(owner: owner, slice: sharedSlice.kind, content: content, by: writer, importance: importance, tags: tags))
            } else if persona(m.node("persona"), owner) != nil {
                seeds.append(Seed(owner: owner, slice: slice ?? .semantic, content: content, by: nil, importance: importance, tags: tags))
            }
        }

        var injections: [Injection] = []
        for (index, node) in (root.sequence("inject") ?? []).enumerated() {
            guard let m = MappingReader(node, in: source, path: "inject[\(index)]") else { continue }
            let round = m.int("round", in: 1...maxRounds)
            let from = speaker(m, "from", among: personas)
            let text = m.string("text", required: true)
            m.finish()
            if let round, let text { injections.append(Injection(round: round, message: Message(from: from, text: text))) }
        }

        var policy = Policy.roundRobin
        var transitions: [PersonaID: [PersonaID]] = [:]
        var allowRepeat = false
        if let t = root.mapping("turns") {
            switch t.choice("policy", ["round-robin", "order", "moderator"]) ?? "round-robin" {
            case "order":
                let order = (t.names("order") ?? []).compactMap { persona($0.1, $0.0, among: personas) }
                if order.isEmpty { source.error("'turns.policy' is order: list the speakers in 'turns.order'", at: t.node) }
                policy = .order(order)
            case "moderator":
                let node = t.node("moderator", required: true)
                if let name = persona(node, t.name("moderator"), among: personas) { policy = .moderator(name) }
            default: break
            }
            if let m = t.mapping("transitions") {
                for (key, value) in m.node.mapping ?? [:] {
                    guard let from = persona(key, key.scalar.flatMap { PersonaID(rawValue: $0.string) }, among: personas) else { continue }
                    transitions[from] = (m.names(key.scalar?.string ?? "") ?? []).compactMap { persona($0.1, $0.0, among: personas) }
                    _ = value
                }
            }
            allowRepeat = t.bool("repeat") ?? false
            t.finish()
        }

        var parallel: [ParallelRound] = []
        for (index, node) in (root.sequence("parallel") ?? []).enumerated() {
            guard let m = MappingReader(node, in: source, path: "parallel[\(index)]") else { continue }
            let round = m.int("round", in: 1...maxRounds)
            let prompt = m.string("prompt", required: true)
            let slice = m.name("slice")
            if let slice, !shared.contains(slice) {
                source.error("parallel round writes to '\(slice)', which is not among this session's shared slices", at: m.node("slice"))
            }
            m.finish()
            if let round, let prompt { parallel.append(ParallelRound(round: round, prompt: prompt, slice: slice)) }
        }

        var decisions: PersonaID?
        if let node = root.node("decisions"), let name = root.name("decisions") {
            if shared.contains(name) { decisions = name } else {
                source.error("decisions go to '\(name)', which is not among this session's shared slices", at: node)
            }
        }
        var stop = Stop()
        if let s = root.mapping("stop") {
            stop.phrase = s.string("phrase")
            stop.done = s.bool("done") ?? true
            if case .some(.some(let t)) = s.duration("time") { stop.time = t }
            stop.tokens = s.int("tokens", in: 1...100_000_000)
            s.finish()
        }

        let expectations = (root.sequence("expect") ?? []).enumerated().compactMap { index, node in
            readExpectation(node, index: index, source: source, personas: personas, shared: shared, persona: persona)
        }
        let seed = UInt64(root.int("seed", in: 0...Int(Int32.max)) ?? 1)
        var start = Date(timeIntervalSince1970: 1_800_000_000)
        if let text = root.string("start") {
            if let date = Timestamp.parse(text) { start = date } else { source.error("expected an RFC 3339 time for 'start'", at: root.node("start")) }
        }
        var temperature = 0.0, maxTokens = 200
        if let s = root.mapping("sampling") {
            temperature = s.double("temperature", in: 0...2) ?? temperature
            maxTokens = s.int("max_tokens", in: 1...100_000) ?? maxTokens
            s.finish()
        }
        root.finish()
        return SessionDefinition(
            title: title, file: source.displayPath, personas: personas, shared: shared, opening: opening, seeds: seeds,
            injections: injections, policy: policy, transitions: transitions, allowRepeat: allowRepeat, parallel: parallel,
            decisions: decisions, maxRounds: maxRounds, stop: stop, expectations: expectations, seed: seed, start: start, temperature: temperature,
            maxTokens: maxTokens)
    }

    /// The origin an expectation asks for (`said_by`, `by`), if any.
    private static func origin(_ reader: MappingReader) -> Origin? {
        let saidBy = reader.string("said_by"), by = reader.choice("by", ["person", "persona", "import"])
        return saidBy == nil && by == nil ? nil : Origin(saidBy: saidBy, by: by)
    }

    private static func readExpectation(
        _ node: Node, index: Int, source: YAMLSource, personas: [PersonaID], shared: [PersonaID],
        persona: (Node?, PersonaID?, [PersonaID]?) -> PersonaID?
    ) -> Expectation? {
        guard let m = MappingReader(node, in: source, path: "expect[\(index)]") else { return nil }
        defer { m.finish() }
        let kinds = ["recalls", "holds", "untouched", "stopped_by", "conflicts"]
        let present = kinds.filter { m.node.mapping?[$0] != nil }
        guard present.count == 1, let kind = present.first else {
            source.error("an expectation is one of \(kinds.joined(separator: ", "))", at: node)
            // Said once: the keys it has are not reported again as unknown.
            for (key, _) in m.node.mapping ?? [:] { if let text = key.scalar?.string { _ = m.node(text) } }
            return nil
        }
        func slice(_ node: Node?, _ name: PersonaID?) -> PersonaID? {
            guard let name else { return nil }
            guard shared.contains(name) else {
                var message = "'\(name)' is not among this session's shared slices (shared: \(shared.map(\.rawValue).joined(separator: ", ")))"
                if let guess = Suggestion.closest(to: name.rawValue, in: shared.map(\.rawValue)) { message = "'\(name)' is not among this session's shared slices (did you mean '\(guess)'?)" }
                source.error(message, at: node)
                return nil
            }
            return name
        }
        switch kind {
        case "recalls":
            guard let r = m.mapping("recalls") else { return nil }
            defer { r.finish() }
            let who = persona(r.node("persona", required: true), r.name("persona"), personas)
            let query = r.string("query", required: true), contains = r.string("contains", required: true)
            let kind = r.choice("slice", as: SliceKind.self)
            let origin = Self.origin(r)
            guard let who, let query, let contains else { return nil }
            return .recalls(persona: who, query: query, slice: kind, contains: contains, origin: origin)
        case "holds":
            guard let h = m.mapping("holds") else { return nil }
            defer { h.finish() }
            let name = slice(h.node("slice", required: true), h.name("slice"))
            let contains = h.string("contains", required: true)
            let origin = Self.origin(h)
            guard let name, let contains else { return nil }
            return .holds(slice: name, contains: contains, origin: origin)
        case "untouched":
            return slice(m.node("untouched"), m.name("untouched")).map { .untouched(slice: $0) }
        case "stopped_by":
            return m.choice("stopped_by", Expectation.reasons).map { .stoppedBy($0) }
        default:
            guard let c = m.mapping("conflicts") else { return nil }
            defer { c.finish() }
            return c.int("at_most", in: 0...1_000_000).map { .conflictsAtMost($0) }
        }
    }
}
