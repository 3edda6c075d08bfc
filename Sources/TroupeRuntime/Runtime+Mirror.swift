import Foundation
import Logging
import TroupeConfig
import TroupeCore
import TroupeStore

/// The mirror of `storage.mirror`, opened on first use and again after a failure to open it: a
/// mirror that is down never stops the primary.
///
/// It opens outside the lock and off the cooperative pool (a connection to a server that may
/// not answer, or a SQLite file another process holds): two first callers at once may each open
/// one; the first kept is the one every caller gets, and the other is dropped.
final class MirrorLink: Sendable {
    /// The mirror as people read its name: a path, or a URL without its password.
    let name: String
    /// How far behind it was seen (``Runtime/mirrorLag()``).
    let lag = LockedBox(MirrorLagTracker())
    private let opened = LockedBox<StoreMirror?>(nil)
    private let open: @Sendable () throws -> StoreMirror

    init(name: String, _ open: @escaping @Sendable () throws -> StoreMirror) {
        self.name = name
        self.open = open
    }

    /// The mirror, if it was opened.
    var existing: StoreMirror? { opened.value }

    func mirror() async throws -> StoreMirror {
        if let opened = opened.value { return opened }
        let made = try await offThePool("troupe.mirror.open", open)
        return opened.withLock { opened in
            if let opened { return opened }
            opened = made
            return made
        }
    }
}

extension Runtime {
    /// The link to the configured mirror, if there is one.
    static func mirrorLink(_ configuration: Configuration, primary: any MemoryStore) -> MirrorLink? {
        let storage = configuration.runtime.storage
        guard storage.mirror != nil, let primary = primary as? any MigrationEndpoint else { return nil }
        return MirrorLink(name: mirrorName(storage)) { try openMirror(storage, primary: primary) }
    }

    /// `storage.mirror` as people read it: a SQLite mirror's spec, a PostgreSQL one's URL
    /// without its password (and its schema).
    static func mirrorName(_ storage: RuntimeConfig.Storage) -> String {
        let address = StoreAddress(storage.mirror ?? "?", schema: storage.mirrorSchema)
        return (try? storeDrivers.driver(for: address))?.displayed(address) ?? address.spec
    }

    /// The mirror `storage.mirror` names, following `primary`.
    static func openMirror(
        _ storage: RuntimeConfig.Storage, primary: any MigrationEndpoint,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> StoreMirror {
        guard let spec = storage.mirror else { throw TroupeError(.invalidConfig, "no 'storage.mirror' is configured") }
        var settings = storage
        // A mirror that does not answer fails at once: the next catch-up tries again.
        settings.busyTimeout = 0.5
        let mirror = try migrationEndpoint(
            spec, storage: settings, sealer: primary.sealer, schema: storage.mirrorSchema, passwordEnv: storage.mirrorPasswordEnv, environment: environment)
        return StoreMirror(primary: primary, mirror: mirror)
    }

    /// Brings the mirror up to date, if there is one; a failure is logged (the next catch-up,
    /// in this process or another, goes on from the same place).
    func catchUpMirror() async {
        guard let link = mirrorLink else { return }
        do {
            try await link.mirror().catchUp()
        } catch where Task.isCancelled {
            // Stopped mid-step by shutdown, which catches it up once more.
        } catch {
            logger.warning("the mirror is behind the primary and will be caught up later: \(error)")
        }
    }

    /// The configured mirror, for `troupe reconcile`.
    public func configuredMirror() async throws -> StoreMirror {
        guard let link = mirrorLink else { throw TroupeError(.invalidConfig, "no 'storage.mirror' is configured") }
        return try await link.mirror()
    }
}

extension Runtime {
    /// This runtime's configuration with the mirror as its store (and no Redis, whose cache
    /// belongs to the primary): for reading the mirror the way recall reads the primary.
    public func mirrorConfiguration() throws -> Configuration {
        let storage = configuration.runtime.storage
        guard let spec = storage.mirror else { throw TroupeError(.invalidConfig, "no 'storage.mirror' is configured") }
        var mirrored = configuration
        if spec.hasPrefix("sqlite:") {
            mirrored.runtime.storage.backend = .sqlite
            mirrored.runtime.storage.database = String(spec.dropFirst("sqlite:".count))
        } else {
            mirrored.runtime.storage.backend = .postgres
            (mirrored.runtime.storage.url, mirrored.runtime.storage.schema) = (spec, storage.mirrorSchema)
            mirrored.runtime.storage.passwordEnv = storage.mirrorPasswordEnv
        }
        mirrored.runtime.storage.mirror = nil
        mirrored.runtime.redis.mode = .off
        return mirrored
    }
}
