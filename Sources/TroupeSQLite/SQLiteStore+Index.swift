import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    public func changeCursor() async throws -> Int64 {
        try await read("read the change log") { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(n), 0) FROM memory_change") ?? 0
        }
    }

    public func changes(since cursor: Int64, limit: Int) async throws -> ChangeFeed {
        try await read("read the change log") { db in
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(n) FROM memory_change")
            if let oldest, oldest > cursor + 1 {
                let latest = try Int64.fetchOne(db, sql: "SELECT MAX(n) FROM memory_change") ?? cursor
                return ChangeFeed(cursor: latest, mustReload: true)
            }
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT n, id, removed FROM memory_change WHERE n > ? ORDER BY n LIMIT ?"),
                arguments: [cursor, limit])
            var feed = ChangeFeed(cursor: rows.last?["n"] ?? cursor)
            // Later changes of an id win: a record written then removed is removed.
            var last: [String: Bool] = [:]
            for row in rows { last[row["id"]] = row["removed"] as Bool }
            for (id, removed) in last.sorted(by: { $0.key < $1.key }) {
                if removed { feed.removed.append(id) } else { feed.changed.append(id) }
            }
            return feed
        }
    }

    public func indexEntries(
        owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int
    ) async throws -> [IndexEntry] {
        try await read("load records for recall") { db in
            var (conditions, arguments) = Self.filter(MemoryQuery(owners: owners, slices: slices), prefix: "m.")
            if let after {
                // The order of the owner index, so that each page is a seek, not a sort.
                conditions.append("(m.owner, m.slice, m.created_at, m.id) > (?, ?, ?, ?)")
                arguments += [after.owner.rawValue, after.slice.rawValue, after.createdAt.millisecondsSince1970, after.id]
            }
            arguments.insert(model, at: 0)
            let sql = """
                SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = ?
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY m.owner, m.slice, m.created_at, m.id LIMIT \(limit)
                """
            return try self.indexEntries(Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments)))
        }
    }

    public func indexEntries(ids: [String], model: String?) async throws -> [IndexEntry] {
        guard !ids.isEmpty else { return [] }
        return try await read("load records for recall") { db in
            try ids.chunked(500).flatMap { chunk in
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let sql = """
                    SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = ?
                    WHERE m.id IN (\(marks)) ORDER BY m.id
                    """
                return try self.indexEntries(
                    Row.fetchCursor(db, sql: sql, arguments: StatementArguments([model as (any DatabaseValueConvertible)?] + chunk.map { $0 })))
            }
        }
    }

    public func countWithoutVector(model: String) async throws -> Int {
        try await read("count records to embed") { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = ? WHERE v.seq IS NULL
                """, arguments: [model]) ?? 0
        }
    }

    public func entriesWithoutVector(model: String, after afterID: String?, limit: Int) async throws -> [IndexEntry] {
        try await read("find records to embed") { db in
            // By id after a cursor: each page is a seek in the id index, not a rescan.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = ?
                WHERE v.seq IS NULL AND m.id > ? ORDER BY m.id LIMIT \(limit)
                """, arguments: [model, afterID ?? ""])
            return try self.indexEntries(rows)
        }
    }

    public func storeVectors(_ vectors: [RecordVector]) async throws -> Int {
        guard !vectors.isEmpty else { return 0 }
        return try await write("store \(vectors.count) vectors") { db in
            var stored = 0
            for vector in vectors {
                guard let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT seq, version FROM memory WHERE id = ?"), arguments: [vector.id]),
                    row["version"] as Int == vector.version
                else { continue }
                try self.storeVector(seq: row["seq"], EmbeddedVector(model: vector.model, values: vector.values), db)
                stored += 1
            }
            return stored
        }
    }

    /// Stores the vector of the record in row `seq` and records its model, in the caller's transaction.
    func storeVector(seq: Int64, _ vector: EmbeddedVector, _ db: Database) throws {
        var bytes = vector.values.storedBytes
        if sealer.seals {
            // Sealed to its record, which the caller knows by row only.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, owner FROM memory WHERE seq = ?"), arguments: [seq]) else {
                throw TroupeError(.storage, "a vector was stored for a row that is not there", context: "seq \(seq)")
            }
            bytes = try sealer.sealVector(vector.values, of: row["id"], owner: row["owner"])
        }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO memory_vector(seq, model, vector) VALUES (?, ?, ?)")
            .execute(arguments: [seq, vector.model, bytes])
        try db.cachedStatement(sql: "UPDATE memory SET model = ? WHERE seq = ?").execute(arguments: [vector.model, seq])
    }

    public func records(ids: [String]) async throws -> [MemoryRecord] {
        guard !ids.isEmpty else { return [] }
        let found = try await read("read records") { db in
            try ids.chunked(500).flatMap { chunk in
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                return try Row.fetchAll(db, sql: "SELECT * FROM memory WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
                    .compactMap { try self.sealer.readable($0, self.record) }
            }
        }
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byID[$0] }
    }

    /// What an index entry reads, in the order ``indexEntries(_:)`` expects.
    static let indexColumns = "m.id, m.owner, m.slice, m.content, m.importance, m.tags, m.created_at, m.version, v.vector, m.expires_at, m.seq"

    /// Decodes rows of ``indexColumns`` by position: a load reads every record, so this skips
    /// the named-column lookups and full record decoding of ``record(_:)``.
    private func indexEntries(_ rows: RowCursor) throws -> [IndexEntry] {
        var entries: [IndexEntry] = []
        while let row = try rows.next() {
            // A record sealed with a shredded key is gone: left out.
            if let entry = try sealer.readable(row, indexEntry) { entries.append(entry) }
        }
        return entries
    }

    private func indexEntry(_ row: Row) throws -> IndexEntry {
        let id: String = row[0]
        guard let owner = PersonaID(rawValue: row[1]), let slice = SliceKind(rawValue: row[2]) else {
            throw TroupeError(.storage, "stored record has a bad owner or slice", context: id)
        }
        let version: Int = row[7]
        let place = { SealedPlace(owner: owner.rawValue, record: id, version: Int64(version), field: $0) }
        let tagsText = try sealer.openColumn(row[5], at: place(.tags))
        var tags: [String] = []
        if tagsText != "[]", case .array(let items) = try JSONValue.parse(Array(tagsText.utf8)) {
            for case .string(let tag) in items { tags.append(tag) }
        }
        return IndexEntry(
            id: id, owner: owner, slice: slice, content: try sealer.open(text: row[3], at: place(.content)), importance: row[4], tags: tags,
            createdAt: Date(millisecondsSince1970: row[6]), version: version,
            expiresAt: (row[9] as Int64?).map(Date.init(millisecondsSince1970:)),
            vector: try (row[8] as Data?).flatMap { try sealer.openVector($0, of: id, owner: owner.rawValue) }, sequence: row[10])
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements (SQLite limits the parameters of a statement).
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
