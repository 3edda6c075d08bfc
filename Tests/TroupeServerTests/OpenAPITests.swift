import Foundation
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport

/// `/openapi.json` against the server that serves it.
@Suite("OpenAPI document")
struct OpenAPITests {
    typealias API = HTTPAPITests

    /// `GET /v1/personas/{persona}`, `…` for each operation of the document.
    static func operations(_ document: JSONValue) -> [(method: String, path: String, operation: JSONValue)] {
        guard case .object(let paths)? = document["paths"] else { return [] }
        return paths.flatMap { path, item -> [(String, String, JSONValue)] in
            guard case .object(let methods) = item else { return [] }
            return methods.map { ($0.key.uppercased(), path, $0.value) }
        }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    @Test func theDocumentNamesEveryRouteOfTheRouterAndNoOther() async throws {
        let home = try await ServiceHome()
        let routes = APIRoutes(service: home.service).router(keysRequired: true).routes.map { "\($0.method) \($0.path)" }
        let documented = Self.operations(OpenAPIDocument.json).map { "\($0.method) \($0.path)" }
        await home.stop()
        #expect(Set(routes) == Set(documented))
        #expect(routes.count == documented.count && routes.count >= 15)
    }

    @Test func everyDocumentedOperationAnswersAsDocumented() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let admin = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            let served = try await call("GET", "/openapi.json", nil)
            #expect(served.status == 200 && served.json["openapi"]?.text == "3.1.0")
            let operations = Self.operations(served.json)
            #expect(!operations.isEmpty)
            for (method, template, operation) in operations {
                // An endless stream (the event stream) is called by its own tests.
                if operation["requestBody"] == nil, operation["responses"]?["200"]?["content"]?["text/event-stream"] != nil { continue }
                let path = template.replacingOccurrences(of: "{persona}", with: "athena").replacingOccurrences(of: "{id}", with: "trp_000000000000")
                    .replacingOccurrences(of: "{name}", with: "no-such-run")
                let body = operation["requestBody"] != nil ? "{}" : nil
                let needsKey = !(operation["security"]?.items.isEmpty ?? true)
                // Without a key: 401 exactly where the document says a key is needed.
                let anonymous = try await call(method, path, body)
                #expect((anonymous.status == 401) == needsKey, "\(method) \(template): \(anonymous.status)")
                // With one: the route exists (a success, or an error in the shape the operation documents, never the
                // router's 404). /mcp's is MCP's own: a JSON-RPC error object, whose code is a number.
                let answer = try await call(method, path, body, key: admin)
                let documentedSuccess = operation["responses"]?[String(answer.status)] != nil
                let errorShape = operation["responses"]?["default"]?["content"]?["application/json"]?["schema"]?["$ref"]?.text
                let inShape: Bool
                if errorShape == "#/components/schemas/JSONRPCError", case .number? = answer.json["error"]?["code"] {
                    inShape = answer.json["jsonrpc"]?.text == "2.0" && answer.json["error"]?["message"]?.text != nil
                } else {
                    inShape = errorShape == "#/components/schemas/Error" && answer.json["error"]?["code"]?.text != nil
                }
                #expect(documentedSuccess || inShape, "\(method) \(template): \(answer.status) \(answer.json)")
                if body != nil, answer.status == 400, errorShape == "#/components/schemas/Error" {
                    // An empty body is refused by naming a required field of the documented schema.
                    let required = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["required"]?.items.compactMap(\.text) ?? []
                    #expect(required.contains(answer.json["error"]?["field"]?.text ?? "?"), "\(method) \(template): \(answer.json)")
                }
            }
            // A route nobody documented is the router's 404, without the error shape: the check above can fail.
            let missing = try await call("GET", "/v1/nothing-here", nil, key: admin)
            #expect(missing.status == 404 && missing.json["error"]?["code"] == nil)
        }
    }
}
