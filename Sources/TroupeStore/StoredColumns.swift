import Foundation
import TroupeCore

/// How both SQL stores write lists of strings (tags, kept and superseded ids, a key's personas)
/// and a security line's kind into one column each: the same text on SQLite and PostgreSQL, so
/// that a migrated row digests the same on both.
package enum StoredStrings {
    /// Reads a JSON array of strings; anything else reads as empty.
    package static func decode(_ text: String) throws -> [String] {
        guard case .array(let items) = try JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// Writes `strings` as a canonical JSON array.
    package static func encode(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).canonicalText }
}

extension StoredKey {
    /// The personas as a JSON array.
    package var personasJSON: String { StoredStrings.encode(personas) }

    package static func personas(json: String) throws -> [String] { try JSONDecoder().decode([String].self, from: Data(json.utf8)) }
}

extension SecurityEvent.Kind {
    /// The kind a stored line names; a kind this build does not know is an error, not a guess.
    package init(stored: String) throws {
        guard let kind = Self(rawValue: stored) else {
            throw TroupeError(.storage, "the security log holds a line of unknown kind '\(stored)'")
        }
        self = kind
    }
}
