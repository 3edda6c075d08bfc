/// The four kinds of memory a persona owns. Shared slices are one of these kinds as well.
public enum SliceKind: String, CaseIterable, Codable, Sendable, Comparable {
    /// The current conversation and scratch notes; short-lived.
    case working
    /// What happened: turns, events, outcomes.
    case episodic
    /// Facts and knowledge.
    case semantic
    /// How-to, rules and skills; seeded from persona YAML.
    case procedural

    /// Parses a slice name, accepting any letter case.
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    public static func < (lhs: SliceKind, rhs: SliceKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The slice names in their canonical order, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
