import Foundation
import TroupeCore

/// Another memory system's file, read into Troupe records (`memory import --from FORMAT`).
public enum ForeignFormat: String, Sendable, CaseIterable {
    /// mem0's memories as `get_all` returns them (or its export): `{"results": [...]}`, a list, or JSONL.
    case mem0
    /// Letta's Agent File (`.af`): core memory blocks, messages, archival passages when present.
    case letta
    /// The MCP memory server's JSONL knowledge graph: entities (with observations) and relations.
    case mcpMemory = "mcp-memory"

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What reading a foreign file yields: the records it maps to, and each item it could not map.
///
/// A reader never writes: the whole file is read and mapped first, so a file that is not what
/// it claims to be is an error before anything changes.
public struct ForeignRecords: Sendable {
    /// One item of the file left out, where it is (`line 4`, `agents[0].messages[3]`) and why.
    public struct Skipped: Sendable, Hashable, CustomStringConvertible {
        public var location: String
        public var field: String?
        public var message: String

        public init(_ location: String, field: String? = nil, _ message: String) {
            self.location = location
            self.field = field
            self.message = message
        }

        public var description: String { location + (field.map { ": field '\($0)'" } ?? "") + ": " + message }
    }

    public var records: [MemoryRecord] = []
    public var skipped: [Skipped] = []
    /// Items read (each memory, block, message, passage, entity, relation…), mapped or not.
    public var items = 0

    public init() {}

    /// Adds `record` unless the file already produced one with its id: the first stays, the
    /// second is reported, so a re-import never alternates between two values.
    mutating func add(_ record: MemoryRecord, at location: String, seen: inout [String: String]) {
        if let earlier = seen[record.id] {
            skipped.append(Skipped(location, "the same item as \(earlier); imported once"))
            return
        }
        seen[record.id] = location
        records.append(record)
    }
}

/// What a foreign reader needs besides the file: where records go and how provenance is written.
public struct ForeignContext: Sendable {
    /// The persona or shared slice the records go to (`--persona`); readers that can name an
    /// owner from the file (a Letta agent's name) use it when this is `nil`.
    public var owner: PersonaID?
    /// Owners that exist; `nil` accepts any valid name.
    public var knownOwners: Set<PersonaID>?
    /// The declared kind of each shared slice: a shared owner takes only that kind.
    public var sharedKinds: [PersonaID: SliceKind]
    /// Time for items that carry none.
    public var now: Date
    /// Turns the provenance an item claims (`said_by`) into an import's (the runtime's
    /// `Provenance.imported`); `nil` keeps it as written.
    public var claimMetadata: (@Sendable (JSONValue?) -> JSONValue?)?

    public init(
        owner: PersonaID?, knownOwners: Set<PersonaID>? = nil, sharedKinds: [PersonaID: SliceKind] = [:], now: Date,
        claimMetadata: (@Sendable (JSONValue?) -> JSONValue?)? = nil
    ) {
        self.owner = owner
        self.knownOwners = knownOwners
        self.sharedKinds = sharedKinds
        self.now = now
        self.claimMetadata = claimMetadata
    }

    /// Why `slice` cannot go to `owner`, if it cannot (a shared slice holds one kind).
    func refusal(_ slice: SliceKind, for owner: PersonaID) -> String? {
        guard let kind = sharedKinds[owner], kind != slice else { return nil }
        return "'\(owner)' is a shared slice of \(kind.rawValue) memories; this would be \(slice.rawValue)"
    }

    /// A record of `format`, its id derived from `key` (the source's id and what makes it unique
    /// in this home), the source's fields kept in metadata beside the provenance.
    func record(
        _ format: ForeignFormat, owner: PersonaID, slice: SliceKind, content: String, key: [String], saidBy: String?,
        createdAt: Date?, validFrom: Date? = nil, tags: [String] = [], metadata: [String: JSONValue]
    ) -> MemoryRecord {
        var fields = metadata
        fields["imported_from"] = .string(format.rawValue)
        if let saidBy { fields["said_by"] = .string(saidBy) }
        var value: JSONValue? = .object(fields)
        if let claim = claimMetadata { value = claim(value) }
        return MemoryRecord(
            id: Self.id(format, owner: owner, key: key), owner: owner, slice: slice, content: content, tags: [format.rawValue] + tags,
            source: format.rawValue, createdAt: createdAt ?? now, validFrom: validFrom, metadata: value)
    }

    /// `mem0-…`: a stable id for the item keyed by `key` in `owner`, so that importing the same
    /// file twice finds the records it wrote the first time.
    static func id(_ format: ForeignFormat, owner: PersonaID, key: [String]) -> String {
        var bytes = Array(format.rawValue.utf8) + [0] + Array(owner.rawValue.utf8)
        for part in key { bytes += [0] + Array(part.utf8) }
        return format.rawValue + "-" + SHA256.hex(of: bytes).prefix(24)
    }

    /// The owner of records from a file whose items name none: `--persona`, checked.
    func requiredOwner(_ format: ForeignFormat) throws -> PersonaID {
        guard let owner else {
            throw TroupeError(.invalidInput, "--persona is required with --from \(format.rawValue): the file names no persona")
        }
        try check(owner)
        return owner
    }

    func check(_ owner: PersonaID) throws {
        if let known = knownOwners, !known.contains(owner) {
            throw TroupeError(.notFound, "unknown persona or shared slice '\(owner)'")
        }
    }
}

/// Reading the foreign file's JSON, with errors that say where (file:line:column).
enum ForeignJSON {
    /// Parses a whole file as one JSON value; a syntax error names its line and column.
    static func parse(_ bytes: [UInt8], file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch let error as JSONValue.ParseError {
            let (line, column) = position(of: error.offset, in: bytes)
            throw TroupeError(.invalidInput, "not valid JSON: \(error.reason)", context: "\(file):\(line):\(column)")
        }
    }

    /// The 1-based line and column of byte `offset`.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }

    /// A time as these systems write it: RFC 3339, or (Letta, Python's `str(datetime)`) with a
    /// space and no zone, which both servers write in UTC.
    static func time(_ value: JSONValue?) -> Date? {
        guard case .string(let text)? = value else { return nil }
        if let date = Timestamp.parse(text) { return date }
        return Timestamp.parse(text + "Z")
    }

    static func string(_ value: JSONValue?) -> String? {
        guard case .string(let text)? = value else { return nil }
        return text
    }

    /// Text with something in it besides white space.
    static func text(_ value: JSONValue?) -> String? {
        guard let text = string(value), text.contains(where: { !$0.isWhitespace }) else { return nil }
        return text
    }

    /// `value` without the members whose value is `null` (kept metadata stays readable).
    static func compact(_ members: [String: JSONValue], dropping: Set<String> = []) -> [String: JSONValue] {
        members.filter { $0.value != .null && !dropping.contains($0.key) }
    }
}
