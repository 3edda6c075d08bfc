import Foundation
import Hummingbird
import NIOCore
import TroupeCore
import TroupeRuntime
import TroupeService

/// The dashboard: its page and assets (served to anyone: they hold no data), and the reads it
/// makes beyond the rest of the API, each with the caller's key like every other route.
///
/// ```
/// GET /                                     the dashboard's page (Dashboard/DashboardPage.swift)
/// GET /dashboard/app.js, /dashboard/app.css its script and style
/// GET /v1/whoami                            the caller: {id, role, personas}
/// GET /v1/personas/:persona/counts          current memories per owner and slice (its own and its shared slices')
/// GET /v1/personas/:persona/beliefs         ?slice=|shared=&after=&limit=   a page of records with their histories
/// GET /v1/personas/:persona/turns           ?limit=   its last turns: this process's conversations, then session runs
/// GET /v1/sessions/:name/turns              ?after=   a run's turns from its log, as it is written
/// ```
extension APIRoutes {
    func dashboardRoutes(_ router: Router<APIContext>) {
        router.get("/") { _, _ in
            var page = Self.asset(DashboardPage.html, type: "text/html; charset=utf-8")
            // Only this server's script and style; no frame may hold the page. Inline style
            // attributes are the bars' widths and colours.
            page.headers[.contentSecurityPolicy] =
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
            return page
        }
        router.get("dashboard/app.js") { _, _ in Self.asset(DashboardScript.source, type: "text/javascript; charset=utf-8") }
        router.get("dashboard/app.css") { _, _ in Self.asset(DashboardPage.css, type: "text/css; charset=utf-8") }
        router.get("v1/whoami") { _, context in
            let p = context.caller.principal
            return Self.json(.object([
                "id": .string(p.id), "role": .string(p.role.rawValue),
                "personas": p.role == .client ? .array(p.personas.sorted().map(JSONValue.string)) : .null,
            ]))
        }
        let personas = router.group("v1/personas")
        personas.get(":persona/counts") { _, context in
            try await respond(context) {
                let counts = try await service.memoryCounts(persona: try context.parameters.require("persona"), context.caller)
                return .array(counts.map { .object(["owner": .string($0.owner), "slice": .string($0.slice.rawValue), "count": .number(Double($0.count))]) })
            }
        }
        personas.get(":persona/beliefs") { request, context in
            try await respond(context) {
                let parameters = request.uri.queryParameters
                let sliceName = parameters["slice"].map(String.init) ?? "semantic"
                guard let slice = SliceKind(rawValue: sliceName) else {
                    throw ArgumentError(field: "slice", "must be one of \(SliceKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let limit = try Self.wholeNumber(parameters["limit"], field: "limit", default: 50, in: 1...TroupeService.beliefsPageLimit)
                let page = try await service.beliefs(
                    persona: try context.parameters.require("persona"), shared: parameters["shared"].map(String.init), slice: slice,
                    after: parameters["after"].map(String.init), limit: limit, context.caller)
                let facts: [JSONValue] = page.facts.map { fact in
                    guard case .object(var object) = JSONView.history(fact.id, fact.history) else { return .null }
                    object["disputed_by"] = .array(fact.disputedBy.map(JSONValue.string))
                    return .object(object)
                }
                return .object(["facts": .array(facts), "next": page.next.map(JSONValue.string) ?? .null])
            }
        }
        personas.get(":persona/turns") { request, context in
            try await respond(context) {
                let limit = try Self.wholeNumber(request.uri.queryParameters["limit"], field: "limit", default: 5, in: 1...100)
                return .array(try await service.lastTurns(persona: try context.parameters.require("persona"), limit: limit, context.caller))
            }
        }
        router.get("v1/sessions/:name/turns") { request, context in
            try await respond(context) {
                let after = try Self.wholeNumber(request.uri.queryParameters["after"], field: "after", default: 0, in: 0...1_000_000)
                let (turns, ended) = try await service.sessionTurns(named: try context.parameters.require("name"), after: after, context.caller)
                return .object(["turns": .array(turns), "ended": .bool(ended)])
            }
        }
    }

    /// A query parameter that must be a whole number in `range`, or `fallback` when absent.
    static func wholeNumber(_ text: Substring?, field: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text else { return fallback }
        guard let n = Int(String(text)), range.contains(n) else {
            throw ArgumentError(field: field, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// A static asset: the text, its type, and no caching beyond revalidation (a new binary may
    /// ship a new script).
    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache", .xContentTypeOptions: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
