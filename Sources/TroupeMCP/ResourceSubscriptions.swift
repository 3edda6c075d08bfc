import MCP
import TroupeRuntime
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// The resources one MCP session subscribed to, and what tells its client they changed.
///
/// The first subscription starts one task for the session: it follows the service's memory
/// events for the session's caller (``TroupeService/events(_:)``: a client key's own personas
/// and their shared slices, nothing else) and sends `notifications/resources/updated` for each
/// event that changes a resource still subscribed. An event names a record, never its content:
/// the client reads the resource again if it wants to know what changed. The task ends with the
/// session, when the server's message loop does (the server stopped: an HTTP session closed,
/// expired or shut down; stdin closed).
actor ResourceSubscriptions {
    private enum State {
        case idle
        case following(Task<Void, Never>)
    }

    let service: TroupeService
    let context: RequestContext
    private var subscribed: Set<ResourceAddress> = []
    private var state = State.idle

    init(service: TroupeService, context: RequestContext) {
        self.service = service
        self.context = context
    }

    /// Subscribes to `address` (already checked to be readable by the caller); the first one
    /// starts following the events, sent on through `server`.
    func subscribe(_ address: ResourceAddress, notifying server: Server) {
        subscribed.insert(address)
        guard case .idle = state else { return }
        // Subscribed to the hub here, before the subscription is answered: a write the client
        // makes after the answer is never missed.
        let events = service.events(context)
        state = .following(Task { await self.follow(events, notifying: server) })
    }

    /// Stops the updates of `address`; unsubscribing from one never subscribed to is no error.
    func unsubscribe(_ address: ResourceAddress) {
        subscribed.remove(address)
    }

    /// The subscribed resources `event` changes.
    private func changed(by event: MemoryEvent) -> [ResourceAddress] {
        ResourceAddress.changed(by: event).filter(subscribed.contains)
    }

    /// Sends an update for each event that changes a subscribed resource, until the server's
    /// message loop ends.
    private func follow(_ events: AsyncStream<MemoryEvent>, notifying server: Server) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.waitUntilCompleted() }
            group.addTask {
                for await event in events {
                    for address in await self.changed(by: event) {
                        // A failed send is a session that is ending: the loop's end stops this.
                        try? await server.notify(ResourceUpdatedNotification.message(.init(uri: address.uri)))
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
