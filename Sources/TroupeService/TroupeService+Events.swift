import TroupeCore
import TroupeRuntime

extension TroupeService {
    /// Memory events from now on that the caller may know of: every one for an admin or an
    /// operator; for a client, those of its personas and of the shared slices they belong to.
    public func events(_ context: RequestContext) -> AsyncStream<MemoryEvent> {
        let source = runtime.events.subscribe()
        guard context.principal.role == .client else { return source }
        let visible = context.principal.personas.union(visibleSharedSlices(context).map(\.rawValue))
        let (filtered, continuation) = AsyncStream.makeStream(of: MemoryEvent.self)
        let forward = Task {
            for await event in source where visible.contains(event.owner) { continuation.yield(event) }
            continuation.finish()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return filtered
    }
}
