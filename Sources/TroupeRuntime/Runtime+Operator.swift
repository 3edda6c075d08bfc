import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// What the operator (a command without `--persona`) does on the whole home, through the
/// runtime: reading, forgetting, import and export, counts, the audit log.
extension Runtime {
    /// A record's current version, whoever owns it.
    public func record(_ id: String) async throws -> MemoryRecord {
        guard let record = try await store.get(id) else { throw TroupeError(.notFound, "no record with this id", context: id) }
        return record
    }

    /// Every version of a record, and what it lost in conflicts.
    public func history(_ id: String) async throws -> RecordHistory { try await store.history(id) }

    /// Forgets a record and all its versions, through the write path (Redis and the index
    /// drop it too).
    public func forget(_ id: String, reason: String?) async throws -> ForgetReceipt {
        try await writes.forget(try await record(id), reason: reason)
    }

    /// Counts per owner and slice, and the file's size.
    public func stats() async throws -> StoreStats { try await store.stats() }

    /// How many current records lack a vector of the configured model (`nil` without one).
    public func recordsWithoutVector() async throws -> Int? {
        guard let model = embedderChoice.modelID else { return nil }
        return try await store.countWithoutVector(model: model)
    }

    /// Audit lines of stale shared writes, newest first.
    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] { try await store.audit(query) }

    /// Calls `write` with each record of `query` as a JSON line, in canonical order; returns
    /// how many were written.
    @discardableResult
    public func export(_ query: MemoryQuery, write: (String) throws -> Void) async throws -> Int {
        try await MemoryExporter(store: store).export(query, write: write)
    }

    /// An importer into this home: each batch goes through the write path (embedded first
    /// unless `embedding` is false, then committed with its vectors, then written through).
    /// The importer is recorded as every record's writer and every record's provenance is an
    /// import's, what the file claimed kept beside it (``Provenance/imported(_:)``); with
    /// `keepSource` (restoring an export) the file's `source` and provenance are trusted instead.
    public func importer(
        defaultOwner: String?, skipInvalid: Bool = false, dryRun: Bool = false, batchSize: Int? = nil, embedding: Bool = true,
        keepSource: Bool = false
    ) throws -> MemoryImporter {
        let owner = try defaultOwner.map(self.owner)
        let storage = configuration.runtime.storage
        let options = MemoryImporter.Options(
            skipInvalid: skipInvalid, dryRun: dryRun, batchSize: batchSize ?? storage.importBatch, maxLineBytes: storage.maxLineBytes)
        let context = MemoryLine.Context(
            defaultOwner: owner, knownOwners: knownOwners, now: clock.now(), keepSource: keepSource,
            claimMetadata: Provenance.imported, sharedKinds: Dictionary(sharedSlices.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a }))
        let writes = writes
        return MemoryImporter(context: context, options: options) { batch, writer in
            try await writes.upsert(batch, writer: writer, embedding: embedding)
        }
    }
}
