import Foundation
import TroupeCore

/// The option a model picked (``ChatBackend/choose(among:for:)``).
public struct ChatChoice: Sendable, Hashable {
    /// The option's index in the list the caller gave.
    public var index: Int
    /// What the model answered, as it came (for logs): the option's text, a JSON object, a sentence.
    public var text: String
    /// Whether the backend constrained the answer to the options. `false` when it could only read
    /// free text: then `index` is the option the text names first, or 0 when it names none.
    public var constrained: Bool
    public var usage: ChatUsage

    public init(index: Int, text: String, constrained: Bool, usage: ChatUsage) {
        self.index = index
        self.text = text
        self.constrained = constrained
        self.usage = usage
    }

    /// Throws unless there is something to choose from.
    static func check(_ options: [String]) throws {
        guard !options.isEmpty else { throw TroupeError(.invalidInput, "a choice needs at least one option") }
    }

    /// The choice free text makes: the option it names first, else the first option; unconstrained.
    static func reading(_ text: String, among options: [String], usage: ChatUsage) -> ChatChoice {
        ChatChoice(index: OptionNames.first(in: text, among: options) ?? 0, text: text, constrained: false, usage: usage)
    }
}

extension ChatBackend {
    /// Completes `request` as text and takes the option the reply names first (whole words, any
    /// case), else the first option; never constrained.
    public func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        try ChatChoice.check(options)
        let reply = try await complete(request)
        try Task.checkCancellation()
        return ChatChoice.reading(reply.text, among: options, usage: reply.usage)
    }
}

/// Where options are named in text: as whole words (no letter or digit right before or after),
/// in any case, surrounding whitespace of an option ignored.
enum OptionNames {
    /// The option named earliest in `text` (the longer of two named at the same place, then the
    /// lower index); nil when none is.
    static func first(in text: String, among options: [String]) -> Int? {
        best(in: text, among: options) { $0 < $1 }
    }

    /// The option named latest in `text` (by where the naming starts; the longer of two, then the
    /// lower index); nil when none is.
    static func last(in text: String, among options: [String]) -> Int? {
        best(in: text, among: options) { $0 > $1 }
    }

    private static func best(in text: String, among options: [String], _ earlier: (String.Index, String.Index) -> Bool) -> Int? {
        var found: (index: Int, range: Range<String.Index>)?
        for (index, option) in options.enumerated() {
            for range in occurrences(of: option, in: text) {
                guard let current = found else {
                    found = (index, range)
                    continue
                }
                if earlier(range.lowerBound, current.range.lowerBound)
                    || (range.lowerBound == current.range.lowerBound && range.upperBound > current.range.upperBound) {
                    found = (index, range)
                }
            }
        }
        return found?.index
    }

    /// Every whole-word, case-insensitive occurrence of `option` in `text`.
    static func occurrences(of option: String, in text: String) -> [Range<String.Index>] {
        let needle = option.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !needle.isEmpty else { return [] }
        var ranges: [Range<String.Index>] = []
        var from = text.startIndex
        while from < text.endIndex, let range = text.range(of: needle, options: [.caseInsensitive], range: from..<text.endIndex) {
            let before = text[..<range.lowerBound].last, after = text[range.upperBound...].first
            if !isWordCharacter(before), !isWordCharacter(after) { ranges.append(range) }
            from = text.index(after: range.lowerBound)
        }
        return ranges
    }

    private static func isWordCharacter(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character.isLetter || character.isNumber
    }
}
