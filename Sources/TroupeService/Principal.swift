import TroupeCore

/// Who is calling the service: an id, a role, and for a client the personas it may act as.
///
/// The CLI and `troupe mcp` on stdio act for the local user (``Principal/local``): the one who
/// owns the home is its admin, and may act as every persona and manage keys.
public struct Principal: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Everything an operator may do, and managing keys and reading the security log.
        case admin
        /// Acts as any persona, and on the whole home without one.
        case `operator`
        /// Acts only as the personas it was granted, and always as one of them.
        case client
    }

    public var id: String
    public var role: Role
    /// The personas a client may act as; ignored for admins and operators.
    public var personas: Set<String>

    public init(id: String, role: Role, personas: Set<String> = []) {
        self.id = id
        self.role = role
        self.personas = personas
    }

    /// The local user of the CLI and of stdio servers: the home's owner, so its admin.
    public static let local = Principal(id: "local", role: .admin)

    /// A client bound to `personas`.
    public static func client(_ id: String, personas: Set<String>) -> Principal {
        Principal(id: id, role: .client, personas: personas)
    }

    /// Whether this principal may act as `persona`.
    public func mayActAs(_ persona: String) -> Bool {
        role != .client || personas.contains(persona)
    }

    /// Whether this principal may act on the whole home, as no persona in particular.
    public var actsOnWholeHome: Bool { role != .client }

    /// Whether this principal may create and revoke keys and read the security log.
    public var managesKeys: Bool { role == .admin }
}

/// What every service call carries: the caller, and an id for its logs.
public struct RequestContext: Sendable {
    public var principal: Principal
    /// The front end's id for the request (a JSON-RPC id, an HTTP request id), if it has one.
    public var requestID: String?
    /// Where the request came from, for the security log: `local`, or the peer's address.
    public var source: String

    public init(principal: Principal, requestID: String? = nil, source: String = "local") {
        self.principal = principal
        self.requestID = requestID
        self.source = source
    }

    /// The local operator, as the CLI acts.
    public static let local = RequestContext(principal: .local)

    /// The one answer for a persona the caller may not act as, whether it exists or not: the
    /// caller learns nothing of other personas from the difference.
    func denial(_ persona: String) -> TroupeError {
        TroupeError(.denied, "\(principal.id) may not act as persona '\(persona)'")
    }

    /// Throws unless the caller may act as `persona`.
    func check(_ persona: String) throws {
        guard principal.mayActAs(persona) else { throw denial(persona) }
    }

    /// Throws unless the caller may act on the whole home (no persona given).
    func checkWholeHome(_ operation: String) throws {
        guard principal.actsOnWholeHome else {
            throw TroupeError(.denied, "\(principal.id) must name a persona it may act as to \(operation)")
        }
    }
}
