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
    /// Whether a replay starts from the state the recorded run started from (`start.sqlite`
    /// beside its log), put into the home or the sandbox first. A sandbox's commit replays onto
    /// the home as it is instead.
    var startsFromRecording = true
    /// A forced failure, for tests of the commit (see ``SessionFault``).
    var fault: SessionFault?

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
/// Every run is a new run: its ids come from ``SessionIDs`` (seeded by the file and a new run
/// id) and its clock is the real one unless the file asks for a fixed one (``SessionClock``).
/// The log records the run id, the start and each round's time, and every model call, and the
/// output folder keeps the home as it was before the run (`start.sqlite`): replaying the log
/// starts from that state and gives the same transcript and the same memory, byte for byte,
/// wherever it is replayed. A resumed run replays the turns its log holds onto that start,
/// then goes on. A sandboxed run commits all of its changes to the home or none.
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

    /// What a log holds: for a replay, the recorded run; for a resume, the run so far.
    struct Recording {
        var header: [String: JSONValue]
        var turns: [[String: JSONValue]]
        var end: [String: JSONValue]?
        var times: [Int: Date]

        init(_ url: URL) throws {
            (header, turns, end) = try SessionLog.read(url)
            times = try SessionLog.times(url)
        }

        /// The run's id; empty for a log older than run ids (its ids were drawn without one).
        var run: String { if case .string(let run)? = header["run"] { run } else { "" } }
        /// The clock it ran on; a log older than the choice ran on the fixed one.
        var clock: SessionDefinition.Clock {
            if case .string(let c)? = header["clock"], let clock = SessionDefinition.Clock(rawValue: c) { clock } else { .fixed }
        }
        var start: Date? { if case .string(let s)? = header["start"] { Timestamp.parse(s) } else { nil } }
        var stop: String? { if case .string(let s)? = end?["stopped_by"] { s } else { nil } }
    }

    /// Runs the session to its end.
    public func run() async throws -> SessionResult {
        try FileManager.default.createDirectory(at: options.out, withIntermediateDirectories: true)
        var recording: Recording?
        if let replay = options.replay {
            recording = try Recording(replay)
        } else if options.resume {
            guard FileManager.default.fileExists(atPath: logURL.path), FileManager.default.fileExists(atPath: startCopy.path) else {
                throw TroupeError(.invalidInput, "nothing to resume in \(options.out.path) (no log.jsonl and start.sqlite)")
            }
            recording = try Recording(logURL)
            if recording?.end != nil { throw TroupeError(.invalidInput, "the run in \(options.out.path) ended already; nothing to resume") }
        }
        let home = try await prepareHome()
        let clock = SessionClock(
            mode: recording?.clock ?? definition.clock,
            start: recording?.start ?? (definition.clock == .fixed ? definition.start : Date()), recorded: recording?.times ?? [:])
        let ids = SessionIDs(seed: definition.seed, run: recording?.run ?? SessionIDs.newRun())
        let runtime = try await Runtime.opened(configuration: home, clock: clock, ids: ids, logger: .init(label: "troupe.session"))
        let result: SessionResult
        do {
            var run = SessionRun(
                runner: self, runtime: runtime, clock: clock, book: recording.map { Self.book(from: $0.turns) } ?? CallBook(),
                replayedTurns: recording?.turns.count ?? 0, recordedEnd: options.replay == nil ? nil : recording?.turns.count)
            run.recordedLines = recording?.turns ?? []
            run.recordedStop = options.replay == nil ? nil : recording?.stop
            try await run.start()
            _ = try await run.rounds()
            result = try await run.finish()
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
        if options.replay != nil, let recording {
            let (log, turns) = (logURL, recording.turns)
            try await offThePool("troupe.session.log") { try SessionLog.copyCalls(into: log, from: turns) }
        }
        return try await commitSandbox(result)
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
