import Foundation
import TroupeCore
import TroupeStore

extension PostgresStore {
    public func changeCursor() async throws -> Int64 {
        try await read("read the change log") { c in
            try c.execute("SELECT value FROM store_counter WHERE name = 'change'").rows.first?.int("value") ?? 0
        }
    }

    public func changes(since cursor: Int64, limit: Int) async throws -> ChangeFeed {
        try await snapshot("read the change log") { c in
            // The counter is only ever raised under its lock and committed with the changes it
            // numbered, so every number up to it is in the table (unless trimmed).
            let latest = try c.execute("SELECT value FROM store_counter WHERE name = 'change'").rows.first?.int("value") ?? 0
            if cursor < latest - Self.keptChanges {
                return ChangeFeed(cursor: latest, mustReload: true)
            }
            let rows = try c.execute(
                "SELECT n, id, removed FROM memory_change WHERE n > $1 ORDER BY n LIMIT $2", [.int(cursor), .int(Int64(max(1, limit)))]
            ).rows
            if let first = rows.first, try first.int("n") > cursor + 1 {
                return ChangeFeed(cursor: latest, mustReload: true)
            }
            var feed = ChangeFeed(cursor: try rows.last?.int("n") ?? cursor)
            // Later changes of an id win: a record written then removed is removed.
            var last: [String: Bool] = [:]
            for row in rows { last[try row.string("id")] = try row.bool("removed") }
            for (id, removed) in last.sorted(by: { $0.key < $1.key }) {
                if removed { feed.removed.append(id) } else { feed.changed.append(id) }
            }
            return feed
        }
    }

    public func indexEntries(
        owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int
    ) async throws -> [IndexEntry] {
        try await read("load records for recall") { c in
            var parameters: [PGValue] = [model.map(PGValue.text) ?? .null]
            var conditions = Self.filter(MemoryQuery(owners: owners, slices: slices), prefix: "m.", parameters: &parameters)
            if let after {
                parameters += [.text(after.owner.rawValue), .text(after.slice.rawValue), .int(after.createdAt.millisecondsSince1970), .text(after.id)]
                let n = parameters.count
                conditions.append("(m.owner, m.slice, m.created_at, m.id) > ($\(n - 3), $\(n - 2), $\(n - 1), $\(n))")
            }
            let sql = """
                SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = $1::text
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY m.owner, m.slice, m.created_at, m.id LIMIT \(max(0, limit))
                """
            return try c.execute(sql, parameters).rows.compactMap { try self.sealer.readable($0, self.indexEntry) }
        }
    }

    public func indexEntries(ids: [String], model: String?) async throws -> [IndexEntry] {
        guard !ids.isEmpty else { return [] }
        return try await read("load records for recall") { c in
            try c.execute("""
                SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = $1::text
                WHERE m.id = ANY($2) ORDER BY m.id
                """, [model.map(PGValue.text) ?? .null, .texts(ids)]).rows.compactMap { try self.sealer.readable($0, self.indexEntry) }
        }
    }

    public func countWithoutVector(model: String) async throws -> Int {
        try await read("count records to embed") { c in
            Int(try c.execute("""
                SELECT COUNT(*) AS n FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = $1 WHERE v.seq IS NULL
                """, [.text(model)]).rows.first?.int("n") ?? 0)
        }
    }

    public func entriesWithoutVector(model: String, after afterID: String?, limit: Int) async throws -> [IndexEntry] {
        try await read("find records to embed") { c in
            try c.execute("""
                SELECT \(Self.indexColumns) FROM memory m LEFT JOIN memory_vector v ON v.seq = m.seq AND v.model = $1
                WHERE v.seq IS NULL AND m.id > $2 ORDER BY m.id LIMIT \(max(0, limit))
                """, [.text(model), .text(afterID ?? "")]).rows.compactMap { try self.sealer.readable($0, self.indexEntry) }
        }
    }

    public func storeVectors(_ vectors: [RecordVector]) async throws -> Int {
        guard !vectors.isEmpty else { return 0 }
        return try await write("store \(vectors.count) vectors") { c, changes in
            var stored = 0
            for vector in vectors {
                guard let row = try c.execute(
                    "SELECT seq, owner, slice, version FROM memory WHERE id = $1 FOR UPDATE", [.text(vector.id)]).rows.first,
                    try row.int("version") == Int64(vector.version),
                    let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice"))
                else { continue }
                try self.storeVector(
                    seq: try row.int("seq"), EmbeddedVector(model: vector.model, values: vector.values), of: (vector.id, owner, slice), c,
                    &changes)
                stored += 1
            }
            return stored
        }
    }

    public func sliceVersions(owners: [PersonaID], slices: [SliceKind]) async throws -> [String: Int64] {
        guard !owners.isEmpty, !slices.isEmpty else { return [:] }
        return try await read("read slice versions") { c in
            var versions: [String: Int64] = [:]
            for owner in owners { for slice in slices { versions["\(owner)/\(slice.rawValue)"] = 0 } }
            for row in try c.execute(
                "SELECT owner, slice, version FROM slice_version WHERE owner = ANY($1) AND slice = ANY($2)",
                [.texts(owners.map(\.rawValue)), .texts(slices.map(\.rawValue))]
            ).rows {
                versions["\(try row.string("owner"))/\(try row.string("slice"))"] = try row.int("version")
            }
            return versions
        }
    }

    public func extendExpiry(_ ids: [String], to time: Date) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await bookkeeping("refresh working memory") { c, changes in
            let moved = try c.execute("""
                UPDATE memory SET expires_at = $1 WHERE slice = 'working' AND expires_at < $1 AND id = ANY($2)
                RETURNING id, owner, slice
                """, [.int(time.millisecondsSince1970), .texts(ids)]).rows
            for row in moved {
                guard let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) else { continue }
                // The expiry is in the feed (the hot tier follows it) but ranks nothing.
                changes.changed(try row.string("id"), owner: owner, slice: slice, ranks: false)
            }
            return moved.count
        }
    }

    /// What an index entry reads.
    static let indexColumns = "m.id, m.owner, m.slice, m.content, m.importance, m.tags, m.created_at, m.version, v.vector, m.expires_at, m.seq"

    private func indexEntry(_ row: PGRow) throws -> IndexEntry {
        let id = try row.string("id")
        guard let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) else {
            throw TroupeError(.storage, "stored record has a bad owner or slice", context: id)
        }
        let version = try row.int("version")
        let place = { SealedPlace(owner: owner.rawValue, record: id, version: version, field: $0) }
        let tagsText = try sealer.openColumn(try row.string("tags"), at: place(.tags))
        return IndexEntry(
            id: id, owner: owner, slice: slice, content: try sealer.open(text: try row.bytes("content"), at: place(.content)),
            importance: try row.double("importance"),
            tags: tagsText == "[]" ? [] : try StoredStrings.decode(tagsText), createdAt: Date(millisecondsSince1970: try row.int("created_at")),
            version: Int(version), expiresAt: row.optionalInt("expires_at").map(Date.init(millisecondsSince1970:)),
            vector: try row.optionalBytes("vector").flatMap { try sealer.openVector($0, of: id, owner: owner.rawValue) }, sequence: try row.int("seq"))
    }
}
