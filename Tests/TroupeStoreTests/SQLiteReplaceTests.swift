import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// `SQLiteStore.replaceContents(from:unchangedSince:)`: a store takes another file's contents in
/// one transaction, seen at once by another connection, and refuses when it was written since
/// its fingerprint was taken.
@Suite("SQLite store: replacing the contents")
struct SQLiteReplaceTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-replace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aStoreTakesACopysContentsAndRefusesWhenWrittenMeanwhile() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("home.sqlite").path
        let home = try await TestSQLite.open(path)
        try await home.put(record("a", content: "before the copy"), vector: nil)
        let fingerprint = try await home.fingerprint()
        let staging = folder.appendingPathComponent("staging.sqlite").path
        try await home.copy(to: staging)
        let copy = try await TestSQLite.open(staging)
        try await copy.put(record("b", content: "written in the copy"), vector: nil)

        // Another connection to the home, open all along.
        let reader = try await TestSQLite.open(path)
        try await home.replaceContents(from: staging, unchangedSince: fingerprint)
        #expect(try await reader.get("b")?.content == "written in the copy")
        #expect(try await reader.get("a")?.content == "before the copy")
        #expect(try await home.fingerprint() != fingerprint)

        // Written after the fingerprint: nothing is replaced.
        try await home.put(record("c", content: "a write meanwhile"), vector: nil)
        try await copy.put(record("d", content: "only in the copy"), vector: nil)
        let error = await #expect(throws: TroupeError.self) { try await home.replaceContents(from: staging, unchangedSince: fingerprint) }
        #expect(error?.code == .conflict)
        let (kept, notCopied) = (try await home.get("c"), try await home.get("d"))
        #expect(kept != nil && notCopied == nil)
    }
}
