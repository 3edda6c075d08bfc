import Foundation
import TroupeConfig
import TroupeLLM
import TroupeCore
import TroupeRetrieval
import TroupeRuntime
import TroupeStore

/// The service layer under every front end (the CLI, `troupe mcp`, later the HTTP API): one
/// async method per operation, each taking the caller's ``RequestContext``.
///
/// Every operation that names a persona first checks that the caller may act as it, before the
/// persona is even looked up: a client learns nothing about personas it was not granted (not
/// whether they exist, nor their memories). Then the persona's own checks apply (a persona
/// reaches only its slices and the shared slices it belongs to).
public final class TroupeService: Sendable {
    public let runtime: Runtime
    let conversations: ConversationBook
    /// Where keys and the security log are kept (TroupeService+Keys.swift).
    let access: any AccessStore
    /// The keys' rate limits, in this process.
    let limiter: RateLimiter
    /// The chat backend of every new conversation, instead of the configured one (tests).
    let backendOverride: (any ChatBackend)?
    /// The name of the session sent over the API that is running, if one is: they run one at a
    /// time (TroupeService+Sessions.swift).
    let runningSession = LockedBox<String?>(nil)

    /// A service over an opened runtime, its keys in the runtime's store. `maxConversations`
    /// bounds the conversations kept for resuming by id (the least recently used goes first).
    public convenience init(runtime: Runtime, maxConversations: Int = 256, limiter: RateLimiter = RateLimiter()) {
        self.init(runtime: runtime, maxConversations: maxConversations, limiter: limiter, backend: nil)
    }

    /// A service whose conversations all talk to `backend` (tests of the front ends' streaming).
    package init(runtime: Runtime, maxConversations: Int = 256, limiter: RateLimiter = RateLimiter(), backend: (any ChatBackend)?) {
        self.backendOverride = backend
        self.runtime = runtime
        self.conversations = ConversationBook(capacity: maxConversations)
        self.access = runtime.store
        self.limiter = limiter
    }

    // MARK: Personas

    /// The personas the caller may act as, in name order.
    public func personas(_ context: RequestContext) async throws -> [PersonaDefinition] {
        runtime.personas.filter { context.principal.mayActAs($0.name.rawValue) }
    }

    /// One persona in full.
    public func persona(_ name: String, _ context: RequestContext) async throws -> PersonaDefinition {
        try context.check(name)
        return try runtime.definition(name)
    }

    /// The actor of `name`, once the caller is allowed to act as it.
    func actor(_ name: String, _ context: RequestContext) async throws -> PersonaActor {
        try context.check(name)
        return try await runtime.persona(name)
    }
}
