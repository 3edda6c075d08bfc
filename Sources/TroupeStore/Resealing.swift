import Foundation
import TroupeCore

/// A store whose sealed values can be sealed again where they are, in batches: a data key's
/// rotation, and a plain store encrypted in place. Each batch commits its rows and the position
/// it reached together, so that a run killed at any moment goes on from the last commit and
/// never re-seals a value twice from a stale copy.
public protocol ResealingStore: MigrationEndpoint {
    /// Seals again the values of up to `limit` rows after the position recorded under the
    /// store's info key `marker` (from the first row when there is none): each is opened by
    /// `old` and sealed by `new` (stored as `new` stores it), unless `new` says it is current.
    /// Commits the rows with the position reached.
    func resealBatch(marker: String, limit: Int, from old: any RecordSealer, to new: any RecordSealer) async throws -> ResealBatch
}

/// What a batch did.
public struct ResealBatch: Sendable, Hashable {
    /// Rows read (sealed again or found current).
    public var rows: Int
    /// Values sealed again.
    public var resealed: Int
    /// Whether every row of every table has been done.
    public var finished: Bool

    public init(rows: Int, resealed: Int, finished: Bool) { (self.rows, self.resealed, self.finished) = (rows, resealed, finished) }
}

/// A table holding sealed values, as a re-sealing walks it: its rows in key order, with the
/// place of each value. The same tables on SQLite and PostgreSQL.
package struct SealedTable: Sendable {
    package struct Column: Sendable {
        package var name: String
        package var field: SealedPlace.Field
        /// A text column (a sealed value in base64), else binary.
        package var text: Bool
    }

    package var table: String
    package var key: [String]
    /// What the rows are read from: the table as `t`, with what gives their place.
    package var from: String
    /// SQL giving each value's owner, record and version.
    package var owner: String, record: String, version: String
    package var columns: [Column]

    /// Every table with sealed values, in the order a re-sealing walks them.
    package static let all: [SealedTable] = {
        let record = [Column(name: "content", field: .content, text: false), Column(name: "tags", field: .tags, text: true),
                      Column(name: "metadata", field: .metadata, text: true)]
        return [
            SealedTable(table: "memory", key: ["seq"], from: "memory t", owner: "t.owner", record: "t.id", version: "t.version", columns: record),
            SealedTable(table: "memory_version", key: ["id", "version"], from: "memory_version t", owner: "t.owner", record: "t.id",
                        version: "t.version", columns: record),
            SealedTable(table: "memory_lost", key: ["audit"], from: "memory_lost t JOIN memory m ON m.id = t.id", owner: "m.owner",
                        record: "t.id", version: "t.audit",
                        columns: [Column(name: "content", field: .lostContent, text: false), Column(name: "tags", field: .lostTags, text: true),
                                  Column(name: "metadata", field: .lostMetadata, text: true)]),
            SealedTable(table: "memory_vector", key: ["seq"], from: "memory_vector t JOIN memory m ON m.seq = t.seq", owner: "m.owner",
                        record: "m.id", version: "0", columns: [Column(name: "vector", field: .vector, text: false)]),
            SealedTable(table: "formation_job", key: ["seq"], from: "formation_job t", owner: "t.persona", record: "t.id", version: "0",
                        columns: [Column(name: "said", field: .said, text: false)]),
        ]
    }()

    /// The page after a key (`mark(n)` writes the n-th parameter): key columns, then owner,
    /// record and version, then the sealed columns.
    package func page(after: Bool, limit: Int, mark: (Int) -> String) -> String {
        let keys = key.map { "t." + $0 }
        var sql = "SELECT \((keys + [owner, record, version] + columns.map { "t." + $0.name }).joined(separator: ", ")) FROM \(from)"
        if after { sql += " WHERE (\(keys.joined(separator: ", "))) > (\(key.indices.map { mark($0 + 1) }.joined(separator: ", ")))" }
        return sql + " ORDER BY \(keys.joined(separator: ", ")) LIMIT \(limit)"
    }

    /// Sets the sealed columns of the row of a key: columns first, then the key.
    package func update(mark: (Int) -> String) -> String {
        let set = columns.enumerated().map { "\($0.element.name) = \(mark($0.offset + 1))" }
        let match = key.enumerated().map { "\($0.element) = \(mark(columns.count + $0.offset + 1))" }
        return "UPDATE \(table) SET \(set.joined(separator: ", ")) WHERE \(match.joined(separator: " AND "))"
    }

    /// A row's sealed columns (`stored`, in ``columns`` order) sealed again: the new values and
    /// how many changed, or `nil` when none did.
    package func reseal(_ stored: [StoredValue], owner: String, record: String, version: Int64, from old: any RecordSealer, to new: any RecordSealer)
        throws -> (values: [StoredValue], changed: Int)?
    {
        var values = stored
        var changed = 0
        for (n, column) in columns.enumerated() {
            let place = SealedPlace(owner: owner, record: record, version: version, field: column.field)
            guard let next = try reseal(stored[n], column, at: place, from: old, to: new) else { continue }
            values[n] = next
            changed += 1
        }
        return changed == 0 ? nil : (values, changed)
    }

    /// A stored value sealed again: `nil` when `new` says it is current (or it is `NULL`).
    package func reseal(_ stored: StoredValue, _ column: Column, at place: SealedPlace, from old: any RecordSealer, to new: any RecordSealer)
        throws -> StoredValue?
    {
        let bytes: [UInt8]
        switch stored {
        case .null: return nil
        case .bytes(let data): bytes = Array(data)
        case .text(let text):
            if old.seals {
                guard let data = Data(base64Encoded: text) else {
                    throw TroupeError(.storage, "a stored \(column.field.rawValue) in \(table) is not sealed", context: place.record)
                }
                bytes = Array(data)
            } else {
                bytes = Array(text.utf8)
            }
        case .int, .double: throw TroupeError(.storage, "a stored \(column.field.rawValue) in \(table) is a number", context: place.record)
        }
        if new.isCurrent(bytes, at: place) { return nil }
        let sealed = try new.seal(try old.open(bytes, at: place), at: place)
        guard column.text else { return .bytes(Data(sealed)) }
        if new.seals { return .text(Data(sealed).base64EncodedString()) }
        guard let text = String(validating: sealed, as: UTF8.self) else {
            throw TroupeError(.storage, "a stored \(column.field.rawValue) in \(table) is not text once opened", context: place.record)
        }
        return .text(text)
    }
}

/// Where a re-sealing got to, as the store's info keeps it: a table and the key of its last row done.
package struct ResealPosition: Codable, Sendable, Hashable {
    package var table: Int
    /// The key's values: integers as numbers, texts as strings.
    package var key: [KeyPart]?

    package enum KeyPart: Codable, Sendable, Hashable {
        case int(Int64), text(String)

        package init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .text(let s): try c.encode(s)
            }
        }

        package var stored: StoredValue { switch self { case .int(let i): .int(i); case .text(let s): .text(s) } }

        package init(_ value: StoredValue) throws {
            switch value {
            case .int(let i): self = .int(i)
            case .text(let s): self = .text(s)
            default: throw TroupeError(.storage, "a table's key is neither a number nor text")
            }
        }
    }

    package init(table: Int, key: [KeyPart]?) { (self.table, self.key) = (table, key) }

    package static func read(_ text: String?) throws -> ResealPosition {
        guard let text, !text.isEmpty else { return ResealPosition(table: 0, key: nil) }
        do { return try JSONDecoder().decode(ResealPosition.self, from: Data(text.utf8)) } catch {
            throw TroupeError(.storage, "the store's record of how far a re-sealing got is damaged", cause: error)
        }
    }

    package var text: String { String(decoding: try! JSONEncoder().encode(self), as: UTF8.self) }
}

extension RecordSealer {
    public func isCurrent(_ stored: [UInt8], at place: SealedPlace) -> Bool { false }
}
