import TroupeCore

/// One server-sent event: what a `text/event-stream` dispatches at each blank line.
public struct SSEEvent: Sendable, Hashable {
    /// The `event:` field; `nil` when the event did not name a type (the spec's "message").
    public var type: String?
    /// The `data:` lines, joined with `\n`.
    public var data: String
    /// The last `id:` seen in the stream so far (ids carry over to later events, as the spec says).
    public var id: String?
    /// The `retry:` field of this event, in milliseconds, when it had a valid one.
    public var retry: Int?

    public init(type: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.type = type
        self.data = data
        self.id = id
        self.retry = retry
    }
}

/// An incremental parser of `text/event-stream` (the WHATWG server-sent events format): bytes
/// in, whole events out.
///
/// Bytes may arrive split anywhere, a CRLF included; lines end with CR, LF or CRLF; a leading
/// UTF-8 BOM is skipped; `:` lines are comments (keep-alives) and are dropped; `data:` lines
/// accumulate until a blank line dispatches the event; an event without data is not dispatched.
/// Lines and events are bounded so that a server cannot make the client buffer without end.
/// The parser is a value with no I/O, so it can be fuzzed and tested byte by byte.
public struct SSEParser: Sendable {
    /// How long a line and an event may grow, in bytes.
    public struct Limits: Sendable, Hashable {
        public var maxLineBytes: Int
        public var maxEventBytes: Int

        /// 1 MiB lines and 4 MiB events: a chat chunk is well under a kilobyte, but some servers put
        /// a whole non-streamed reply into one event.
        public init(maxLineBytes: Int = 1 << 20, maxEventBytes: Int = 4 << 20) {
            self.maxLineBytes = maxLineBytes
            self.maxEventBytes = maxEventBytes
        }
    }

    public let limits: Limits
    private var line: [UInt8] = []
    /// The last byte ended a line with CR: an LF that follows belongs to it (CRLF), even across feeds.
    private var afterCR = false
    /// Still at the very start of the stream, where a BOM may be (how many of its bytes matched).
    private var bomMatched = 0
    private var atStart = true
    private var data: [UInt8] = []
    private var hasData = false
    private var type: String?
    private var retry: Int?
    private var lastID: String?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses `bytes` and returns the events they complete, in order.
    ///
    /// Throws a ``TroupeError`` (`invalidInput`) when a line or an event exceeds its limit; the
    /// parser must not be fed after that.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if atStart {
                // The BOM (EF BB BF) is only skipped at the very start; a partial match that fails
                // gives its bytes back to the line.
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[bomMatched] {
                    bomMatched += 1
                    if bomMatched == bom.count {
                        atStart = false
                        bomMatched = 0
                    }
                    continue
                }
                atStart = false
                let partial = bom.prefix(bomMatched)
                bomMatched = 0
                for b in partial { try append(b) }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if afterCR {
                    afterCR = false
                } else if let event = try endLine() {
                    events.append(event)
                }
            case UInt8(ascii: "\r"):
                afterCR = true
                if let event = try endLine() { events.append(event) }
            default:
                afterCR = false
                try append(byte)
            }
        }
        return events
    }

    /// The end of the stream. A last event that no blank line closed is discarded, as the spec
    /// says: a stream cut short must not dispatch half an event. Returns whether such a partial
    /// event (or line) was pending, so a caller can tell a clean end from a cut.
    public mutating func finish() -> Bool {
        let pending = !line.isEmpty || hasData || bomMatched > 0
        line.removeAll()
        data.removeAll()
        hasData = false
        type = nil
        retry = nil
        return pending
    }

    private mutating func append(_ byte: UInt8) throws {
        guard line.count < limits.maxLineBytes else {
            throw TroupeError(.invalidInput, "a server-sent event line is longer than \(limits.maxLineBytes) bytes (the limit)")
        }
        line.append(byte)
    }

    private mutating func endLine() throws -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = colon.map { line[..<$0] } ?? line[...]
        var value = colon.map { line[($0 + 1)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch String(decoding: name, as: UTF8.self) {
        case "data":
            guard data.count + value.count + 1 <= limits.maxEventBytes else {
                throw TroupeError(.invalidInput, "a server-sent event is longer than \(limits.maxEventBytes) bytes (the limit)")
            }
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        case "event":
            type = String(decoding: value, as: UTF8.self)
        case "id":
            // An id with a NUL is ignored, so that it cannot end a C string early on the way back.
            if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), value.count <= 18 {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        default:
            break  // Unknown fields are ignored, as the spec says.
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            type = nil
            retry = nil
        }
        guard hasData else { return nil }
        let typeName = (type?.isEmpty ?? true) ? nil : type
        return SSEEvent(type: typeName, data: String(decoding: data, as: UTF8.self), id: lastID, retry: retry)
    }
}
