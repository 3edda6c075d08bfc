import Foundation
import TroupeCore

/// The conflict error both stores throw, so callers can match on it.
package enum StoreConflict {
    package static func error(id: String, current: Int, expected: Int) -> TroupeError {
        TroupeError(
            .conflict, "record is at version \(current), the update was based on version \(expected)", context: id, currentVersion: current)
    }

    /// An upsert may change a record's value but never move it to another owner or slice.
    package static func checkSameOwner(_ old: MemoryRecord, _ new: MemoryRecord) throws {
        guard old.owner == new.owner, old.slice == new.slice else {
            throw TroupeError(
                .invalidInput, "this id belongs to \(old.owner)/\(old.slice.rawValue); it cannot move to \(new.owner)/\(new.slice.rawValue)",
                context: old.id)
        }
    }
}

extension MemoryRecord {
    /// The next version of this record after `change`, written by `writer` at `time`.
    package func superseded(by change: MemoryChange, writer: String, at time: Date) -> MemoryRecord {
        var next = self
        if let content = change.content { next.content = content }
        if let importance = change.importance { next.importance = importance }
        if let tags = change.tags { next.tags = tags }
        if let metadata = change.metadata { next.metadata = metadata }
        if let expiresAt = change.expiresAt { next.expiresAt = expiresAt }
        next.version = version + 1
        next.validFrom = time
        next.validTo = nil
        next.source = writer
        // The vector is of the content: only a new content leaves the record without one.
        if let content = change.content, content != self.content { next.modelID = nil }
        return next
    }

    /// This record's value as a change, for superseding an older version with it.
    package var valueChange: MemoryChange {
        MemoryChange(content: content, importance: importance, tags: tags, metadata: .some(metadata), expiresAt: .some(expiresAt))
    }
}
