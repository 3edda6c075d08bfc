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
        /// Who writes: the `source` recorded for every line. A line's own `source` is only a
        /// claim, kept in its metadata as `claimed_source`, unless `keepSource` trusts it
        /// (restoring an export).
        public var source: String
        public var keepSource: Bool
        /// Unless `keepSource` trusts the line, what becomes of its metadata: the runtime turns
        /// the provenance a line claims into a claim (`Provenance.imported`). `nil` keeps it.
        public var claimMetadata: (@Sendable (JSONValue?) -> JSONValue?)?
        /// The declared kind of each shared slice: a line for one must be of that kind.
        public var sharedKinds: [PersonaID: SliceKind]

        public init(
            defaultOwner: PersonaID? = nil, knownOwners: Set<PersonaID>? = nil, now: Date, source: String = "import",
            keepSource: Bool = false, claimMetadata: (@Sendable (JSONValue?) -> JSONValue?)? = nil,
            sharedKinds: [PersonaID: SliceKind] = [:]
        ) {
            self.defaultOwner = defaultOwner
            self.knownOwners = knownOwners
            self.now = now
            self.source = source
            self.keepSource = keepSource
            self.claimMetadata = claimMetadata
            self.sharedKinds = sharedKinds
        }
    }

    /// Decodes one line. Records without an id get ``MemoryRecord/stableID(owner:slice:content:createdAt:)``.
    public static func decode(_ bytes: Data, line: Int, context: Context) -> Result<MemoryRecord, Problem> {
        func fail(_ field: String?, _ message: String) -> Result<MemoryRecord, Problem> {
            .failure(Problem(line: line, field: field, message: message))
        }
        let object: [String: JSONValue]
        do {
            guard case .object(let members) = try bytes.withUnsafeBytes({ try JSONValue.parse($0) }) else {
                return fail(nil, "expected a JSON object")
            }
            object = members
        } catch {
            return fail(nil, "not valid JSON (\(error))")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            var message = "unknown field"
            if let guess = Suggestion.closest(to: unknown, in: fields) { message += " (did you mean '\(guess)'?)" }
            return fail(unknown, message)
        }
        func present(_ field: String) -> JSONValue? {
            guard let value = object[field], value != .null else { return nil }
            return value
        }

        // Owner.
        var owner: PersonaID
        switch object["persona"] {
        case nil, .null?:
            guard let fallback = context.defaultOwner else { return fail("persona", "missing (or pass --persona)") }
            owner = fallback
        case .string(let name)?:
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

        guard case .string(let sliceName)? = object["slice"] else {
            return fail("slice", object["slice"] == nil ? "missing" : "expected a string")
        }
        guard let slice = SliceKind(rawValue: sliceName) else {
            return fail("slice", "'\(sliceName)' is not a slice (expected one of \(SliceKind.names))")
        }
        if let declared = context.sharedKinds[owner], declared != slice {
            return fail("slice", "'\(owner)' is a shared slice of kind \(declared.rawValue), not \(slice.rawValue)")
        }
        guard case .string(let content)? = object["content"] else {
            return fail("content", object["content"] == nil ? "missing" : "expected a string")
        }
        // Not `trimmingCharacters`: that bridges through NSString and cost an import an eighth of its time.
        guard content.contains(where: { !$0.isWhitespace }) else { return fail("content", "empty") }

        var importance = 0.5
        if let value = present("importance") {
            guard case .number(let number) = value, (0...1).contains(number) else { return fail("importance", "expected a number from 0 to 1") }
            importance = number
        }
        var tags: [String] = []
        if let value = present("tags") {
            guard case .array(let list) = value else { return fail("tags", "expected a list of strings") }
            for item in list {
                guard case .string(let tag) = item else { return fail("tags", "expected a list of strings") }
                tags.append(tag)
            }
        }
        var metadata: JSONValue?
        if let value = present("metadata") {
            guard case .object = value else { return fail("metadata", "expected a JSON object") }
            metadata = value
        }

        var times: [String: Date] = [:]
        for field in ["created_at", "valid_from", "last_accessed_at", "expires_at"] {
            guard let value = present(field) else { continue }
            guard case .string(let text) = value, let date = Timestamp.parse(text) else {
                return fail(field, "expected an RFC 3339 time such as 2026-11-23T14:15:28Z")
            }
            times[field] = date
        }
        var integers: [String: Int] = [:]
        for (field, minimum) in [("version", 1), ("access_count", 0)] {
            guard let value = present(field) else { continue }
            guard case .number(let n) = value, n == n.rounded(), n >= Double(minimum), n < 1e15 else {
                return fail(field, "expected a whole number of at least \(minimum)")
            }
            integers[field] = Int(n)
        }
        var strings: [String: String] = [:]
        for field in ["id", "source", "model"] {
            guard let value = present(field) else { continue }
            guard case .string(let text) = value, !text.isEmpty, text.utf8.count <= 256 else {
                return fail(field, "expected a non-empty string of at most 256 bytes")
            }
            strings[field] = text
        }

        if let claimed = strings["source"], !context.keepSource, claimed != context.source {
            // The writer is whoever imports; what the file says stays readable, as a claim.
            guard case .object(var fields) = metadata ?? .object([:]) else { return fail("metadata", "expected a JSON object") }
            fields["claimed_source"] = .string(claimed)
            metadata = .object(fields)
        }
        if !context.keepSource, let claim = context.claimMetadata { metadata = claim(metadata) }
        let createdAt = times["created_at"] ?? context.now
        let id = strings["id"] ?? MemoryRecord.stableID(owner: owner, slice: slice, content: content, createdAt: times["created_at"])
        return .success(
            MemoryRecord(
                id: id, owner: owner, slice: slice, content: content, importance: importance, tags: tags,
                source: context.keepSource ? strings["source"] ?? context.source : context.source, createdAt: createdAt, lastAccessedAt: times["last_accessed_at"],
                accessCount: integers["access_count"] ?? 0, validFrom: times["valid_from"], expiresAt: times["expires_at"],
                version: integers["version"] ?? 1, modelID: strings["model"], metadata: metadata))
    }
}
