import Foundation
import MCP
import TroupeCore
import TroupeRuntime
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Memory slices as MCP resources (``ResourceAddress``): each slice of the personas the caller
/// may act as, `troupe://persona/<name>/<slice>`, and the shared slices they belong to,
/// `troupe://shared/<name>`. Read as a JSON array of the slice's current records (newest first,
/// the `memory show --json` shape).
struct SliceResources: Sendable {
    let service: TroupeService
    let context: RequestContext
    /// The most records one read returns.
    static let readLimit = 200

    func list() async throws -> ListResources.Result {
        let personas = try await service.personas(context).flatMap { persona in
            SliceKind.allCases.map { slice in
                Resource(
                    name: "\(persona.name.rawValue)/\(slice.rawValue)", uri: ResourceAddress.persona(persona.name.rawValue, slice).uri,
                    title: "\(persona.displayName): \(slice.rawValue) memory",
                    description: "The current \(slice.rawValue) memories of \(persona.displayName), newest first (at most \(Self.readLimit)).",
                    mimeType: "application/json")
            }
        }
        let shared = service.sharedSlices(context).map { slice in
            let members = slice.members.map(\.rawValue).joined(separator: ", ")
            return Resource(
                name: "shared/\(slice.name.rawValue)", uri: ResourceAddress.shared(slice.name.rawValue).uri,
                title: "\(slice.name.rawValue): shared \(slice.kind.rawValue) memory",
                description: (slice.description.isEmpty ? "" : slice.description + " ")
                    + "The current memories of the slice \(members) share, newest first (at most \(Self.readLimit)).",
                mimeType: "application/json")
        }
        return ListResources.Result(resources: personas + shared)
    }

    func templates() -> ListResourceTemplates.Result {
        ListResourceTemplates.Result(templates: [
            Resource.Template(
                uriTemplate: "troupe://persona/{persona}/{slice}", name: "persona-slice",
                description: "One slice (working, episodic, semantic, procedural) of a persona's memory.",
                mimeType: "application/json"),
            Resource.Template(
                uriTemplate: "troupe://shared/{slice}", name: "shared-slice",
                description: "A slice several personas share.", mimeType: "application/json"),
        ])
    }

    func read(_ uri: String) async throws -> ReadResource.Result {
        let records = try await answering {
            switch try ResourceAddress(uri: uri) {
            case .persona(let name, let slice): try await service.records(persona: name, slice: slice, limit: Self.readLimit, context)
            case .shared(let name): try await service.sharedRecords(slice: name, limit: Self.readLimit, context)
            }
        }
        let text = JSONValue.array(records.map(JSONView.record)).canonicalText
        return ReadResource.Result(contents: [.text(text, uri: uri, mimeType: "application/json")])
    }

    /// The address of `uri`, once the caller is known to be allowed to read it: a persona it may
    /// act as (that exists), or a shared slice one of those belongs to.
    func readable(_ uri: String) async throws -> ResourceAddress {
        let address = try ResourceAddress(uri: uri)
        try await answering {
            switch address {
            case .persona(let name, _): _ = try await service.persona(name, context)
            case .shared(let name): _ = try service.sharedSlice(name, context)
            }
        }
        return address
    }

    /// `body`'s value; the service's failure (a denial, a persona not found) as the invalid-params
    /// error MCP answers a bad resource request with, worded as a tool error is.
    private func answering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TroupeError {
            throw MCPError.invalidParams(TroupeService.failure(error).text)
        }
    }
}
