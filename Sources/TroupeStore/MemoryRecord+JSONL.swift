import Foundation
import TroupeCore

/// The JSONL line format of import and export.
///
/// Import reads `{"id"?, "persona", "slice", "content", "importance"?, "tags"?, "created_at"?,
/// "metadata"?}`; export writes those and the rest of the record (`source`, `version`,
/// `valid_from`, …), which import also reads, so an export re-imports to the same store.
public enum MemoryLine {
    /// A problem with one line: its number, the field at fault, and what is wrong.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var field: String?
        public var message: String

        public var description: String {
            "line \(line)" + (field.map { ": field '\($0)'" } ?? "") + ": \(message)"
        }
    }

    /// Every field import accepts.
    public static let fields = [
        "id", "persona", "slice", "content", "importance", "tags", "created_at", "metadata", "source", "version",
        "valid_from", "last_accessed_at", "access_count", "expires_at", "model",
    ]

    /// Writes `record` as one JSON line (no newline), keys in a fixed, readable order.
    public static func encode(_ r: MemoryRecord) -> String {
        var out = "{"
        func key(_ name: String) {
            if out.count > 1 { out += "," }
            JSONValue.writeString(name, to: &out)
            out += ":"
        }
        key("id"); JSONValue.writeString(r.id, to: &out)
        key("persona"); JSONValue.writeString(r.owner.rawValue, to: &out)
        key("slice"); JSONValue.writeString(r.slice.rawValue, to: &out)
        key("content"); JSONValue.writeString(r.content, to: &out)
        key("importance"); out += JSONValue.formatNumber(r.importance)
        key("tags"); JSONValue.array(r.tags.map(JSONValue.string)).write(to: &out)
        key("created_at"); JSONValue.writeString(Timestamp.format(r.createdAt), to: &out)
        key("source"); JSONValue.writeString(r.source, to: &out)
        key("version"); out += String(r.version)
        key("valid_from"); JSONValue.writeString(Timestamp.format(r.validFrom), to: &out)
        key("last_accessed_at"); JSONValue.writeString(Timestamp.format(r.lastAccessedAt), to: &out)
        key("access_count"); out += String(r.accessCount)
        if let expiresAt = r.expiresAt { key("expires_at"); JSONValue.writeString(Timestamp.format(expiresAt), to: &out) }
        if let model = r.modelID { key("model"); JSONValue.writeString(model, to: &out) }
        if let metadata = r.metadata { key("metadata"); metadata.write(to: &out) }
        return out + "}"
    }

    /// What decoding needs besides the line: defaults and what owners exist.
    public struct Context: Sendable {
        /// The owner of lines that name none (`--persona`); lines naming another are rejected.
        public var defaultOwner: PersonaID?
        /// Owners that exist (personas and shared slices); `nil` accepts any valid name.
        public var knownOwners: Set<PersonaID>?
        /// Time for lines without `created_at`.
        public var now: Date
        /// `source` of lines that name none.
        public var source: String

        public init(defaultOwner: PersonaID? = nil, knownOwners: Set<PersonaID>? = nil, now: Date, source: String = "import") {
            self.defaultOwner = defaultOwner
            self.knownOwners = knownOwners
            self.now = now
            self.source = source
        }
    }

    /// Decodes one line. Records without an id get ``MemoryRecord/stableID(owner:slice:content:createdAt:)``.
    public static func decode(_ bytes: Data, line: Int, context: Context) -> Result<MemoryRecord, Problem> {
        func fail(_ field: String?, _ message: String) -> Result<MemoryRecord, Problem> {
            .failure(Problem(line: line, field: field, message: message))
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
                return fail(nil, "expected a JSON object")
            }
            object = parsed
        } catch {
            return fail(nil, "not valid JSON")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            var message = "unknown field"
            if let guess = Suggestion.closest(to: unknown, in: fields) { message += " (did you mean '\(guess)'?)" }
            return fail(unknown, message)
        }

        // Owner.
        var owner: PersonaID
        switch object["persona"] {
        case nil, is NSNull:
            guard let fallback = context.defaultOwner else { return fail("persona", "missing (or pass --persona)") }
            owner = fallback
        case let name as String:
            guard let id = PersonaID(rawValue: name) else { return fail("persona", "bad name '\(name)': \(PersonaID.problem(with: name)!)") }
            if let fallback = context.defaultOwner, fallback != id {
                return fail("persona", "'\(name)' differs from --persona \(fallback)")
            }
            owner = id
        default: return fail("persona", "expected a string")
        }
        if let known = context.knownOwners, !known.contains(owner) {
            return fail("persona", "unknown persona or shared slice '\(owner)'")
        }

        guard let sliceName = object["slice"] as? String else {
            return fail("slice", object["slice"] == nil ? "missing" : "expected a string")
        }
        guard let slice = SliceKind(rawValue: sliceName) else {
            return fail("slice", "'\(sliceName)' is not a slice (expected one of \(SliceKind.names))")
        }
        guard let content = object["content"] as? String else {
            return fail("content", object["content"] == nil ? "missing" : "expected a string")
        }
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return fail("content", "empty") }

        var importance = 0.5
        if let value = object["importance"], !(value is NSNull) {
            guard let number = number(value), (0...1).contains(number) else { return fail("importance", "expected a number from 0 to 1") }
            importance = number
        }
        var tags: [String] = []
        if let value = object["tags"], !(value is NSNull) {
            guard let list = value as? [Any], let strings = list as? [String] else { return fail("tags", "expected a list of strings") }
            tags = strings
        }
        var metadata: JSONValue?
        if let value = object["metadata"], !(value is NSNull) {
            guard value is [String: Any], let json = JSONValue(foundation: value) else { return fail("metadata", "expected a JSON object") }
            metadata = json
        }

        var times: [String: Date] = [:]
        for field in ["created_at", "valid_from", "last_accessed_at", "expires_at"] {
            guard let value = object[field], !(value is NSNull) else { continue }
            guard let text = value as? String, let date = Timestamp.parse(text) else {
                return fail(field, "expected an RFC 3339 time such as 2026-11-23T14:15:28Z")
            }
            times[field] = date
        }
        var integers: [String: Int] = [:]
        for (field, minimum) in [("version", 1), ("access_count", 0)] {
            guard let value = object[field], !(value is NSNull) else { continue }
            guard let n = number(value), n == n.rounded(), n >= Double(minimum), n < 1e15 else {
                return fail(field, "expected a whole number of at least \(minimum)")
            }
            integers[field] = Int(n)
        }
        var strings: [String: String] = [:]
        for field in ["id", "source", "model"] {
            guard let value = object[field], !(value is NSNull) else { continue }
            guard let text = value as? String, !text.isEmpty, text.utf8.count <= 256 else {
                return fail(field, "expected a non-empty string of at most 256 bytes")
            }
            strings[field] = text
        }

        let createdAt = times["created_at"] ?? context.now
        let id = strings["id"] ?? MemoryRecord.stableID(owner: owner, slice: slice, content: content, createdAt: times["created_at"])
        return .success(
            MemoryRecord(
                id: id, owner: owner, slice: slice, content: content, importance: importance, tags: tags,
                source: strings["source"] ?? context.source, createdAt: createdAt, lastAccessedAt: times["last_accessed_at"],
                accessCount: integers["access_count"] ?? 0, validFrom: times["valid_from"], expiresAt: times["expires_at"],
                version: integers["version"] ?? 1, modelID: strings["model"], metadata: metadata))
    }

    private static func number(_ value: Any) -> Double? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return n.doubleValue
    }
}
