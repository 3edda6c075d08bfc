import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

/// `troupe keys`: the API keys `troupe serve` asks callers for.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke the API keys `troupe serve` asks for.",
        discussion: """
            Once a key that is not revoked exists, `troupe serve` asks every caller for one \
            (Authorization: Bearer trp_…) and may listen beyond loopback. A key is shown once, when it \
            is made; the store keeps only its secret's SHA-256. Roles: admin (everything, and keys), \
            operator (every persona), client (only the personas given with --persona). Every key \
            change is written to the security log (troupe audit --security).
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key and print it (once).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "admin, operator or client.") var role: Principal.Role
        @Option(name: .customLong("persona"), help: "A persona a client key acts as (repeatable; required for client keys).")
        var personas: [String] = []
        @Option(help: "What the key is for.") var label = ""
        @Option(help: "Requests a second it may make on average.") var rate = KeyGrant.defaultRate
        @Option(help: "Requests it may make at once.") var burst = KeyGrant.defaultBurst
        @Flag(help: "Print JSON (with the key).") var json = false

        func run() async throws {
            let service = try await global.service()
            let created: CreatedKey
            do {
                created = try await service.createKey(
                    KeyGrant(role: role, personas: personas, label: label, ratePerSecond: rate, burst: burst), .local)
            } catch let error as ArgumentError {
                // Named by the flag that sets it.
                throw TroupeError(.invalidInput, "--\(error.field == "personas" ? "persona" : error.field ?? "role"): \(error.message)")
            }
            if json { return Output.json(JSONView.created(created)) }
            Output.stdout(created.text)
            let scope = created.stored.personas.isEmpty ? "every persona" : created.stored.personas.joined(separator: ", ")
            Output.stderr("\(created.stored.id): \(created.stored.role) key for \(scope). It is shown only now: keep it.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every key, revoked ones too (never their secrets).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON (one array).") var json = false

        func run() async throws {
            let keys = try await global.service().keys(.local)
            if json { return Output.json(.array(keys.map(JSONView.key))) }
            guard !keys.isEmpty else { return Output.stdout("no keys: `troupe serve` listens on loopback only, every caller acting as the admin") }
            Output.stdout(Table.render(
                header: ["ID", "ROLE", "PERSONAS", "RATE", "CREATED", "REVOKED", "LABEL"],
                rows: keys.map { k in
                    [
                        k.id, k.role, k.personas.isEmpty ? "all" : k.personas.joined(separator: ","), "\(k.ratePerSecond)/s×\(k.burst)",
                        Timestamp.format(k.createdAt), k.revokedAt.map(Timestamp.format) ?? "-", k.label,
                    ]
                }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key for good; servers refuse it from their next request.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id (trp_ and 12 hex digits).") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let key = try await global.service().revokeKey(id, .local)
            if json { return Output.json(JSONView.key(key)) }
            Output.stdout("revoked \(key.id) at \(key.revokedAt.map(Timestamp.format) ?? "?")")
        }
    }
}

extension Principal.Role: ExpressibleByArgument {}
