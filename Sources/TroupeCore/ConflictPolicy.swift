/// How a shared slice resolves a stale write: one based on a version that is no longer current.
///
/// Whatever the policy, nothing is silently lost: an overwritten value stays in the record's
/// history, a value that loses (or is rejected) is kept there too, and every resolution is
/// written to the audit log.
public enum ConflictPolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// The stale write is applied on top of the current version.
    case lastWriterWins = "last-writer-wins"
    /// The writer with the higher persona priority wins; on equal priority the later write wins.
    case priority
    /// Both values stay current: the stale write becomes a new record linked to the first.
    case keepBoth = "keep-both"
    /// The writer gets a conflict error carrying the current version, and can retry.
    case reject

    /// What happens to a stale write by a writer of `writerPriority` when the current version
    /// was written by one of `currentPriority`.
    public func decide(writerPriority: Int, currentPriority: Int) -> ConflictDecision {
        switch self {
        case .lastWriterWins: .overwrite
        case .priority: writerPriority >= currentPriority ? .overwrite : .keepCurrent
        case .keepBoth: .keepBoth
        case .reject: .reject
        }
    }
}

/// The outcome a policy chooses for a stale write.
public enum ConflictDecision: String, Sendable, Hashable {
    /// The write becomes the current version; the one it replaced goes to the history.
    case overwrite = "overwrote"
    /// The current version stays; the write's value is kept in the history as a lost value.
    case keepCurrent = "kept-current"
    /// The write becomes a new current record, linked to the existing one.
    case keepBoth = "kept-both"
    /// Nothing changes but the history (the value is kept there); the writer is told.
    case reject = "rejected"
}
