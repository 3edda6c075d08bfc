import Foundation
import TroupeCore

/// Whether what a persona said (text a model generated) is supported by what a person said:
/// the only way a model's words become a fact under `memory.formation.from_replies: grounded`.
///
/// The evidence is what people put in the memory of the persona who spoke and of the one who
/// listened: facts and messages of a person's trust (``Provenance/trust``; an operator's writes
/// count as a person's), found by recalling the claim. A claim is supported by one piece of
/// evidence that holds every content word of it (function words do not count), in the order
/// the claim says them and each as often: a model that adds a clause of its own ("…, so they
/// have to be very careful") is not repeating a person, nor is one that shuffles a person's
/// words into another statement ("… and that page has pages for payments service" from "pages
/// for the payments service go to the payments team first").
struct Grounding {
    let runtime: Runtime

    static let functionWords: Set<String> = FactReading.articles.union(FactShape.auxiliaries).union(FactShape.prepositions)
        .union(FactReading.pronouns).union(FactReading.firstPerson).union([
            "and", "or", "but", "so", "that", "which", "who", "what", "not", "no", "very", "also", "then", "than", "because", "you", "your",
            "we", "us", "they", "their", "them", "she", "he", "her", "his", "with", "about", "just", "all", "any", "some", "each", "every",
            "there", "here", "if", "when", "while", "be", "being",
        ])

    /// The facts among `facts` that a person's words support.
    func supported(_ facts: [Fact], saidBy speaker: String, to listener: PersonaActor) async throws -> [Fact] {
        guard !facts.isEmpty else { return [] }
        var personas = [listener]
        if speaker != listener.name.rawValue, (try? runtime.definition(speaker)) != nil {
            personas.append(try await runtime.persona(speaker))
        }
        var kept: [Fact] = []
        for fact in facts {
            var evidence: [String] = []
            for persona in personas {
                let hits = try await persona.recall(fact.text, slices: [.semantic, .working], limit: 8)
                evidence += hits.map(\.record).filter { Provenance.trust(of: $0.metadata) >= Provenance.highestTrust - 1 }.map(\.content)
            }
            if evidence.contains(where: { Self.supports($0, fact.text) }) { kept.append(fact) }
        }
        return kept
    }

    /// Whether `evidence` supports `claim` (see the type's description).
    static func supports(_ evidence: String, _ claim: String) -> Bool {
        let held = words(evidence).map(stem)
        let content = words(claim).filter { !functionWords.contains($0) && ($0.count > 1 || $0.contains(where: \.isNumber)) }.map(stem)
        guard !content.isEmpty else { return false }
        // A subsequence: each word found after the one before it.
        var at = held.startIndex
        for word in content {
            guard let found = held[at...].firstIndex(of: word) else { return false }
            at = found + 1
        }
        return true
    }

    static func words(_ text: String) -> [String] {
        FactShape.Token.split(text).map(\.lower)
    }

    /// A word without its plural or third-person `s` ("pages", "page"; "lives", "live").
    static func stem(_ word: String) -> String {
        word.count > 3 && word.hasSuffix("s") && !word.hasSuffix("ss") ? String(word.dropLast()) : word
    }
}
