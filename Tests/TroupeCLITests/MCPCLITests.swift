import Foundation
import Testing
import TroupeCore
import TroupeServiceTestSupport
import TroupeStoreConformance

/// `troupe mcp` driven over stdio by a real MCP client nobody here wrote: the official Python
/// `mcp` package, installed into the project's .venv by `Scripts/setup --tests`.
@Suite("troupe mcp with the Python MCP client", .serialized, .cleanups)
struct MCPCLITests {
    static let python = CLITests.repo.appendingPathComponent(".venv/bin/python")
    static let script = CLITests.repo.appendingPathComponent("Tests/TroupeCLITests/MCPClient/roundtrip.py")

    static let httpScript = CLITests.repo.appendingPathComponent("Tests/TroupeCLITests/MCPClient/http_roundtrip.py")

    /// Runs the Python client's `script` with `arguments` in `home`; nil (and an issue) without a .venv.
    static func client(_ script: URL, _ arguments: [String], home: URL) async throws -> CLITests.Run? {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            Issue.record("no .venv with the Python MCP client: run Scripts/setup --tests (Scripts/test does)")
            return nil
        }
        let process = Process()
        process.executableURL = Self.python
        process.arguments = [script.path] + arguments
        process.currentDirectoryURL = home
        let out = Pipe(), err = Pipe()
        (process.standardOutput, process.standardError) = (out, err)
        try await offThePool("troupe-test.launch") { try process.run() }
        // A safety net only: the exchange takes seconds; a hung client must not hang the suite.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(300))
            if process.isRunning { process.terminate() }
        }
        let run = try await CLITests.finish((process, out, err))
        watchdog.cancel()
        return run
    }

    @Test func initializesListsToolsAndRecallsWhatItRemembered() async throws {
        let (home, config) = try HostileInputCLITests.home()
        guard let run = try await Self.client(Self.script, [CLITests.binary.path, home.path, config.path], home: home) else { return }
        #expect(run.status == 0, "the Python client failed: \(run.stderr)")
        let answer = try JSONValue.parse(Array(run.stdout.utf8))
        guard case .object(let result) = answer else {
            Issue.record("not a JSON object: \(run.stdout)")
            return
        }
        #expect(result["server"] == .string("troupe"))
        #expect(result["tools"] == .array(["forget", "history", "list_personas", "recall", "remember", "run_session", "say", "update"].map(JSONValue.string)))
        #expect(result["schemas"] == .array([.string("object")]))
        guard case .object(let stored)? = result["stored"], case .array(let recalled)? = result["recalled"],
              case .object(let first)? = recalled.first
        else {
            Issue.record("no stored record or recall results: \(run.stdout)")
            return
        }
        #expect(first["id"] == stored["id"])
        #expect(first["content"] == .string("The fire drill is on the second Tuesday of each month."))
        if case .object(let components)? = first["components"] {
            #expect(components["semantic"] != nil && components["lexical"] != nil)
        } else {
            Issue.record("recall with why gave no components")
        }
        guard case .object(let malformed)? = result["malformed"], case .string(let text)? = malformed["text"] else {
            Issue.record("no answer to the malformed call")
            return
        }
        #expect(malformed["is_error"] == .bool(true) && text.contains("invalid argument 'limit'"))
        // The persona's slices and the shared slices as resources, one read back, its update
        // for the write, and the prompt with the memory in it.
        let uris = result["resources"]?.items.compactMap(\.text) ?? []
        #expect(uris.contains("troupe://persona/athena/semantic") && uris.filter { $0.hasPrefix("troupe://persona/") }.count == 5 * 4, "\(uris)")
        #expect(uris.contains("troupe://shared/team-decisions"), "\(uris)")
        #expect(result["updated"] == .string("troupe://persona/athena/semantic"), "\(run.stdout)")
        if case .array(let records)? = result["slice"], case .object(let record)? = records.first {
            #expect(record["id"] == stored["id"])
        } else {
            Issue.record("the slice resource did not read back the memory")
        }
        if case .string(let prompt)? = result["prompt"] {
            #expect(prompt.contains("The fire drill is on the second Tuesday of each month."))
        } else {
            Issue.record("no speak-as prompt")
        }
        // The protocol alone on stdout: the server's messages went to stderr, and were not errors.
        #expect(!run.stderr.contains("error:"), "\(run.stderr)")
    }

    /// `troupe serve`'s /mcp, over streamable HTTP, with a client key for athena alone.
    @Test func servesMCPOverHTTPToAClientKey() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let made = try await CLITests.troupe(["keys", "create", "--role", "client", "--persona", "athena", "--json"], home: home, config: config)
        let key = try #require(ServeCLITests.json(made.stdout)["key"]?.text, "\(made.stderr)")
        let server = try await ServeCLITests.Server.start(home: home, config: config)
        let ran = try await Self.client(Self.httpScript, [server.base + "/mcp", key], home: home)
        let stopped = try await server.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        guard let run = ran else { return }
        #expect(run.status == 0, "the Python client failed: \(run.stderr)")
        let result = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(result["server"]?.text == "troupe")
        #expect(result["tools"]?.items.compactMap(\.text) == ["forget", "history", "list_personas", "recall", "remember", "run_session", "say", "update"])
        let stored = try #require(result["stored"]?["id"]?.text, "\(run.stdout)")
        let first = result["recalled"]?.items.first
        #expect(first?["id"]?.text == stored && first?["content"]?.text == "The fire drill is on the second Tuesday of each month.")
        // The session acts as the key: athena alone.
        #expect(result["personas"]?.items.compactMap(\.text) == ["athena"])
        #expect(result["denied"]?["is_error"] == .bool(true) && result["denied"]?["text"]?.text?.hasPrefix("denied:") == true, "\(run.stdout)")
    }
}
