import Foundation
import Testing
import TroupeCore
import TroupePostgres
import TroupeSQLite
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport
import TroupeVault

/// Encryption at rest on the real stores: nothing of a memory is readable in the files or a
/// dump, every value opens only in its own place, and keys are named when they are wrong.
@Suite("Vault on the stores")
struct VaultStoreTests {
    /// Words that go into every sealed field; none may be found in the bytes at rest.
    static let phrases = ["PAPAYAFLAMINGO", "WOMBATSECRET", "zebracodetag", "QUOKKAMETA", "LOSTNARWHAL", "SAIDPANGOLIN", "HISTORYOKAPI"]
    /// A vector whose bytes are as recognisable as a phrase.
    static let vector = EmbeddedVector(model: "test-model", values: (0..<64).map { Float($0) + 0.5 })

    /// Writes a phrase into each kind of sealed value: content, tags, metadata, an earlier
    /// version, a lost value, a vector and a queued formation job.
    static func fill(_ store: any MemoryStore) async throws {
        var first = record("r1", content: "The launch codeword is PAPAYAFLAMINGO", tags: ["zebracodetag"])
        first.metadata = .object(["note": .string("QUOKKAMETA")])
        try await store.put(first, vector: vector)
        try await store.put(record("r2", "hestia", content: "HISTORYOKAPI was the old plan"), vector: nil)
        _ = try await store.update("r2", expectedVersion: 1, change: MemoryChange(content: "We rotate the WOMBATSECRET quarterly"),
                                   writer: "hestia", at: t0.addingTimeInterval(1), vector: vector)
        let shared = { (base: Int, writer: PersonaID, text: String) in
            SharedWrite(id: "d1", owner: "team-decisions", slice: .semantic, writer: writer, baseVersion: base,
                        change: MemoryChange(content: text), policy: .priority)
        }
        _ = try await store.writeShared([shared(0, "athena", "Use SQLite.")], priorities: ["athena": 90, "artemis": 60], at: t0)
        _ = try await store.writeShared([shared(0, "artemis", "Use LOSTNARWHAL.")], priorities: ["athena": 90, "artemis": 60], at: t0)
        _ = try await store.enqueueFormation(QueuedFormation(
            id: "f1", persona: "athena", conversation: "c1", turn: 1, said: #"{"said":"SAIDPANGOLIN"}"#, enqueuedAt: t0))
    }

    /// Reads back what ``fill`` wrote.
    static func checkReadable(_ store: any MemoryStore) async throws {
        let r1 = try #require(try await store.get("r1"))
        #expect(r1.content.contains("PAPAYAFLAMINGO") && r1.tags == ["zebracodetag"] && r1.metadata == .object(["note": .string("QUOKKAMETA")]))
        #expect(try await store.query(MemoryQuery(tag: "zebracodetag")).map(\.id) == ["r1"])
        let history = try await store.history("r2")
        #expect(history.versions.map(\.content) == ["HISTORYOKAPI was the old plan", "We rotate the WOMBATSECRET quarterly"])
        #expect(try await store.history("d1").lost.map(\.content) == ["Use LOSTNARWHAL."])
        #expect(try await store.pendingFormations().map(\.said) == [#"{"said":"SAIDPANGOLIN"}"#])
        let entries = try await store.indexEntries(owners: ["athena"], slices: nil, model: vector.model, after: nil, limit: 100)
        #expect(entries.first { $0.id == "r1" }?.vector == vector.values)
    }

    /// The phrases (and the vector's bytes) found in `bytes`, as they are or in hex (how a dump
    /// writes binary columns).
    static func plaintext(in bytes: Data) -> [String] {
        let hex = { (data: Data) in Data(data.map { String(format: "%02x", $0) }.joined().utf8) }
        var found = phrases.filter { bytes.range(of: Data($0.utf8)) != nil || bytes.range(of: hex(Data($0.utf8))) != nil }
        let vectorBytes = vector.values.storedBytes.prefix(32)
        if bytes.range(of: vectorBytes) != nil || bytes.range(of: hex(vectorBytes)) != nil { found.append("vector bytes") }
        return found
    }

    @Test func aSealedSQLiteFileAndItsLogHoldNothingOfAMemory() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("memory.sqlite").path
        let vault = try await TestVault.made(in: directory.url)
        let held = LockedBox<SQLiteStore?>(try await TestSQLite.open(path, sealer: vault))
        try await Self.fill(held.value!)
        try await Self.checkReadable(held.value!)
        // The log before the store closes (its pages not yet checkpointed), then both after.
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data()
        #expect(Self.plaintext(in: wal).isEmpty)
        _ = try await offThePool("troupe-test.sqlite.close") { held.withLock { $0 = nil } }
        for file in [path, path + "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            #expect(Self.plaintext(in: bytes).isEmpty, "\(file)")
        }
        // The same file opened as plain (the control: the phrases are in a plain store).
        let plainPath = directory.file("plain.sqlite").path
        let plain = LockedBox<SQLiteStore?>(try await TestSQLite.open(plainPath))
        try await Self.fill(plain.value!)
        _ = try await offThePool("troupe-test.sqlite.close") { plain.withLock { $0 = nil } }
        let plainBytes = try Data(contentsOf: URL(fileURLWithPath: plainPath)) + ((try? Data(contentsOf: URL(fileURLWithPath: plainPath + "-wal"))) ?? Data())
        #expect(Self.plaintext(in: plainBytes).count >= 5)
        // Reopened with the vault, everything reads back.
        try await Self.checkReadable(try await TestSQLite.open(path, sealer: vault))
    }

    @Test func aSealedPostgresDumpHoldsNothingOfAMemory() async throws {
        let directory = try TemporaryDirectory()
        let location = try await TestPostgres.freshLocation()
        let store = try await TestPostgres.open(location, connections: 1, sealer: try await TestVault.made(in: directory.url))
        try await Self.fill(store)
        try await Self.checkReadable(store)
        let dump = try await offThePool("troupe-test.pg_dump") { try Self.pgDump(location) }
        #expect(dump.range(of: Data("formation_job".utf8)) != nil, "the dump holds the schema's tables")
        #expect(Self.plaintext(in: dump).isEmpty)
        // The control: the same writes to a plain store are all in its dump.
        let plainLocation = try await TestPostgres.freshLocation()
        try await Self.fill(try await TestPostgres.open(plainLocation, connections: 1))
        let plainDump = try await offThePool("troupe-test.pg_dump") { try Self.pgDump(plainLocation) }
        #expect(Self.plaintext(in: plainDump).count == Self.phrases.count + 1)
    }

    static func pgDump(_ location: PostgresLocation) throws -> Data {
        let process = Process()
        // Beside the server's tools, else the newest installed (a PATH may hold only initdb and pg_ctl).
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        let candidates = [ScratchPostgres.binaries()].compactMap { $0 } + versions.reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        let tool = try #require(candidates.map { $0 + "/pg_dump" }.first(where: FileManager.default.isExecutableFile(atPath:)))
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--dbname", location.url, "--schema", try #require(location.schema), "--no-owner"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return data
    }

    /// Runs re-sealing batches of `size` until done; returns values sealed again.
    static func reseal(_ store: any ResealingStore, marker: String, size: Int, from old: any RecordSealer, to new: any RecordSealer) async throws -> Int {
        var total = 0
        while true {
            let batch = try await store.resealBatch(marker: marker, limit: size, from: old, to: new)
            total += batch.resealed
            if batch.finished { return total }
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aPlainStoreIsSealedInPlaceAndItsKeysRotateInBatches(kind: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let location = try await TestPostgres.freshLocation()
        let path = directory.file("memory.sqlite").path
        let open = { (sealer: any RecordSealer) async throws -> any ResealingStore in
            kind == "sqlite" ? try await TestSQLite.open(path, sealer: sealer) : try await TestPostgres.open(location, connections: 1, sealer: sealer)
        }
        let plain = try await open(PlainSealer())
        try await Self.fill(plain)
        // Sealed in batches of three rows, each value once: r1's content, tags and metadata,
        // r2's and d1's content and tags, r2's first version's, the lost value's, two vectors and
        // the queued words (a metadata that is not there is not sealed).
        let sealed = try await Self.reseal(plain, marker: "seal", size: 3, from: PlainSealer(), to: vault)
        #expect(sealed == 3 + 2 + 2 + 2 + 2 + 2 + 1)
        try await plain.setInfo("codec", vault.id)
        let store = try await open(vault)
        try await Self.checkReadable(store)
        if kind == "sqlite" {
            #expect(Self.plaintext(in: try Data(contentsOf: URL(fileURLWithPath: path))).isEmpty)
        }
        // A rotation of athena's key: her values (r1's three, its vector, the queued words) are
        // sealed again; nobody else's.
        _ = try vault.beginRotation(owners: ["athena"])
        try await store.setInfo("rotate", "")
        #expect(try await Self.reseal(store, marker: "rotate", size: 2, from: vault, to: vault) == 5)
        try await store.setInfo("rotate", "")
        #expect(try await Self.reseal(store, marker: "rotate", size: 2, from: vault, to: vault) == 0)
        try vault.finishRotation()
        try await Self.checkReadable(store)
        #expect(try vault.status().keys.filter { $0.owner == "athena" }.map(\.state) == ["retired", "active"])
    }
}
