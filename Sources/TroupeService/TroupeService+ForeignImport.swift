import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// An import of another memory system's file (`memory import --from FORMAT FILE`).
public struct ForeignImportRequest: Sendable {
    public var format: ForeignFormat
    /// The file's path, as given (errors name it so).
    public var file: String
    /// The persona or shared slice the memories go to; a Letta agent named as a persona goes
    /// to that persona without it.
    public var owner: String?
    public var dryRun = false
    public var batchSize: Int?
    public var embedding = true

    public init(format: ForeignFormat, file: String, owner: String?, dryRun: Bool = false, batchSize: Int? = nil, embedding: Bool = true) {
        self.format = format
        self.file = file
        self.owner = owner
        self.dryRun = dryRun
        self.batchSize = batchSize
        self.embedding = embedding
    }
}

extension TroupeService {
    /// Imports a mem0 export, a Letta agent file or the MCP memory server's JSONL through the
    /// write path. Only the operator imports. A file that cannot be read as its format is an
    /// error naming the file and line, and nothing is written; items that cannot be mapped
    /// are listed in the report.
    public func importForeign(_ request: ForeignImportRequest, _ context: RequestContext) async throws -> ForeignImporter.Report {
        try context.checkWholeHome("import memories")
        let importer = try runtime.foreignImporter(
            request.format, owner: request.owner, batchSize: request.batchSize, dryRun: request.dryRun, embedding: request.embedding)
        let report = try await importer.run(file: request.file)
        if !request.dryRun { try await runtime.seedProceduralMemory() }
        return report
    }
}
