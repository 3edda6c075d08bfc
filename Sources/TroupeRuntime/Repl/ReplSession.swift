import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeStore

/// Where the REPL writes: whole lines, pieces of a line (a streamed reply), and problems. The
/// terminal side makes every piece safe for a terminal.
public protocol ReplOutput: Sendable {
    func line(_ text: String)
    func piece(_ text: String)
    func problem(_ text: String)
}

/// The REPL's logic, apart from the terminal: one input line at a time, a message to the
/// current persona, `@name message` to another, or a `:command`.
public actor ReplSession {
    public enum Outcome: Sendable { case ok, failed, quit }

    public nonisolated let runtime: Runtime
    public nonisolated let conversation: Conversation
    public internal(set) var current: PersonaID
    /// The turn under way (Ctrl-C cancels its reply).
    public internal(set) var running: TurnHandle?

    public init(runtime: Runtime, persona: String?, conversation: Conversation? = nil) throws {
        self.runtime = runtime
        self.conversation = conversation ?? Conversation(runtime: runtime)
        guard let first = try persona.map({ try runtime.definition($0).name }) ?? runtime.personas.first?.name else {
            throw TroupeError(.notFound, "no personas are defined (add YAML files to \(DisplayPath.of(runtime.configuration.location.personasDirectory)))")
        }
        current = first
    }

    public var prompt: String { "\(current)> " }

    /// Stops the reply being generated, if any; whether there was one.
    @discardableResult
    public func cancelReply() -> Bool {
        guard let running else { return false }
        running.cancel()
        return true
    }

    static let help = """
        Type a message to talk with the current persona, or @name message to address another.
          :personas           who is here (* marks the current one)
          :switch NAME        talk with NAME from now on
          :recall QUERY       what the current persona recalls for QUERY, with scores
          :why                what the last reply recalled (every score component) and wrote
          :remember TEXT      keep TEXT as a fact in the current persona's semantic memory
          :forget ID          forget a memory of the current persona's (or a shared one)
          :memory [SLICE]     the current persona's working memory, or another slice
          :history ID         every version of a memory
          :save FILE          the conversation as Markdown
          :help, :quit        this text; leave (Ctrl-D too). Ctrl-C stops a reply.
        """

    /// Handles one line of input.
    public func handle(_ input: String, output: some ReplOutput) async -> Outcome {
        let line = input.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return .ok }
        do {
            if line.hasPrefix(":") { return try await command(line, output: output) }
            if line.hasPrefix("@") {
                let name = String(line.dropFirst().prefix { !$0.isWhitespace })
                let message = line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
                guard !message.isEmpty else { throw TroupeError(.invalidInput, "nothing to say to \(name): @\(name) MESSAGE") }
                return try await say(message, to: name, output: output)
            }
            return try await say(line, to: current.rawValue, output: output)
        } catch {
            output.problem("\(error)")
            return .failed
        }
    }

    /// The runtime's note under a reply that says what memory knows is no longer true.
    public static func note(_ outdated: TurnRecord.Outdated) -> String {
        if outdated.unanswered { return "(the reply does not say — memory says: \(outdated.now))" }
        return "(\(outdated.contradicts ? "not what memory holds" : "no longer true"): \"\(outdated.said)\" — memory says: \(outdated.now))"
    }

    private func say(_ message: String, to name: String, output: some ReplOutput) async throws -> Outcome {
        let persona = try runtime.definition(name).name
        let handle = await conversation.start(message, to: persona.rawValue)
        running = handle
        defer { running = nil }
        var record: TurnRecord?
        var started = false
        for try await event in handle.events {
            switch event {
            case .recalled: break
            case .delta(let piece):
                if !started { output.piece("\(persona): ") }
                started = true
                output.piece(piece)
            case .done(let done): record = done
            }
        }
        guard let record else { return .failed }
        if !started { output.piece("\(persona): ") }
        if record.finish == .cancelled {
            output.line(" [stopped]")
        } else {
            output.line("")
        }
        for outdated in record.outdated { output.line("  " + Self.note(outdated)) }
        if let failure = record.failure {
            output.problem("the model failed during the reply (\(failure)); what came of it is stored, marked partial")
            return .failed
        }
        for fact in record.written where fact.what != .message && fact.what != .reply && fact.what != .episode {
            output.line("  (\(fact.what.rawValue): \(fact.content))")
        }
        return .ok
    }
}
