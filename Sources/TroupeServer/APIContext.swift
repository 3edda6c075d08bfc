import Hummingbird
import Logging
import TroupeService
// Hummingbird has a RequestContext protocol of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Hummingbird's per-request context, carrying the caller. Without keys (this slice), the
/// server listens on loopback only and every caller is the local operator.
public struct APIContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, for the service layer.
    public var caller: RequestContext

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        caller = .local
    }

    /// Bodies are read by the routes themselves, up to this size.
    public var maxUploadSize: Int { APIRoutes.maxBody }
}
