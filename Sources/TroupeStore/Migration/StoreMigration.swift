import Foundation
import TroupeCore

/// Copies one store into another, table by table in key order, in committed batches, then
/// checks that both hold the same (per owner and slice: counts and a content hash).
///
/// **Resuming.** Each batch lands whole or not at all, and batches go in key order, so after a
/// kill the target's last key in each table is where the copy goes on; a row that is already
/// there is left alone. The target is marked with the source's name when the copy starts: a
/// target that holds rows from anywhere else is refused.
public struct StoreMigration: Sendable {
    public let source: any MigrationEndpoint
    public let target: any MigrationEndpoint
    public var batch = 1000

    public init(from source: any MigrationEndpoint, to target: any MigrationEndpoint) {
        self.source = source
        self.target = target
    }

    /// Where a copy is: a table, rows done and in all.
    public struct Progress: Sendable {
        public var table: MigrationTable
        public var done: Int
        public var total: Int
    }

    /// Copies every table; returns how many rows landed in each (rows already there, from an
    /// earlier run, are not counted).
    public func run(progress: (Progress) -> Void) async throws -> [MigrationTable: Int] {
        guard source.sealer.id == target.sealer.id else {
            throw TroupeError(.invalidInput, "the source is sealed by '\(source.sealer.id)', the target by '\(target.sealer.id)': both must be plain, or both of one vault")
        }
        let mark = try await target.migrationSource()
        if let mark, mark != source.migrationName {
            throw TroupeError(.invalidInput, "the target is being filled from \(mark), not from \(source.migrationName)", context: target.migrationName)
        }
        if mark == nil {
            for table in MigrationTable.allCases where try await target.migrationCount(table) > 0 {
                throw TroupeError(
                    .invalidInput, "the target holds \(table.rawValue) already; migrate into an empty store", context: target.migrationName)
            }
            try await target.setMigrationSource(source.migrationName)
        }
        var landed: [MigrationTable: Int] = [:]
        for table in MigrationTable.allCases {
            let total = try await source.migrationCount(table)
            var key = try await target.lastMigrationKey(table)
            var done = try await target.migrationCount(table)
            progress(Progress(table: table, done: done, total: total))
            while true {
                let rows = try await source.migrationRows(table, after: key, limit: batch)
                guard let last = rows.last else { break }
                landed[table, default: 0] += try await target.insertMigrationRows(table, rows)
                done += rows.count
                key = table.key(of: last)
                progress(Progress(table: table, done: min(done, total), total: total))
            }
        }
        return landed
    }

    /// One line of the verification: a table's rows of one owner and slice (or all of them,
    /// for tables without), on both sides.
    public struct Check: Sendable, Hashable {
        public var table: MigrationTable
        public var scope: String
        public var source: Digest
        public var target: Digest
        public var matches: Bool { source == target }
    }

    public struct Digest: Sendable, Hashable {
        public var count = 0
        public var hash = [UInt8](repeating: 0, count: 32)
        public var hex: String { hash.prefix(8).map { String(format: "%02x", $0) }.joined() }
    }

    /// Reads both stores whole and compares them.
    public func verify() async throws -> [Check] {
        let (a, b) = (try await Self.digests(source, batch: batch), try await Self.digests(target, batch: batch))
        var checks: [Check] = []
        for table in MigrationTable.allCases {
            let scopes = Set(a[table, default: [:]].keys).union(b[table, default: [:]].keys).sorted()
            for scope in scopes {
                checks.append(Check(table: table, scope: scope, source: a[table]?[scope] ?? Digest(), target: b[table]?[scope] ?? Digest()))
            }
        }
        return checks
    }

    /// Counts and a chained SHA-256 of every row, in key order, per table and owner/slice.
    static func digests(_ store: any MigrationEndpoint, batch: Int) async throws -> [MigrationTable: [String: Digest]] {
        var result: [MigrationTable: [String: Digest]] = [:]
        for table in MigrationTable.allCases {
            var key: [StoredValue]?
            var digests: [String: Digest] = [:]
            while true {
                let rows = try await store.migrationRows(table, after: key, limit: batch)
                guard let last = rows.last else { break }
                for row in rows {
                    let scope: String
                    if case .text(let owner)? = row["owner"], case .text(let slice)? = row["slice"], table == .records || table == .versions {
                        scope = "\(owner)/\(slice)"
                    } else {
                        scope = "all"
                    }
                    var digest = digests[scope, default: Digest()]
                    digest.count += 1
                    digest.hash = SHA256.digest(of: digest.hash + table.digest(of: row))
                    digests[scope] = digest
                }
                key = table.key(of: last)
            }
            result[table] = digests
        }
        return result
    }
}
