import Foundation
import TroupeCore

/// Streams a JSONL file into a store in batches, through a write function (the runtime's write
/// path: records embedded and committed with their vectors, then written through).
///
/// Without `skipInvalid`, the whole file is validated first and a file with any bad line imports
/// nothing. Each batch is one transaction, so a killed import leaves whole records only, and
/// re-running it completes the work: ids are stable, so nothing is duplicated.
public struct MemoryImporter: Sendable {
    public struct Options: Sendable {
        /// Import the valid lines and report the rest.
        public var skipInvalid = false
        /// Only validate.
        public var dryRun = false
        /// Records per transaction.
        public var batchSize = 2000
        /// How many problems a report lists (all are counted).
        public var maxProblems = 20
        /// The longest line read, in bytes; a longer one is an invalid line.
        public var maxLineBytes = 4 << 20

        public init(skipInvalid: Bool = false, dryRun: Bool = false, batchSize: Int = 2000, maxLineBytes: Int = 4 << 20) {
            self.skipInvalid = skipInvalid
            self.dryRun = dryRun
            self.batchSize = max(1, batchSize)
            self.maxLineBytes = max(1, maxLineBytes)
        }
    }

    /// Where an import is; sent after every batch and at the end of each pass.
    public struct Progress: Sendable {
        public enum Phase: String, Sendable { case validating, importing }
        public var phase: Phase
        public var bytesRead: Int64
        public var totalBytes: Int64
        public var lines: Int
        public var records: Int
        public var elapsed: Double
    }

    public struct Report: Sendable {
        public enum Outcome: String, Sendable {
            /// Valid lines were written.
            case imported
            /// `--dry-run`: validated, nothing written.
            case validated
            /// Invalid lines and no `--skip-invalid`: nothing written.
            case rejected
        }
        public var outcome: Outcome
        /// Non-blank lines read.
        public var lines = 0
        public var invalid = 0
        public var written = UpsertSummary()
        /// The first problems found (up to `maxProblems`).
        public var problems: [MemoryLine.Problem] = []
        public var seconds = 0.0

        public var valid: Int { lines - invalid }
    }

    /// Writes one batch in one transaction, as `writer`.
    public typealias Write = @Sendable (_ batch: [MemoryRecord], _ writer: String) async throws -> UpsertSummary

    let write: Write
    let context: MemoryLine.Context
    let options: Options

    public init(context: MemoryLine.Context, options: Options = Options(), write: @escaping Write) {
        self.write = write
        self.context = context
        self.options = options
    }

    /// An importer straight into `store`, without vectors.
    public init(store: any RecordStore, context: MemoryLine.Context, options: Options = Options()) {
        let now = context.now
        self.init(context: context, options: options) { batch, writer in try await store.upsert(batch, writer: writer, at: now) }
    }

    public func run(file: URL, progress: (@Sendable (Progress) -> Void)? = nil) async throws -> Report {
        let start = DispatchTime.now()
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

        if !options.skipInvalid || options.dryRun {
            var report = try validate(file: file, progress: progress, elapsed: elapsed)
            if report.invalid > 0 || options.dryRun {
                report.outcome = report.invalid > 0 && !options.dryRun ? .rejected : .validated
                report.seconds = elapsed()
                return report
            }
        }

        var report = Report(outcome: .imported)
        var reader = try JSONLReader(url: file, maxLineBytes: options.maxLineBytes)
        var ids = IDLines()
        var batch: [MemoryRecord] = []
        batch.reserveCapacity(min(options.batchSize, 10_000))
        func flush() async throws {
            report.written = report.written + (try await write(batch, context.source))
            batch.removeAll(keepingCapacity: true)
            progress?(Progress(
                phase: .importing, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, lines: report.lines,
                records: report.lines - report.invalid, elapsed: elapsed()))
        }
        while let line = try reader.next() {
            report.lines += 1
            switch decode(line).flatMap({ ids.first($0) }) {
            case .success(let record):
                batch.append(record)
                if batch.count >= options.batchSize { try await flush() }
            case .failure(let problem):
                report.invalid += 1
                if report.problems.count < options.maxProblems { report.problems.append(problem) }
            }
        }
        try await flush()
        report.seconds = elapsed()
        return report
    }

    /// A line's record with its line number, or what is wrong with it (a line over the limit is
    /// never parsed).
    private func decode(_ line: JSONLReader.Line) -> Result<(MemoryRecord, Int), MemoryLine.Problem> {
        if let length = line.overLimit {
            return .failure(MemoryLine.Problem(
                line: line.number, field: nil,
                message: "the line is \(ByteCount.format(length)) long, over the limit of \(ByteCount.format(Int64(options.maxLineBytes))) "
                    + "(storage.max_line_bytes)"))
        }
        return MemoryLine.decode(line.bytes, line: line.number, context: context).map { ($0, line.number) }
    }

    private func validate(file: URL, progress: (@Sendable (Progress) -> Void)?, elapsed: () -> Double) throws -> Report {
        var report = Report(outcome: .validated)
        var reader = try JSONLReader(url: file, maxLineBytes: options.maxLineBytes)
        var ids = IDLines()
        while let line = try reader.next() {
            report.lines += 1
            if case .failure(let problem) = decode(line).flatMap({ ids.first($0) }) {
                report.invalid += 1
                if report.problems.count < options.maxProblems { report.problems.append(problem) }
            }
            if report.lines % 10_000 == 0 {
                progress?(Progress(
                    phase: .validating, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, lines: report.lines,
                    records: 0, elapsed: elapsed()))
            }
        }
        return report
    }
}

/// Writes a store's records as JSONL, in canonical order, page by page.
public struct MemoryExporter: Sendable {
    let store: any RecordStore
    let pageSize: Int

    public init(store: any RecordStore, pageSize: Int = 2000) {
        self.store = store
        self.pageSize = pageSize
    }

    /// Calls `write` with each line (newline included); returns how many records were written.
    @discardableResult
    public func export(_ filter: MemoryQuery, write: (String) throws -> Void) async throws -> Int {
        var query = filter
        query.order = .canonical
        query.limit = pageSize
        query.after = nil
        var count = 0
        while true {
            let page = try await store.query(query)
            for record in page { try write(MemoryLine.encode(record) + "\n") }
            count += page.count
            guard page.count == pageSize, let last = page.last else { return count }
            query.after = last
        }
    }
}

/// The line each record id of a file was first seen on: a second line with the same id (given,
/// or the stable id of the same memory) is refused, naming both lines, so that a re-import of
/// the file never alternates between two values. Ids are kept as 64-bit hashes (Swift's, stable within
/// the process), about 20 bytes a record, not as text.
struct IDLines {
    private var first: [UInt64: Int32] = [:]

    /// The record, if its id is new to the file; else a problem naming the earlier line.
    mutating func first(_ entry: (MemoryRecord, Int)) -> Result<MemoryRecord, MemoryLine.Problem> {
        let (record, line) = entry
        let key = UInt64(bitPattern: Int64(record.id.hashValue))
        if let earlier = first[key] {
            return .failure(MemoryLine.Problem(
                line: line, field: "id", message: "the id '\(record.id)' is also on line \(earlier); each record may appear once in a file"))
        }
        first[key] = Int32(clamping: line)
        return .success(record)
    }
}
