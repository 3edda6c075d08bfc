import Foundation
import TroupeCore
import TroupeStore

extension JSONView {
    /// `{"outcome", "record", "sibling"?, "audit"?}` for a write.
    public static func outcome(_ o: SharedWriteOutcome) -> JSONValue {
        var object: [String: JSONValue] = ["outcome": .string(o.kind.rawValue), "record": record(o.current)]
        if let sibling = o.sibling { object["sibling"] = record(sibling) }
        if let audit = o.audit { object["audit"] = .number(Double(audit)) }
        return .object(object)
    }

    public static func audit(_ e: AuditEntry) -> JSONValue {
        .object([
            "seq": .number(Double(e.seq)), "at": .string(Timestamp.format(e.at)), "slice": .string(e.slice.rawValue),
            "record": .string(e.record), "writer": .string(e.writer), "base_version": .number(Double(e.baseVersion)),
            "current_version": .number(Double(e.currentVersion)), "policy": .string(e.policy.rawValue),
            "outcome": .string(e.outcome.rawValue), "kept": .array(e.kept.map(JSONValue.string)),
            "superseded": .array(e.superseded.map(JSONValue.string)),
        ])
    }

    /// `{"id", "versions": [...], "lost": [...], "links": [...], "forgotten"?}`.
    public static func history(_ id: String, _ h: RecordHistory) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "versions": .array(h.versions.map(record)),
            "lost": .array(h.lost.map { v in
                var lost: [String: JSONValue] = [
                    "audit": .number(Double(v.audit)), "writer": .string(v.writer), "base_version": .number(Double(v.baseVersion)),
                    "outcome": .string(v.outcome.rawValue), "content": .string(v.content), "importance": .number(v.importance),
                    "tags": .array(v.tags.map(JSONValue.string)), "written_at": .string(Timestamp.format(v.writtenAt)),
                ]
                if let metadata = v.metadata { lost["metadata"] = metadata }
                return .object(lost)
            }),
            "links": .array(h.links.map { l in
                .object(["id": .string(l.other), "audit": .number(Double(l.audit)), "at": .string(Timestamp.format(l.at))])
            }),
        ]
        if let receipt = h.forgotten { o["forgotten"] = JSONView.receipt(receipt) }
        return .object(o)
    }
}
