/// The archive: episodic memories past their persona's retention that were never recalled are
/// tagged `archived` (a new version; nothing is deleted). Recall leaves them out unless asked
/// for the archive; export and history keep them like any record.
extension MemoryRecord {
    public static let archivedTag = "archived"

    public var isArchived: Bool { tags.contains(Self.archivedTag) }
}
