import Foundation
import TroupeCore

/// A turn's automatic memory formation, waiting to be done: which message, by whom, to whom.
public struct FormationJob: Sendable, Hashable {
    public var id: String
    public var persona: String
    public var conversation: String
    public var turn: Int
    public var speaker: String
    public var message: String

    var json: JSONValue {
        .object([
            "id": .string(id), "persona": .string(persona), "conversation": .string(conversation), "turn": .number(Double(turn)),
            "speaker": .string(speaker), "message": .string(message),
        ])
    }

    init(id: String, persona: String, conversation: String, turn: Int, speaker: String, message: String) {
        (self.id, self.persona, self.conversation, self.turn, self.speaker, self.message) = (id, persona, conversation, turn, speaker, message)
    }

    init?(_ value: JSONValue) {
        guard case .object(let o) = value, case .string(let id)? = o["id"], case .string(let persona)? = o["persona"],
            case .string(let conversation)? = o["conversation"], case .number(let turn)? = o["turn"],
            case .string(let speaker)? = o["speaker"], case .string(let message)? = o["message"]
        else { return nil }
        self.init(id: id, persona: persona, conversation: conversation, turn: Int(turn), speaker: speaker, message: message)
    }
}

/// Formation after the reply, in the background, and never lost: a job is written (and
/// fsynced) to `<home>/formation/pending.jsonl` before it starts and marked done when its facts
/// are stored, so one still running when the process ends is done by the next runtime of the
/// home (``Runtime/resumeFormation()``). Jobs run one at a time, in the order they were
/// written: reading facts may take the chat model, and a backlog must not crowd out the next
/// turn (or run the model many times over at once).
///
/// `@unchecked Sendable`: `running`, `last` and the file are only touched under `lock` (and
/// the file, across processes, under its `flock`).
public final class FormationQueue: @unchecked Sendable {
    let file: URL
    private let lock = NSLock()
    private var running: [String: Task<Void, Never>] = [:]
    /// The job started last: the next one waits for it.
    private var last: Task<Void, Never>?

    init(home: URL) { file = home.appendingPathComponent("formation/pending.jsonl") }

    /// Jobs written and not done, in order.
    public var pending: [FormationJob] {
        lock.withLock { pendingUnlocked() }
    }

    /// Writes `job` down, then forms its memories in the background. A job that cannot be
    /// written down (a full disk) is still formed, with a warning that a crash would lose it.
    func enqueue(_ job: FormationJob, runtime: Runtime, conversation: Conversation?) {
        if let problem = lock.withLock({ append(job.json) }) {
            runtime.logger.warning("memory formation for turn \(job.turn) of \(job.conversation) is not written down (\(problem)); it is formed now, but a crash before it is done loses it")
        }
        start(job, runtime: runtime, conversation: conversation)
    }

    /// Starts every job left pending by an earlier process.
    func resume(runtime: Runtime) {
        for job in pending where lock.withLock({ running[job.id] == nil }) { start(job, runtime: runtime, conversation: nil) }
    }

    /// Waits for the jobs under way, at most `timeout`; those not done stay written down.
    package func drain(timeout: Duration) async {
        let tasks = lock.withLock { Array(running.values) }
        guard !tasks.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in tasks { await task.value } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func start(_ job: FormationJob, runtime: Runtime, conversation: Conversation?) {
        lock.withLock {
            let previous = last
            let task = Task { [weak conversation] in
                await previous?.value
                do {
                    let persona = try await runtime.persona(job.persona)
                    let formation = MemoryFormation(persona: persona, runtime: runtime)
                    // The conversation's own model reads the facts; a resumed job takes the runtime's.
                    let backend = try? await conversation?.backend(for: persona)
                    let (facts, basis) = await formation.extract(job.message, speaker: job.speaker, backend: backend)
                    let provenance = Provenance(saidBy: job.speaker, conversation: job.conversation, turn: job.turn, basis: basis)
                    let written = try await formation.keep(facts, provenance: provenance)
                    await conversation?.formed(written, turn: job.turn)
                    self.done(job.id)
                } catch {
                    runtime.logger.warning("memory formation for turn \(job.turn) of \(job.conversation) failed: \(error); it stays queued")
                    self.lock.withLock { _ = self.running.removeValue(forKey: job.id) }
                }
            }
            running[job.id] = task
            last = task
        }
    }

    private func done(_ id: String) {
        lock.withLock {
            running[id] = nil
            _ = append(.object(["done": .string(id)]))
            // The last of this process's jobs: the file starts over if no job on it (this
            // process's or another's) is left. Checked once per backlog, not once per job.
            if running.isEmpty { removeIfAllDone() }
        }
    }

    private func pendingUnlocked() -> [FormationJob] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return Self.pending(in: text)
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
    /// the home append to the same file: each append and the removal hold an exclusive `flock`,
    /// and an append that finds the file removed under it opens the new one. What went wrong,
    /// or `nil`.
    private func append(_ value: JSONValue) -> String? {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let bytes = Array((value.canonicalText + "\n").utf8)
        while true {
            let fd = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return "\(file.path): \(String(cString: strerror(errno)))" }
            defer { close(fd) }
            flock(fd, LOCK_EX)
            var status = stat()
            if fstat(fd, &status) == 0, status.st_nlink == 0 { continue }  // removed while we waited
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written != bytes.count || fsync(fd) != 0 { return "\(file.path): \(String(cString: strerror(errno)))" }
            return nil
        }
    }

    /// Removes the file when every job on it is done, holding its lock (see ``append(_:)``).
    private func removeIfAllDone() {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        guard let text = try? String(contentsOf: file, encoding: .utf8), Self.pending(in: text).isEmpty else { return }
        unlink(file.path)
    }
}

extension Runtime {
    /// Forms the memories of turns an earlier process left queued (it ended before they were
    /// done). A long-lived owner calls it when it starts.
    public func resumeFormation() { formation.resume(runtime: self) }
}
