import Foundation

/// Scripts for ``TestServer``: whole responses, and SSE streams cut wherever a test wants.
enum Responses {
    /// A whole response with a body and `Connection: close`.
    static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> [TestServer.Step] {
        var head = "HTTP/1.1 \(status) \(reason(status))\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        return [.write(Array((head + "\r\n" + body).utf8))]
    }

    /// The head of a chunked `text/event-stream`.
    static let sseHead: TestServer.Step = .write(Array(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8))

    /// `bytes` as one HTTP chunk.
    static func chunk(_ bytes: some Collection<UInt8>) -> TestServer.Step {
        .write(Array(String(bytes.count, radix: 16).utf8) + Array("\r\n".utf8) + Array(bytes) + Array("\r\n".utf8))
    }

    /// The last chunk: a clean end of the body.
    static let end: TestServer.Step = .write(Array("0\r\n\r\n".utf8))

    /// A whole SSE response whose body is `stream`, cut into writes of `pieceSize` bytes (a
    /// pause between them, so that they reach the client as separate reads).
    static func sse(_ stream: String, pieceSize: Int = 1 << 20) -> [TestServer.Step] {
        let bytes = Array(stream.utf8)
        var steps: [TestServer.Step] = [sseHead]
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + pieceSize)
            steps.append(chunk(bytes[start..<end]))
            if pieceSize < bytes.count { steps.append(.pause(.milliseconds(1))) }
            start = end
        }
        steps.append(end)
        return steps
    }

    /// The SSE text of a chat reply made of `pieces`, as OpenAI sends it: a role-only chunk, one
    /// chunk per piece, the finish reason, the usage chunk, `[DONE]`.
    static func chatStream(_ pieces: [String], finish: String = "stop", promptTokens: Int = 11, completionTokens: Int? = nil,
                           lineEnd: String = "\n") -> String {
        func event(_ json: String) -> String { "data: \(json)\(lineEnd)\(lineEnd)" }
        var text = event(#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#)
        for piece in pieces { text += event(contentChunk(piece)) }
        text += event(#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"\#(finish)"}]}"#)
        text += event(#"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(completionTokens ?? pieces.count),"total_tokens":0}}"#)
        text += "data: [DONE]\(lineEnd)\(lineEnd)"
        return text
    }

    static func contentChunk(_ piece: String) -> String {
        let escaped = String(data: try! JSONEncoder().encode(piece), encoding: .utf8)!
        return #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\#(escaped)},"finish_reason":null}]}"#
    }

    static func models(_ names: [String]) -> [TestServer.Step] {
        json(200, #"{"object":"list","data":["# + names.map { #"{"id":"\#($0)","object":"model"}"# }.joined(separator: ",") + "]}")
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
