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

    /// Reads and validates a session given as text (one sent to the API), as ``load(_:configuration:)``
    /// does a file; `displayPath` names it in diagnostics.
    public static func load(text: String, displayPath: String, configuration: Configuration) -> (SessionDefinition?, [Diagnostic]) {
        let source = YAMLSource(text: text, displayPath: displayPath)
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
                source.error(notAMember(outsider, of: slice), at: node)
            }
            shared.append(name)
        }

        var opening = Message(from: "user", text: "")
        if let node = root.node("opening", required: true) {
            if node.scalar != nil {
                opening.text = root.string("opening") ?? ""
            } else if let m = root.mapping("opening") {
                opening = Message(from: speaker(m, "from", among: personas), text: text(m, required: true) ?? "")
                m.finish()
            }
        }

        let maxRounds = root.int("max_rounds", in: 1...1000) ?? 10
        var seeds: [Seed] = []
        for (index, node) in (root.sequence("memories") ?? []).enumerated() {
            guard let m = MappingReader(node, in: source, path: "memories[\(index)]") else { continue }
            let owner = m.name("persona") ?? m.name("shared")
            let slice = m.choice("slice", as: SliceKind.self)
            let content = text(m, required: true)
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
                    source.error(
                        "no persona of this session can write to '\(owner)': name one of its members with 'by' (members: "
                            + sharedSlice.members.map(\.rawValue).joined(separator: ", ") + ")", at: node)
                    continue
                }
                if let by, !sharedSlice.members.contains(by) {
                    source.error(notAMember(by, of: sharedSlice, role: "writes this memory"), at: m.node("by"))
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
            let words = text(m, required: true)
            m.finish()
            if let round, let words { injections.append(Injection(round: round, message: Message(from: from, text: words))) }
        }

        var policy = Policy.roundRobin
        var transitions: [PersonaID: [PersonaID]] = [:]
        var allowRepeat = false
        if let t = root.mapping("turns") {
            policy = readPolicy(t, source: source, personas: personas, persona: persona)
            if let m = t.mapping("transitions") {
                for (key, value) in m.node.mapping ?? [:] {
                    guard let from = persona(key, key.scalar.flatMap { PersonaID(rawValue: $0.string) }, among: personas) else { continue }
                    transitions[from] = (m.names(key.scalar?.string ?? "") ?? []).compactMap { persona($0.1, $0.0, among: personas) }
                    _ = value
                }
            }
            allowRepeat = t.bool("repeat") ?? false
            misplacedKeys(t, at: "turns")
            t.finish()
        }

        var parallel: [ParallelRound] = []
        for (index, node) in (root.sequence("parallel") ?? []).enumerated() {
            guard let m = MappingReader(node, in: source, path: "parallel[\(index)]") else { continue }
            let round = m.int("round", in: 1...maxRounds)
            let prompt = m.string("prompt", required: true)
            let slice = m.name("slice")
            if let slice, !shared.contains(slice) {
                source.error(
                    "parallel round writes to '\(slice)', which is not among this session's shared slices (shared: "
                        + shared.map(\.rawValue).joined(separator: ", ") + "): add it to 'shared'", at: m.node("slice"))
            }
            m.finish()
            if let round, let prompt { parallel.append(ParallelRound(round: round, prompt: prompt, slice: slice)) }
        }

        var decisions: PersonaID?
        if let node = root.node("decisions"), let name = root.name("decisions") {
            if shared.contains(name) { decisions = name } else {
                source.error(
                    "decisions go to '\(name)', which is not among this session's shared slices (shared: "
                        + shared.map(\.rawValue).joined(separator: ", ") + "): add it to 'shared'", at: node)
            }
        }
        var stop = Stop()
        if let s = root.mapping("stop") {
            stop.phrase = s.string("phrase")
            stop.done = s.bool("done") ?? true
            if case .some(.some(let t)) = s.duration("time") { stop.time = t }
            stop.tokens = s.int("tokens", in: 1...100_000_000)
            stop.moderator = s.bool("moderator") ?? false
            if stop.moderator, case .moderator = policy {} else if stop.moderator {
                source.error("'stop.moderator' lets the moderator end the discussion: it needs 'turns.policy: moderator'", at: s.keyNode("moderator"))
            }
            misplacedKeys(s, at: "stop")
            s.finish()
        }

        let expectations = (root.sequence("expect") ?? []).enumerated().compactMap { index, node in
            readExpectation(node, index: index, source: source, personas: personas, shared: shared, persona: persona)
        }
        let seed = UInt64(root.int("seed", in: 0...Int(Int32.max)) ?? 1)
        var start = Date(timeIntervalSince1970: 1_800_000_000)
        var clock = root.choice("clock", as: Clock.self)
        if let text = root.string("start") {
            if let date = Timestamp.parse(text) { start = date } else { source.error("expected an RFC 3339 time for 'start'", at: root.node("start")) }
            if clock == .real {
                source.error("'start' sets a fixed clock, and 'clock' is real: remove 'start', or write 'clock: fixed'", at: root.keyNode("start"))
            }
            clock = .fixed
        }
        var temperature = 0.0, maxTokens = 200
        if let s = root.mapping("sampling") {
            temperature = s.double("temperature", in: 0...2) ?? temperature
            maxTokens = s.int("max_tokens", in: 1...100_000) ?? maxTokens
            misplacedKeys(s, at: "sampling")
            s.finish()
        }
        misplacedKeys(root, at: "")
        let decide = readDecision(root, source: source, personas: personas, policy: policy, decisions: decisions)
        root.finish()
        return SessionDefinition(
            title: title, file: source.displayPath, personas: personas, shared: shared, opening: opening, seeds: seeds,
            injections: injections, policy: policy, transitions: transitions, allowRepeat: allowRepeat, parallel: parallel,
            decisions: decisions, decide: decide, maxRounds: maxRounds, stop: stop, expectations: expectations, seed: seed,
            clock: clock ?? .real, start: start, temperature: temperature, maxTokens: maxTokens)
    }

    /// The turn policy of `turns:`. A `moderator` or an `order` given alone implies its policy.
    private static func readPolicy(
        _ t: MappingReader, source: YAMLSource, personas: [PersonaID], persona: (Node?, PersonaID?, [PersonaID]?) -> PersonaID?
    ) -> Policy {
        let hasModerator = t.node.mapping?["moderator"] != nil, hasOrder = t.node.mapping?["order"] != nil
        let named = t.choice("policy", ["round-robin", "order", "moderator"])
        let policy = named ?? (hasModerator && !hasOrder ? "moderator" : hasOrder && !hasModerator ? "order" : "round-robin")
        if named == nil, hasModerator, hasOrder {
            source.error("'turns' has both a 'moderator' and an 'order': say which one decides with 'policy: moderator' or 'policy: order'", at: t.node)
            for key in ["moderator", "order"] { _ = t.node(key) }
        }
        for (key, wants) in [("moderator", "moderator"), ("order", "order")] where t.node.mapping?[key] != nil && policy != wants && named != nil {
            source.error("'turns.\(key)' is for 'policy: \(wants)', and the policy is \(policy): remove one of them", at: t.keyNode(key))
            _ = t.node(key)
        }
        switch policy {
        case "order":
            let order = (t.names("order") ?? []).compactMap { persona($0.1, $0.0, personas) }
            if order.isEmpty {
                source.error("'turns.policy' is order: list the speakers in 'turns.order' (order: [\(personas.map(\.rawValue).joined(separator: ", "))])", at: t.node)
            }
            return .order(order)
        case "moderator":
            _ = t.node("moderator")
            guard hasModerator else {
                source.error(
                    "'turns.policy' is moderator: name who moderates in 'turns.moderator' (moderator: \(personas.first?.rawValue ?? "<persona>"))",
                    at: t.node)
                return .roundRobin
            }
            return persona(t.node("moderator"), t.name("moderator"), personas).map { .moderator($0) } ?? .roundRobin
        default:
            return .roundRobin
        }
    }
}
