import Foundation
import TroupeCore
import TroupeStore

extension Runtime {
    /// An importer of another memory system's file into this home (`memory import --from`):
    /// each batch goes through the write path (embedded unless `embedding` is false). Every
    /// record's provenance is an import's (trust 2/4), whom the file says said it kept as a
    /// claim (``Provenance/imported(_:)``); the source's id and times are kept in metadata.
    public func foreignImporter(
        _ format: ForeignFormat, owner: String?, batchSize: Int? = nil, dryRun: Bool = false, embedding: Bool = true
    ) throws -> ForeignImporter {
        let context = ForeignContext(
            owner: try owner.map(self.owner), knownOwners: knownOwners,
            sharedKinds: Dictionary(sharedSlices.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a }), now: clock.now(),
            claimMetadata: Provenance.imported)
        let writes = writes
        return ForeignImporter(
            format: format, context: context, batchSize: batchSize ?? configuration.runtime.storage.importBatch, dryRun: dryRun
        ) { batch, writer in
            try await writes.upsert(batch, writer: writer, embedding: embedding)
        }
    }
}
