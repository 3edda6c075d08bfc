import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// An import (`memory import`): the file, and how its lines are taken.
public struct ImportRequest: Sendable {
    /// The JSONL file's path, as given (errors name it so).
    public var file: String
    /// The persona (or shared slice) of lines that name none.
    public var defaultOwner: String?
    /// Import the valid lines and report the invalid ones, instead of importing nothing.
    public var skipInvalid = false
    /// Only validate; write nothing.
    public var dryRun = false
    /// Records per transaction (default from the config).
    public var batchSize: Int?
    /// Whether records are embedded as they are stored.
    public var embedding = true
    /// Trust each line's `source` and provenance (restoring one's own export).
    public var keepSource = false

    public init(
        file: String, defaultOwner: String? = nil, skipInvalid: Bool = false, dryRun: Bool = false, batchSize: Int? = nil,
        embedding: Bool = true, keepSource: Bool = false
    ) {
        self.file = file
        self.defaultOwner = defaultOwner
        self.skipInvalid = skipInvalid
        self.dryRun = dryRun
        self.batchSize = batchSize
        self.embedding = embedding
        self.keepSource = keepSource
    }
}

extension TroupeService {
    /// Calls `write` with each record as a JSON line (re-importable), in canonical order
    /// (`memory export`); returns how many were written. Of `owner` (a persona, or a shared
    /// slice) and `slices` when given.
    ///
    /// A client exports only a persona it may act as, or a shared slice one of its personas
    /// belongs to (anything else is denied alike, whether it exists or not); the whole home,
    /// without an owner, is the operator's.
    @discardableResult
    public func export(owner: String?, slices: [SliceKind]? = nil, _ context: RequestContext, write: (String) throws -> Void) async throws -> Int {
        var query = MemoryQuery(slices: slices)
        if let owner {
            query.owners = [try self.owner(owner, context)]
        } else {
            try context.checkWholeHome("export the whole home")
        }
        return try await runtime.export(query, write: write)
    }

    /// Imports a JSONL file into the home (`memory import`), through the write path; the
    /// procedural seeds are loaded after a successful import (so that an exported home
    /// re-imports its own seeds instead of meeting fresh copies). Only the operator imports: a
    /// file may name any owner, and with `keepSource` claim any writer.
    ///
    /// The report says what happened to each line; a file that is missing is an error.
    public func importMemories(
        _ request: ImportRequest, progress: (@Sendable (MemoryImporter.Progress) -> Void)? = nil, _ context: RequestContext
    ) async throws -> MemoryImporter.Report {
        try context.checkWholeHome("import memories")
        let importer = try runtime.importer(
            defaultOwner: request.defaultOwner, skipInvalid: request.skipInvalid, dryRun: request.dryRun, batchSize: request.batchSize,
            embedding: request.embedding, keepSource: request.keepSource)
        let url = URL(fileURLWithPath: request.file)
        guard FileManager.default.fileExists(atPath: url.path) else { throw TroupeError(.invalidInput, "no such file", context: request.file) }
        let report = try await importer.run(file: url, progress: progress)
        if report.outcome == .imported { try await runtime.seedProceduralMemory() }
        return report
    }

    /// A warning for people when the configured embedding model is not what runs (the hashing
    /// fallback, or none): what an import or a re-embedding will store.
    public var embedderWarning: String? { runtime.embedderChoice.warning }

    /// The owner named `name` that the caller may read and write as: a persona it may act as,
    /// or a shared slice one of those belongs to. Anything else is one denial for a client.
    func owner(_ name: String, _ context: RequestContext) throws -> PersonaID {
        guard context.principal.role == .client else { return try runtime.owner(name) }
        if context.principal.mayActAs(name) { return try runtime.owner(name) }
        if let slice = visibleSharedSlices(context).first(where: { $0.rawValue == name }) { return slice }
        throw context.denial(name)
    }
}
