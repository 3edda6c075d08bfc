import Foundation

/// Removes test directories on a serial queue of its own (a thread that is not the cooperative
/// pool's: removing a tree is file I/O that a busy disk makes slow), trying again for a moment
/// when something the test started still writes into it (a runtime's memory formation, a
/// redis-server's watchdog). The process waits for the queue when it exits, so none is left.
public enum DirectoryRemoval {
    private static let queue: DispatchQueue = {
        let queue = DispatchQueue(label: "troupe-test.removals")
        atexit { DirectoryRemoval.drain() }
        return queue
    }()

    private static func drain() { queue.sync {} }

    /// Removes `url` soon, in the background.
    public static func remove(_ url: URL) {
        queue.async {
            for _ in 0..<50 {
                do {
                    try FileManager.default.removeItem(at: url)
                    return
                } catch {
                    guard FileManager.default.fileExists(atPath: url.path) else { return }
                    usleep(20_000)
                }
            }
        }
    }
}
