import Crypto
import Foundation
import TroupeCore

/// The key that wraps every data key of a vault. It never seals a record itself, so that a new
/// master key re-wraps a few data keys and touches no record.
public struct MasterKey: Sendable {
    let key: SymmetricKey

    /// 32 random bytes.
    public static func generate() -> MasterKey { MasterKey(key: SymmetricKey(size: .bits256)) }

    /// From its base64 text (32 bytes); `what` names where it came from, for errors.
    public init(base64 text: String, from what: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else {
            throw TroupeError(.invalidConfig, "the vault's master key from \(what) is not 32 bytes in base64 (make one with `head -c 32 /dev/urandom | base64`)")
        }
        key = SymmetricKey(data: bytes)
    }

    init(key: SymmetricKey) { self.key = key }

    public var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }

    /// Names the key without giving anything of it away: the first 16 hex digits of a SHA-256
    /// of it, under a label of its own.
    public var fingerprint: String {
        var hash = SHA256()
        hash.update(data: Data("troupe-vault-master-1".utf8))
        key.withUnsafeBytes { hash.update(bufferPointer: $0) }
        return hash.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

/// Where a vault's master key comes from.
public enum MasterKeySource: Sendable, Hashable, CustomStringConvertible {
    /// A file of its base64 text, readable by its owner only (the home's vault/master.key).
    case file(URL)
    /// An environment variable holding its base64 text.
    case environment(String)
    /// A command (run by /bin/sh) that prints its base64 text: an external KMS.
    case command(String)

    public var description: String {
        switch self {
        case .file(let url): "the key file \(url.path)"
        case .environment(let name): "the variable \(name)"
        case .command(let command): "the command '\(command)'"
        }
    }

    /// The key, or an error naming the source and what is wrong with it.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey {
        switch self {
        case .file(let url):
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw TroupeError(.invalidConfig, "the vault's master key is missing: \(description) cannot be read", context: url.path)
            }
            let mode = (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? 0
            guard mode & 0o077 == 0 else {
                throw TroupeError(
                    .invalidConfig, "the vault's master key file can be read by others (mode \(String(mode, radix: 8))); `chmod 600` it",
                    context: url.path)
            }
            return try MasterKey(base64: text, from: description)
        case .environment(let name):
            guard let text = environment[name], !text.isEmpty else {
                throw TroupeError(.invalidConfig, "the vault's master key is missing: \(name) is not set in the environment")
            }
            return try MasterKey(base64: text, from: description)
        case .command(let command):
            return try MasterKey(base64: try Self.run(command), from: description)
        }
    }

    /// Writes `key` to a new file source, readable by its owner only, replacing it whole.
    public func store(_ key: MasterKey) throws {
        guard case .file(let url) = self else {
            throw TroupeError(.invalidConfig, "the vault's master key comes from \(description), which Troupe cannot write: put the new key there yourself")
        }
        try SecretFile.write(Data((key.base64 + "\n").utf8), to: url)
    }

    private static func run(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw TroupeError(.invalidConfig, "the vault's master key command '\(command)' could not be started", cause: error)
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TroupeError(.invalidConfig, "the vault's master key command '\(command)' failed (exit \(process.terminationStatus))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Files only their owner reads, written whole: to a temporary file made 0600, synced, renamed
/// over the old one, and the directory synced, so that a crash leaves the old file or the new.
enum SecretFile {
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw TroupeError(.storage, "cannot write \(temporary.path): \(String(cString: strerror(errno)))") }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temporary.path)
            throw TroupeError(.storage, "cannot write \(url.path): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw TroupeError(.storage, "cannot replace \(url.path): \(String(cString: strerror(code)))")
        }
        syncDirectory(directory)
    }

    /// Syncs a directory, so that a rename in it survives a crash.
    static func syncDirectory(_ directory: URL) {
        let dir = open(directory.path, O_RDONLY)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }
}
