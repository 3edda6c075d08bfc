import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// The `--json` shapes of the CLI (see DESIGN.md, CLI contract), built here so tests reach them.
public enum JSONView {
    public static func record(_ r: MemoryRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(r.id), "persona": .string(r.owner.rawValue), "slice": .string(r.slice.rawValue),
            "content": .string(r.content), "importance": .number(r.importance), "tags": .array(r.tags.map(JSONValue.string)),
            "source": .string(r.source), "created_at": .string(Timestamp.format(r.createdAt)),
            "last_accessed_at": .string(Timestamp.format(r.lastAccessedAt)), "access_count": .number(Double(r.accessCount)),
            "valid_from": .string(Timestamp.format(r.validFrom)), "version": .number(Double(r.version)),
        ]
        if let validTo = r.validTo { o["valid_to"] = .string(Timestamp.format(validTo)) }
        if let expiresAt = r.expiresAt { o["expires_at"] = .string(Timestamp.format(expiresAt)) }
        if let model = r.modelID { o["model"] = .string(model) }
        if let metadata = r.metadata { o["metadata"] = metadata }
        if let p = Provenance(r.metadata) { o["provenance"] = provenance(p) }
        return .object(o)
    }

    /// `{"said_by", "conversation", "turn", "by", "method", "basis", "trust"}`.
    public static func provenance(_ p: Provenance) -> JSONValue {
        .object(p.metadata.merging(["trust": .number(Double(p.trust))]) { _, trust in trust })
    }

    /// `{"id", "persona", "slice", "content", "score", "components": {name: {value, weight,
    /// contribution, raw}}}`: `raw` is the figure itself (cosine, BM25, age, trust rank),
    /// `reference` what it was divided by to make `value` (the best cosine, a full match's BM25),
    /// and `from`, `spread`, `place` where a component has them; `provenance` and `disputes` where
    /// the memory has them.
    public static func hit(_ h: RecallHit) -> JSONValue {
        var components: [String: JSONValue] = [:]
        for c in h.components {
            var o: [String: JSONValue] = [
                "value": .number(round6(c.value)), "weight": .number(round6(c.weight)),
                "contribution": .number(round6(c.contribution)), "raw": .number(round6(c.raw)),
            ]
            if let source = c.source { o["from"] = .string(source) }
            if let spread = c.spread { o["spread"] = .number(round6(spread)) }
            if let reference = c.reference { o["reference"] = .number(round6(reference)) }
            if let place = c.place { o["place"] = .number(Double(place)) }
            components[c.name] = .object(o)
        }
        var object: [String: JSONValue] = [
            "id": .string(h.record.id), "persona": .string(h.record.owner.rawValue), "slice": .string(h.record.slice.rawValue),
            "content": .string(h.record.content), "score": .number(round6(h.score)), "components": .object(components),
            "created_at": .string(Timestamp.format(h.record.createdAt)), "importance": .number(h.record.importance),
            "tags": .array(h.record.tags.map(JSONValue.string)),
        ]
        if let p = Provenance(h.record.metadata) { object["provenance"] = provenance(p) }
        if case .object(let m)? = h.record.metadata, case .string(let disputed)? = m["disputes"] { object["disputes"] = .string(disputed) }
        return .object(object)
    }

    public static func persona(_ p: PersonaDefinition) -> JSONValue {
        let m = p.memory
        return .object([
            "name": .string(p.name.rawValue), "display_name": .string(p.displayName), "role": .string(p.role),
            "description": .string(p.description), "system_prompt": .string(p.systemPrompt),
            "traits": .array(p.traits.map(JSONValue.string)), "priority": .number(Double(p.priority)),
            "shared": .array(p.shared.map { .string($0.rawValue) }), "file": .string(p.file),
            "memory": .object([
                "working": .object(["ttl": .string(DurationText.format(m.workingTTL)), "capacity": .number(Double(m.workingCapacity))]),
                "episodic": .object([
                    "hot_ttl": .string(DurationText.format(m.episodicHotTTL)),
                    "retention": .string(m.episodicRetention.map(DurationText.format) ?? "forever"),
                ]),
                "semantic": .object(["cache_ttl": .string(DurationText.format(m.semanticCacheTTL))]),
                "procedural": .object(["cache_ttl": .string(DurationText.format(m.proceduralCacheTTL))]),
            ]),
            "procedural": .array(p.procedural.map { seed in
                .object([
                    "id": .string(p.seedID(seed)), "kind": .string(seed.kind.rawValue), "text": .string(seed.text),
                    "importance": .number(seed.importance), "tags": .array(seed.tags.map(JSONValue.string)),
                ])
            }),
        ])
    }

    public static func stats(_ s: StoreStats) -> JSONValue {
        var owners: [String: JSONValue] = [:]
        for bucket in s.buckets {
            var slices: [String: JSONValue] = [:]
            if case .object(let existing) = owners[bucket.owner] { slices = existing }
            slices[bucket.slice.rawValue] = .number(Double(bucket.count))
            owners[bucket.owner] = .object(slices)
        }
        var o: [String: JSONValue] = [
            "records": .number(Double(s.total)), "by_owner": .object(owners),
            "superseded_versions": .number(Double(s.supersededVersions)), "forgotten": .number(Double(s.forgotten)),
        ]
        if let v = s.schemaVersion { o["schema_version"] = .string(v) }
        if let b = s.bytesOnDisk { o["bytes_on_disk"] = .number(Double(b)) }
        return .object(o)
    }

    public static func receipt(_ r: ForgetReceipt) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(r.id), "persona": .string(r.owner), "slice": .string(r.slice),
            "versions_removed": .number(Double(r.versions)), "forgotten_at": .string(Timestamp.format(r.forgottenAt)),
        ]
        if let reason = r.reason { o["reason"] = .string(reason) }
        return .object(o)
    }

    public static func doctor(_ report: DoctorReport) -> JSONValue {
        var o: [String: JSONValue] = [
            "status": .string(report.worst.rawValue),
            "checks": .array(report.checks.map { c in
                .object([
                    "name": .string(c.name), "status": .string(c.status.rawValue), "detail": .string(c.detail),
                    "notes": .array(c.notes.map(JSONValue.string)),
                ])
            }),
        ]
        if let s = report.stats { o["store"] = JSONView.stats(s) }
        return .object(o)
    }

    public static func importReport(_ report: MemoryImporter.Report, file: String) -> JSONValue {
        let problems: [JSONValue] = report.problems.map { p in
            .object(["line": .number(Double(p.line)), "field": p.field.map(JSONValue.string) ?? .null, "message": .string(p.message)])
        }
        return .object([
            "file": .string(file), "outcome": .string(report.outcome.rawValue), "lines": .number(Double(report.lines)),
            "invalid": .number(Double(report.invalid)), "inserted": .number(Double(report.written.inserted)),
            "updated": .number(Double(report.written.updated)), "unchanged": .number(Double(report.written.unchanged)),
            "seconds": .number((report.seconds * 1000).rounded() / 1000), "errors": .array(problems),
        ])
    }

    static func round6(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }
}
