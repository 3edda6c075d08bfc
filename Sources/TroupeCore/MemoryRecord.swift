import Foundation

/// One memory: a piece of text owned by a persona (or a shared slice) in one slice.
///
/// A record is superseded, never edited in place: an update writes a new `version` and the old one
/// stays in the record's history with its `validTo` set.
public struct MemoryRecord: Hashable, Sendable {
    /// Unique id; imported records may bring their own.
    public var id: String
    /// The persona or shared slice that owns the record.
    public var owner: PersonaID
    public var slice: SliceKind
    public var content: String
    /// How much the record matters, 0…1.
    public var importance: Double
    public var tags: [String]
    /// Who or what wrote it: a persona, `import`, `seed`, `cli`…
    public var source: String
    public var createdAt: Date
    public var lastAccessedAt: Date
    public var accessCount: Int
    public var validFrom: Date
    /// Set when this version was superseded; `nil` while it is current.
    public var validTo: Date?
    /// For working memory: when the item leaves the hot set.
    public var expiresAt: Date?
    /// Starts at 1 and grows by one with each update.
    public var version: Int
    /// The id of the embedding model that produced this record's vector, if any.
    public var modelID: String?
    /// Free-form data carried through import and export.
    public var metadata: JSONValue?

    public init(
        id: String, owner: PersonaID, slice: SliceKind, content: String, importance: Double = 0.5,
        tags: [String] = [], source: String, createdAt: Date, lastAccessedAt: Date? = nil,
        accessCount: Int = 0, validFrom: Date? = nil, validTo: Date? = nil, expiresAt: Date? = nil,
        version: Int = 1, modelID: String? = nil, metadata: JSONValue? = nil
    ) {
        self.id = id
        self.owner = owner
        self.slice = slice
        self.content = content
        self.importance = importance
        self.tags = tags
        self.source = source
        self.createdAt = createdAt
        self.lastAccessedAt = lastAccessedAt ?? createdAt
        self.accessCount = accessCount
        self.validFrom = validFrom ?? createdAt
        self.validTo = validTo
        self.expiresAt = expiresAt
        self.version = version
        self.modelID = modelID
        self.metadata = metadata
    }

    /// Whether the record's user-visible value (what import compares) equals `other`'s.
    public func hasSameValue(as other: MemoryRecord) -> Bool {
        owner == other.owner && slice == other.slice && content == other.content
            && importance == other.importance && tags == other.tags && metadata == other.metadata
            && expiresAt == other.expiresAt
    }

    /// The id a record without one gets: stable for the same owner, slice, content and time, so a
    /// re-import finds the record it wrote before instead of duplicating it.
    public static func stableID(
        owner: PersonaID, slice: SliceKind, content: String, createdAt: Date?
    ) -> String {
        var bytes = Array(owner.rawValue.utf8)
        bytes.append(0)
        bytes += slice.rawValue.utf8
        bytes.append(0)
        bytes += content.utf8
        bytes.append(0)
        if let createdAt { bytes += String(createdAt.millisecondsSince1970).utf8 }
        return "m-" + SHA256.hex(of: bytes).prefix(24)
    }
}

/// A change to a record's value; fields left `nil` keep their current value.
public struct MemoryChange: Sendable, Hashable {
    public var content: String?
    public var importance: Double?
    public var tags: [String]?
    public var metadata: JSONValue??
    public var expiresAt: Date??

    public init(
        content: String? = nil, importance: Double? = nil, tags: [String]? = nil,
        metadata: JSONValue?? = nil, expiresAt: Date?? = nil
    ) {
        self.content = content
        self.importance = importance
        self.tags = tags
        self.metadata = metadata
        self.expiresAt = expiresAt
    }
}
