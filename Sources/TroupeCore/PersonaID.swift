/// The identifier of a persona or of a shared slice: the owner of memory records.
///
/// Names are lower-case ASCII letters, digits, `-` and `_`, start with a letter, and are at most
/// 64 characters long, so that they are safe in file names, Redis keys and SQL.
public struct PersonaID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, ExpressibleByStringLiteral
{
    public let rawValue: String

    public init?(rawValue: String) {
        guard PersonaID.problem(with: rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// For literals in code and tests; traps on an invalid name.
    public init(stringLiteral value: String) {
        guard let id = PersonaID(rawValue: value) else {
            preconditionFailure("invalid persona name '\(value)'")
        }
        self = id
    }

    public var description: String { rawValue }

    public static func < (lhs: PersonaID, rhs: PersonaID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Why `name` is not a valid persona or slice name, or `nil` when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "a name cannot be empty" }
        if name.utf8.count > 64 { return "a name is at most 64 characters" }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            return "a name starts with a lower-case letter a-z"
        }
        for scalar in name.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
                || scalar == "_"
            if !ok { return "a name holds only a-z, 0-9, '-' and '_' (found '\(scalar)')" }
        }
        return nil
    }
}
