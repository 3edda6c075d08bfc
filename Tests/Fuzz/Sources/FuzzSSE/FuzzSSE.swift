import FuzzSupport
import TroupeLLM

/// A server-sent event stream of any bytes, fed whole and then cut at every eighth byte: the
/// events must be the same either way.
func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = SSEParser.Limits(maxLineBytes: 256, maxEventBytes: 1024)
    var whole = SSEParser(limits: limits)
    let all = try? whole.feed(bytes)
    var pieces = SSEParser(limits: limits)
    var cut: [SSEEvent]? = []
    for start in stride(from: 0, to: bytes.count, by: 8) {
        guard let events = try? pieces.feed(bytes[start..<min(start + 8, bytes.count)]) else {
            cut = nil
            break
        }
        cut?.append(contentsOf: events)
    }
    if (all == nil) != (cut == nil) { fatalError("split input was refused one way and not the other") }
    if let all, let cut, all != cut { fatalError("split input gave other events") }
    return 0
}

@_cdecl("FuzzSSE_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzSSE(data, size) }
}
