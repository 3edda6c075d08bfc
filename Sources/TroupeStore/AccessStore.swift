import Foundation
import TroupeCore

/// API keys and the security audit log, kept in the store so that every process serving one
/// store (several `troupe serve`s on one PostgreSQL) sees the same keys, the same revocations
/// and one log.
///
/// A key's secret is never stored: only its SHA-256, as lowercase hex. A key is found by its id
/// (the prefix a caller's key starts with), then its secret's hash is compared.
///
/// Every method that writes returns only after its transaction commits.
public protocol AccessStore: Sendable {
    /// Writes a new key down. Throws `.duplicate` when a key with its id exists (revoked or not).
    func createKey(_ key: StoredKey) async throws

    /// The key with `id`, revoked or not.
    func key(id: String) async throws -> StoredKey?

    /// Every key, revoked ones too, oldest first.
    func keys() async throws -> [StoredKey]

    /// Marks the key revoked at `time`, unless it is already (the first revocation's time stays).
    /// The key as it now is; `nil` when there is no key with `id`.
    func revokeKey(id: String, at time: Date) async throws -> StoredKey?

    /// Appends one line to the security log; the line as stored, with its number (`seq`, greater
    /// than every earlier line's).
    @discardableResult
    func appendSecurityEvent(_ event: SecurityEvent) async throws -> SecurityEvent

    /// Lines of the security log, newest first.
    func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent]
}

/// An API key as the store keeps it.
public struct StoredKey: Sendable, Hashable {
    /// The key's public prefix (`trp_` and 12 hex digits): how it is found and named.
    public var id: String
    /// SHA-256 of the key's secret part, lowercase hex.
    public var secretHash: String
    /// `admin`, `operator` or `client` (the service layer's roles).
    public var role: String
    /// The personas a client key may act as, in name order.
    public var personas: [String]
    /// What the key is for, as its creator said.
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?
    /// Requests per second the key may make on average, and how many at once (its token bucket).
    public var ratePerSecond: Double
    public var burst: Int

    public init(
        id: String, secretHash: String, role: String, personas: [String] = [], label: String = "", createdAt: Date,
        revokedAt: Date? = nil, ratePerSecond: Double, burst: Int
    ) {
        (self.id, self.secretHash, self.role, self.personas, self.label) = (id, secretHash, role, personas, label)
        (self.createdAt, self.revokedAt, self.ratePerSecond, self.burst) = (createdAt, revokedAt, ratePerSecond, burst)
    }
}

/// One line of the security log: an authentication that failed, a request denied, a caller held
/// back by its rate limit, or a change to the keys. It names keys by id, never by secret.
public struct SecurityEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// No key, a malformed key, an unknown key, a wrong secret or a revoked key.
        case authenticationFailed = "auth-failed"
        /// A known caller asked for what its role or personas do not allow.
        case denied
        /// A caller ran out of its rate limit (one line when it starts being held back).
        case rateLimited = "rate-limited"
        case keyCreated = "key-created"
        case keyRevoked = "key-revoked"
        /// A persona's memory forgotten and its data keys destroyed (`memory forget --shred`).
        case dataKeyShredded = "data-key-shredded"
    }

    /// The line's number, given by the store (0 before it is appended).
    public var seq: Int64
    public var at: Date
    public var kind: Kind
    /// The key concerned, when one was named.
    public var keyID: String?
    /// Where the request came from (`127.0.0.1:51234`), or who acted (`local` for the CLI).
    public var source: String
    /// What happened, in a few words (never a secret, never memory content).
    public var detail: String

    public init(seq: Int64 = 0, at: Date, kind: Kind, keyID: String? = nil, source: String, detail: String) {
        (self.seq, self.at, self.kind, self.keyID, self.source, self.detail) = (seq, at, kind, keyID, source, detail)
    }
}

/// Which security log lines to read: newest first.
public struct SecurityEventQuery: Sendable, Hashable {
    public var kinds: Set<SecurityEvent.Kind>?
    public var keyID: String?
    public var limit: Int?

    public init(kinds: Set<SecurityEvent.Kind>? = nil, keyID: String? = nil, limit: Int? = nil) {
        (self.kinds, self.keyID, self.limit) = (kinds, keyID, limit)
    }

    /// Whether `event` is one this query asks for (limit aside).
    public func matches(_ event: SecurityEvent) -> Bool {
        (kinds?.contains(event.kind) ?? true) && (keyID.map { $0 == event.keyID } ?? true)
    }
}
