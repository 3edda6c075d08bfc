import TroupeCore

/// One table from error codes to what each front end says: the CLI's exit code, the HTTP
/// status, and the short name an MCP tool error starts with.
public enum ErrorTable {
    public struct Entry: Sendable, Hashable {
        public var exitCode: Int32
        public var httpStatus: Int
        /// `denied`, `not-found`, …: the code as front ends name it.
        public var name: String
    }

    /// Every code's entry. The CLI's exit codes stay those it has always had (1 for any
    /// failure; 2 is for usage errors, which the argument parser reports before any call).
    public static func entry(_ code: TroupeError.Code) -> Entry {
        switch code {
        case .invalidInput: Entry(exitCode: 1, httpStatus: 400, name: code.rawValue)
        case .invalidConfig: Entry(exitCode: 1, httpStatus: 500, name: code.rawValue)
        case .notFound: Entry(exitCode: 1, httpStatus: 404, name: code.rawValue)
        case .conflict: Entry(exitCode: 1, httpStatus: 409, name: code.rawValue)
        case .duplicate: Entry(exitCode: 1, httpStatus: 409, name: code.rawValue)
        case .denied: Entry(exitCode: 1, httpStatus: 403, name: code.rawValue)
        case .unauthenticated: Entry(exitCode: 1, httpStatus: 401, name: code.rawValue)
        case .rateLimited: Entry(exitCode: 1, httpStatus: 429, name: code.rawValue)
        case .storage: Entry(exitCode: 1, httpStatus: 500, name: code.rawValue)
        case .unavailable: Entry(exitCode: 1, httpStatus: 503, name: code.rawValue)
        }
    }

    /// The exit code for usage errors (a bad flag, a missing argument).
    public static let usageExitCode: Int32 = 2

    /// The entry for any error: a ``TroupeError`` by its code, anything else as a storage
    /// failure (an error the service did not expect is the server's, not the caller's).
    public static func entry(for error: any Error) -> Entry {
        (error as? TroupeError).map { entry($0.code) } ?? entry(.storage)
    }
}
