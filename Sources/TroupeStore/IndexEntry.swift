import Foundation
import TroupeCore

/// What an in-memory recall index keeps of a record: enough to rank it without reading it again.
public struct IndexEntry: Sendable, Hashable {
    public var id: String
    public var owner: PersonaID
    public var slice: SliceKind
    public var content: String
    public var importance: Double
    public var createdAt: Date
    public var tags: [String]
    public var version: Int
    /// For working memory: when it leaves the live set (recall skips it from then on).
    public var expiresAt: Date?
    /// The record's embedding by the model asked for, if one is stored.
    public var vector: [Float]?
    /// The order in which the store first wrote the record (kept across its versions): records
    /// created at the same instant, such as the lines of one import, keep the order they came in.
    public var sequence: Int64

    public init(_ record: MemoryRecord, vector: [Float]?, sequence: Int64 = 0) {
        self.init(
            id: record.id, owner: record.owner, slice: record.slice, content: record.content, importance: record.importance,
            tags: record.tags, createdAt: record.createdAt, version: record.version, expiresAt: record.expiresAt, vector: vector,
            sequence: sequence)
    }

    public init(
        id: String, owner: PersonaID, slice: SliceKind, content: String, importance: Double, tags: [String], createdAt: Date,
        version: Int, expiresAt: Date? = nil, vector: [Float]?, sequence: Int64 = 0
    ) {
        self.sequence = sequence
        self.id = id
        self.owner = owner
        self.slice = slice
        self.content = content
        self.importance = importance
        self.createdAt = createdAt
        self.tags = tags
        self.version = version
        self.expiresAt = expiresAt
        self.vector = vector
    }

    /// The canonical order (owner, slice, creation time, id), as scans page through it.
    public static func canonicallyOrdered(_ a: IndexEntry, _ b: IndexEntry) -> Bool {
        (a.owner.rawValue, a.slice.rawValue, a.createdAt, a.id) < (b.owner.rawValue, b.slice.rawValue, b.createdAt, b.id)
    }
}

/// An embedding to store for a record, valid only while the record is at `version`.
public struct RecordVector: Sendable, Hashable {
    public var id: String
    public var version: Int
    public var model: String
    public var values: [Float]

    public init(id: String, version: Int, model: String, values: [Float]) {
        self.id = id
        self.version = version
        self.model = model
        self.values = values
    }
}

/// What changed in a store since a cursor: how an index catches up with every writer.
public struct ChangeFeed: Sendable, Hashable {
    /// Where the next call starts.
    public var cursor: Int64
    /// Records written since (inserted, superseded, embedded), current ones only.
    public var changed: [String]
    /// Records removed since.
    public var removed: [String]
    /// The store no longer remembers changes that old: reload everything.
    public var mustReload: Bool

    public init(cursor: Int64, changed: [String] = [], removed: [String] = [], mustReload: Bool = false) {
        self.cursor = cursor
        self.changed = changed
        self.removed = removed
        self.mustReload = mustReload
    }
}

extension Array where Element == Float {
    /// Little-endian Float32 bytes, as vectors are stored.
    public var storedBytes: Data {
        withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// Reads little-endian Float32 bytes; `nil` when the length is not a whole number of floats.
    public init?(storedBytes data: Data) {
        guard data.count % MemoryLayout<Float>.size == 0 else { return nil }
        let count = data.count / MemoryLayout<Float>.size
        // Copied, not bound: a Data buffer need not be aligned for Float.
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = data.copyBytes(to: buffer) / MemoryLayout<Float>.size
        }
    }
}
