import Foundation
import TroupeCore
import TroupeStore

/// How a record is held in Redis: its version in decimal and a newline (which the Lua put
/// script reads to keep the newest), then every field in a compact binary form: strings with
/// a 32-bit length, numbers and times as 64-bit little-endian. Decoding is a walk over the bytes, an
/// order of magnitude cheaper than parsing the JSONL form, and a hot read decodes every item.
enum HotRecordCodec {
    /// The layout's own version, after the header line; a value of another layout decodes to
    /// `nil` (and is then read from SQLite, and replaced by the next rebuild).
    static let layout: UInt8 = 1

    /// The layout of a sealed value: after the header line, the owner and the id (as the item's
    /// key names them), then the fields of layout 1 sealed as one value under the owner's key,
    /// bound to the record and version.
    static let sealedLayout: UInt8 = 2

    static func encode(_ r: MemoryRecord, sealer: any RecordSealer = PlainSealer()) throws -> [UInt8] {
        var out = Array("\(r.version)\n".utf8)
        guard sealer.seals else {
            out.append(layout)
            out += fields(r)
            return out
        }
        out.append(sealedLayout)
        for text in [r.owner.rawValue, r.id] {
            withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: text.utf8)
        }
        out += try sealer.seal(fields(r), at: place(owner: r.owner.rawValue, id: r.id, version: Int64(r.version)))
        return out
    }

    static func place(owner: String, id: String, version: Int64) -> SealedPlace {
        SealedPlace(owner: owner, record: id, version: version, field: .hot)
    }

    /// Every field, in the compact binary form.
    private static func fields(_ r: MemoryRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + r.content.utf8.count)
        func string(_ s: String?) {
            guard let s else { return integer32(UInt32.max) }
            integer32(UInt32(s.utf8.count))
            out.append(contentsOf: s.utf8)
        }
        func integer32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func integer64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        // Times exactly as held (seconds since 2001 as a Double's bits); none as a NaN.
        func time(_ d: Date?) { integer64(Int64(bitPattern: (d?.timeIntervalSinceReferenceDate ?? .nan).bitPattern)) }
        string(r.id)
        string(r.owner.rawValue)
        string(r.slice.rawValue)
        string(r.content)
        integer64(Int64(bitPattern: r.importance.bitPattern))
        integer32(UInt32(r.tags.count))
        r.tags.forEach { string($0) }
        string(r.source)
        time(r.createdAt)
        time(r.lastAccessedAt)
        integer64(Int64(r.accessCount))
        time(r.validFrom)
        time(r.validTo)
        time(r.expiresAt)
        integer64(Int64(r.version))
        string(r.modelID)
        string(r.metadata?.canonicalText)
        return out
    }

    /// The record in `bytes`, or `nil` for anything else: another layout, a value sealed when
    /// `sealer` does not seal (or the other way round), or one that does not open.
    static func decode(_ bytes: [UInt8], sealer: any RecordSealer = PlainSealer()) -> MemoryRecord? {
        bytes.withUnsafeBufferPointer { buffer -> MemoryRecord? in
            guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            var reader = Reader(buffer: buffer, at: newline + 1)
            switch (reader.byte(), sealer.seals) {
            case (layout, false): return fields(&reader)
            case (sealedLayout, true):
                guard let version = Int64(String(decoding: UnsafeBufferPointer(rebasing: buffer[..<newline]), as: UTF8.self)),
                    let owner = reader.string(), let id = reader.string(),
                    let body = try? sealer.open(Array(buffer[reader.at...]), at: place(owner: owner, id: id, version: version))
                else { return nil }
                return body.withUnsafeBufferPointer { sealed in
                    var inner = Reader(buffer: sealed, at: 0)
                    guard let record = fields(&inner), record.owner.rawValue == owner, record.id == id else { return nil }
                    return record
                }
            default: return nil
            }
        }
    }

    private static func fields(_ reader: inout Reader) -> MemoryRecord? {
        guard let id = reader.string(), let ownerName = reader.string(), let owner = PersonaID(rawValue: ownerName),
            let sliceName = reader.string(), let slice = SliceKind(rawValue: sliceName), let content = reader.string(),
            let importance = reader.integer64().map({ Double(bitPattern: UInt64(bitPattern: $0)) }),
            let tagCount = reader.integer32(), tagCount < 100_000
        else { return nil }
        var tags: [String] = []
        tags.reserveCapacity(Int(tagCount))
        for _ in 0..<tagCount {
            guard let tag = reader.string() else { return nil }
            tags.append(tag)
        }
        guard let source = reader.string(), let created = reader.time() ?? nil, let accessed = reader.time() ?? nil,
            let accessCount = reader.integer64(), let validFrom = reader.time() ?? nil, let validTo = reader.time(),
            let expiresAt = reader.time(), let version = reader.integer64(), let model = reader.optionalString(),
            let metadataText = reader.optionalString()
        else { return nil }
        var metadata: JSONValue?
        if let metadataText {
            guard let parsed = try? JSONValue.parse(Array(metadataText.utf8)) else { return nil }
            metadata = parsed
        }
        return MemoryRecord(
            id: id, owner: owner, slice: slice, content: content, importance: importance, tags: tags, source: source,
            createdAt: created, lastAccessedAt: accessed, accessCount: Int(accessCount), validFrom: validFrom, validTo: validTo,
            expiresAt: expiresAt, version: Int(version), modelID: model, metadata: metadata)
    }

    /// Reads fields in order; every read is `nil` past the end.
    struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        var at: Int

        mutating func byte() -> UInt8? {
            guard at < buffer.count else { return nil }
            defer { at += 1 }
            return buffer[at]
        }

        mutating func integer32() -> UInt32? {
            guard at + 4 <= buffer.count else { return nil }
            defer { at += 4 }
            return UInt32(littleEndian: UnsafeRawPointer(buffer.baseAddress! + at).loadUnaligned(as: UInt32.self))
        }

        mutating func integer64() -> Int64? {
            guard at + 8 <= buffer.count else { return nil }
            defer { at += 8 }
            return Int64(littleEndian: UnsafeRawPointer(buffer.baseAddress! + at).loadUnaligned(as: Int64.self))
        }

        /// A time, or `.some(nil)` for none; `nil` past the end.
        mutating func time() -> Date?? {
            guard let bits = integer64() else { return nil }
            let seconds = Double(bitPattern: UInt64(bitPattern: bits))
            return .some(seconds.isNaN ? nil : Date(timeIntervalSinceReferenceDate: seconds))
        }

        /// A string, or `.some(nil)` for none; `nil` past the end.
        mutating func optionalString() -> String?? {
            guard let count = integer32() else { return nil }
            if count == UInt32.max { return .some(nil) }
            guard at + Int(count) <= buffer.count else { return nil }
            defer { at += Int(count) }
            return .some(String(decoding: UnsafeBufferPointer(rebasing: buffer[at..<at + Int(count)]), as: UTF8.self))
        }

        mutating func string() -> String? { optionalString() ?? nil }
    }
}
