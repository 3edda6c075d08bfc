import Foundation
import TroupeCore

/// A write to a record of a shared slice, as the coordinator hands it to the store: what to
/// write, who writes it, the version it was based on, and the slice's conflict policy.
public struct SharedWrite: Sendable, Hashable {
    /// The record written to; for a new record, the id to give it (`nil`: a fresh one).
    public var id: String?
    /// The shared slice (the record's owner) and its kind.
    public var owner: PersonaID
    public var slice: SliceKind
    public var writer: PersonaID
    /// The version the writer read; 0 for a new record.
    public var baseVersion: Int
    /// The new value; a new record needs its content.
    public var change: MemoryChange
    public var policy: ConflictPolicy
    /// The embedding of `change.content`, stored with whichever record takes the value.
    public var vector: EmbeddedVector?

    public init(
        id: String?, owner: PersonaID, slice: SliceKind, writer: PersonaID, baseVersion: Int, change: MemoryChange,
        policy: ConflictPolicy, vector: EmbeddedVector? = nil
    ) {
        self.id = id
        self.owner = owner
        self.slice = slice
        self.writer = writer
        self.baseVersion = baseVersion
        self.change = change
        self.policy = policy
        self.vector = vector
    }
}

/// An embedding and the model that made it.
public struct EmbeddedVector: Sendable, Hashable {
    public var model: String
    public var values: [Float]

    public init(model: String, values: [Float]) {
        self.model = model
        self.values = values
    }
}

/// What became of a shared write.
public struct SharedWriteOutcome: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Based on the current version (or a new record): written, no conflict.
        case applied
        /// Stale, and the policy let it replace the current version.
        case overwrote
        /// Stale, and the current version stayed; the value is in the record's history.
        case keptCurrent = "kept-current"
        /// Stale, and both values are now current: the write became a linked record.
        case keptBoth = "kept-both"
        /// Stale, and refused; the value is in the history and the writer gets an error.
        case rejected

        init(_ decision: ConflictDecision) {
            switch decision {
            case .overwrite: self = .overwrote
            case .keepCurrent: self = .keptCurrent
            case .keepBoth: self = .keptBoth
            case .reject: self = .rejected
            }
        }
    }

    public var kind: Kind
    /// The record under the written id now: the write's result, or the version that stayed.
    public var current: MemoryRecord
    /// For `keptBoth`: the new record holding the writer's value.
    public var sibling: MemoryRecord?
    /// The audit line of a stale write.
    public var audit: Int64?

    /// Whether the write was stale (and so resolved by the policy and audited).
    public var conflicted: Bool { kind != .applied }

    public init(kind: Kind, current: MemoryRecord, sibling: MemoryRecord? = nil, audit: Int64? = nil) {
        self.kind = kind
        self.current = current
        self.sibling = sibling
        self.audit = audit
    }
}

/// One line of the audit log: a stale write to a shared slice and how its policy resolved it.
/// It names records and versions, never content.
public struct AuditEntry: Sendable, Hashable {
    public var seq: Int64
    public var at: Date
    /// The shared slice.
    public var slice: PersonaID
    public var record: String
    public var writer: String
    public var baseVersion: Int
    public var currentVersion: Int
    public var policy: ConflictPolicy
    public var outcome: ConflictDecision
    /// What is current afterwards, as `id@vN`.
    public var kept: [String]
    /// What is not: `id@vN` for a version moved to the history, `id#N` for the value of this
    /// line's write kept in the history as a lost value (N is this line's number).
    public var superseded: [String]

    public init(
        seq: Int64, at: Date, slice: PersonaID, record: String, writer: String, baseVersion: Int, currentVersion: Int,
        policy: ConflictPolicy, outcome: ConflictDecision, kept: [String] = [], superseded: [String] = []
    ) {
        self.seq = seq
        self.at = at
        self.slice = slice
        self.record = record
        self.writer = writer
        self.baseVersion = baseVersion
        self.currentVersion = currentVersion
        self.policy = policy
        self.outcome = outcome
        self.kept = kept
        self.superseded = superseded
    }

    /// `id@vN`.
    public static func reference(_ record: MemoryRecord) -> String { "\(record.id)@v\(record.version)" }
}

/// Which audit lines to read: newest first.
public struct AuditQuery: Sendable, Hashable {
    public var slice: PersonaID?
    public var record: String?
    public var limit: Int?

    public init(slice: PersonaID? = nil, record: String? = nil, limit: Int? = nil) {
        self.slice = slice
        self.record = record
        self.limit = limit
    }
}

/// A written value that never became current (its write lost a conflict or was rejected): part
/// of its record's history.
public struct LostValue: Sendable, Hashable {
    /// The audit line of the write (one lost value per line).
    public var audit: Int64
    public var id: String
    public var writer: String
    public var baseVersion: Int
    public var outcome: ConflictDecision
    public var content: String
    public var importance: Double
    public var tags: [String]
    public var metadata: JSONValue?
    public var writtenAt: Date

    public init(
        audit: Int64, id: String, writer: String, baseVersion: Int, outcome: ConflictDecision, content: String,
        importance: Double, tags: [String], metadata: JSONValue?, writtenAt: Date
    ) {
        self.audit = audit
        self.id = id
        self.writer = writer
        self.baseVersion = baseVersion
        self.outcome = outcome
        self.content = content
        self.importance = importance
        self.tags = tags
        self.metadata = metadata
        self.writtenAt = writtenAt
    }
}

/// Two records kept side by side after a conflict (`keep-both`).
public struct RecordLink: Sendable, Hashable {
    public var other: String
    public var audit: Int64
    public var at: Date

    public init(other: String, audit: Int64, at: Date) {
        self.other = other
        self.audit = audit
        self.at = at
    }
}
