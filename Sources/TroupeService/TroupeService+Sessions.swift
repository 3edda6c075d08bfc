import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime

extension TroupeService {
    /// The most rounds a session sent over the API (or MCP) may ask for: a run holds its
    /// request open until it ends.
    public static let remoteSessionRounds = 20
    /// The longest a session sent over the API runs, in seconds: a file that sets no shorter
    /// `stop: time` stops after this (checked after each turn; the result says `time`).
    public static let remoteSessionSeconds = 300.0

    /// A session file read and checked against this home's personas and shared slices
    /// (`troupe run`): the definition (nil when there are errors) and every diagnostic.
    public func sessionDefinition(file: URL, _ context: RequestContext) throws -> (SessionDefinition?, [Diagnostic]) {
        try context.checkWholeHome("run a session")
        return SessionDefinition.load(file, configuration: runtime.configuration)
    }

    /// Where the run named `name` writes transcript.md and log.jsonl: `sessions/<name>` in the home.
    public func sessionFolder(_ name: String) -> URL {
        runtime.configuration.location.home.appendingPathComponent("sessions").appendingPathComponent(name)
    }

    /// Runs a session to its end (`troupe run`), with every option the CLI has: replay,
    /// resume, sandbox, any output folder. Only the operator may: a session writes the memory of
    /// every persona in it, and a replay or a resume puts the whole home back as the recorded
    /// run found it.
    ///
    /// The run opens a runtime of its own over the home (or a sandbox copy of it); this
    /// service's runtime is left as it is (a command that has no other use for it closes it
    /// first).
    public func runSession(_ definition: SessionDefinition, options: SessionOptions, _ context: RequestContext) async throws -> SessionResult {
        try context.checkWholeHome("run a session")
        return try await SessionRunner(definition: definition, configuration: runtime.configuration, options: options).run()
    }

    /// Runs a session sent as text (`POST /v1/sessions`, MCP's `run_session`) into
    /// `sessions/<name>` in the home, as `troupe run` would a file of that name: a new run,
    /// on the home itself. Only the operator may.
    ///
    /// What a served home can take safely, and no more: no replay, resume or sandbox (each puts
    /// a whole store's contents in place under the server's runtime); at most
    /// ``remoteSessionRounds`` rounds and ``remoteSessionSeconds`` seconds; one such run at a
    /// time (another is a conflict). Errors in the text are an invalid `session` argument,
    /// every diagnostic in its message. The run is not cancelled with its caller: it goes on
    /// when the client goes away, and a server asked to stop waits for it (at most those seconds).
    public func runSession(named name: String, text: String, _ context: RequestContext) async throws -> SessionResult {
        try context.checkWholeHome("run a session")
        try Self.checkSessionName(name)
        let (read, diagnostics) = SessionDefinition.load(text: text, displayPath: "\(name).yaml", configuration: runtime.configuration)
        guard var definition = read else {
            throw ArgumentError(field: "session", diagnostics.filter { $0.severity == .error }.map(\.rendered).joined(separator: "\n"))
        }
        guard definition.maxRounds <= Self.remoteSessionRounds else {
            throw ArgumentError(
                field: "session", "max_rounds is \(definition.maxRounds); a session sent to the server runs at most "
                    + "\(Self.remoteSessionRounds) rounds (run longer ones with troupe run)")
        }
        definition.stop.time = min(definition.stop.time ?? Self.remoteSessionSeconds, Self.remoteSessionSeconds)
        let running = runningSession.withLock { (running) -> String? in
            if let running { return running }
            running = name
            return nil
        }
        if let running { throw TroupeError(.conflict, "the session '\(running)' is running; sessions sent to the server run one at a time") }
        defer { runningSession.withLock { $0 = nil } }
        return try await runSession(definition, options: SessionOptions(out: sessionFolder(name)), context)
    }

    /// The runs kept in `sessions/` in the home, by name: each one's status from its log.
    /// Folders without a log (or with one that cannot be read) are left out. Only the operator
    /// may: logs and transcripts hold every persona's words.
    public func sessionRuns(_ context: RequestContext) async throws -> [SessionStatus] {
        try context.checkWholeHome("list session runs")
        let root = runtime.configuration.location.home.appendingPathComponent("sessions")
        return try await offThePool("troupe.sessions.list") {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            return names.sorted().compactMap { try? SessionStatus.read(root.appendingPathComponent($0)) }
        }
    }

    /// The status of the run named `name` (`sessions/<name>` in the home): whether it ended,
    /// why it stopped, its expectations. A run without an end line was killed, or is running.
    public func sessionRun(named name: String, _ context: RequestContext) async throws -> SessionStatus {
        try context.checkWholeHome("read a session run")
        try Self.checkSessionName(name)
        let folder = sessionFolder(name)
        return try await offThePool("troupe.sessions.status") { try SessionStatus.read(folder) }
    }

    /// The transcript (Markdown) of the run named `name`, written when the run ended.
    public func sessionTranscript(named name: String, _ context: RequestContext) async throws -> String {
        let status = try await sessionRun(named: name, context)
        let file = status.transcript
        return try await offThePool("troupe.sessions.transcript") {
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw TroupeError(.notFound, "the session run '\(name)' has no transcript yet (it has not ended)")
            }
            do { return try String(contentsOf: file, encoding: .utf8) } catch {
                throw TroupeError(.storage, "cannot read the transcript", context: file.path, cause: error)
            }
        }
    }

    /// A run's name is one folder in `sessions/`: letters, digits, `.`, `_` and `-`, starting
    /// with a letter or a digit, at most 64 characters.
    static func checkSessionName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        let first = name.utf8.first.map { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) } ?? false
        guard allowed, first, name.utf8.count <= 64 else {
            throw ArgumentError(field: "name", "'\(name)' is not a session run name (letters, digits, '.', '_' and '-', at most 64)")
        }
    }
}
