import Foundation
import TroupeCore

extension Provenance {
    /// The metadata fields a record's provenance is read from.
    public static let fields: Set<String> = ["said_by", "conversation", "turn", "by", "method", "basis"]

    /// What `memory import` stores of a line's metadata when the operator has not vouched for
    /// the file (no `--keep-source`): a file can say anything, so no line may claim to be a
    /// person's or a persona's words. The provenance becomes an import's (trust 2), `said_by`
    /// naming whom the line claims (`import` when it claims no one), and the line's own
    /// provenance fields are kept, as they were, under `claimed`, so nothing is lost.
    ///
    /// A line whose provenance is already what this writes (an earlier import's, exported)
    /// keeps its `claimed` as it is: importing the same file twice changes nothing.
    public static func imported(_ metadata: JSONValue?) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        if case .object(let members)? = metadata { fields = members }
        var claim = fields.filter { Self.fields.contains($0.key) }
        var saidBy = "import"
        if case .string(let name)? = claim["said_by"], !name.isEmpty { saidBy = name }
        let written = Provenance(saidBy: saidBy, conversation: "import", turn: 0, source: .import, method: .imported).metadata
        if claim.contains(where: { written[$0.key] != $0.value }) {
            // A `claimed` the line brought is part of what it claims: kept inside the new one.
            if let earlier = fields["claimed"] { claim["claimed"] = earlier }
            fields["claimed"] = .object(claim)
        }
        fields.merge(written) { _, new in new }
        return .object(fields)
    }
}
