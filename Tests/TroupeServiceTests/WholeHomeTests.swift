import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// The operations on more than one persona's memory: show, export, import, stats, the
/// conflict audit, the doctor. What a client may reach, and what only the operator may.
@Suite("Service layer: the whole home")
struct WholeHomeTests {
    typealias Service = TroupeServiceTests
    static let hestiaClient = Service.hestiaClient
    /// A client whose personas belong to no shared slice (a grant can name any persona; the
    /// service answers it as any other).
    static let outsider = RequestContext(principal: .client("key-outsider", personas: ["zeus"]))

    @Test func showAndWorkingMemoryActAsAPersonaOrAsTheOperator() async throws {
        try await Service.with { home in
            let service = home.service
            let fact = try await service.remember(persona: "athena", content: "The vendor contract renews on 1 March.", in: .slice(.semantic), .local)
            #expect(try await service.record(id: fact.id, persona: "athena", .local).content == fact.content)
            #expect(try await service.record(id: fact.id, persona: nil, .local).content == fact.content)
            // hestia cannot read athena's private memory, as herself (one answer, whether it exists or not) or as athena.
            let theirs = await Service.error { _ = try await service.record(id: fact.id, persona: "hestia", Self.hestiaClient) }
            let none = await Service.error { _ = try await service.record(id: "m-none", persona: "hestia", Self.hestiaClient) }
            #expect(theirs?.code == .denied && theirs?.message == none?.message)
            let asAthena = await Service.error { _ = try await service.record(id: fact.id, persona: "athena", Self.hestiaClient) }
            #expect(asAthena?.code == .denied && asAthena?.description == "key-hestia may not act as persona 'athena'")
            #expect(await Service.error { _ = try await service.record(id: fact.id, persona: nil, Self.hestiaClient) }?.code == .denied)
            #expect(await Service.error { _ = try await service.workingMemory(persona: "athena", Self.hestiaClient) }?.code == .denied)
            _ = try await service.remember(persona: "hestia", content: "Water the plants today.", in: .slice(.working), Self.hestiaClient)
            #expect(try await service.workingMemory(persona: "hestia", Self.hestiaClient).map(\.content) == ["Water the plants today."])
        }
    }

    @Test func anExportHoldsOnlyWhatTheCallerMayRead() async throws {
        try await Service.with { home in
            let service = home.service
            _ = try await service.remember(persona: "athena", content: "Athena's private plan.", in: .slice(.semantic), .local)
            _ = try await service.remember(persona: "hestia", content: "Hestia's private note.", in: .slice(.semantic), .local)
            _ = try await service.remember(persona: "athena", content: "The team meets on Mondays.", in: .shared("team"), .local)
            func export(_ owner: String?, _ context: RequestContext) async throws -> String {
                var text = ""
                try await service.export(owner: owner, context) { text += $0 }
                return text
            }
            let own = try await export("hestia", Self.hestiaClient)
            #expect(own.contains("Hestia's private note.") && !own.contains("Athena") && !own.contains("Mondays"))
            #expect(try await export("team", Self.hestiaClient).contains("The team meets on Mondays."))
            // Another persona, one that does not exist, a slice its personas are not in, the whole home: one denial each.
            for owner in ["athena", "zeus"] {
                let error = await Service.error { _ = try await export(owner, Self.hestiaClient) }
                #expect(error?.code == .denied && error?.description == "key-hestia may not act as persona '\(owner)'")
            }
            #expect(await Service.error { _ = try await export("team", Self.outsider) }?.code == .denied)
            #expect(await Service.error { _ = try await export(nil, Self.hestiaClient) }?.code == .denied)
            let all = try await export(nil, .local)
            #expect(all.contains("Athena's private plan.") && all.contains("Hestia's private note.") && all.contains("Mondays"))
        }
    }

    @Test func onlyTheOperatorImports() async throws {
        try await Service.with { home in
            let service = home.service
            let file = home.directory.appendingPathComponent("lines.jsonl")
            try Data(#"{"persona": "hestia", "slice": "semantic", "content": "The boiler is serviced in October."}"#.utf8).write(to: file)
            let denied = await Service.error { _ = try await service.importMemories(ImportRequest(file: file.path), Self.hestiaClient) }
            #expect(denied?.code == .denied)
            // Refused before the file is looked at: a client cannot probe the server's files.
            let missing = await Service.error { _ = try await service.importMemories(ImportRequest(file: "/nonexistent.jsonl"), Self.hestiaClient) }
            #expect(missing?.code == .denied)
            #expect(try await service.records(persona: "hestia", slice: .semantic, .local).isEmpty)

            let report = try await service.importMemories(ImportRequest(file: file.path, embedding: false), .local)
            #expect(report.outcome == .imported && report.written.inserted == 1)
            #expect(try await service.records(persona: "hestia", slice: .semantic, .local).map(\.content) == ["The boiler is serviced in October."])
            let noFile = await Service.error { _ = try await service.importMemories(ImportRequest(file: "/nonexistent.jsonl"), .local) }
            #expect(noFile?.code == .invalidInput && noFile?.description.contains("/nonexistent.jsonl") == true)
        }
    }

    @Test func statsAreTheOperators() async throws {
        try await Service.with { home in
            let service = home.service
            _ = try await service.remember(persona: "athena", content: "One.", in: .slice(.semantic), .local)
            _ = try await service.remember(persona: "athena", content: "Two.", in: .shared("team"), .local)
            #expect(await Service.error { _ = try await service.stats(Self.hestiaClient) }?.code == .denied)
            let stats = try await service.stats(.local)
            let semantic = stats.store.buckets.filter { $0.slice == .semantic }.map { "\($0.owner) \($0.count)" }
            #expect(semantic == ["athena 1", "team 1"], "\(stats.store.buckets)")
            #expect(stats.hotTier == nil && stats.storePath.hasPrefix(home.directory.path))
            #expect(stats.json["records"] == .number(Double(stats.store.total)) && stats.json["hot_tier"] == nil)
        }
    }

    @Test func aClientReadsTheConflictAuditOfItsSharedSlicesOnly() async throws {
        try await Service.with { home in
            let service = home.service
            let shared = try await service.remember(persona: "athena", content: "Freeze on Friday.", in: .shared("team"), .local)
            _ = try await service.update(persona: "athena", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Thursday."), .local)
            // hestia writes on the first version: a stale write, resolved by the slice's policy and audited.
            _ = try await service.update(persona: "hestia", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Monday."), .local)
            let all = try await service.audit(.local)
            #expect(all.count == 1 && all.first?.record == shared.id && all.first?.writer == "hestia")
            #expect(try await service.audit(Self.hestiaClient).map(\.seq) == all.map(\.seq))
            #expect(try await service.audit(slice: "team", record: shared.id, Self.hestiaClient).map(\.seq) == all.map(\.seq))
            #expect(try await service.audit(Self.outsider).isEmpty)
            // A slice the client's personas are not in, and one that does not exist: the same denial.
            let notMember = await Service.error { _ = try await service.audit(slice: "team", Self.outsider) }
            let unknown = await Service.error { _ = try await service.audit(slice: "nowhere", Self.outsider) }
            #expect(notMember?.code == .denied && unknown?.code == .denied)
            #expect(notMember?.description.replacingOccurrences(of: "team", with: "nowhere") == unknown?.description)
            #expect(await Service.error { _ = try await service.audit(slice: "nowhere", .local) }?.code == .notFound)
            #expect(await Service.error { _ = try await service.audit(limit: 0, .local) }?.code == .invalidInput)
        }
    }

    @Test func theDoctorIsTheOperators() async throws {
        try await Service.with { home in
            let config = home.directory.appendingPathComponent("troupe.yaml")
            try Data("redis:\n  mode: off\nllm:\n  backend: offline\n".utf8).write(to: config)
            let denied = await Service.error {
                _ = try await TroupeService.doctor(configFlag: config.path, homeFlag: home.directory.path, Self.hestiaClient)
            }
            #expect(denied?.code == .denied)
            let report = try await TroupeService.doctor(configFlag: config.path, homeFlag: home.directory.path, .local)
            #expect(report.checks.first?.name == "config" && report.checks.first?.status == .ok)
            #expect(report.checks.first { $0.name == "home" }?.detail.hasPrefix(home.directory.path) == true)
        }
    }
}
