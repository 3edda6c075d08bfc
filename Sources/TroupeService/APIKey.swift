import TroupeCore

/// An API key as its holder has it: `trp_` and 12 hex digits, its id (which names it in lists
/// and logs, and by which the store finds it), then `_` and 64 hex digits, its secret (32 random
/// bytes). The store keeps only the secret's SHA-256.
public struct APIKey: Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "trp_"
    static let idDigits = 12
    static let secretDigits = 64

    /// `trp_` and 12 hex digits.
    public let id: String
    let secret: String

    /// A new key from the system's secure random source.
    public static func generate() -> APIKey {
        var random = SystemRandomNumberGenerator()
        return generate(using: &random)
    }

    static func generate<G: RandomNumberGenerator>(using random: inout G) -> APIKey {
        func hex(_ count: Int) -> String {
            let digits = Array("0123456789abcdef")
            return String((0..<count).map { _ in digits[Int(random.next(upperBound: UInt8(16)))] })
        }
        return APIKey(id: prefix + hex(idDigits), secret: hex(secretDigits))
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The key in `text`, or nil when it is not one (wrong prefix, length or digits).
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        let idLength = Self.prefix.utf8.count + Self.idDigits
        guard bytes.count == idLength + 1 + Self.secretDigits, text.hasPrefix(Self.prefix), bytes[idLength] == UInt8(ascii: "_"),
            bytes[Self.prefix.utf8.count..<idLength].allSatisfy(Self.isHexDigit),
            bytes[(idLength + 1)...].allSatisfy(Self.isHexDigit)
        else { return nil }
        id = String(decoding: bytes[..<idLength], as: UTF8.self)
        secret = String(decoding: bytes[(idLength + 1)...], as: UTF8.self)
    }

    /// The whole key, as its holder sends it. Shown once, when the key is created.
    public var text: String { "\(id)_\(secret)" }

    /// What the store keeps of the secret.
    public var secretHash: String { SHA256.hex(of: Array(secret.utf8)) }

    /// Whether `hash` is this key's secret hash, compared in time that does not depend on where
    /// the two first differ.
    func matches(hash: String) -> Bool {
        let mine = Array(secretHash.utf8), theirs = Array(hash.utf8)
        guard mine.count == theirs.count else { return false }
        return zip(mine, theirs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The id only: a key must never reach a log by being printed.
    public var description: String { "\(id)_…" }

    /// Whether `text` could be a key's id (`trp_` and 12 hex digits).
    public static func isID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == prefix.utf8.count + idDigits && text.hasPrefix(prefix) && bytes[prefix.utf8.count...].allSatisfy(isHexDigit)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
