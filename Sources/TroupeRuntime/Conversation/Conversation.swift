import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeStore

/// A conversation with one or more personas: its id, its turns, and how a turn runs.
///
/// A turn recalls from the persona's slices and its shared slices, fits the prompt into the
/// backend's context, streams the reply, and stores the exchange (each message in working
/// memory, the turn as an episode, with provenance and the ids recalled); explicit facts
/// ("remember that …") are kept before the reply, others are formed afterwards in the
/// background (see ``MemoryFormation``) without delaying it.
public actor Conversation {
    public nonisolated let id: String
    let runtime: Runtime
    /// How many memories a turn recalls.
    public nonisolated let recallLimit: Int
    /// Whether a turn forms its facts before it ends (a scripted session, which must be the
    /// same when replayed) instead of in the background after the reply.
    public nonisolated let formsInline: Bool
    /// Backends by persona (chosen on first use; a persona may name its own server).
    private var backends: [PersonaID: any ChatBackend] = [:]
    public private(set) var turns: [TurnRecord] = []

    public init(runtime: Runtime, id: String? = nil, recallLimit: Int = 10, formsInline: Bool = false) {
        self.runtime = runtime
        self.id = id ?? runtime.ids.next("c")
        self.recallLimit = recallLimit
        self.formsInline = formsInline
    }

    /// The last turn, for `:why`.
    public var lastTurn: TurnRecord? { turns.last }

    /// Starts a turn: `speaker` (`user`, or another persona) says `message` to `persona`; a
    /// person said it (`source` `.person`: the user, a session's opening or injected message) or
    /// a model generated it (`.persona`: another persona's reply). Without a `source`, words
    /// said as a persona are that persona's (a model's), anyone else's a person's. `quoting` is what someone
    /// else said before, shown after the message ("(Before that, hestia said: …)") and formed
    /// as theirs. Cancel the handle (Ctrl-C) to stop the reply: what came is stored, marked
    /// partial.
    public func start(
        _ message: String, to persona: String, from speaker: String = "user", source: Provenance.Source? = nil, quoting: Utterance? = nil,
        sampling: SamplingOptions? = nil
    ) -> TurnHandle {
        let handle = TurnHandle()
        let number = turns.count + 1
        let said = Utterance(message, speaker: speaker, source: source ?? ((try? runtime.definition(speaker)) != nil ? .persona : .person))
        let task = Task { [self] in
            do {
                let record = try await run(said, quoting: quoting, to: persona, number: number, sampling: sampling, handle: handle)
                append(record)
                handle.finish(.success(record))
            } catch {
                handle.finish(.failure(error))
            }
        }
        handle.task = task
        return handle
    }

    /// A whole turn, waited for.
    public func turn(
        _ message: String, to persona: String, from speaker: String = "user", source: Provenance.Source? = nil, quoting: Utterance? = nil,
        sampling: SamplingOptions? = nil
    ) async throws -> TurnRecord {
        let handle = start(message, to: persona, from: speaker, source: source, quoting: quoting, sampling: sampling)
        for try await event in handle.events { if case .done(let record) = event { return record } }
        throw TroupeError(.storage, "the turn ended without a record")
    }

    private func append(_ record: TurnRecord) { turns.append(record) }

    /// Adds facts formed after a turn to its record.
    func formed(_ written: [TurnRecord.Written], turn number: Int) {
        guard let index = turns.firstIndex(where: { $0.number == number }) else { return }
        turns[index].written += written
    }

    /// Uses `backend` for `persona` from now on (recorded replies in a replayed session, tests).
    package func setBackend(_ backend: any ChatBackend, for persona: PersonaID) {
        backends[persona] = backend
    }

    func backend(for persona: PersonaActor) async throws -> any ChatBackend {
        if let known = backends[persona.name] { return known }
        let backend = try await runtime.chatBackend(for: persona.definition).backend
        backends[persona.name] = backend
        return backend
    }

    /// The message a persona is given: what was said, and what it quotes.
    static func message(_ said: Utterance, quoting: Utterance?) -> String {
        guard let quoting else { return said.text }
        return said.text + "\n\n(Before that, \(quoting.speaker) said: \(quoting.text))"
    }

    private func run(
        _ said: Utterance, quoting: Utterance?, to name: String, number: Int, sampling: SamplingOptions?, handle: TurnHandle
    ) async throws -> TurnRecord {
        let message = Self.message(said, quoting: quoting), speaker = said.speaker
        let clock = ContinuousClock()
        var started = clock.now
        func elapsed() -> Double {
            let d = clock.now - started
            started = clock.now
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        let persona = try await runtime.persona(name)
        let backend = try await backend(for: persona)
        let settings = runtime.llmSettings(for: persona.definition)
        var record = TurnRecord(
            conversation: id, number: number, persona: persona.name, speaker: speaker, message: message, reply: "", finish: .stop,
            recalled: [], written: [], backend: backend.description)

        // What the turns before formed, first (a slow model reads facts in seconds): recall
        // that misses a fact the person just stated answers, and checks the reply, against
        // the old one.
        await settleFormation()
        // A person's explicit memory first, so that the reply can already recall it.
        let formation = MemoryFormation(persona: persona, runtime: runtime)
        if said.source == .person, let fact = MemoryFormation.explicit(said.text) {
            let provenance = Provenance(saidBy: speaker, conversation: id, turn: number, source: .person, method: .verbatim)
            record.written += try await formation.keep([Fact(text: fact, speaker: speaker)], provenance: provenance)
        }

        // Recall, and what else the prompt holds.
        let procedural = try await runtime.store.query(MemoryQuery(owners: [persona.name], slices: [.procedural]))
        let rules = PromptAssembly.rules(procedural, of: persona.definition, for: message)
        // Recall asks for as many more as there are rules, which the prompt already holds: none
        // of its `recallLimit` slots goes to a record that is then left out.
        let hits = try await persona.recall(message, slices: [.episodic, .semantic, .procedural], limit: recallLimit + rules.count)
            .filter { hit in !rules.contains { $0.id == hit.record.id } }.prefix(recallLimit)
        let working = try await persona.workingMemory()
        let (exchange, notes) = Self.split(working, conversation: id, persona: persona.name)
        record.timings.recall = elapsed()
        handle.yield(.recalled(Array(hits)))

        var parts = PromptParts(
            persona: persona.definition, rules: rules, recalled: Array(hits),
            notes: notes, exchange: exchange, speaker: speaker, message: message)
        parts.stale = try await StaleValues.of(Array(hits), store: runtime.store)
        var options = sampling ?? settings.sampling()
        options.maxTokens = min(options.maxTokens, max(16, backend.description.contextLength / 4))
        // A model that starts to write the prompt's own markup has left its reply.
        options.stop += ReplyCleanup.promptMarkers.filter { !options.stop.contains($0) }
        let fitted = try await PromptAssembly.fit(parts, budget: backend.description.contextLength - options.maxTokens, backend: backend)
        record.recalled = fitted.recalled
        record.prompt = fitted.messages
        record.dropped = (fitted.droppedExchange, fitted.droppedMemories, fitted.droppedNotes)
        record.timings.assembly = elapsed()

        // The model, streamed; a failure mid-reply keeps what came.
        let modelStart = clock.now
        // The turn's cancel and its task's reach the backend at once, not when this loop next
        // gets a thread of the pool (see `ChatBackend.forEachEvent`).
        let request = ChatRequest(messages: fitted.messages, sampling: options, model: settings.model)
        do {
            try await withTaskCancellationHandler {
                for try await event in backend.stream(request, cancellation: handle.reply) {
                    if handle.isCancelled {
                        record.finish = .cancelled
                        break
                    }
                    switch event {
                    case .delta(let piece):
                        if record.timings.firstToken == nil { record.timings.firstToken = Self.milliseconds(clock.now - modelStart) }
                        record.reply += piece
                        handle.yield(.delta(piece))
                    case .finished(let reason, let usage):
                        record.finish = reason
                        record.promptTokens = usage.promptTokens
                        record.completionTokens = usage.completionTokens
                    }
                }
            } onCancel: {
                handle.reply.cancel()
            }
        } catch where handle.isCancelled {
            // Stopped on purpose: a backend that ends a cancelled reply with an error (an HTTP
            // request cancelled mid-stream) has not failed.
            record.finish = .cancelled
        } catch {
            record.failure = "\(error)"
        }
        record.timings.model = Self.milliseconds(clock.now - modelStart)
        // What leaked of the prompt (a speaker label, its markup) is not the reply, nor stored.
        record.reply = ReplyCleanup.cleaned(record.reply, persona: persona.definition)
        record.outdated = parts.stale.outdated(in: record.reply, speaker: persona.name.rawValue)
        if record.complete, let fact = parts.stale.unanswered(message, by: record.reply, noted: record.outdated) {
            record.outdated.append(.init(said: "", now: fact.text, id: fact.id, unanswered: true))
        }
        _ = elapsed()

        record.written += try await store(record, said: said, quoting: quoting, persona: persona)
        let job = FormationJob(
            id: runtime.ids.next("f"), persona: persona.name.rawValue, conversation: id, turn: number, said: [said] + (quoting.map { [$0] } ?? []))
        if record.complete, formsInline {
            for part in job.said { record.written += try await formation.form(part, conversation: id, turn: number, backend: backend) }
        } else if record.complete {
            await runtime.formation.enqueue(job, runtime: runtime, conversation: self)
        }
        record.timings.storing = elapsed()  // the formation job written down included
        RuntimeMetrics.turn(record)
        return record
    }

    /// The longest a turn waits for the formation of the turns before it (counted in its
    /// recall time); past it, the turn goes on with what memory holds.
    static let formationWait: Duration = .seconds(30)

    /// Waits (at most ``formationWait``) until the facts of this conversation's turns so far
    /// are formed: what reads or writes memory next (a turn, the REPL's `:remember`) comes
    /// after them, never before a late one that would bring an old value back.
    public func settleFormation() async {
        await runtime.formation.settle(conversation: id, timeout: Self.formationWait)
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

/// A turn under way: its events, and a way to stop the reply.
public final class TurnHandle: Sendable {
    public let events: AsyncThrowingStream<TurnEvent, any Error>
    private let continuation: AsyncThrowingStream<TurnEvent, any Error>.Continuation
    private let cancelled = LockedBox(false)
    private let running = LockedBox<Task<Void, Never>?>(nil)
    var task: Task<Void, Never>? {
        get { running.value }
        set { running.withLock { $0 = newValue } }
    }

    init() {
        (events, continuation) = AsyncThrowingStream.makeStream()
    }

    /// Told to the backend when the turn is cancelled.
    let reply = ReplyCancellation()

    /// Stops the reply between two tokens; the turn still ends with a record (marked
    /// cancelled), and what came of the reply is stored.
    public func cancel() {
        cancelled.withLock { $0 = true }
        reply.cancel()
    }

    var isCancelled: Bool { cancelled.value }

    func yield(_ event: TurnEvent) { continuation.yield(event) }

    func finish(_ result: Result<TurnRecord, any Error>) {
        switch result {
        case .success(let record):
            continuation.yield(.done(record))
            continuation.finish()
        case .failure(let error):
            continuation.finish(throwing: error)
        }
    }
}
