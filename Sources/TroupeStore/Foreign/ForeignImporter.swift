import Foundation
import TroupeCore

/// Imports another memory system's file (`memory import --from mem0|letta|mcp-memory FILE`):
/// reads and maps the whole file first (off the cooperative pool), so a file that is not what
/// it claims to be is an error naming the file and line before anything is written; then
/// writes the records in batches through `write` (the runtime's write path).
///
/// Record ids follow from the source's ids (or, where it has none, from what the item is), so
/// importing the same file again adds nothing: its records come back unchanged.
public struct ForeignImporter: Sendable {
    public struct Report: Sendable {
        public var format: ForeignFormat
        /// Items of the file read (memories, blocks, messages, passages, entities, relations…).
        public var items = 0
        /// Records they mapped to.
        public var records = 0
        public var written = UpsertSummary()
        /// Every item left out, with where it is and why.
        public var skipped: [ForeignRecords.Skipped] = []
        /// `--dry-run`: mapped, nothing written.
        public var dryRun = false
        public var seconds = 0.0
    }

    /// The largest file read (it is read whole).
    public static let maxBytes = 1 << 30

    let format: ForeignFormat
    let context: ForeignContext
    let batchSize: Int
    let dryRun: Bool
    let write: MemoryImporter.Write

    public init(format: ForeignFormat, context: ForeignContext, batchSize: Int = 2000, dryRun: Bool = false, write: @escaping MemoryImporter.Write) {
        self.format = format
        self.context = context
        self.batchSize = max(1, batchSize)
        self.dryRun = dryRun
        self.write = write
    }

    /// An importer straight into `store`, without vectors.
    public init(format: ForeignFormat, store: any RecordStore, context: ForeignContext, dryRun: Bool = false) {
        let now = context.now
        self.init(format: format, context: context, dryRun: dryRun) { batch, writer in try await store.upsert(batch, writer: writer, at: now) }
    }

    /// Reads `file` (the path as the user gave it; errors name it so) and imports it.
    public func run(file: String) async throws -> Report {
        let start = DispatchTime.now()
        let (format, context) = (self.format, self.context)
        let mapped = try await offThePool("troupe.import-foreign") { try Self.read(file: file, format: format, context: context) }
        var report = Report(format: format, items: mapped.items, records: mapped.records.count, skipped: mapped.skipped, dryRun: dryRun)
        if !dryRun {
            var index = 0
            while index < mapped.records.count {
                let batch = Array(mapped.records[index..<min(index + batchSize, mapped.records.count)])
                do {
                    report.written = report.written + (try await write(batch, format.rawValue))
                } catch {
                    // Each batch is one transaction: say how far it got, since a re-run finishes it.
                    let code = (error as? TroupeError)?.code ?? .storage
                    throw TroupeError(
                        code, "the import stopped after \(index) of \(mapped.records.count) records (whole batches; importing the file again completes it)",
                        context: file, cause: error)
                }
                index += batch.count
            }
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return report
    }

    /// The records the file maps to (blocking: reads the file).
    public static func read(file: String, format: ForeignFormat, context: ForeignContext) throws -> ForeignRecords {
        let url = URL(fileURLWithPath: file)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw TroupeError(.invalidInput, "no such file", context: file) }
        if isDirectory.boolValue { throw TroupeError(.invalidInput, "is a directory, not a file", context: file) }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        if size > maxBytes { throw TroupeError(.invalidInput, "the file is \(ByteCount.format(Int64(size))), over the \(ByteCount.format(Int64(maxBytes))) a foreign import reads", context: file) }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: url))
        } catch {
            throw TroupeError(.invalidInput, "cannot read the file", context: file, cause: error)
        }
        switch format {
        case .mem0: return try Mem0Export.read(bytes, file: file, context: context)
        case .letta: return try LettaAgentFile.read(bytes, file: file, context: context)
        case .mcpMemory: return try MCPMemoryFile.read(bytes, file: file, context: context)
        }
    }
}
