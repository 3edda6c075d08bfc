import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeStore

/// How a session runs: where its outputs go, and whether it replays a log, resumes one, or runs
/// in a sandbox.
public struct SessionOptions: Sendable {
    public var out: URL
    /// Re-run with the replies recorded in this log instead of a model.
    public var replay: URL?
    /// Continue the killed run whose log is in `out`.
    public var resume = false
    /// Run on a copy of the home; with expectations, the changes go into the home only when all
    /// of them pass.
    public var sandbox = false
    public var progress: @Sendable (String) -> Void = { _ in }

    public init(out: URL, replay: URL? = nil, resume: Bool = false, sandbox: Bool = false, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.out = out
        self.replay = replay
        self.resume = resume
        self.sandbox = sandbox
        self.progress = progress
    }
}

/// Runs a scripted multi-persona session: seeds, rounds by the turn policy (parallel rounds
/// included), stop conditions, expectations; writes `transcript.md` and `log.jsonl`.
///
/// A session is reproducible: its ids come from ``SessionIDs`` (seeded by the file), its clock
/// is its own (a minute a round, from the file's `start`), facts are formed within each turn,
/// and every model call is in the log, so replaying the log gives the same transcript and the
/// same memory, byte for byte. A resumed run replays the turns its log holds onto the home as it
/// was when the session started (kept as `start.sqlite` in the output folder), then goes on.
public final class SessionRunner: Sendable {
    public let definition: SessionDefinition
    let configuration: Configuration
    let options: SessionOptions

    public init(definition: SessionDefinition, configuration: Configuration, options: SessionOptions) {
        self.definition = definition
        self.configuration = configuration
        self.options = options
    }

    var logURL: URL { options.out.appendingPathComponent("log.jsonl") }
    var transcriptURL: URL { options.out.appendingPathComponent("transcript.md") }
    var startCopy: URL { options.out.appendingPathComponent("start.sqlite") }

    /// Runs the session to its end.
    public func run() async throws -> SessionResult {
        try FileManager.default.createDirectory(at: options.out, withIntermediateDirectories: true)
        let book: CallBook
        var replayed = 0
        var recordedEnd: Int?
        var recorded: [[String: JSONValue]] = []
        var recordedStop: String?
        if let replay = options.replay {
            let read = try SessionLog.read(replay)
            book = Self.book(from: read.turns)
            replayed = read.turns.count
            recordedEnd = read.turns.count
            recorded = read.turns
            if case .string(let stop)? = read.end?["stopped_by"] { recordedStop = stop }
        } else if options.resume {
            guard FileManager.default.fileExists(atPath: logURL.path), FileManager.default.fileExists(atPath: startCopy.path) else {
                throw TroupeError(.invalidInput, "nothing to resume in \(options.out.path) (no log.jsonl and start.sqlite)")
            }
            let read = try SessionLog.read(logURL)
            if read.end != nil { throw TroupeError(.invalidInput, "the run in \(options.out.path) ended already; nothing to resume") }
            book = Self.book(from: read.turns)
            replayed = read.turns.count
            recorded = read.turns
            try await offThePool("troupe.session.copy") { [self] in try restoreStart() }
        } else {
            book = CallBook()
        }
        let home = try await prepareHome()
        let clock = ManualClock(definition.start)
        let runtime = try await Runtime.opened(configuration: home, clock: clock, ids: SessionIDs(seed: definition.seed), logger: .init(label: "troupe.session"))
        defer { Task { await runtime.shutdown() } }
        var run = SessionRun(runner: self, runtime: runtime, clock: clock, book: book, replayedTurns: replayed, recordedEnd: recordedEnd)
        run.recordedLines = recorded
        run.recordedStop = recordedStop
        try await run.start()
        _ = try await run.rounds()
        let result = try await run.finish()
        await runtime.shutdown()
        return try await commitSandbox(result)
    }

    /// The home the session writes: the configured one, or a sandbox copy of it in `out`.
    private func prepareHome() async throws -> Configuration {
        var home = configuration
        let fresh = options.replay == nil && !options.resume
        if configuration.runtime.storage.backend == .postgres {
            // A copy of the start is a SQLite file; a shared PostgreSQL store has none to take.
            guard fresh, !options.sandbox else {
                throw TroupeError(
                    .invalidInput, "--sandbox, --resume and --replay copy the home's SQLite file; with 'storage.backend: postgres' "
                        + "a session runs on the shared store only")
            }
            return home
        }
        if fresh || options.replay != nil {
            // What the home is before the session: kept for a resume, and the sandbox's start.
            let original = try await Runtime.opened(configuration: configuration)
            try? FileManager.default.removeItem(at: startCopy)
            try await original.sqlite?.copy(to: startCopy.path)
            await original.shutdown()
        }
        if options.sandbox {
            let sandbox = options.out.appendingPathComponent("sandbox")
            try? FileManager.default.removeItem(at: sandbox)
            try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
            // A whole store's file: copied off the cooperative pool.
            let (from, to) = (startCopy, sandbox.appendingPathComponent("memory.sqlite"))
            try await offThePool("troupe.session.copy") { try FileManager.default.copyItem(at: from, to: to) }
            home.location.home = sandbox
            home.runtime.storage.database = "memory.sqlite"
        }
        return home
    }

    /// Puts the home back as it was when the killed run started (its log is then replayed).
    private func restoreStart() throws {
        let target = options.sandbox ? options.out.appendingPathComponent("sandbox/memory.sqlite") : URL(fileURLWithPath: Runtime.databasePath(configuration))
        if options.sandbox { return }  // prepareHome copies start.sqlite into a new sandbox
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target.path + suffix) }
        try FileManager.default.copyItem(at: startCopy, to: target)
    }

    static func book(from turns: [[String: JSONValue]]) -> CallBook {
        var calls: [String: [RecordedCall]] = [:]
        var backends: [String: BackendDescription] = [:]
        for turn in turns {
            if case .string(let scope)? = turn["scope"], case .object(let b)? = turn["backend"], case .string(let kind)? = b["kind"],
                case .string(let model)? = b["model"], case .string(let location)? = b["location"]
            {
                var context = 4096
                if case .number(let n)? = b["context_length"] { context = Int(n) }
                backends[scope] = BackendDescription(kind: kind, model: model, location: location, contextLength: context)
            }
            if case .object(let choice)? = turn["choice"], case .string(let scope)? = choice["scope"], case .array(let list)? = choice["calls"] {
                calls[scope, default: []] += list.compactMap(RecordedCall.init)
            }
            guard case .string(let scope)? = turn["scope"], case .array(let list)? = turn["calls"] else { continue }
            calls[scope, default: []] += list.compactMap(RecordedCall.init)
        }
        return CallBook(calls, backends: backends)
    }
}
