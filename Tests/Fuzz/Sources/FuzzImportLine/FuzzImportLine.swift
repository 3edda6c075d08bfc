import Foundation
import FuzzSupport
import TroupeCore
import TroupeStore

/// An import file of any bytes: split into lines by the reader (with a small line limit, so
/// over-long lines are exercised too), each line decoded, and a decoded record encoded again
/// and decoded back to itself.
func fuzzImportLine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let url = URL(fileURLWithPath: "/dev/shm/troupe-fuzz-import-\(getpid()).jsonl")
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    let context = MemoryLine.Context(
        knownOwners: nil, now: Date(timeIntervalSince1970: 1_800_000_000),
        sharedKinds: ["team-decisions": .semantic])
    guard var reader = try? JSONLReader(url: url, chunkSize: 64, maxLineBytes: 512) else { return 0 }
    while let line = try? reader.next() {
        guard line.overLimit == nil, case .success(let record) = MemoryLine.decode(line.bytes, line: line.number, context: context) else {
            continue
        }
        var trusted = context
        trusted.keepSource = true
        let again = MemoryLine.decode(Data(MemoryLine.encode(record).utf8), line: 1, context: trusted)
        guard case .success(let back) = again, back == record else { fatalError("an encoded record does not decode to itself") }
    }
    return 0
}

@_cdecl("FuzzImportLine_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzImportLine(data, size) }
}
