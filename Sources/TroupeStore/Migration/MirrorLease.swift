import Foundation
import TroupeCore

/// The right to write to a mirror, held by one catch-up (or repair) at a time across every
/// process that shares the mirror: a row of the mirror's bookkeeping, `OWNER EXPIRY`, taken and
/// handed back by compare-and-set. A holder renews it before each step; one that died lets it
/// lapse after `term`, and the next claimant takes it over.
struct MirrorLease: Sendable {
    let key: String
    let store: any MigrationEndpoint
    let owner = UUID().uuidString
    /// How long a claim holds without renewal.
    var term: TimeInterval = 30
    /// How long a claimant waits for another holder before giving up.
    var patience: TimeInterval = 120

    /// Takes the lease, waiting while another holder keeps it.
    func claim() async throws {
        let deadline = Date().addingTimeInterval(patience)
        while true {
            if try await take() { return }
            guard Date() < deadline else {
                throw TroupeError(
                    .unavailable, "another process has been catching the mirror up for \(Int(patience)) s; it is tried again later",
                    context: store.migrationName)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Extends the lease; throws if it was lost (it lapsed and another holder took it).
    func renew() async throws {
        guard try await take() else {
            throw TroupeError(.unavailable, "the mirror's lease lapsed and another process holds it", context: store.migrationName)
        }
    }

    /// Hands the lease back, if it is still this holder's.
    func release() async throws {
        guard let current = try await store.info(key), Self.holder(of: current)?.owner == owner else { return }
        _ = try await store.swapInfo(key, expecting: current, to: "")
    }

    /// Takes or extends the lease if it is free, lapsed or already this holder's.
    private func take() async throws -> Bool {
        let current = try await store.info(key)
        let now = Date().timeIntervalSince1970
        if let current, let holder = Self.holder(of: current), holder.owner != owner, holder.expiry > now { return false }
        return try await store.swapInfo(key, expecting: current, to: "\(owner) \(Int64((now + term) * 1000))")
    }

    /// The holder a lease row names; `nil` when it is free.
    static func holder(of value: String) -> (owner: String, expiry: TimeInterval)? {
        let parts = value.split(separator: " ")
        guard parts.count == 2, let millis = Int64(parts[1]) else { return nil }
        return (String(parts[0]), TimeInterval(millis) / 1000)
    }
}
