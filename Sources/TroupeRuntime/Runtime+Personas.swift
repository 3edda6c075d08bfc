import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

extension Runtime {
    /// The personas in force, in name order (a long-lived runtime follows their files).
    public var personas: [PersonaDefinition] { registry.personas }

    /// The shared slices in force.
    public var sharedSlices: [RuntimeConfig.SharedSlice] { registry.sharedSlices.values.sorted { $0.name < $1.name } }

    /// The persona named `name`, or a not-found error listing the known ones.
    public func definition(_ name: String) throws -> PersonaDefinition {
        if let id = PersonaID(rawValue: name), let persona = registry.persona(id) { return persona }
        let names = personas.map(\.name.rawValue)
        var message = "unknown persona '\(name)'"
        if let guess = Suggestion.closest(to: name, in: names) { message += " (did you mean '\(guess)'?)" }
        message += names.isEmpty ? "; no personas are defined in \(DisplayPath.of(configuration.location.personasDirectory))"
            : "; known personas: \(names.joined(separator: ", "))"
        throw TroupeError(.notFound, message)
    }

    /// A persona or shared slice by name: an owner of records.
    public func owner(_ name: String) throws -> PersonaID {
        if let id = PersonaID(rawValue: name), knownOwners.contains(id) { return id }
        return try definition(name).name
    }

    /// The shared slice named `name`, or a not-found error listing them.
    public func sharedSlice(_ name: String) throws -> RuntimeConfig.SharedSlice {
        if let id = PersonaID(rawValue: name), let slice = registry.sharedSlice(id) { return slice }
        throw TroupeError(.notFound, "no shared slice '\(name)'; shared slices: \(sharedSlices.map(\.name.rawValue).joined(separator: ", "))")
    }

    /// A persona's own name and the shared slices it belongs to: whose memory it may read (the
    /// same as its ``PersonaActor/readableOwners``).
    public func readableOwners(of persona: PersonaDefinition) -> [PersonaID] {
        [persona.name] + registry.memberships(of: persona.name)
    }

    /// Every owner a record may have: personas and shared slices.
    public var knownOwners: Set<PersonaID> {
        Set(personas.map(\.name) + registry.sharedSlices.keys)
    }

    /// The score weights of `retrieval:` in the runtime config.
    public var recallWeights: RecallWeights { Self.recallWeights(configuration.runtime) }

    static func recallWeights(_ runtime: RuntimeConfig) -> RecallWeights {
        let r = runtime.retrieval
        return RecallWeights(
            semantic: r.semanticWeight, lexical: r.lexicalWeight, recency: r.recencyWeight, importance: r.importanceWeight,
            recencyHalfLife: r.recencyHalfLife)
    }

    /// The recaller configured by `retrieval:` (loads the embedder).
    public func recaller() async throws -> Recaller { try await coordinator.recallerSource() }
}
