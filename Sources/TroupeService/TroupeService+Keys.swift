import Foundation
import TroupeCore
import TroupeStore

/// A key just made: what the store keeps, and the whole key, which is shown this once.
public struct CreatedKey: Sendable {
    public var stored: StoredKey
    public var text: String
}

extension TroupeService {
    // MARK: Managing keys (admins)

    /// Makes a key (`troupe keys create`). Only an admin may; a client key must name personas
    /// that exist, the others none.
    public func createKey(_ grant: KeyGrant, _ context: RequestContext) async throws -> CreatedKey {
        try checkManagesKeys("create a key", context)
        let personas = Array(Set(grant.personas)).sorted()
        switch grant.role {
        case .client:
            guard !personas.isEmpty else { throw ArgumentError(field: "personas", "a client key acts as at least one persona") }
            let known = Set(runtime.personas.map(\.name.rawValue))
            if let unknown = personas.first(where: { !known.contains($0) }) {
                throw ArgumentError(field: "personas", "no persona '\(unknown)' in this home")
            }
        case .admin, .operator:
            guard personas.isEmpty else { throw ArgumentError(field: "personas", "only client keys are bound to personas; an \(grant.role.rawValue) acts as every persona") }
        }
        guard KeyGrant.rateRange.contains(grant.ratePerSecond) else {
            throw ArgumentError(field: "rate", "must be between \(KeyGrant.rateRange.lowerBound) and \(Int(KeyGrant.rateRange.upperBound)) requests a second")
        }
        guard KeyGrant.burstRange.contains(grant.burst) else {
            throw ArgumentError(field: "burst", "must be between \(KeyGrant.burstRange.lowerBound) and \(KeyGrant.burstRange.upperBound)")
        }
        guard grant.label.count <= 200, !grant.label.contains(where: \.isNewline) else {
            throw ArgumentError(field: "label", "must be one line of at most 200 characters")
        }
        let key = APIKey.generate()
        let stored = StoredKey(
            id: key.id, secretHash: key.secretHash, role: grant.role.rawValue, personas: personas, label: grant.label,
            createdAt: runtime.clock.now(), ratePerSecond: grant.ratePerSecond, burst: grant.burst)
        try await access.createKey(stored)
        let scope = personas.isEmpty ? "" : " as \(personas.joined(separator: ", "))"
        await log(.keyCreated, key: key.id, "\(grant.role.rawValue) key\(scope) created by \(context.principal.id)", context)
        return CreatedKey(stored: stored, text: key.text)
    }

    /// Every key, revoked ones too, oldest first (`troupe keys list`).
    public func keys(_ context: RequestContext) async throws -> [StoredKey] {
        try checkManagesKeys("list keys", context)
        return try await access.keys()
    }

    /// Revokes a key for good (`troupe keys revoke`); the key as it now is.
    public func revokeKey(_ id: String, _ context: RequestContext) async throws -> StoredKey {
        try checkManagesKeys("revoke a key", context)
        guard APIKey.isID(id) else { throw ArgumentError(field: "id", "'\(id)' is not a key id (trp_ and 12 hex digits)") }
        guard let key = try await access.revokeKey(id: id, at: runtime.clock.now()) else { throw TroupeError(.notFound, "no key '\(id)'") }
        await log(.keyRevoked, key: id, "revoked by \(context.principal.id)", context)
        return key
    }

    /// Lines of the security log, newest first (`troupe audit --security`).
    public func securityEvents(_ query: SecurityEventQuery, _ context: RequestContext) async throws -> [SecurityEvent] {
        try checkManagesKeys("read the security log", context)
        return try await access.securityEvents(query)
    }

    // MARK: Callers with keys

    /// Whether any key that is not revoked exists: whether a server must ask for keys.
    public func hasActiveKeys() async throws -> Bool {
        try await access.keys().contains { $0.revokedAt == nil }
    }

    /// The caller that the `Authorization` header's key names, once its rate limit lets it in.
    /// Every failure is written to the security log and thrown as `.unauthenticated` (the same
    /// message whatever was wrong, so a caller cannot probe for key ids) or `.rateLimited`
    /// (``RateLimitedError``, with when to retry).
    public func authenticate(authorization: String?, source: String) async throws -> RequestContext {
        let refusal = TroupeError(.unauthenticated, "a valid key is required: Authorization: Bearer trp_…")
        let context = RequestContext(principal: Principal(id: "anonymous", role: .client), source: source)
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            await log(.authenticationFailed, key: nil, authorization == nil ? "no key" : "not a Bearer key", context)
            throw refusal
        }
        guard let key = APIKey(parsing: authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)) else {
            await log(.authenticationFailed, key: nil, "malformed key", context)
            throw refusal
        }
        guard let stored = try await access.key(id: key.id) else {
            await log(.authenticationFailed, key: key.id, "unknown key", context)
            throw refusal
        }
        guard key.matches(hash: stored.secretHash) else {
            await log(.authenticationFailed, key: key.id, "wrong secret", context)
            throw refusal
        }
        guard stored.revokedAt == nil else {
            await log(.authenticationFailed, key: key.id, "revoked key", context)
            throw refusal
        }
        guard let role = Principal.Role(rawValue: stored.role) else {
            await log(.authenticationFailed, key: key.id, "unknown role '\(stored.role)'", context)
            throw refusal
        }
        let caller = RequestContext(principal: Principal(id: stored.id, role: role, personas: Set(stored.personas)), source: source)
        if case .limited(let wait, let starts) = limiter.take(stored.id, rate: stored.ratePerSecond, burst: stored.burst) {
            if starts { await log(.rateLimited, key: stored.id, "over \(stored.ratePerSecond)/s (burst \(stored.burst))", caller) }
            throw RateLimitedError(keyID: stored.id, retryAfter: wait)
        }
        return caller
    }

    /// Writes a denial (a request the caller's role or personas do not allow) to the security log.
    public func recordDenial(_ message: String, _ context: RequestContext) async {
        await log(.denied, key: APIKey.isID(context.principal.id) ? context.principal.id : nil, message, context)
    }

    // MARK: Parts

    /// Throws unless the caller is an admin. (A front end that serves other callers than the
    /// local admin writes the denial to the security log, as every other.)
    func checkManagesKeys(_ operation: String, _ context: RequestContext) throws {
        guard context.principal.managesKeys else {
            throw TroupeError(.denied, "\(context.principal.id) may not \(operation): only an admin may")
        }
    }

    /// Appends a line to the security log. A log that cannot be written does not change the
    /// answer (the request is refused or served all the same); it is reported on stderr.
    func log(_ kind: SecurityEvent.Kind, key: String?, _ detail: String, _ context: RequestContext) async {
        let event = SecurityEvent(at: runtime.clock.now(), kind: kind, keyID: key, source: context.source, detail: detail)
        do { try await access.appendSecurityEvent(event) } catch {
            FileHandle.standardError.write(Data("troupe: could not write the security log (\(kind.rawValue) \(detail)): \(error)\n".utf8))
        }
    }
}

/// A caller over its rate limit: HTTP 429, with `Retry-After`.
public struct RateLimitedError: Error, CustomStringConvertible, Sendable {
    public var keyID: String
    /// Seconds until the next request will be let in.
    public var retryAfter: Double

    public var description: String { "\(keyID) is over its rate limit; retry after \(Self.wholeSeconds(retryAfter)) s" }

    /// `Retry-After` takes whole seconds: rounded up, at least 1.
    public static func wholeSeconds(_ seconds: Double) -> Int { max(1, Int(seconds.rounded(.up))) }
}
