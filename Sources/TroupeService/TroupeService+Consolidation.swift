import Foundation
import TroupeCore
import TroupeRuntime

extension TroupeService {
    /// Summarises the conversations of `persona` (of every persona without one) now, quiet or
    /// not (`memory consolidate`); the runtime also does it in the background for quiet ones.
    /// A client consolidates only personas it may act as.
    public func consolidate(persona: String?, _ context: RequestContext) async throws -> [PersonaID: ConsolidationReport] {
        var names: [PersonaID]
        if let persona {
            try context.check(persona)
            names = [try runtime.definition(persona).name]
        } else {
            try context.checkWholeHome("consolidate every persona's conversations")
            names = runtime.personas.map(\.name)
        }
        var reports: [PersonaID: ConsolidationReport] = [:]
        for name in names { reports[name] = try await runtime.consolidate(name) }
        return reports
    }

    /// Decays the memory of `persona` (of every persona without one) now (`memory decay`):
    /// episodes past its retention never recalled move to the archive, importance follows use.
    public func decay(persona: String?, _ context: RequestContext) async throws -> [PersonaID: DecayReport] {
        var names: [PersonaID]
        if let persona {
            try context.check(persona)
            names = [try runtime.definition(persona).name]
        } else {
            try context.checkWholeHome("decay every persona's memory")
            names = runtime.personas.map(\.name)
        }
        var reports: [PersonaID: DecayReport] = [:]
        for name in names { reports[name] = try await runtime.decay(name) }
        return reports
    }
}
