import Foundation

/// A partition's rows in conversation order — creation time, then the store's order of writes —
/// so that a record's neighbours are a binary search away rather than a scan.
///
/// A record usually arrives after the ones before it (a persona's newest turn) and is appended in
/// order. One that arrives out of order (an import, an update of an old record) waits in
/// `pending` until a search needs the order: a few are then inserted where they belong, many
/// (a load) are sorted in once.
struct PartitionTimeline {
    private(set) var rows: [Int32] = []
    private var pending: [Int32] = []

    mutating func append(_ row: Int32, after precedes: (Int, Int) -> Bool) {
        if pending.isEmpty, rows.last.map({ precedes(Int($0), Int(row)) }) ?? true {
            rows.append(row)
        } else {
            pending.append(row)
        }
    }

    mutating func sort(by precedes: (Int, Int) -> Bool) {
        guard !pending.isEmpty else { return }
        if pending.count <= 64 {
            for row in pending { rows.insert(row, at: position(of: Int(row), by: precedes)) }
        } else {
            rows += pending
            rows.sort { precedes(Int($0), Int($1)) }
        }
        pending = []
    }

    /// Where `row` sits, by binary search (the order must be current).
    func position(of row: Int, by precedes: (Int, Int) -> Bool) -> Int {
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if precedes(Int(rows[mid]), row) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Keeps the rows for which `newRow` gives a new number; renumbering keeps their order.
    mutating func compact(_ newRow: [Int32?]) {
        rows = rows.compactMap { newRow[Int($0)] }
        pending = pending.compactMap { newRow[Int($0)] }
    }
}

extension IndexPartition {
    /// Conversation order: creation time, then the store's write order, then the row.
    func precedes(_ a: Int, _ b: Int) -> Bool {
        (createdAt[a], sequence[a], a) < (createdAt[b], sequence[b], b)
    }

    /// Up to `window` rows on each side of `row` in conversation order that `accept` admits,
    /// nearest first, stopping where two live records lie more than `gap` seconds apart: that is
    /// where one conversation ends and the next begins.
    func neighbours(of row: Int, window: Int, gap: Double, accept: (Int) -> Bool) -> [Int] {
        guard window > 0 else { return [] }
        timeline.sort(by: precedes)
        let at = timeline.position(of: row, by: precedes)
        var found: [Int] = []
        for step in [-1, 1] {
            var last = createdAt[row], taken = 0, looked = 0, k = at + step
            // Dead or filtered-out rows are skipped, but only so many: a neighbour is near or absent.
            while k >= 0, k < timeline.rows.count, taken < window, looked < window * 8 {
                let other = Int(timeline.rows[k])
                k += step
                looked += 1
                guard live[other] else { continue }
                if abs(createdAt[other] - last) > gap { break }
                last = createdAt[other]
                if accept(other) {
                    found.append(other)
                    taken += 1
                }
            }
        }
        return found
    }
}
