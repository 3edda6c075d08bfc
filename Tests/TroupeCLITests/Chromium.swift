import Foundation
import TroupeCore
import TroupeServiceTestSupport

/// A headless Chromium (Debian's `chromium`) driven over the DevTools protocol through a pipe
/// (`--remote-debugging-pipe`: commands on the child's fd 3, answers on its fd 4, each message
/// JSON ended by a NUL), so that no WebSocket client is needed. One page; calls wait for their
/// answer, each with a generous deadline that only guards against a browser that hangs.
final class Chromium: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct State {
        var nextID = 0
        var pending: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        /// Set when the pipe closed: every later call fails with it.
        var closed: Failure?
        /// Exceptions the page's scripts threw (`Runtime.exceptionThrown`), for failure messages.
        var thrown: [String] = []
    }

    let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private let profile: URL
    private let state = LockedBox(State())
    /// Writes go out in order, off the cooperative pool (a pipe write may block).
    private let writer = DispatchQueue(label: "troupe-test.chromium.writer")
    /// The page's session (set once, after attaching).
    private let page = LockedBox<String?>(nil)

    /// Where the browser is: `TROUPE_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
    static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["TROUPE_CHROMIUM"] { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") { return "\(directory)/\(name)" }
        }
        return nil
    }

    /// Launches the browser on a fresh profile, its stderr in `log`, and attaches to its page.
    static func launch(log: URL) async throws -> Chromium {
        guard let executable else {
            throw Failure(description: "chromium is not installed: the dashboard's browser tests need it (Scripts/setup --tests installs Debian's chromium)")
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-chromium-\(UUID().uuidString)")
        let browser = try await offThePool("troupe-test.chromium.launch") { try Chromium(executable: executable, profile: profile, log: log) }
        let targets = try await browser.call("Target.getTargets")
        guard let target = targets["targetInfos"]?.items.first(where: { $0["type"]?.text == "page" })?["targetId"]?.text else {
            throw Failure(description: "chromium opened no page: \(targets)")
        }
        let attached = try await browser.call("Target.attachToTarget", ["targetId": .string(target), "flatten": .bool(true)])
        browser.page.withLock { $0 = attached["sessionId"]?.text }
        try await browser.call("Runtime.enable")
        return browser
    }

    private init(executable: String, profile: URL, log: URL) throws {
        func pipeAboveFour() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
            // Above 4, so that the child's dup2 onto 3 and 4 never meets one of them; close-on-exec,
            // so that no other child inherits them (the dup2 clears it on 3 and 4).
            let moved = fds.map { fcntl($0, F_DUPFD_CLOEXEC, 10) }
            fds.forEach { close($0) }
            return (moved[0], moved[1])
        }
        let toChild = try pipeAboveFour(), fromChild = try pipeAboveFour()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild.read, 3)
        posix_spawn_file_actions_adddup2(&actions, fromChild.write, 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments = [
            executable, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=\(profile.path)", "about:blank",
        ]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(toChild.read)
        close(fromChild.write)
        guard status == 0 else {
            close(toChild.write)
            close(fromChild.read)
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        (self.pid, commands, answers, self.profile) = (pid, toChild.write, fromChild.read, profile)
        let thread = Thread { [self] in readAnswers() }
        thread.name = "troupe-test.chromium.reader"
        thread.start()
    }

    /// The reader's loop, on a thread of its own: each NUL-ended message answers its call.
    private func readAnswers() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            buffer += chunk[0..<n]
            while let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let value = try? JSONValue.parse(message) else { continue }
                guard case .number(let id)? = value["id"] else {
                    if value["method"]?.text == "Runtime.exceptionThrown", let details = value["params"]?["exceptionDetails"] {
                        let text = details["exception"]?["description"]?.text ?? details["text"]?.text ?? "\(details)"
                        state.withLock { $0.thrown.append(text) }
                    }
                    continue
                }
                let waiting = state.withLock { $0.pending.removeValue(forKey: Int(id)) }
                if let error = value["error"] {
                    waiting?.resume(throwing: Failure(description: "chromium: \(error)"))
                } else {
                    waiting?.resume(returning: value["result"] ?? .null)
                }
            }
        }
        close(answers)
        let failure = Failure(description: "chromium closed its pipe (see its log)")
        let waiting = state.withLock { state -> [CheckedContinuation<JSONValue, any Error>] in
            state.closed = failure
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for continuation in waiting { continuation.resume(throwing: failure) }
    }

    /// One DevTools command; on the page's session unless `browserWide`. Its answer's `result`.
    @discardableResult
    func call(_ method: String, _ parameters: [String: JSONValue] = [:], browserWide: Bool = false, deadline: Duration = .seconds(90)) async throws -> JSONValue {
        var message: [String: JSONValue] = ["method": .string(method), "params": .object(parameters)]
        if !browserWide, let session = page.withLock({ $0 }) { message["sessionId"] = .string(session) }
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        message["id"] = .number(Double(id))
        let bytes = Array(JSONValue.object(message).canonicalText.utf8) + [0]
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLock { state -> Failure? in
                if let closed = state.closed { return closed }
                state.pending[id] = continuation
                return nil
            }
            if let closed { return continuation.resume(throwing: closed) }
            writer.async { [self] in
                var sent = 0
                while sent < bytes.count {
                    let n = bytes[sent...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { return fail(id, "cannot write to chromium: \(String(cString: strerror(errno)))") }
                    sent += n
                }
            }
            // A guard against a browser that hangs, not a wait for anything in particular.
            let seconds = Double(deadline.components.seconds)
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in fail(id, "\(method) had no answer after \(Int(seconds)) s") }
        }
    }

    private func fail(_ id: Int, _ description: String) {
        state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: Failure(description: description))
    }

    /// The value of a JavaScript expression in the page (a promise's, once it settles).
    @discardableResult
    func evaluate(_ expression: String, deadline: Duration = .seconds(90)) async throws -> JSONValue {
        let answer = try await call(
            "Runtime.evaluate", ["expression": .string(expression), "awaitPromise": .bool(true), "returnByValue": .bool(true)], deadline: deadline)
        if let exception = answer["exceptionDetails"] { throw Failure(description: "the page threw: \(exception)") }
        return answer["result"]?["value"] ?? .null
    }

    /// Waits until `condition` (a JavaScript expression) holds in the page: checked now and after
    /// every change to the document, so the wait ends with the change that makes it true.
    func waitUntil(_ condition: String, _ what: String, deadline: Duration = .seconds(90)) async throws {
        let script = """
            new Promise((resolve) => {
              const holds = () => { try { return Boolean(\(condition)); } catch (e) { return false; } };
              if (holds()) return resolve(true);
              const observer = new MutationObserver(() => { if (holds()) { observer.disconnect(); resolve(true); } });
              observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
            })
            """
        do { try await evaluate(script, deadline: deadline) } catch {
            let text = (try? await evaluate("document.body ? document.body.innerText : ''", deadline: .seconds(10)))?.text ?? "?"
            let thrown = state.withLock { $0.thrown }.joined(separator: "\n")
            throw Failure(description: "waiting for \(what): \(error)\n--- the page threw:\n\(thrown)\n--- the page reads:\n\(text.prefix(3000))")
        }
    }

    /// Opens `url` in the page.
    func navigate(_ url: String) async throws {
        try await call("Page.navigate", ["url": .string(url)])
    }

    /// A PNG of the page as it is now, written to `file`.
    func screenshot(_ file: URL) async throws {
        let shot = try await call("Page.captureScreenshot", ["format": .string("png"), "captureBeyondViewport": .bool(true)])
        guard let base64 = shot["data"]?.text, let data = Data(base64Encoded: base64) else { throw Failure(description: "no screenshot") }
        try await offThePool("troupe-test.chromium.screenshot") { try data.write(to: file) }
    }

    /// Stops the browser (SIGTERM, then its end) and removes its profile.
    func stop() async throws {
        kill(pid, SIGTERM)
        let (pid, profile, commands) = (self.pid, self.profile, self.commands)
        try await offThePool("troupe-test.chromium.wait") {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            close(commands)
            try? FileManager.default.removeItem(at: profile)
        }
    }
}
