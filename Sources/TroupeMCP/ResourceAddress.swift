import MCP
import TroupeCore
import TroupeRuntime

/// What a resource URI names: one of a persona's slices, `troupe://persona/<name>/<slice>`, or a
/// shared slice, `troupe://shared/<name>`.
enum ResourceAddress: Hashable, Sendable {
    case persona(String, SliceKind)
    case shared(String)

    static let personaPrefix = "troupe://persona/"
    static let sharedPrefix = "troupe://shared/"

    /// The address `uri` names; an invalid-params error saying what resources look like for
    /// anything else.
    init(uri: String) throws {
        if uri.hasPrefix(Self.personaPrefix) {
            let parts = uri.dropFirst(Self.personaPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty, let slice = SliceKind(name: String(parts[1])) {
                self = .persona(String(parts[0]), slice)
                return
            }
        } else if uri.hasPrefix(Self.sharedPrefix) {
            let name = uri.dropFirst(Self.sharedPrefix.count)
            if !name.isEmpty, !name.contains("/") {
                self = .shared(String(name))
                return
            }
        }
        throw MCPError.invalidParams(
            "no resource '\(uri)': resources are troupe://persona/<name>/<slice>, slice one of "
                + SliceKind.allCases.map(\.rawValue).joined(separator: ", ") + ", and troupe://shared/<name>")
    }

    var uri: String {
        switch self {
        case .persona(let name, let slice): Self.personaPrefix + name + "/" + slice.rawValue
        case .shared(let name): Self.sharedPrefix + name
        }
    }

    /// The addresses whose content `event` changes: its owner's slice, or, when the owner is a
    /// shared slice, that slice (a record of a shared slice is owned by the slice's name).
    static func changed(by event: MemoryEvent) -> [ResourceAddress] {
        [.persona(event.owner, event.slice), .shared(event.owner)]
    }
}
