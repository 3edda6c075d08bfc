import Foundation
import TroupeCore
import TroupeStore

/// Re-sealing in place (Resealing.swift): each batch is one transaction holding its rows and the
/// position reached.
extension PostgresStore: ResealingStore {
    public func resealBatch(marker: String, limit: Int, from old: any RecordSealer, to new: any RecordSealer) async throws -> ResealBatch {
        try await write("seal up to \(limit) rows again") { c, _ in
            let saved = try c.execute("SELECT value FROM store_info WHERE key = $1 FOR UPDATE", [.text(marker)]).rows.first?.string("value")
            var position = try ResealPosition.read(saved)
            var (rows, resealed) = (0, 0)
            while position.table < SealedTable.all.count, rows < limit {
                let table = SealedTable.all[position.table]
                let wanted = limit - rows
                let page = try c.execute(
                    table.page(after: position.key != nil, limit: wanted) { "$\($0)" }, (position.key ?? []).map(\.stored.pgValue)).rows
                let k = table.key.count
                for row in page {
                    let key = try (0..<k).map { try ResealPosition.KeyPart(StoredValue(row.values[$0])) }
                    guard case .text(let owner) = row.values[k], case .text(let record) = row.values[k + 1],
                        case .int(let version) = StoredValue(row.values[k + 2])
                    else { throw TroupeError(.storage, "a row of \(table.table) has no owner, record or version to seal it under") }
                    let stored = table.columns.indices.map { StoredValue(row.values[k + 3 + $0]) }
                    if let (values, changed) = try table.reseal(stored, owner: owner, record: record, version: version, from: old, to: new) {
                        try c.execute(table.update { "$\($0)" }, (values + key.map(\.stored)).map(\.pgValue))
                        resealed += changed
                    }
                    position.key = key
                    rows += 1
                }
                if page.count < wanted { position = ResealPosition(table: position.table + 1, key: nil) }
            }
            try c.execute(
                "INSERT INTO store_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [.text(marker), .text(position.text)])
            return ResealBatch(rows: rows, resealed: resealed, finished: position.table >= SealedTable.all.count)
        }
    }
}
