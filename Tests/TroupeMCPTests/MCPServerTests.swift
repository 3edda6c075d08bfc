import Foundation
import MCP
import Testing
import TroupeCore
import TroupeMCP
import TroupeService
import TroupeServiceTestSupport
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// `troupe mcp`'s server, driven by the SDK's own client over an in-memory transport pair.
@Suite("MCP server")
struct MCPServerTests {
    @Test func listsEveryToolWithAnObjectSchema() async throws {
        try await MCPFixture.with { mcp in
            let (tools, _) = try await mcp.client.listTools()
            #expect(tools.map(\.name).sorted() == ["forget", "history", "list_personas", "recall", "remember", "run_session", "say", "update"])
            for tool in tools { #expect(tool.inputSchema.objectValue?["type"] == "object", "\(tool.name)") }
        }
    }

    @Test func recallFindsWhatRememberStoredWithItsComponentsWhenAskedWhy() async throws {
        try await MCPFixture.with { mcp in
            let stored = try await mcp.json("remember", [
                "persona": "athena", "slice": "semantic", "content": "The staging database is restored every Monday at 06:00.",
                "importance": 0.8, "tags": ["ops"],
            ])
            #expect(stored["persona"]?.text == "athena" && stored["slice"]?.text == "semantic")
            let id = try #require(stored["id"]?.text)

            let why = try await mcp.json("recall", ["persona": "athena", "query": "when is staging restored", "why": true, "limit": 3])
            let first = try #require(why["results"]?.items.first)
            #expect(first["id"]?.text == id)
            for name in ["semantic", "lexical", "recency", "importance"] {
                #expect(first["components"]?[name]?["weight"] != nil, "component \(name)")
            }
            let plain = try await mcp.json("recall", ["persona": "athena", "query": "when is staging restored"])
            #expect(plain["results"]?.items.first?["id"]?.text == id)
            #expect(plain["results"]?.items.first?["components"] == nil)
        }
    }

    @Test func aClientActingAsAPersonaItWasNotGrantedIsDeniedAndLearnsNothing() async throws {
        // A client granted hestia only, on a home where athena has a private memory.
        try await MCPFixture.with(principal: .client("key-hestia", personas: ["hestia"])) { mcp in
            let secret = "Athena's private note: the vendor contract renews on 1 March."
            _ = try await mcp.service.remember(persona: "athena", content: secret, in: .slice(.semantic), .local)

            let (denied, isError) = try await mcp.call("recall", ["persona": "athena", "query": "vendor contract"])
            #expect(isError && denied.hasPrefix("denied:"), "\(denied)")
            #expect(!denied.contains("vendor") && !denied.contains("March"))
            // A persona that does not exist gets the same answer: no list of the known ones.
            let (unknown, _) = try await mcp.call("recall", ["persona": "zeus", "query": "vendor contract"])
            #expect(unknown == denied.replacingOccurrences(of: "'athena'", with: "'zeus'"))
            let (written, writeDenied) = try await mcp.call("remember", ["persona": "athena", "slice": "semantic", "content": "planted"])
            #expect(writeDenied && written.hasPrefix("denied:"))
            let (said, sayDenied) = try await mcp.call("say", ["persona": "athena", "message": "what renews in March?"])
            #expect(sayDenied && said.hasPrefix("denied:"))

            let listed = try await mcp.json("list_personas", [:])
            #expect(listed["personas"]?.items.compactMap { $0["name"]?.text } == ["hestia"])
            let (resources, _) = try await mcp.client.listResources()
            // hestia's slices, and the shared slice it belongs to.
            #expect(!resources.isEmpty && resources.allSatisfy { $0.uri.hasPrefix("troupe://persona/hestia/") || $0.uri == "troupe://shared/team" })
            await #expect(throws: (any Error).self) { _ = try await mcp.client.readResource(uri: "troupe://persona/athena/semantic") }
            // hestia's own recall works, and never returns athena's private memory.
            let own = try await mcp.json("recall", ["persona": "hestia", "query": "vendor contract"])
            #expect(!own.canonicalText.contains("vendor"))
            #expect(try await mcp.service.records(persona: "athena", slice: .semantic, .local).map(\.content) == [secret])
        }
    }

    @Test func malformedArgumentsAreToolErrorsNamingTheField() async throws {
        try await MCPFixture.with { mcp in
            let cases: [(String, [String: Value], String)] = [
                ("recall", ["persona": "athena", "query": "x", "limit": "ten"], "'limit'"),
                ("recall", ["persona": "athena", "query": "x", "limit": 0], "'limit'"),
                ("recall", ["persona": "athena"], "'query'"),
                ("recall", ["persona": "athena", "query": "x", "verbose": true], "'verbose'"),
                ("recall", ["persona": 7, "query": "x"], "'persona'"),
                ("remember", ["persona": "athena", "content": "x", "slice": "attic"], "'slice'"),
                ("remember", ["persona": "athena", "content": "x", "slice": "semantic", "importance": 2], "'importance'"),
                ("remember", ["persona": "athena", "content": "x"], "'slice'"),
                ("remember", ["persona": "athena", "content": "x", "slice": "semantic", "tags": [1]], "'tags[0]'"),
                ("update", ["persona": "athena", "id": "m1", "base_version": 1.5, "content": "y"], "'base_version'"),
                ("say", ["persona": "athena", "message": ""], "'message'"),
            ]
            for (tool, arguments, field) in cases {
                let (text, isError) = try await mcp.call(tool, arguments)
                #expect(isError, "\(tool) \(arguments)")
                #expect(text.contains("invalid argument \(field)"), "\(tool) \(arguments): \(text)")
            }
            // Nothing was written by any of them.
            #expect(try await mcp.service.records(persona: "athena", slice: .semantic, .local).isEmpty)
        }
    }

    @Test func updateHistoryAndForgetActOnTheVersionsAndAnUnknownToolIsAProtocolError() async throws {
        try await MCPFixture.with { mcp in
            let stored = try await mcp.json("remember", ["persona": "athena", "slice": "semantic", "content": "The retro is on Tuesday."])
            let id = try #require(stored["id"]?.text)
            let updated = try await mcp.json("update", ["persona": "athena", "id": .string(id), "base_version": 1, "content": "The retro is on Thursday."])
            #expect(updated["outcome"]?.text == "applied" && updated["record"]?["version"] == .number(2))
            let (stale, staleError) = try await mcp.call("update", ["persona": "athena", "id": .string(id), "base_version": 1, "content": "Friday."])
            #expect(staleError && stale.hasPrefix("conflict:"), "\(stale)")
            let history = try await mcp.json("history", ["persona": "athena", "id": .string(id)])
            #expect(history["versions"]?.items.map { $0["content"]?.text ?? "" } == ["The retro is on Tuesday.", "The retro is on Thursday."])
            let receipt = try await mcp.json("forget", ["persona": "athena", "id": .string(id), "reason": "test"])
            #expect(receipt["versions_removed"] == .number(2))
            await #expect(throws: (any Error).self) { _ = try await mcp.client.callTool(name: "delete_everything", arguments: [:]) }
        }
    }

    @Test func sayAnswersAndAConversationResumesByItsId() async throws {
        try await MCPFixture.with { mcp in
            let first = try await mcp.json("say", ["persona": "hestia", "message": "Remember that the office plants need water on Fridays."])
            let conversation = try #require(first["conversation"]?.text)
            #expect(first["turn"] == .number(1) && first["reply"]?.text?.isEmpty == false && first["prompt"] == nil)
            let second = try await mcp.json("say", ["persona": "hestia", "message": "And on which day again?", "conversation": .string(conversation)])
            #expect(second["conversation"]?.text == conversation && second["turn"] == .number(2))
            let (lost, isError) = try await mcp.call("say", ["persona": "hestia", "message": "hello", "conversation": "c-nope"])
            #expect(isError && lost.hasPrefix("not-found:"))
        }
    }

    @Test func slicesAreResourcesAndSpeakAsGivesThePromptAndTheRecalledMemories() async throws {
        try await MCPFixture.with { mcp in
            _ = try await mcp.json("remember", ["persona": "athena", "slice": "episodic", "content": "We chose Postgres for the ledger in May."])
            let (resources, _) = try await mcp.client.listResources()
            #expect(resources.map(\.uri).contains("troupe://persona/athena/episodic"))
            let contents = try await mcp.client.readResource(uri: "troupe://persona/athena/episodic")
            #expect(contents.first?.text?.contains("We chose Postgres for the ledger in May.") == true)
            await #expect(throws: (any Error).self) { _ = try await mcp.client.readResource(uri: "troupe://persona/athena/attic") }

            let (prompts, _) = try await mcp.client.listPrompts()
            #expect(prompts.map(\.name) == ["speak-as"])
            let (_, messages) = try await mcp.client.getPrompt(name: "speak-as", arguments: ["persona": "athena", "topic": "the ledger database"])
            guard case .text(let text)? = messages.first?.content else { Issue.record("no text message"); return }
            let system = try await mcp.service.persona("athena", .local).systemPrompt
            #expect(text.contains(system) && text.contains("We chose Postgres for the ledger in May."))
        }
    }

    @Test func runSessionRunsForTheOperatorAndIsDeniedToAClient() async throws {
        try await MCPFixture.with { mcp in
            let ran = try await mcp.json("run_session", ["name": "plants", "session": .string(ServiceHome.twoRoundSession)])
            #expect(ran["stopped_by"]?.text == "max_rounds" && ran["turns"] == .number(2) && ran["passed"] == .bool(true), "\(ran)")
            let (long, isError) = try await mcp.call(
                "run_session", ["name": "long", "session": .string(ServiceHome.twoRoundSession.replacingOccurrences(of: "max_rounds: 2", with: "max_rounds: 99"))])
            #expect(isError && long.hasPrefix("invalid argument 'session': max_rounds is 99"), "\(long)")
        }
        try await MCPFixture.with(principal: .client("key-hestia", personas: ["hestia"])) { mcp in
            let (denied, isError) = try await mcp.call("run_session", ["name": "plants", "session": .string(ServiceHome.twoRoundSession)])
            #expect(isError && denied.hasPrefix("denied:"), "\(denied)")
            #expect(try await mcp.service.sessionRuns(.local).isEmpty)
        }
    }
}
