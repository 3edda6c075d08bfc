import Foundation
import Hummingbird
import NIOCore
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService

/// The routes on the home as a whole rather than as one persona: counts, the conflict audit,
/// session runs. Who may call which is the service's to say (the operator, except the audit
/// of a client's own shared slices).
extension APIRoutes {
    func homeRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("stats") { _, context in
            try await respond(context) { try await service.stats(context.caller).json }
        }
        v1.get("audit") { request, context in
            try await respond(context) {
                let parameters = request.uri.queryParameters
                var limit = 50
                if let text = parameters["limit"] {
                    let range = RuntimeConfig.limitRange
                    guard let n = Int(String(text)), range.contains(n) else {
                        throw ArgumentError(field: "limit", "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                    }
                    limit = n
                }
                let entries = try await service.audit(
                    slice: parameters["slice"].map(String.init), record: parameters["record"].map(String.init), limit: limit, context.caller)
                return .array(entries.map(JSONView.audit))
            }
        }
        v1.get("sessions") { _, context in
            try await respond(context) { .array(try await service.sessionRuns(context.caller).map(\.json)) }
        }
        v1.post("sessions") { request, context in
            try await respond(context) { try await service.call(.runSession, try await Self.object(request), context.caller) }
        }
        v1.get("sessions/:name") { _, context in
            try await respond(context) { try await service.sessionRun(named: try context.parameters.require("name"), context.caller).json }
        }
        v1.get("sessions/:name/transcript") { _, context in
            do {
                let text = try await service.sessionTranscript(named: try context.parameters.require("name"), context.caller)
                return Response(
                    status: .ok, headers: [.contentType: "text/markdown; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            } catch {
                return try await respond(context) { throw error }
            }
        }
    }
}
