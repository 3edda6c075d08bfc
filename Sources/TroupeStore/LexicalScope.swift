import Foundation
import TroupeCore

/// Owner and slice as full-text tokens, so that a MATCH could select the slices a recall may
/// read. Schemas v2 to v5 kept a full-text index; the v2 migration still writes these tokens.
///
/// Names are spelled as their bytes in three decimal digits each: the tokenizer keeps such a
/// token whole (names may hold `-` and `_`, which it would split on) and the stemmer leaves it
/// alone, and no two names share a token.
package enum LexicalScope {
    /// The scope column of a record: its owner's token and its owner-and-slice token.
    package static func tokens(owner: PersonaID, slice: SliceKind) -> String {
        ownerToken(owner) + " " + sliceToken(owner, slice)
    }

    private static func ownerToken(_ owner: PersonaID) -> String { "o" + digits(owner.rawValue) }
    private static func sliceToken(_ owner: PersonaID, _ slice: SliceKind) -> String {
        "s" + digits(owner.rawValue + "/" + slice.rawValue)
    }

    private static func digits(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count * 3)
        for byte in name.utf8 {
            out += String(byte / 100) + String(byte / 10 % 10) + String(byte % 10)
        }
        return out
    }
}
