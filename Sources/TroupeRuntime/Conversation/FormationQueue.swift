import Foundation
import TroupeCore

/// A turn's automatic memory formation, waiting to be done: what was said (the message, and
/// what it quoted), by whom, to whom.
public struct FormationJob: Sendable, Hashable {
    public var id: String
    public var persona: String
    public var conversation: String
    public var turn: Int
    public var said: [Utterance]

    var json: JSONValue {
        .object([
            "id": .string(id), "persona": .string(persona), "conversation": .string(conversation), "turn": .number(Double(turn)),
            "said": .array(said.map { .object(["text": .string($0.text), "speaker": .string($0.speaker), "source": .string($0.source.rawValue)]) }),
        ])
    }

    init(id: String, persona: String, conversation: String, turn: Int, said: [Utterance]) {
        (self.id, self.persona, self.conversation, self.turn, self.said) = (id, persona, conversation, turn, said)
    }

    /// A job as written down; one written before `said` existed (`speaker` and `message`) reads
    /// as the user's words when the user said them, a model's otherwise.
    init?(_ value: JSONValue) {
        guard case .object(let o) = value, case .string(let id)? = o["id"], case .string(let persona)? = o["persona"],
            case .string(let conversation)? = o["conversation"], case .number(let turn)? = o["turn"]
        else { return nil }
        var said: [Utterance] = []
        if case .array(let parts)? = o["said"] {
            for case .object(let part) in parts {
                guard case .string(let text)? = part["text"], case .string(let speaker)? = part["speaker"],
                    case .string(let source)? = part["source"], let kind = Provenance.Source(rawValue: source)
                else { return nil }
                said.append(Utterance(text, speaker: speaker, source: kind))
            }
        } else if case .string(let speaker)? = o["speaker"], case .string(let message)? = o["message"] {
            said = [Utterance(message, speaker: speaker, source: speaker == "user" ? .person : .persona)]
        } else {
            return nil
        }
        self.init(id: id, persona: persona, conversation: conversation, turn: Int(turn), said: said)
    }
}

/// Formation after the reply, in the background, and never lost: a job is written (and
/// fsynced) to `<home>/formation/pending.jsonl` before it starts and marked done when its facts
/// are stored, so one still running when the process ends is done by the next runtime of the
/// home (``Runtime/resumeFormation()``). Jobs run one at a time, in the order they were
/// written: reading facts may take the chat model, and a backlog must not crowd out the next
/// turn (or run the model many times over at once).
///
/// The file is read and written (and fsynced) outside the lock on the tasks: each append and
/// the removal hold the file's exclusive `flock`, which orders them within this process as
/// across processes, and an append that finds the file removed under it opens the new one.
public final class FormationQueue: Sendable {
    private struct State {
        var running: [String: Task<Void, Never>] = [:]
        /// The job started last: the next one waits for it.
        var last: Task<Void, Never>?
    }

    let file: URL
    private let state = LockedBox(State())

    init(home: URL) { file = home.appendingPathComponent("formation/pending.jsonl") }

    /// Jobs written and not done, in order.
    public var pending: [FormationJob] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return Self.pending(in: text)
    }

    /// Writes `job` down (an fsync, and a file lock other processes may hold: off the
    /// cooperative pool), then forms its memories in the background. A job that cannot be
    /// written down (a full disk) is still formed, with a warning that a crash would lose it.
    func enqueue(_ job: FormationJob, runtime: Runtime, conversation: Conversation?) async {
        let line = job.json
        if let problem = (try? await offThePool("troupe.formation.write") { [self] in append(line) }) ?? nil {
            runtime.logger.warning("memory formation for turn \(job.turn) of \(job.conversation) is not written down (\(problem)); it is formed now, but a crash before it is done loses it")
        }
        start(job, runtime: runtime, conversation: conversation)
    }

    /// Starts every job left pending by an earlier process.
    func resume(runtime: Runtime) {
        for job in pending where state.withLock({ $0.running[job.id] == nil }) { start(job, runtime: runtime, conversation: nil) }
    }

    /// Waits for the jobs under way, at most `timeout`; those not done stay written down.
    package func drain(timeout: Duration) async {
        let tasks = state.withLock { Array($0.running.values) }
        guard !tasks.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in tasks { await task.value } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func start(_ job: FormationJob, runtime: Runtime, conversation: Conversation?) {
        // Under the lock only to chain the job after the last one; its work runs in the task.
        state.withLock { state in
            let previous = state.last
            let task = Task { [weak conversation] in
                await previous?.value
                do {
                    let persona = try await runtime.persona(job.persona)
                    let formation = MemoryFormation(persona: persona, runtime: runtime)
                    // The conversation's own model reads the facts; a resumed job takes the runtime's.
                    let backend = try? await conversation?.backend(for: persona)
                    var written: [TurnRecord.Written] = []
                    for part in job.said {
                        written += try await formation.form(part, conversation: job.conversation, turn: job.turn, backend: backend)
                    }
                    await conversation?.formed(written, turn: job.turn)
                    await self.done(job.id)
                } catch {
                    runtime.logger.warning("memory formation for turn \(job.turn) of \(job.conversation) failed: \(error); it stays queued")
                    self.state.withLock { _ = $0.running.removeValue(forKey: job.id) }
                }
            }
            state.running[job.id] = task
            state.last = task
        }
    }

    private func done(_ id: String) async {
        // File work (an fsync, a lock other processes may hold): off the cooperative pool.
        _ = try? await offThePool("troupe.formation.write") { [self] in
            // On file before the job leaves `running`, so that `resume` never starts it again.
            // The last of this process's jobs removes the file instead, when no job on it (this
            // process's or another's) is left: a reader sees the job pending or no file, never
            // a file of finished jobs. Checked once per backlog, not once per job.
            let last = state.withLock { state in state.running.count == 1 && state.running[id] != nil }
            _ = finish(id, removingIfAllDone: last)
            state.withLock { _ = $0.running.removeValue(forKey: id) }
        }
    }

    private static func pending(in text: String) -> [FormationJob] {
        var jobs: [FormationJob] = []
        var done = Set<String>()
        for line in text.split(separator: "\n") {
            guard let value = try? JSONValue.parse(Array(line.utf8)) else { continue }
            if case .object(let o) = value, case .string(let id)? = o["done"] { done.insert(id) } else if let job = FormationJob(value) { jobs.append(job) }
        }
        return jobs.filter { !done.contains($0.id) }
    }

    /// Appends a line and fsyncs it: written down means it survives a crash. Other processes of
    /// the home append to the same file: each change holds an exclusive `flock`, and one that
    /// finds the file removed under it opens the new one. What went wrong, or `nil`.
    private func append(_ value: JSONValue) -> String? {
        changingFile { fd in Self.writeLine(value, to: fd).map { "\(file.path): \($0)" } }
    }

    /// Marks job `id` done: a line on file, or, with `removingIfAllDone` and no other job left
    /// pending on it, the file's removal. What went wrong, or `nil`.
    private func finish(_ id: String, removingIfAllDone: Bool) -> String? {
        changingFile { fd in
            if removingIfAllDone, let text = try? String(contentsOf: file, encoding: .utf8),
                Self.pending(in: text).allSatisfy({ $0.id == id })
            {
                return unlink(file.path) == 0 ? nil : "\(file.path): \(String(cString: strerror(errno)))"
            }
            return Self.writeLine(.object(["done": .string(id)]), to: fd).map { "\(file.path): \($0)" }
        }
    }

    /// Runs `change` on the file, opened for appending (created if need be) and locked.
    private func changingFile(_ change: (Int32) -> String?) -> String? {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        while true {
            let fd = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return "\(file.path): \(String(cString: strerror(errno)))" }
            defer { close(fd) }
            flock(fd, LOCK_EX)
            var status = stat()
            if fstat(fd, &status) == 0, status.st_nlink == 0 { continue }  // removed while we waited
            return change(fd)
        }
    }

    /// Writes `value` as a line and fsyncs it; what went wrong, or `nil`.
    private static func writeLine(_ value: JSONValue, to fd: Int32) -> String? {
        let bytes = Array((value.canonicalText + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count || fsync(fd) != 0 { return String(cString: strerror(errno)) }
        return nil
    }
}

extension Runtime {
    /// Forms the memories of turns an earlier process left queued (it ended before they were
    /// done). A long-lived owner calls it when it starts.
    public func resumeFormation() { formation.resume(runtime: self) }
}
