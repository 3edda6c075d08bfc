/// The error every Troupe module throws: a code to match on, a message for people, where it
/// happened, and the underlying cause.
///
/// Messages never include a memory's content: a store error names the operation, not the data.
public struct TroupeError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A file or a value given by the user is wrong.
        case invalidInput = "invalid-input"
        /// The persona directory or the config file does not validate.
        case invalidConfig = "invalid-config"
        /// An id, persona or slice that does not exist.
        case notFound = "not-found"
        /// An update was based on a version that is no longer current.
        case conflict
        /// A record with that id exists already.
        case duplicate
        /// A persona asked for memory that is not its own (another persona's private slices, or
        /// a shared slice it is not a member of).
        case denied
        /// A caller without a valid key (none given, unknown, wrong, revoked).
        case unauthenticated
        /// A caller over its rate limit; it may try again later.
        case rateLimited = "rate-limited"
        /// The durable store failed (disk full, corrupt file, I/O).
        case storage
        /// Something the machine lacks (a library, a model, a server).
        case unavailable
    }

    public var code: Code
    public var message: String
    /// Where it happened: a file and line, an operation, a record id.
    public var context: String?
    /// The error that caused this one, as text (it may come from a C library).
    public var cause: String?
    /// For a conflict: the record's current version, which a retry should be based on.
    public var currentVersion: Int?

    public init(_ code: Code, _ message: String, context: String? = nil, cause: (any Error)? = nil, currentVersion: Int? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.cause = cause.map { String(describing: $0) }
        self.currentVersion = currentVersion
    }

    public var description: String {
        var text = context.map { "\($0): \(message)" } ?? message
        if let cause { text += " (\(cause))" }
        return text
    }
}
