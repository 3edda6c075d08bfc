import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore
import TroupeVault

extension Doctor {
    /// The store check: the SQLite file (if it exists yet) or the PostgreSQL server, with its
    /// schema, size and how many records have vectors; and the store, opened, for later checks.
    static func storeCheck(_ runtime: RuntimeConfig, home: URL, sealer: any RecordSealer) async -> (DoctorReport.Check, (any MemoryStore)?) {
        let store: any MemoryStore
        let place: String
        var detail: [String] = []
        let address: StoreAddress
        let driver: any StoreDriver
        do {
            address = try Runtime.storeAddress(runtime.storage, home: home, environment: ProcessInfo.processInfo.environment)
            driver = try Runtime.storeDrivers.driver(for: address)
        } catch {
            return (.init(name: "store", status: .error, detail: "\(error)"), nil)
        }
        if let path = driver.notCreatedYet(address) {
            return (.init(name: "store", status: .ok, detail: "\(path) (not created yet; the first write creates it)"), nil)
        }
        do {
            // A server that does not answer is reported at once, not waited for.
            var options = StoreOptions(busyTimeout: runtime.storage.busyTimeout, reconnectWindow: 0, connections: 1)
            options.sealer = sealer
            store = try driver.open(address, options: options)
        } catch {
            return (.init(name: "store", status: .error, detail: driver.isServer ? "\(error)" : "\(address.rest): \(error)"), nil)
        }
        if let file = store as? any FileStore {
            place = DisplayPath.of(URL(fileURLWithPath: file.path))
        } else {
            place = address.spec
        }
        if let server = store as? any ServerStore { detail.append(server.serverDescription) }
        do {
            let stats = try await store.stats()
            var notes: [String] = []
            if let model = embedderModelID(runtime, home: home) {
                let missing = try await store.countWithoutVector(model: model)
                notes.append("vectors: \(stats.total - missing) of \(stats.total) records embedded with \(model)"
                    + (missing > 0 ? "; run `troupe memory reembed` for the rest" : ""))
            }
            detail += ["schema \(stats.schemaVersion ?? "?")", "\(stats.total) records", ByteCount.format(stats.bytesOnDisk ?? 0)]
            return (.init(name: "store", status: .ok, detail: "\(place) (\(detail.joined(separator: ", ")))", notes: notes), store)
        } catch {
            return (.init(name: "store", status: .error, detail: "\(place): \(error)"), nil)
        }
    }

    /// The vault check, for an encrypted home: its master key opens the keyring (or what is
    /// wrong with it), and its data keys. `nil` for a plain home. The sealer to open the store
    /// with: the vault, or nothing sealing when it cannot be opened (the store check then says so).
    static func vaultCheck(_ storage: RuntimeConfig.Storage, home: URL, environment: [String: String])
        -> (DoctorReport.Check?, any RecordSealer)
    {
        guard Vault.exists(home: home) else { return (nil, PlainSealer()) }
        let source = Runtime.masterKeySource(storage, home: home)
        do {
            let vault = try Vault(directory: Vault.directory(home: home), source: source, environment: environment)
            let status = try vault.status()
            let count = { (state: String) in status.keys.filter { $0.state == state }.count }
            var notes = ["master key: \(source), fingerprint \(status.masterFingerprint)",
                         "data keys: \(count("active")) active, \(count("retired")) retired, \(count("shredded")) shredded"]
            if let owners = status.rotating {
                notes.append("a data-key rotation of \(owners.joined(separator: ", ")) is unfinished: run `troupe vault rotate --data`")
            }
            return (.init(name: "vault", status: status.rotating == nil ? .ok : .warning, detail: "encrypted at rest (\(DisplayPath.of(vault.directory)))", notes: notes), vault)
        } catch {
            return (.init(name: "vault", status: .error, detail: "\(error)"), PlainSealer())
        }
    }

    /// The mirror check: whether `storage.mirror` answers and how far it has followed the
    /// primary. A mirror that is down or behind is a warning: writes go on without it.
    static func mirrorCheck(
        _ storage: RuntimeConfig.Storage, primary: (any MemoryStore)?, environment: [String: String]
    ) async -> DoctorReport.Check {
        let spec = storage.mirror ?? "?"
        let named = Runtime.mirrorName(storage)
        guard let primary = primary as? any MigrationEndpoint else {
            return .init(name: "mirror", status: .warning, detail: "\(named): not checked (the primary store is not open)")
        }
        let address = StoreAddress(spec)
        if (try? Runtime.storeDrivers.driver(for: address))?.notCreatedYet(address) != nil {
            return .init(name: "mirror", status: .warning, detail: "\(named): not created yet (the next troupe command makes it a copy)")
        }
        do {
            let (mirrored, latest) = try await Runtime.openMirror(storage, primary: primary, environment: environment).position()
            guard let mirrored else {
                return .init(name: "mirror", status: .warning, detail: "\(named): not a copy yet (the next troupe command makes it a copy)")
            }
            return .init(
                name: "mirror", status: mirrored >= latest ? .ok : .warning,
                detail: "\(named): " + (mirrored >= latest
                    ? "caught up with the primary (change \(latest))"
                    : "behind the primary, at change \(mirrored) of \(latest) (the next troupe command catches it up)"))
        } catch {
            return .init(
                name: "mirror", status: .warning,
                detail: "\(named): \(error) (writes go on on the primary; the mirror is caught up once it answers)")
        }
    }

    /// Keys for `troupe serve`, and what the security log last saw go wrong.
    static func accessCheck(store: any MemoryStore) async -> DoctorReport.Check {
        do {
            let keys = try await store.keys()
            let active = keys.filter { $0.revokedAt == nil }
            guard !active.isEmpty else {
                return .init(
                    name: "keys", status: .ok,
                    detail: "none active\(keys.isEmpty ? "" : " (\(keys.count) revoked)"): troupe serve listens on loopback only, every caller acting as the admin")
            }
            let roles = Dictionary(grouping: active, by: \.role).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
            var notes: [String] = []
            let failures = try await store.securityEvents(SecurityEventQuery(kinds: [.authenticationFailed, .denied, .rateLimited], limit: 1))
            if let last = failures.first { notes.append("last refusal: \(Timestamp.format(last.at)) \(last.kind.rawValue) from \(last.source) (\(last.detail)); troupe audit --security") }
            return .init(
                name: "keys", status: .ok,
                detail: "\(active.count) active (\(roles))\(keys.count > active.count ? ", \(keys.count - active.count) revoked" : ""): troupe serve asks every caller for one",
                notes: notes)
        } catch {
            return .init(name: "keys", status: .error, detail: "\(error)")
        }
    }
}
