import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// Re-sealing in place (Resealing.swift): each batch is one write transaction holding its rows
/// and the position reached.
extension SQLiteStore: ResealingStore {
    public func resealBatch(marker: String, limit: Int, from old: any RecordSealer, to new: any RecordSealer) async throws -> ResealBatch {
        try await write("seal up to \(limit) rows again", weight: max(1, limit / 20)) { db in
            let saved = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = ?", arguments: [marker])
            var position = try ResealPosition.read(saved)
            var (rows, resealed) = (0, 0)
            while position.table < SealedTable.all.count, rows < limit {
                let table = SealedTable.all[position.table]
                let wanted = limit - rows
                let page = try Row.fetchAll(
                    db, sql: table.page(after: position.key != nil, limit: wanted) { _ in "?" },
                    arguments: StatementArguments((position.key ?? []).map(\.stored.databaseValue)))
                let k = table.key.count
                for row in page {
                    let key = try (0..<k).map { try ResealPosition.KeyPart(StoredValue(row[$0] as DatabaseValue)) }
                    let (owner, record, version): (String, String, Int64) = (row[k], row[k + 1], row[k + 2])
                    let stored = table.columns.indices.map { StoredValue(row[k + 3 + $0] as DatabaseValue) }
                    if let (values, changed) = try table.reseal(stored, owner: owner, record: record, version: version, from: old, to: new) {
                        try db.cachedStatement(sql: table.update { _ in "?" })
                            .execute(arguments: StatementArguments((values + key.map(\.stored)).map(\.databaseValue)))
                        resealed += changed
                    }
                    position.key = key
                    rows += 1
                }
                if page.count < wanted { position = ResealPosition(table: position.table + 1, key: nil) }
            }
            try db.execute(
                sql: "INSERT INTO store_info (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [marker, position.text])
            return ResealBatch(rows: rows, resealed: resealed, finished: position.table >= SealedTable.all.count)
        }
    }
}
