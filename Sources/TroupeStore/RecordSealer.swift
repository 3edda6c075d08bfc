import Foundation
import TroupeCore

/// Where a sealed value lives: the owner whose key seals it, the record, its version and the
/// field. A sealer binds all of it to the ciphertext as authenticated data, so that a value copied
/// into another row, version or field does not open. Nothing of it names a table or a row number:
/// a mirror or a migration copies sealed values between stores as they are.
public struct SealedPlace: Sendable, Hashable {
    public enum Field: String, Sendable {
        case content, tags, metadata, vector
        /// A value written to a shared record that never became current (its history).
        case lostContent = "lost-content", lostTags = "lost-tags", lostMetadata = "lost-metadata"
        /// What a person said, waiting in the formation queue.
        case said
        /// A record's copy in the Redis hot tier.
        case hot
    }

    /// The persona or shared slice whose key seals the value.
    public var owner: String
    /// The record's id (a formation job's id for `said`).
    public var record: String
    /// The record's version; a lost value's audit line; 0 where nothing versions the value.
    public var version: Int64
    public var field: Field

    public init(owner: String, record: String, version: Int64 = 0, field: Field) {
        (self.owner, self.record, self.version, self.field) = (owner, record, version, field)
    }

    /// The bytes bound to a sealed value: every part, each preceded by its length.
    public var authenticatedData: [UInt8] {
        var bytes: [UInt8] = Array("troupe-sealed-1".utf8)
        for part in [owner, record, String(version), field.rawValue] {
            let utf8 = Array(part.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
            bytes += utf8
        }
        return bytes
    }
}

/// The one place a record's words pass on their way to and from a store: content, tags,
/// metadata, vectors, lost values and the formation queue's words all go through it, so that
/// encryption at rest (TroupeVault) is one conformance and no store writes anything of a memory
/// around it.
public protocol RecordSealer: Sendable {
    /// Recorded with the store, so that a store is never read with the wrong sealer.
    var id: String { get }
    /// Whether sealed values are unreadable to the store: it then filters on tags after
    /// opening them, not in SQL.
    var seals: Bool { get }
    func seal(_ plain: [UInt8], at place: SealedPlace) throws -> [UInt8]
    func open(_ sealed: [UInt8], at place: SealedPlace) throws -> [UInt8]
    /// Whether a stored value is sealed as this sealer would seal it now, so that a re-sealing
    /// leaves it (by default: never).
    func isCurrent(_ stored: [UInt8], at place: SealedPlace) -> Bool
}

extension RecordSealer {
    /// `text` sealed, for a binary column.
    public func seal(text: String, at place: SealedPlace) throws -> Data { Data(try seal(Array(text.utf8), at: place)) }

    /// The text in a binary column.
    public func open(text data: Data, at place: SealedPlace) throws -> String {
        guard let text = String(validating: try open(Array(data), at: place), as: UTF8.self) else {
            throw TroupeError(.storage, "a stored \(place.field.rawValue) is not valid UTF-8", context: place.record)
        }
        return text
    }

    /// `text` as a text column stores it: itself, or sealed and in base64.
    public func sealColumn(_ text: String, at place: SealedPlace) throws -> String {
        seals ? try seal(text: text, at: place).base64EncodedString() : text
    }

    /// The text a text column holds.
    public func openColumn(_ stored: String, at place: SealedPlace) throws -> String {
        guard seals else { return stored }
        guard let data = Data(base64Encoded: stored) else {
            throw TroupeError(.storage, "a stored \(place.field.rawValue) is not sealed (the store's sealer is '\(id)')", context: place.record)
        }
        return try open(text: data, at: place)
    }
}

/// Stores everything as it is: a plain store.
public struct PlainSealer: RecordSealer {
    public init() {}
    /// The name plain stores have always recorded.
    public var id: String { "identity" }
    public var seals: Bool { false }
    public func seal(_ plain: [UInt8], at place: SealedPlace) throws -> [UInt8] { plain }
    public func open(_ sealed: [UInt8], at place: SealedPlace) throws -> [UInt8] { sealed }
}

extension MemoryRecord {
    /// Where this version's `field` is sealed.
    public func place(_ field: SealedPlace.Field) -> SealedPlace {
        SealedPlace(owner: owner.rawValue, record: id, version: Int64(version), field: field)
    }
}

extension LostValue {
    /// Where this lost value's `field` is sealed: under the key of `owner`, the record's owner.
    public func place(_ field: SealedPlace.Field, owner: String) -> SealedPlace {
        SealedPlace(owner: owner, record: id, version: audit, field: field)
    }
}

extension QueuedFormation {
    /// Where the words of job `id` of `persona` are sealed.
    public static func place(persona: String, id: String) -> SealedPlace { SealedPlace(owner: persona, record: id, field: .said) }

    public var place: SealedPlace { Self.place(persona: persona, id: id) }
}

extension RecordSealer {
    /// A stored vector (sealed or as its bytes) of record `id` of `owner`.
    public func openVector(_ data: Data, of id: String, owner: String) throws -> [Float]? {
        guard seals else { return [Float](storedBytes: data) }
        return [Float](storedBytes: Data(try open(Array(data), at: SealedPlace(owner: owner, record: id, field: .vector))))
    }

    /// `values` as a vector column of record `id` of `owner` stores them.
    public func sealVector(_ values: [Float], of id: String, owner: String) throws -> Data {
        guard seals else { return values.storedBytes }
        return Data(try seal(Array(values.storedBytes), at: SealedPlace(owner: owner, record: id, field: .vector)))
    }
}

/// Why a store cannot be opened with the sealer it was given.
public enum SealerMismatch {
    public static func describe(stored: String, opening: String) -> String {
        switch (stored == PlainSealer().id, opening == PlainSealer().id) {
        case (true, false):
            "the store holds its memories in plain text, but it was opened to be encrypted ('\(opening)'): `troupe vault init` encrypts a home's store, `troupe migrate` copies one into an encrypted store"
        case (false, true):
            "the store is encrypted ('\(stored)') and was opened without its vault: the home's vault (vault/keyring.json) and its master key are needed to read it"
        default:
            "the store was sealed by '\(stored)', not '\(opening)'"
        }
    }
}

/// A value sealed with a data key that was shredded (`memory forget --shred`): it can never be
/// read again, so stores treat its record as gone — a backup or mirror taken before the
/// shredding reads as if the persona's memory had been forgotten there too.
public struct ShreddedKey: Error, CustomStringConvertible, Sendable {
    public var owner: String
    public var key: String
    public var shredded: Date?

    public init(owner: String, key: String, shredded: Date?) { (self.owner, self.key, self.shredded) = (owner, key, shredded) }

    public var description: String {
        "what '\(owner)' remembered was sealed with data key \(key), which was shredded\(shredded.map { " at \($0.ISO8601Format())" } ?? ""): it cannot be read"
    }
}

extension RecordSealer {
    /// `decode(row)`, or `nil` when the row was sealed with a shredded key (its record is gone).
    public func readable<Row, Value>(_ row: Row, _ decode: (Row) throws -> Value) throws -> Value? {
        do { return try decode(row) } catch is ShreddedKey { return nil }
    }
}
