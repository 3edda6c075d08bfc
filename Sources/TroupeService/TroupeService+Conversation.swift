import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeRuntime

extension TroupeService {
    /// One chat turn with `persona` (`troupe chat`): recall, the reply, the exchange stored. A
    /// new conversation unless `conversation` names one this caller started in this process;
    /// the record carries the conversation's id, to resume it by.
    ///
    /// A turn whose model failed mid-reply still returns its record (with `failure` set and
    /// what came of the reply stored, marked partial): the front end says so.
    public func say(persona: String, message: String, conversation id: String? = nil, _ context: RequestContext) async throws -> TurnRecord {
        let handle = try await startTurn(persona: persona, message: message, conversation: id, context)
        for try await event in handle.events { if case .done(let record) = event { return record } }
        throw TroupeError(.storage, "the turn ended without a record")
    }

    /// Starts the turn ``say(persona:message:conversation:_:)`` waits for: its events come as
    /// they happen (the recalled memories, each piece of the reply, the stored record), and
    /// cancelling the handle stops the reply (what came is stored, marked partial).
    public func startTurn(persona: String, message: String, conversation id: String? = nil, _ context: RequestContext) async throws -> TurnHandle {
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TroupeError(.invalidInput, "the message is empty")
        }
        let actor = try await actor(persona, context)
        let conversation: Conversation
        if let id {
            conversation = try await conversations.resume(id, by: context.principal.id)
        } else {
            conversation = Conversation(runtime: runtime)
            if let backend = backendOverride { await conversation.setBackend(backend, for: actor.name) }
            await conversations.keep(conversation, by: context.principal.id)
        }
        return await conversation.start(message, to: actor.name.rawValue)
    }

    /// What speaking as `persona` about `topic` draws on: its definition (the system prompt)
    /// and the memories it recalls for the topic.
    public func speakAs(
        persona: String, topic: String, limit: Int? = nil, _ context: RequestContext
    ) async throws -> (persona: PersonaDefinition, recalled: [RecallHit]) {
        let definition = try await self.persona(persona, context)
        let hits = try await recall(persona: persona, query: topic, limit: limit, context)
        return (definition, hits)
    }
}

/// The conversations of this process, by id, each with the principal that started it (only it
/// may resume it). At most `capacity`: the least recently used is let go first.
actor ConversationBook {
    private struct Entry {
        let conversation: Conversation
        let owner: String
        var used: UInt64
    }

    private let capacity: Int
    private var entries: [String: Entry] = [:]
    private var tick: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func keep(_ conversation: Conversation, by owner: String) {
        tick += 1
        entries[conversation.id] = Entry(conversation: conversation, owner: owner, used: tick)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
            entries[oldest] = nil
        }
    }

    /// The conversations `owner` started (every one for `nil`), each with when it was last
    /// used (the dashboard's last turns).
    func all(startedBy owner: String?) -> [(UInt64, Conversation)] {
        entries.values.filter { owner == nil || $0.owner == owner }.map { ($0.used, $0.conversation) }
    }

    /// The conversation `id`, if `owner` started it. One answer for a conversation that does not
    /// exist and one another caller started.
    func resume(_ id: String, by owner: String) throws -> Conversation {
        guard var entry = entries[id], entry.owner == owner else {
            throw TroupeError(.notFound, "no conversation '\(id)' to resume (conversations last as long as the server process)")
        }
        tick += 1
        entry.used = tick
        entries[id] = entry
        return entry.conversation
    }
}
