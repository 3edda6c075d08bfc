import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore
import TroupeVault

extension SessionRunner {
    /// `configuration` writing the SQLite file at `database` with no hot tier: a sandbox, a
    /// commit's staging copy, a copy of a start. No redis-server is started for them, so none
    /// outlives the run; models are still found in the home.
    static func store(_ configuration: Configuration, database: URL? = nil) -> Configuration {
        var copy = configuration
        if let database { copy.runtime.storage.database = database.path }
        copy.runtime.redis.mode = .off
        return copy
    }

    /// The beginning the run starts from: `start.sqlite` next to a replayed log, when there is one.
    var recordedStart: URL? {
        guard let replay = options.replay, options.startsFromRecording else { return nil }
        let start = replay.deletingLastPathComponent().appendingPathComponent("start.sqlite")
        return FileManager.default.fileExists(atPath: start.path) ? start : nil
    }

    /// The home the session writes, made ready: the configured one, or a sandbox copy in `out`.
    /// `start.sqlite` in `out` holds the state the run starts from: the home as it is (a new
    /// run), the recorded start (a replay; put into the home or the sandbox), or, for a resume,
    /// what the killed run started from (put back before its log is replayed).
    func prepareHome() async throws -> Configuration {
        if configuration.runtime.storage.backend == .postgres {
            // A copy of the start is a SQLite file; a shared PostgreSQL store has none to take.
            guard options.replay == nil, !options.resume, !options.sandbox else {
                throw TroupeError(
                    .invalidInput, "--sandbox, --resume and --replay copy the home's SQLite file; with 'storage.backend: postgres' "
                        + "a session runs on the shared store only")
            }
            return configuration
        }
        let fm = FileManager.default
        var restore = options.resume
        if let recorded = recordedStart {
            if recorded.standardizedFileURL != startCopy.standardizedFileURL {
                let target = startCopy
                try await offThePool("troupe.session.copy") {
                    try? fm.removeItem(at: target)
                    try fm.copyItem(at: recorded, to: target)
                }
            }
            try await checkRecordedStartOpens()
            restore = !options.sandbox
        } else if !options.resume {
            if options.replay != nil, options.startsFromRecording {
                options.progress("no start.sqlite beside the log: the replay starts from the home as it is, and may differ from the recording")
            }
            let target = startCopy
            try await Self.withStore(configuration) { home in
                try? fm.removeItem(at: target)
                try await home.copy(to: target.path)
            }
        }
        if options.sandbox {
            let sandbox = options.out.appendingPathComponent("sandbox")
            try? fm.removeItem(at: sandbox)
            try fm.createDirectory(at: sandbox, withIntermediateDirectories: true)
            // A whole store's file: copied off the cooperative pool.
            let (from, to) = (startCopy, sandbox.appendingPathComponent("memory.sqlite"))
            try await offThePool("troupe.session.copy") { try fm.copyItem(at: from, to: to) }
            return Self.store(configuration, database: to)
        }
        if restore { try await restoreStart() }
        return configuration
    }

    /// A recorded start opens only as the recording home's store did: plain in a plain home, and
    /// in an encrypted one with that home's keys. Checked (every sealed value opened) before
    /// anything of this home is touched.
    private func checkRecordedStartOpens() async throws {
        let sealer = try Runtime.sealer(configuration)
        var storeOptions = StoreOptions()
        storeOptions.sealer = sealer
        let (address, opening) = (StoreAddress("sqlite:" + startCopy.path), storeOptions)
        do {
            let copy = try await offThePool("troupe.session.open-start") { try Runtime.storeDrivers.open(address, options: opening) }
            if let vault = sealer as? Vault, let copy = copy as? any ResealingStore { _ = try await Runtime.verifySealed(copy, vault: vault) }
        } catch {
            throw TroupeError(
                .invalidInput,
                "the recorded start does not open in this home (\(error)): replay the log in the home that recorded it, or in one holding a copy of its vault/ directory",
                context: startCopy.path)
        }
    }

    /// Puts the home in the state the run starts from (`start.sqlite`), in one transaction. A
    /// replay keeps what the home held in `home-before.sqlite`.
    private func restoreStart() async throws {
        let (start, before) = (startCopy, options.replay == nil ? nil : options.out.appendingPathComponent("home-before.sqlite"))
        try await Self.withStore(configuration) { home in
            if let before {
                try? FileManager.default.removeItem(at: before)
                try await home.copy(to: before.path)
            }
            try await home.replaceContents(from: start.path)
        }
        if let before { options.progress("the replay starts from the recorded start; what the home held before is kept in \(before.path)") }
    }

    /// Runs `body` on the SQLite store of `configuration`'s home (no hot tier), then closes it.
    static func withStore<T: Sendable>(_ configuration: Configuration, _ body: (any FileStore) async throws -> T) async throws -> T {
        let runtime = try await Runtime.opened(configuration: store(configuration))
        do {
            guard let file = runtime.fileStore else { throw TroupeError(.invalidInput, "the home's store is not SQLite") }
            let value = try await body(file)
            await runtime.shutdown()
            return value
        } catch {
            await runtime.shutdown()
            throw error
        }
    }
}
