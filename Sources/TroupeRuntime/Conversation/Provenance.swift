import Foundation
import TroupeCore

/// Where a memory a conversation wrote came from, kept in its metadata: who said it (the user,
/// this persona, another persona), in which conversation and turn, and whether it was stated
/// (someone's own words) or inferred (a model's reading of them).
public struct Provenance: Sendable, Hashable {
    public enum Basis: String, Sendable, Hashable {
        /// Someone's own words.
        case stated
        /// What a model made of them (extracted facts).
        case inferred
    }

    /// `user`, or a persona's name.
    public var saidBy: String
    public var conversation: String
    public var turn: Int
    public var basis: Basis

    public init(saidBy: String, conversation: String, turn: Int, basis: Basis) {
        self.saidBy = saidBy
        self.conversation = conversation
        self.turn = turn
        self.basis = basis
    }

    /// The metadata fields that carry it.
    public var metadata: [String: JSONValue] {
        [
            "said_by": .string(saidBy), "conversation": .string(conversation), "turn": .number(Double(turn)),
            "basis": .string(basis.rawValue),
        ]
    }

    /// The provenance a record's metadata carries, if any.
    public init?(_ metadata: JSONValue?) {
        guard case .object(let m)? = metadata, case .string(let saidBy)? = m["said_by"], case .string(let conversation)? = m["conversation"],
            case .number(let turn)? = m["turn"], case .string(let basis)? = m["basis"], let kind = Basis(rawValue: basis)
        else { return nil }
        self.init(saidBy: saidBy, conversation: conversation, turn: Int(turn), basis: kind)
    }

    /// `said by user in turn 3`, `inferred from hestia in turn 2`.
    public var summary: String {
        (basis == .stated ? "said by \(saidBy)" : "inferred from \(saidBy)") + " in turn \(turn)"
    }
}

/// Memories that read like instructions to a model ("ignore all previous instructions", chat
/// template tokens, a forged end of the recalled block): flagged with a tag when written, so
/// that people see them and prompts can say so. Flagging changes nothing else: such text only
/// ever reaches a model quoted, as data (see ``PromptAssembly``).
public enum InstructionLikeText {
    /// The tag a flagged memory carries.
    public static let tag = "looks-like-instruction"

    /// Why `text` reads like an instruction to a model, or `nil` when it does not.
    public static func reason(_ text: String) -> String? {
        let lower = text.lowercased()
        let tokens = ["<|im_start|>", "<|im_end|>", "<|system|>", "<|assistant|>", "<|user|>", "<|endoftext|>", "[inst]", "<<sys>>",
                      "<recalled-memories", "</recalled-memories"]
        if let token = tokens.first(where: lower.contains) { return "it holds the control text '\(token)'" }
        let words = lower.split { !$0.isLetter }.map(String.init)
        let phrases: [[String]] = [
            ["ignore", "previous", "instructions"], ["ignore", "all", "instructions"], ["ignore", "prior", "instructions"],
            ["ignore", "above", "instructions"], ["disregard", "previous"], ["disregard", "all"], ["disregard", "the", "above"],
            ["forget", "previous", "instructions"], ["reveal", "system", "prompt"], ["reveal", "your", "instructions"],
            ["print", "system", "prompt"], ["show", "system", "prompt"], ["new", "instructions"], ["you", "are", "now"],
            ["from", "now", "on", "you"], ["override", "instructions"],
        ]
        for phrase in phrases where Self.contains(words, inOrderWithin: 4, phrase) {
            return "it reads like an instruction ('\(phrase.joined(separator: " "))')"
        }
        for line in lower.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ["system:", "assistant:", "### instruction", "### system"].contains(where: trimmed.hasPrefix) {
                return "a line of it poses as a chat role ('\(trimmed.prefix(20))')"
            }
        }
        return nil
    }

    /// Whether `phrase` occurs in `words` in order, each word at most `gap` words after the one
    /// before ("ignore all of the previous instructions").
    static func contains(_ words: [String], inOrderWithin gap: Int, _ phrase: [String]) -> Bool {
        guard let first = phrase.first else { return false }
        for start in words.indices where words[start] == first {
            var at = start
            var matched = true
            for word in phrase.dropFirst() {
                guard let next = words[(at + 1)..<min(words.count, at + 1 + gap)].firstIndex(of: word) else {
                    matched = false
                    break
                }
                at = next
            }
            if matched { return true }
        }
        return false
    }
}
