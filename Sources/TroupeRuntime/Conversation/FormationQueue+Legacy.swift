import Foundation
import TroupeCore
import TroupeStore

/// Older versions kept the queue in a file of the home, `formation/pending.jsonl`: a line per
/// job written down, and `{"done": id}` when it was done. The first use of the queue in a
/// process moves the jobs still pending there into the store and removes the file.
extension FormationQueue {
    /// Imports the file once per process (later callers wait for the same import); an import
    /// that failed (the store cannot be reached) is tried again by the next caller.
    func importLegacyFile() async {
        let task = state.withLock { state in
            if let task = state.legacyImport { return task }
            let task = Task { await self.importLegacy() }
            state.legacyImport = task
            return task
        }
        guard await !task.value else { return }
        state.withLock { state in if state.legacyImport == task { state.legacyImport = nil } }
    }

    /// Writes every job pending in the file into the store (free for any claimant; a job whose id
    /// is there already is left alone), then removes the file, unless a process of an older
    /// version appended to it meanwhile: then it is read again. A crash between the two leaves
    /// the file, and the next import writes nothing twice. Whether the file is gone.
    private func importLegacy() async -> Bool {
        let file = legacyFile
        while true {
            // File work (a lock an older process may hold): off the cooperative pool.
            let text: String?
            do {
                text = try await offThePool("troupe.formation.import") { try Self.readLocked(file) }
            } catch {
                logger.warning("the formation jobs of an older version in \(file.path) cannot be read (\(error)); they stay there")
                return false
            }
            guard let text else { return true }
            let jobs = Self.pending(in: text)
            for job in jobs {
                do {
                    _ = try await store.enqueueFormation(job.queued(at: clock.now(), holder: nil, until: nil))
                } catch {
                    logger.warning("the formation jobs of an older version in \(file.path) cannot be moved into the store (\(error)); they stay there")
                    return false
                }
            }
            let removal: String?
            do {
                removal = try await offThePool("troupe.formation.import") { Self.removeIfUnchanged(file, text) }
            } catch {
                removal = "\(error)"
            }
            guard let problem = removal else {
                if !jobs.isEmpty { logger.notice("moved \(jobs.count) queued memory formation jobs from \(file.path) into the store") }
                return true
            }
            if problem == Self.appended { continue }
            logger.warning("the formation jobs of \(file.path) are in the store now, but the file cannot be removed (\(problem)); it is imported again, which writes nothing twice")
            return false
        }
    }

    /// What ``removeIfUnchanged(_:_:)`` says when the file grew since it was read.
    static let appended = "appended to meanwhile"

    /// The file's text, read under its lock; `nil` when there is no file.
    static func readLocked(_ file: URL) throws -> String? {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw TroupeError(.storage, String(cString: strerror(errno)), context: file.path)
        }
        defer { Foundation.close(fd) }
        flock(fd, LOCK_SH)
        return try String(contentsOf: file, encoding: .utf8)
    }

    /// Removes the file if it still holds `text`, under its exclusive lock (an older process
    /// appending waits for it, then finds the file removed and starts a new one). What went
    /// wrong, ``appended``, or `nil`.
    static func removeIfUnchanged(_ file: URL, _ text: String) -> String? {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? nil : String(cString: strerror(errno)) }
        defer { Foundation.close(fd) }
        flock(fd, LOCK_EX)
        var status = stat()
        if fstat(fd, &status) == 0, status.st_nlink == 0 { return nil }  // removed by another importer
        guard (try? String(contentsOf: file, encoding: .utf8)) == text else { return appended }
        guard unlink(file.path) == 0 else { return String(cString: strerror(errno)) }
        // The directory held only this file.
        rmdir(file.deletingLastPathComponent().path)
        return nil
    }

    /// The jobs of the file not marked done, in order; unreadable lines are passed over.
    static func pending(in text: String) -> [FormationJob] {
        var jobs: [FormationJob] = []
        var done = Set<String>()
        for line in text.split(separator: "\n") {
            guard let value = try? JSONValue.parse(Array(line.utf8)) else { continue }
            if case .object(let o) = value, case .string(let id)? = o["done"] { done.insert(id) } else if let job = FormationJob(line: value) { jobs.append(job) }
        }
        return jobs.filter { !done.contains($0.id) }
    }
}
