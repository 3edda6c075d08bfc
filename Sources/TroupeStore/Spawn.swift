import Foundation
import TroupeCore

/// Runs helper programs that may leave a daemon behind (redis-server, the watchdogs, pg_ctl).
package enum Spawn {
    /// Runs `binary` and waits for it (not for a daemon it starts); returns its exit status.
    /// Its output goes to `output` (appended), else nowhere.
    ///
    /// Not Foundation's `Process`: on Linux its `waitUntilExit` watches a descriptor that a
    /// daemon inherits, so it would wait for the daemon itself, that is, forever.
    @discardableResult
    package static func run(_ binary: String, _ arguments: [String], environment: [String]? = nil, output: String? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else: a descriptor this process inherited without close-on-exec (say, the
        // write end of a pipe whose reader waits for EOF) would stay open as long as the daemon.
        // (glibc's addclosefrom_np is not visible to Swift, so each open one is listed.)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap(Int32.init)) ?? []
        for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        // A spawned process inherits the signal mask and ignored signals: this process may block
        // SIGTERM or ignore SIGPIPE, and a server must do neither (it would never stop).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t(), defaults = sigset_t()
        sigemptyset(&mask)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A process group of its own: a Ctrl-C in the terminal that started it is not for it.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for variable in envp ?? [] { free(variable) } }
        let spawned = envp.map { posix_spawn(&pid, binary, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, binary, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw TroupeError(.unavailable, "cannot start \((binary as NSString).lastPathComponent): \(String(cString: strerror(spawned)))", context: binary)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WEXITSTATUS, or 128 + the signal that ended it.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
