import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// A small OpenAI-compatible server (Python's standard library) on a free loopback port, for
/// the CLI's real HTTP backend: `slow` streams 200 words, one every 30 ms, `short` 20 of them,
/// `fixed` twenty times "banana" (streamed, whatever the request asked: a moderator's choice
/// fails), `fail` drops the connection after three words. In the other modes, a request whose
/// `response_format` is a JSON schema with a `choice` enum gets `{"choice": …}`: the first value
/// the last user message names (whole words, any case; the earliest), else the first value;
/// any other schema gets `{}`; streamed or whole, as the request asks. After
/// `holdReplies(once:hasTurns:)`, a reply stops after its third word, once a session's log has
/// that many turns, until `release()`: a test can kill a turn in flight at a fixed point.
final class ModelServer: @unchecked Sendable {
    // Safe: immutable after init.
    let process: Process
    let port: Int
    let directory: URL

    static let script = #"""
        import http.server, json, os, re, socketserver, sys, threading, time
        port, mode, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        hold, held = os.path.join(folder, "hold"), os.path.join(folder, "held")
        def holding():  # the hold file says: N, then a session log; held once the log has N turns
            try:
                count, log = open(hold).read().split("\n", 1)
                return sum(1 for line in open(log) if '"kind":"turn"' in line.replace(" ", "")) >= int(count)
            except (OSError, ValueError):
                return False
        parent = os.getppid()
        def orphaned():  # a test process killed before its deinit leaves no server behind
            while os.getppid() == parent: time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=orphaned, daemon=True).start()
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "test", "object": "model"}]}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def choice(self, body):  # a choice asked for with a json_schema enum, answered as JSON; False otherwise
                schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
                values = ((schema.get("properties") or {}).get("choice") or {}).get("enum")
                if not schema: return False
                said = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
                named = [(m.start(), i) for i, v in enumerate(values or [])
                         for m in [re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", said, re.I)] if m]
                # Any other schema (facts to label) gets an empty object: labels nothing.
                content = json.dumps({"choice": values[min(named)[1]] if named else values[0]} if values else {})
                if body.get("stream"):
                    self.send_response(200); self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close"); self.end_headers()
                    chunk = {"choices": [{"index": 0, "delta": {"content": content}}]}
                    self.wfile.write(("data: " + json.dumps(chunk) + "\n\n").encode())
                    self.wfile.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
                    return True
                reply = json.dumps({"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply))); self.end_headers(); self.wfile.write(reply)
                return True
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try: body = json.loads(raw or b"{}")
                except ValueError: body = {}
                if mode != "fixed" and isinstance(body, dict) and self.choice(body): return
                self.send_response(200); self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close"); self.end_headers()
                n = 20 if mode in ("short", "fixed") else 200
                words = ["banana " if mode == "fixed" else "word%d " % i for i in range(n)]
                for i, w in enumerate(words):
                    if mode == "fail" and i == 3:
                        self.wfile.flush(); self.connection.shutdown(2); return
                    if i == 3 and holding():
                        self.wfile.flush(); open(held, "w").close()
                        while os.path.exists(hold): time.sleep(0.02)
                    chunk = {"choices": [{"index": 0, "delta": {"content": w}}]}
                    self.wfile.write(("data: " + json.dumps(chunk) + "\n\n").encode()); self.wfile.flush()
                    time.sleep(0.03)
                self.wfile.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
        class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
        S(("127.0.0.1", port), H).serve_forever()
        """#

    /// Starts the server and waits until it accepts connections, off the cooperative pool (a
    /// launch and a poll: a tenth of a second, seconds on a loaded machine).
    init(mode: String) async throws {
        directory = try CLITests.tempHome()
        let file = directory.appendingPathComponent("server.py")
        try Self.script.writeUnsynced(to: file)
        let port = Self.freePort()
        self.port = port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", file.path, String(port), mode, directory.path]  // env execs, so the parent stays the test
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        self.process = process
        try await offThePool("troupe-test.model-server.start") {
            try process.run()
            // Ready when it accepts a connection; the bound (60 s) is a hang guard on a loaded machine.
            for _ in 0..<1200 {
                let probe = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var target = Self.loopback(port: port)
                let ok = withUnsafeMutablePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                } == 0
                close(probe)
                if ok { return }
                usleep(50_000)
            }
            throw TroupeError(.unavailable, "the test model server did not start")
        }
    }

    /// A loopback port free now (the kernel's pick for a socket bound to port 0, then closed).
    static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// 127.0.0.1:`port` (0: any free port).
    private static func loopback(port: Int) -> sockaddr_in {
        sockaddr_in(
            sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
    }

    private var hold: URL { directory.appendingPathComponent("hold") }
    private var held: URL { directory.appendingPathComponent("held") }

    /// Once the session log `log` has `turns` turns, a reply stops after its third word, until
    /// `release()`. The server reads the log itself, so the test's own timing plays no part.
    func holdReplies(once log: URL, hasTurns turns: Int) throws {
        try "\(turns)\n\(log.path)".writeUnsynced(to: hold)
    }

    /// Whether a reply is stopped at the hold.
    var isHoldingAReply: Bool { FileManager.default.fileExists(atPath: held.path) }

    func release() {
        try? FileManager.default.removeItem(at: hold)
        try? FileManager.default.removeItem(at: held)
    }

    /// A config whose chat backend is this server.
    func config(in home: URL) throws -> URL {
        try Self.config(in: home, llm: "backend: openai\nbase_url: http://127.0.0.1:\(port)/v1\nmodel: test\ntimeout: 20s")
    }

    /// A config of the shipped personas and shared slices, no Redis, and `llm` (lines of the
    /// `llm:` section, unindented).
    static func config(in home: URL, llm: String) throws -> URL {
        let config = home.appendingPathComponent("troupe.yaml")
        let section = llm.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        try """
            personas: \(CLITests.repo.appendingPathComponent("Personas").path)
            redis:
              mode: off
            llm:
            \(section)
            shared_slices:
              - {name: team-decisions, kind: semantic, members: [athena, artemis, hestia, bellona, seshat], policy: keep-both}
              - {name: incident-log, kind: episodic, members: [artemis, hestia, bellona], policy: keep-both}
              - {name: style-guide, kind: procedural, members: [athena, hestia, seshat], policy: reject}

            """.writeUnsynced(to: config)
        return config
    }

    deinit {
        process.terminate()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("troupe repl", .serialized, .cleanups)
struct ReplCLITests {
    @Test func pipedInputGetsOneReplyPerLineAndAFailureExitsOne() async throws {
        let (home, config) = try HostileInputCLITests.home()
        let offline = home.appendingPathComponent("offline.yaml")
        try (try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "backend: auto", with: "backend: offline"))
            .writeUnsynced(to: offline)
        let input = home.appendingPathComponent("in.txt")
        try "remember that the launch is on Tuesday\n:memory semantic\n@hestia any risks?\n:why\n".writeUnsynced(to: input)
        let run = try await CLITests.troupe(["repl", "--persona", "athena"], home: home, config: offline, stdin: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("athena: (No chat model is available"), "\(run.stdout)")
        #expect(run.stdout.contains("(fact: the launch is on Tuesday)"))
        #expect(run.stdout.contains("athena/semantic  (said by user in turn 1 · a person's words, trust 4/4)  the launch is on Tuesday"))
        #expect(run.stdout.contains("\nhestia: (No chat model"))
        #expect(run.stdout.contains("turn 2: user to hestia, answered by offline"))
        #expect(!run.stdout.contains("athena> "), "no prompt when piped")

        try "hello\n:nonsense\n".writeUnsynced(to: input)
        let failed = try await CLITests.troupe(["repl"], home: home, config: offline, stdin: input)
        #expect(failed.status == 1 && failed.stderr.contains("unknown command ':nonsense'"))
    }

    @Test func aServerFailingMidReplyIsReportedAndTheREPLGoesOn() async throws {
        let server = try await ModelServer(mode: "fail")
        let home = try CLITests.tempHome()
        let config = try server.config(in: home)
        let input = home.appendingPathComponent("in.txt")
        try "tell me everything\n:personas\n".writeUnsynced(to: input)
        let run = try await CLITests.troupe(["repl", "--persona", "athena"], home: home, config: config, stdin: input)
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("athena: word0 word1 word2"), "\(run.stdout)")
        #expect(run.stderr.contains("the model failed during the reply"), "\(run.stderr)")
        #expect(run.stdout.contains("* athena"), "the next line still ran")
        let export = try await CLITests.troupe(["memory", "export", "--persona", "athena", "--slice", "working"], home: home, config: config)
        #expect(export.stdout.contains("\"partial\":true") && export.stdout.contains("word0 word1 word2"))
    }

    @Test func inATerminalRepliesStreamAndCtrlCStopsOnlyTheReply() async throws {
        let server = try await ModelServer(mode: "slow")
        let home = try CLITests.tempHome()
        let config = try server.config(in: home)
        let screen = Screen()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        let command = [CLITests.binary.path, "--home", home.path, "--config", config.path, "repl", "--persona", "athena"]
            .map { "'\($0)'" }.joined(separator: " ")
        // `exec`: without it, a shell that stays as troupe's parent (dash when SHELL is unset, as
        // in CI) dies of the Ctrl-C, and `script` reports its exit, 130.
        process.arguments = ["-qfec", "exec " + command, "/dev/null"]
        // A crash's backtrace goes to the screen and the process ends: by default, on a terminal,
        // Swift's backtracer would wait for a key.
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["HOME": home.path, "TERM": "xterm", "SWIFT_BACKTRACE": "interactive=no"]) { $1 }
        let keys = Pipe(), shown = Pipe()
        process.standardInput = keys
        process.standardOutput = shown
        process.standardError = shown
        shown.fileHandleForReading.readabilityHandler = { screen.add($0.availableData) }
        try await offThePool("troupe-test.launch") { try process.run() }
        func type(_ text: String) { keys.fileHandleForWriting.write(Data(text.utf8)) }

        #expect(await eventually(60) { screen.text.contains("athena> ") }, "\(screen.text)")
        type("hello there\r")
        #expect(await eventually(60) { screen.text.contains("athena: word0 word1 word2 word3") }, "\(screen.text)")
        type("\u{03}")  // Ctrl-C
        #expect(await eventually(60) { screen.text.contains("[stopped]") }, "\(screen.text)")
        #expect(!screen.text.contains("word199"), "the reply went on")
        #expect(await eventually(60) { screen.text.components(separatedBy: "athena> ").count >= 3 }, "a new prompt")
        type(":why\r")
        #expect(await eventually(60) { screen.text.contains(", cancelled") }, "\(screen.text)")
        // Ctrl-D only once the prompt is back: libedit puts the terminal in raw mode before it
        // draws the prompt, and a Ctrl-D typed ahead in cooked mode is the terminal's, not ours.
        #expect(await eventually(60) { screen.text.components(separatedBy: "athena> ").count >= 4 }, "\(screen.text)")
        type("\u{04}")  // Ctrl-D
        let ended = await eventually(60) { !process.isRunning }
        #expect(ended, "troupe did not leave at Ctrl-D: \(screen.text)")
        if !ended {  // terminationStatus traps while it runs
            process.terminate()
            shown.fileHandleForReading.readabilityHandler = nil
            return
        }
        #expect(process.terminationStatus == 0, "\(screen.text)")
        shown.fileHandleForReading.readabilityHandler = nil
        let history = try String(contentsOf: home.appendingPathComponent("repl_history"), encoding: .utf8)
        #expect(history.contains("hello"))  // libedit writes the space as \040
    }
}

/// What a terminal shows, as it arrives.
final class Screen: Sendable {
    private let bytes = LockedBox(Data())

    func add(_ data: Data) { bytes.withLock { $0.append(data) } }
    var text: String { String(decoding: bytes.value, as: UTF8.self) }
}

