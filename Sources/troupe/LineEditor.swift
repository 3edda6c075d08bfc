import Foundation
internal import CEditLine
import TroupeCore

/// Line editing and history for the REPL: libedit's readline interface, the one adapter to it.
/// Lines are read on a thread of their own (readline blocks), never on Swift's cooperative pool.
///
/// libedit's state is only touched on `queue`, so the editor can be shared between tasks.
final class LineEditor: Sendable {
    private let queue = DispatchQueue(label: "troupe.line-editor")
    private let history: String

    /// Reads the history file in `home` (`repl_history`), keeping the last 1000 lines.
    init(home: URL) {
        history = home.appendingPathComponent("repl_history").path
        queue.sync {
            troupe_editline_setup(strdup("troupe"))
            stifle_history(1000)
            _ = read_history(history)
        }
    }

    /// The next line typed after `prompt`, or `nil` at Ctrl-D (or when the task is cancelled:
    /// the read is then abandoned to its thread).
    func read(prompt: String) async -> String? {
        await OnceReply.run { reply in
            queue.async {
                guard let line = readline(prompt) else { return reply(nil) }
                defer { free(line) }
                reply(String(cString: line))
            }
        }
    }

    /// Adds `line` to the history and saves it.
    func remember(_ line: String) {
        queue.async { [history] in
            _ = add_history(line)
            _ = write_history(history)
        }
    }
}

/// A blocking read bridged to async code, answered once: by the read, or with `nil` when the
/// awaiting task is cancelled first (a shutdown does not wait for a line).
final class OnceReply: Sendable {
    /// The awaiting task until the first answer takes it.
    private let continuation = LockedBox<CheckedContinuation<String?, Never>?>(nil)

    static func run(_ start: (@escaping @Sendable (String?) -> Void) -> Void) async -> String? {
        let once = OnceReply()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                once.continuation.withLock { $0 = continuation }
                start { once.resume($0) }
                if Task.isCancelled { once.resume(nil) }
            }
        } onCancel: {
            once.resume(nil)
        }
    }

    private func resume(_ value: String?) {
        let waiting = continuation.withLock { $0.take() }
        waiting?.resume(returning: value)
    }
}
