import Hummingbird
import Logging
import TroupeService
// Hummingbird has a RequestContext protocol of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Hummingbird's per-request context, carrying the caller. Until ``AccessMiddleware`` says
/// otherwise the caller is an anonymous client with no personas, who may do nothing.
public struct APIContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, for the service layer.
    public var caller: RequestContext
    /// The peer's address, for the security log.
    public let remote: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remote = source.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        caller = RequestContext(principal: Principal(id: "anonymous", role: .client), source: remote)
    }

    /// Bodies are read by the routes themselves, up to this size.
    public var maxUploadSize: Int { APIRoutes.maxBody }
}

/// Who each request acts as. Without keys (`keysRequired` false: the server listens on
/// loopback only), every caller is the local admin. With keys, every route but the probes and
/// the API's description needs `Authorization: Bearer trp_…`: a missing, unknown, wrong or
/// revoked key gets 401, a key over its rate limit 429 with `Retry-After`.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let service: TroupeService
    let keysRequired: Bool

    /// The routes anyone may call: probes, what the API is, and the dashboard's page and
    /// assets (they hold no data: every read the page makes brings a key).
    static let open: Set<String> = ["/healthz", "/readyz", "/openapi.json", "/", "/dashboard/app.js", "/dashboard/app.css"]

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        if !keysRequired {
            context.caller = RequestContext(principal: .local, source: context.remote)
        } else if !Self.open.contains(request.uri.path) {
            do {
                context.caller = try await service.authenticate(authorization: request.headers[.authorization], source: context.remote)
            } catch {
                return APIRoutes.failure(error)
            }
        }
        return try await next(request, context)
    }
}
