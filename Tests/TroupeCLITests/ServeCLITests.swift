import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TroupeCore
import TroupeServiceTestSupport
import TroupeStoreConformance

/// `troupe serve` as a process: it binds a free port, says where on stderr, answers over the
/// socket, asks for keys once one exists, and stops cleanly on SIGTERM.
@Suite("troupe serve", .serialized, .cleanups)
struct ServeCLITests {
    /// A `troupe serve` process and where it listens.
    struct Server {
        var running: CLITests.Running
        var base: String
        var announced: String

        /// Starts `troupe serve --listen listen` and reads stderr until it says where it listens.
        static func start(listen: String = "127.0.0.1:0", home: URL, config: URL) async throws -> Server {
            let running = try await CLITests.start(["serve", "--listen", listen], home: home, config: config)
            // The line that says the socket is bound: read as it comes, off the pool (the read blocks).
            let stderr = running.err.fileHandleForReading
            let announced = try await offThePool("troupe-test.serve-stderr") { () -> String in
                var seen = ""
                // Until the whole line is in (a read may end in the middle of the port).
                while !seen.split(separator: "\n", omittingEmptySubsequences: false).dropLast().contains(where: { $0.hasPrefix("listening on ") }) {
                    let chunk = stderr.availableData
                    if chunk.isEmpty { break }  // the process ended
                    seen += String(decoding: chunk, as: UTF8.self)
                }
                return seen
            }
            guard let range = announced.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression) else {
                try await CLITests.kill(running)
                throw TroupeError(.unavailable, "troupe serve never said where it listens: \(announced)")
            }
            // A server on every address is reached on loopback.
            let base = String(announced[range]).replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
            return Server(running: running, base: base, announced: announced)
        }

        func call(_ method: String, _ path: String, _ body: String? = nil, key: String? = nil) async throws -> (status: Int, body: String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), String(buffer: bytes))
        }

        /// SIGTERM, then the process's end.
        func stop() async throws -> CLITests.Run {
            kill(running.process.processIdentifier, SIGTERM)
            return try await CLITests.finish(running)
        }
    }

    static func json(_ text: String) -> JSONValue { (try? JSONValue.parse(Array(text.utf8))) ?? .null }

    @Test func servesTheAPIOnLoopbackAndStopsOnSIGTERM() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let server = try await Server.start(home: home, config: config)
        #expect(server.announced.contains("no keys"), "\(server.announced)")
        #expect(try await server.call("GET", "/healthz").status == 200)
        let (added, record) = try await server.call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The lift is inspected every spring."}"#)
        #expect(added == 201, "\(record)")
        let (recalled, results) = try await server.call("POST", "/v1/personas/athena/recall", #"{"query": "when is the lift inspected"}"#)
        #expect(recalled == 200 && results.contains("The lift is inspected every spring."))
        let run = try await server.stop()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func refusesAnAddressThatIsNotLoopbackWhileThereAreNoKeys() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let run = try await CLITests.troupe(["serve", "--listen", "0.0.0.0:7420"], home: home, config: config)
        #expect(run.status == 1 && run.stderr.contains("not a loopback address"), "\(run.stderr)")
        let malformed = try await CLITests.troupe(["serve", "--listen", "0.0.0.0"], home: home, config: config)
        #expect(malformed.status == 2, "\(malformed.stderr)")
    }

    @Test func withAKeyTheServerAsksForItAndARevocationInAnotherProcessReachesIt() async throws {
        let (home, config) = try HostileInputCLITests.home()
        func troupe(_ args: String...) async throws -> CLITests.Run { try await CLITests.troupe(args, home: home, config: config) }
        let made = try await troupe("keys", "create", "--role", "client", "--persona", "athena", "--label", "athena's app", "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let key = try #require(Self.json(made.stdout)["key"]?.text)
        let id = try #require(Self.json(made.stdout)["id"]?.text)
        let refused = try await troupe("keys", "create", "--role", "client")
        #expect(refused.status == 1 && refused.stderr.contains("error: --persona: a client key acts as at least one persona"), "\(refused.stderr)")

        // With a key, any address: here every interface, reached on loopback.
        let server = try await Server.start(listen: "0.0.0.0:0", home: home, config: config)
        #expect(server.announced.contains("keys required"), "\(server.announced)")
        #expect(try await server.call("GET", "/v1/personas").status == 401)
        let listed = try await server.call("GET", "/v1/personas", key: key)
        #expect(listed.status == 200 && Self.json(listed.body).items.compactMap { $0["name"]?.text } == ["athena"], "\(listed.body)")
        #expect(try await server.call("POST", "/v1/personas/hestia/recall", #"{"query": "anything"}"#, key: key).status == 403)

        let revoked = try await troupe("keys", "revoke", id)
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked \(id)"), "\(revoked.stderr)")
        #expect(try await server.call("GET", "/v1/personas", key: key).status == 401, "a revocation reaches the server at its next request")

        let log = try await troupe("audit", "--security", "--json")
        let lines = Self.json(log.stdout).items.map { "\($0["kind"]?.text ?? "") \($0["detail"]?.text ?? "")" }
        #expect(lines.reversed().map { String($0.split(separator: " ")[0]) } == ["key-created", "auth-failed", "denied", "key-revoked", "auth-failed"], "\(lines)")
        #expect(lines.first == "auth-failed revoked key")
        #expect(!log.stdout.contains(String(key.suffix(64))), "the log never holds a secret")
        let list = try await troupe("keys", "list")
        #expect(list.stdout.contains(id) && !list.stdout.contains(String(key.suffix(64))))

        let run = try await server.stop()
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test func twoServersOnOnePostgreSQLSeeEachOthersWritesAndKeys() async throws {
        let (home, config, _) = try await PostgresCLITests.home()
        let made = try await CLITests.troupe(["keys", "create", "--role", "operator", "--json"], home: home, config: config)
        let key = try #require(Self.json(made.stdout)["key"]?.text, "\(made.stderr)")
        let id = try #require(Self.json(made.stdout)["id"]?.text)
        let first = try await Server.start(home: home, config: config)
        let second = try await Server.start(home: home, config: config)
        #expect(first.base != second.base)

        let added = try await first.call(
            "POST", "/v1/personas/artemis/memories", #"{"slice": "semantic", "content": "The launch window opens on Tuesday at dawn."}"#, key: key)
        #expect(added.status == 201, "\(added.body)")
        let recalled = try await second.call("POST", "/v1/personas/artemis/recall", #"{"query": "when does the launch window open"}"#, key: key)
        #expect(recalled.status == 200 && recalled.body.contains("The launch window opens on Tuesday at dawn."), "\(recalled.body)")

        // A key revoked through one server is refused by the other.
        #expect(try await first.call("DELETE", "/v1/keys/\(id)", key: key).status == 403, "an operator does not manage keys")
        #expect(try await CLITests.troupe(["keys", "revoke", id], home: home, config: config).status == 0)
        #expect(try await second.call("GET", "/v1/personas", key: key).status == 401)
        #expect(try await first.call("GET", "/v1/personas", key: key).status == 401)

        for server in [first, second] {
            let run = try await server.stop()
            #expect(run.status == 0, "\(run.stderr)")
        }
    }
}
