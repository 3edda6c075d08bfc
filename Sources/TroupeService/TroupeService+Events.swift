import TroupeCore
import TroupeRuntime

extension TroupeService {
    /// Memory events from now on that the caller may know of: every one for an admin or an
    /// operator; for a client, those of its personas and of the shared slices they belong to.
    public func events(_ context: RequestContext) -> AsyncStream<MemoryEvent> {
        let source = runtime.events.subscribe()
        guard context.principal.role == .client else { return source }
        let personas = context.principal.personas
        let shared = Set(runtime.configuration.runtime.sharedSlices.filter { !personas.isDisjoint(with: $0.members.map(\.rawValue)) }.map(\.name.rawValue))
        let visible = personas.union(shared)
        let (filtered, continuation) = AsyncStream.makeStream(of: MemoryEvent.self)
        let forward = Task {
            for await event in source where visible.contains(event.owner) { continuation.yield(event) }
            continuation.finish()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return filtered
    }
}
