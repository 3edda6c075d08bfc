import Foundation
import TroupeCore
import Yams

/// Reads typed values out of one YAML mapping, reporting every problem to its ``YAMLSource``.
///
/// Each accessor registers its key as known; ``finish()`` then reports the keys nobody asked
/// for, with a suggestion when one is close. Accessors return `nil` for missing or bad values,
/// so a caller falls back to a default and reading goes on.
public final class MappingReader {
    let source: YAMLSource
    let node: Node
    /// The dotted path of this mapping in the document (`memory.working`), for messages.
    let path: String
    private var known: [String] = []

    /// A reader for `node`, or `nil` (with a diagnostic) when `node` is not a mapping.
    init?(_ node: Node, in source: YAMLSource, path: String) {
        guard node.mapping != nil else {
            let what = path.isEmpty ? "the document" : "'\(path)'"
            source.error("expected a mapping for \(what), found \(MappingReader.kind(of: node))", at: node)
            return nil
        }
        self.source = source
        self.node = node
        self.path = path
    }

    /// A reader for the document's root mapping.
    public static func root(of source: YAMLSource, expecting what: String) -> MappingReader? {
        guard let root = source.root else {
            if !source.hasErrors { source.error("the file is empty (expected \(what))", line: 1, column: 1) }
            return nil
        }
        return MappingReader(root, in: source, path: "")
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw node at `key`; a YAML null counts as absent.
    public func node(_ key: String, required: Bool = false) -> Node? {
        if !known.contains(key) { known.append(key) }
        let value = node.mapping?[key]
        if let value, !Self.isNull(value) { return value }
        if required {
            if value != nil {
                source.error("'\(qualified(key))' needs a value", at: keyNode(key))
            } else {
                source.error("missing required key '\(qualified(key))'", at: node)
            }
        }
        return nil
    }

    /// A nested mapping.
    public func mapping(_ key: String, required: Bool = false) -> MappingReader? {
        node(key, required: required).flatMap { MappingReader($0, in: source, path: qualified(key)) }
    }

    /// A scalar as text. Numbers and booleans are accepted as their text.
    public func string(_ key: String, required: Bool = false, allowEmpty: Bool = false) -> String? {
        guard let value = node(key, required: required) else { return nil }
        guard let scalar = value.scalar else {
            source.error("expected a string for '\(qualified(key))', found \(Self.kind(of: value))", at: value)
            return nil
        }
        let text = scalar.string
        if !allowEmpty, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            source.error("'\(qualified(key))' cannot be empty", at: value)
            return nil
        }
        return text
    }

    /// A persona or slice name.
    public func name(_ key: String, required: Bool = false) -> PersonaID? {
        guard let value = node(key, required: required) else { return nil }
        return Self.name(value, in: source, what: qualified(key))
    }

    /// One of a fixed set of words.
    public func choice(_ key: String, _ choices: [String], required: Bool = false) -> String? {
        guard let value = node(key, required: required) else { return nil }
        return Self.choice(value, choices, in: source, what: qualified(key))
    }

    /// One of an enum's cases, by raw value; anything else is an error listing the choices.
    public func choice<T: CaseIterable & RawRepresentable>(_ key: String, as type: T.Type = T.self, required: Bool = false) -> T?
    where T.RawValue == String {
        choice(key, T.allCases.map(\.rawValue), required: required).flatMap(T.init(rawValue:))
    }

    public func int(_ key: String, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let value = node(key) else { return nil }
        guard let scalar = value.scalar, scalar.style == .plain, let int = Int(scalar.string) else {
            source.error("expected an integer for '\(qualified(key))', found \(Self.kind(of: value))\(Self.quotedHint(value, Int.self))", at: value)
            return nil
        }
        if let range, !range.contains(int) {
            source.error("'\(qualified(key))' must be between \(range.lowerBound) and \(range.upperBound), found \(int)", at: value)
            return nil
        }
        return int
    }

    public func double(_ key: String, in range: ClosedRange<Double>? = nil) -> Double? {
        guard let value = node(key) else { return nil }
        guard let scalar = value.scalar, scalar.style == .plain, let number = Double(scalar.string), number.isFinite else {
            source.error("expected a number for '\(qualified(key))', found \(Self.kind(of: value))\(Self.quotedHint(value, Double.self))", at: value)
            return nil
        }
        if let range, !range.contains(number) {
            source.error(
                "'\(qualified(key))' must be between \(JSONValue.formatNumber(range.lowerBound)) and "
                    + "\(JSONValue.formatNumber(range.upperBound)), found \(scalar.string)", at: value)
            return nil
        }
        return number
    }

    public func bool(_ key: String) -> Bool? {
        guard let value = node(key) else { return nil }
        guard let bool = value.scalar.flatMap({ ["true": true, "false": false, "yes": true, "no": false][$0.string.lowercased()] }) else {
            source.error("expected true or false for '\(qualified(key))', found \(Self.kind(of: value))", at: value)
            return nil
        }
        return bool
    }

    /// A duration such as `90s`, `30m`, `1h`, `7d`; `extra` words (like `forever`) map to `nil`
    /// inside the returned optional.
    public func duration(_ key: String, allowing extra: [String] = []) -> Double?? {
        guard let value = node(key) else { return nil }
        guard let scalar = value.scalar else {
            source.error("expected a duration for '\(qualified(key))', found \(Self.kind(of: value))", at: value)
            return nil
        }
        if extra.contains(scalar.string) { return .some(nil) }
        if let seconds = DurationText.parse(scalar.string), seconds <= 0 {
            source.error("'\(qualified(key))' must be a positive duration, found '\(scalar.string)'", at: value)
            return nil
        }
        guard let seconds = DurationText.parse(scalar.string) else {
            let also = extra.isEmpty ? "" : " or \(extra.map { "'\($0)'" }.joined(separator: ", "))"
            source.error(
                "bad duration '\(scalar.string)' for '\(qualified(key))' (use a number and a unit: 90s, 30m, 1h, 7d\(also))",
                at: value)
            return nil
        }
        return .some(seconds)
    }

    /// A list of nodes; a single scalar is not a list.
    public func sequence(_ key: String, required: Bool = false) -> [Node]? {
        guard let value = node(key, required: required) else { return nil }
        guard let sequence = value.sequence else {
            source.error("expected a list for '\(qualified(key))', found \(Self.kind(of: value))", at: value)
            return nil
        }
        return Array(sequence)
    }

    /// A list of strings.
    public func strings(_ key: String) -> [String]? {
        guard let items = sequence(key) else { return nil }
        var result: [String] = []
        for item in items {
            guard let scalar = item.scalar, !Self.isNull(item) else {
                source.error("expected a string in '\(qualified(key))', found \(Self.kind(of: item))", at: item)
                continue
            }
            result.append(scalar.string)
        }
        return result
    }

    /// A list of names, each with its node (so later checks can point at it).
    /// A list of names; a name listed twice is an error at its second place.
    public func names(_ key: String) -> [(PersonaID, Node)]? {
        guard let items = sequence(key) else { return nil }
        var seen = Set<PersonaID>()
        return items.compactMap { item in
            guard let name = Self.name(item, in: source, what: "\(qualified(key)) item") else { return nil }
            guard seen.insert(name).inserted else {
                source.error("'\(name)' is listed twice in '\(qualified(key))'", at: item)
                return nil
            }
            return (name, item)
        }
    }

    /// Reports every key of this mapping that no accessor asked for.
    public func finish() {
        guard let mapping = node.mapping else { return }
        for (key, _) in mapping {
            guard let text = key.scalar?.string else {
                source.error("keys must be plain words", at: key)
                continue
            }
            if !known.contains(text) {
                var message = "unknown key '\(text)'"
                if !path.isEmpty { message += " in '\(path)'" }
                if let guess = Suggestion.closest(to: text, in: known) {
                    message += " (did you mean '\(guess)'?)"
                } else {
                    message += " (expected one of: \(known.joined(separator: ", ")))"
                }
                source.error(message, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1, length: text.count)
            }
        }
    }

    /// The key node for `key`, for pointing at it.
    func keyNode(_ key: String) -> Node? {
        node.mapping?.first { $0.key.scalar?.string == key }?.key
    }

    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func name(_ node: Node, in source: YAMLSource, what: String) -> PersonaID? {
        guard let text = node.scalar?.string else {
            source.error("expected a name for \(what), found \(kind(of: node))", at: node)
            return nil
        }
        if let problem = PersonaID.problem(with: text) {
            source.error("bad name '\(text)' for '\(what)': \(problem)", at: node)
            return nil
        }
        return PersonaID(rawValue: text)
    }

    /// ` (remove the quotes)` when a quoted scalar would have been a valid `T`.
    static func quotedHint<T: LosslessStringConvertible>(_ node: Node, _: T.Type) -> String {
        guard let scalar = node.scalar, scalar.style != .plain, T(scalar.string) != nil else { return "" }
        return " (a quoted string; remove the quotes)"
    }

    static func choice(_ node: Node, _ choices: [String], in source: YAMLSource, what: String) -> String? {
        guard let text = node.scalar?.string, choices.contains(text) else {
            let found = node.scalar.map { "'\($0.string)'" } ?? kind(of: node)
            var message = "'\(what)' must be one of \(choices.joined(separator: ", ")), found \(found)"
            if let text = node.scalar?.string, let guess = Suggestion.closest(to: text, in: choices) {
                message += " (did you mean '\(guess)'?)"
            }
            source.error(message, at: node)
            return nil
        }
        return text
    }

    /// How a node reads in a message: `a list`, `a mapping`, `'high'`.
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            return isNull(node) ? "nothing" : "'\(scalar.string.count > 40 ? scalar.string.prefix(40) + "…" : scalar.string)'"
        }
    }
}
