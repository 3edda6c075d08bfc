import Foundation
import FuzzSupport
import TroupeConfig

/// A runtime config file of any bytes, read and validated as `Config/troupe.yaml` is.
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let url = URL(fileURLWithPath: "/dev/shm/troupe-fuzz-config-\(getpid()).yaml")
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    let source = YAMLSource(contentsOf: url)
    _ = Configuration.read(runtimeFrom: source, directory: url.deletingLastPathComponent())
    for diagnostic in source.diagnostics { _ = diagnostic.rendered }
    return 0
}

@_cdecl("FuzzConfig_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzConfig(data, size) }
}
