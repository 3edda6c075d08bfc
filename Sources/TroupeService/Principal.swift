import TroupeCore

/// Who is calling the service: an id, a role, and for a client the personas it may act as.
///
/// The CLI and `troupe mcp` on stdio act for the local user, who is the operator
/// (``Principal/localOperator``): the one who owns the home may act as every persona.
public struct Principal: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Everything an operator may do, and (in later slices) managing keys.
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

    /// The local user of the CLI and of stdio servers.
    public static let localOperator = Principal(id: "local", role: .operator)

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
}

/// What every service call carries: the caller, and an id for its logs.
public struct RequestContext: Sendable {
    public var principal: Principal
    /// The front end's id for the request (a JSON-RPC id, an HTTP request id), if it has one.
    public var requestID: String?

    public init(principal: Principal, requestID: String? = nil) {
        self.principal = principal
        self.requestID = requestID
    }

    /// The local operator, as the CLI acts.
    public static let local = RequestContext(principal: .localOperator)

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
