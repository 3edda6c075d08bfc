import Foundation
import TroupeConfig
import TroupeCore

/// The personas and shared slices in force, which a long-lived runtime replaces when their files
/// change (see ``Runtime/reloadDefinitions()``).
package final class PersonaRegistry: Sendable {
    private struct State {
        var personas: [PersonaID: PersonaDefinition]
        var sharedSlices: [PersonaID: RuntimeConfig.SharedSlice]
        /// Personas whose file was removed while the runtime ran: they take no more turns, and
        /// their memory stays.
        var removed: Set<PersonaID> = []
    }

    private let state: LockedBox<State>

    package init(personas: [PersonaDefinition], sharedSlices: [RuntimeConfig.SharedSlice]) {
        state = LockedBox(
            State(
                personas: Dictionary(personas.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                sharedSlices: Dictionary(sharedSlices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })))
    }

    /// Every persona in force, in name order.
    package var personas: [PersonaDefinition] { state.value.personas.values.sorted { $0.name < $1.name } }

    package func persona(_ name: PersonaID) -> PersonaDefinition? { state.value.personas[name] }

    package var sharedSlices: [PersonaID: RuntimeConfig.SharedSlice] { state.value.sharedSlices }

    package func sharedSlice(_ name: PersonaID) -> RuntimeConfig.SharedSlice? { state.value.sharedSlices[name] }

    /// Whether `name` was a persona until its file was removed.
    package func wasRemoved(_ name: PersonaID) -> Bool { state.value.removed.contains(name) }

    /// Persona priorities by name, for the `priority` policy.
    package var priorities: [String: Int] {
        Dictionary(state.value.personas.values.map { ($0.name.rawValue, $0.priority) }, uniquingKeysWith: { a, _ in a })
    }

    /// The shared slices `persona` is a member of, by name.
    package func memberships(of persona: PersonaID) -> [PersonaID] {
        state.value.sharedSlices.values.filter { $0.members.contains(persona) }.map(\.name).sorted()
    }

    /// Puts new definitions in force; returns the names added, changed and removed.
    @discardableResult
    package func replace(personas: [PersonaDefinition], sharedSlices: [RuntimeConfig.SharedSlice]? = nil)
        -> (added: [PersonaID], changed: [PersonaID], removed: [PersonaID])
    {
        let next = Dictionary(personas.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let slices = sharedSlices.map { slices in Dictionary(slices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
        return state.withLock { state in
            let added = next.keys.filter { state.personas[$0] == nil }.sorted()
            let changed = next.filter { name, definition in state.personas[name].map { $0 != definition } ?? false }.keys.sorted()
            let removed = state.personas.keys.filter { next[$0] == nil }.sorted()
            state.personas = next
            state.removed.subtract(added)
            state.removed.formUnion(removed)
            if let slices { state.sharedSlices = slices }
            return (added, changed, removed)
        }
    }
}
