import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TroupeCore
import TroupeStoreConformance

/// `troupe serve` as a process: it binds a free loopback port, says where on stderr, answers
/// over the socket, and stops cleanly on SIGTERM.
@Suite("troupe serve", .serialized, .cleanups)
struct ServeCLITests {
    @Test func servesTheAPIOnLoopbackAndStopsOnSIGTERM() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let running = try await CLITests.start(["serve", "--listen", "127.0.0.1:0"], home: home, config: config)
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
        guard let range = announced.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            try await CLITests.kill(running)
            Issue.record("troupe serve never said where it listens: \(announced)")
            return
        }
        let base = String(announced[range])

        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), String(buffer: bytes))
        }
        let (health, _) = try await call("GET", "/healthz")
        #expect(health == 200)
        let (added, record) = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The lift is inspected every spring."}"#)
        #expect(added == 201, "\(record)")
        let (recalled, results) = try await call("POST", "/v1/personas/athena/recall", #"{"query": "when is the lift inspected"}"#)
        #expect(recalled == 200 && results.contains("The lift is inspected every spring."))

        kill(running.process.processIdentifier, SIGTERM)
        let run = try await CLITests.finish(running)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func refusesAnAddressThatIsNotLoopback() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let run = try await CLITests.troupe(["serve", "--listen", "0.0.0.0:7420"], home: home, config: config)
        #expect(run.status == 2 && run.stderr.contains("not a loopback address"))
    }
}
