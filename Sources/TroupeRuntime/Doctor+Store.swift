import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

extension Doctor {
    /// The store check: the SQLite file (if it exists yet) or the PostgreSQL server, with its
    /// schema, size and how many records have vectors; and the store, opened, for later checks.
    static func storeCheck(_ runtime: RuntimeConfig, home: URL) async -> (DoctorReport.Check, (any MemoryStore)?) {
        let store: any MemoryStore
        let place: String
        var detail: [String] = []
        switch runtime.storage.backend {
        case .sqlite:
            let path = runtime.storage.database.hasPrefix("/") ? runtime.storage.database : home.appendingPathComponent(runtime.storage.database).path
            guard FileManager.default.fileExists(atPath: path) else {
                return (.init(name: "store", status: .ok, detail: "\(path) (not created yet; the first write creates it)"), nil)
            }
            place = DisplayPath.of(URL(fileURLWithPath: path))
            do {
                store = try SQLiteStore(path: path, busyTimeout: runtime.storage.busyTimeout)
            } catch {
                return (.init(name: "store", status: .error, detail: "\(path): \(error)"), nil)
            }
        case .postgres:
            place = runtime.storage.url ?? "?"
            do {
                let location = try Runtime.postgresLocation(runtime.storage, environment: ProcessInfo.processInfo.environment)
                let postgres = try PostgresStore(location: location, connections: 1, reconnectWindow: 0)
                let version = postgres.serverVersion
                detail.append("PostgreSQL \(version / 10000).\(version % 10000)")
                store = postgres
            } catch {
                return (.init(name: "store", status: .error, detail: "\(error)"), nil)
            }
        }
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
}
