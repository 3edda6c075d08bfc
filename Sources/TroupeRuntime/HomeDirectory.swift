import Foundation
import TroupeCore

/// The home as a place on disk: what is wrong with a path given as one, and making it.
enum HomeDirectory {
    /// Why `home` cannot be a home (a file stands where it or a parent should be), or `nil`.
    static func problem(_ home: URL) -> String? {
        var path = home.standardizedFileURL
        while path.path != "/" {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    return path == home.standardizedFileURL
                        ? "\(path.path) is a file, not a directory (the home holds the store, models and Redis socket)"
                        : "\(path.path) is a file, not a directory, so the home \(home.path) cannot be made below it"
                }
                return nil
            }
            path = path.deletingLastPathComponent()
        }
        return nil
    }

    /// Makes `home` (and its parents) unless it is there; errors say what and where.
    static func prepare(_ home: URL) throws {
        if let problem = problem(home) { throw TroupeError(.invalidInput, problem) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: home.path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        var made = URL(fileURLWithPath: "/")
        for part in home.standardizedFileURL.pathComponents.dropFirst() {
            made.appendPathComponent(part)
            if mkdir(made.path, 0o755) != 0, errno != EEXIST {
                throw TroupeError(.storage, "cannot create the home: \(String(cString: strerror(errno)))", context: made.path)
            }
        }
    }

    /// Whether this process may create files in `home`.
    static func isWritable(_ home: URL) -> Bool { access(home.path, W_OK) == 0 }
}
