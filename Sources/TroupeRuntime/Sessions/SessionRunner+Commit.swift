import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

extension SessionRunner {
    /// A sandboxed run whose expectations all passed goes into the home, all of it or none:
    /// its log is replayed (no model) onto a copy of the home as it is now, and that copy then
    /// replaces the home's contents in one transaction, unless the home was written to
    /// meanwhile. A failure at any point leaves the home as it was; the copy is removed.
    func commitSandbox(_ result: SessionResult) async throws -> SessionResult {
        guard options.sandbox else { return result }
        var result = result
        guard !definition.expectations.isEmpty, result.passed else {
            result.committed = false
            return result
        }
        let folder = options.out.appendingPathComponent("commit")
        let staging = folder.appendingPathComponent("staging.sqlite")
        let fm = FileManager.default
        try? fm.removeItem(at: folder)
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            let before = try await Self.withStore(configuration) { home in
                let fingerprint = try await home.fingerprint()
                try await home.copy(to: staging.path)
                return fingerprint
            }
            var replay = options
            replay.sandbox = false
            replay.resume = false
            // The log whose calls were recorded: a sandboxed replay commits the log it replayed.
            replay.replay = options.replay ?? logURL
            replay.startsFromRecording = false
            replay.out = folder
            replay.progress = { _ in }
            replay.fault = SessionFault.commit()
            _ = try await SessionRunner(definition: definition, configuration: Self.store(configuration, database: staging), options: replay).run()
            try await Self.withStore(configuration) { home in try await home.replaceContents(from: staging.path, unchangedSince: before) }
        } catch {
            for suffix in ["", "-wal", "-shm", ".lock"] { try? fm.removeItem(atPath: staging.path + suffix) }
            throw TroupeError(
                .storage, "the sandbox's changes were not written into the home, which is as it was",
                context: options.out.appendingPathComponent("sandbox").path, cause: error)
        }
        for suffix in ["", "-wal", "-shm", ".lock"] { try? fm.removeItem(atPath: staging.path + suffix) }
        result.committed = true
        return result
    }
}
