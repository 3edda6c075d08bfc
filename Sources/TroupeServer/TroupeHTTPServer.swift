import Foundation
import Hummingbird
import Logging
import NIOCore
import TroupeCore
import TroupeService

/// `troupe serve`'s HTTP server: the API's routes on a Hummingbird `Application`, which is a
/// `Service` to run beside the runtime in one `ServiceGroup`.
public enum TroupeHTTPServer {
    /// Where to listen: a loopback host and a port (0: any free one).
    public struct Listen: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        /// `127.0.0.1:7420`, `[::1]:7420`, `localhost:7420`, `0.0.0.0:7420`. Unless
        /// `anyHost` (the server asks for keys), only loopback addresses are accepted: without
        /// keys anyone who can reach the port acts as the admin.
        public init(_ text: String, anyHost: Bool = false) throws {
            let host: Substring, port: Substring
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                host = text[text.index(after: text.startIndex)..<close]
                port = text[text.index(after: close)...].drop { $0 == ":" }
            } else if let colon = text.lastIndex(of: ":") {
                (host, port) = (text[..<colon], text[text.index(after: colon)...])
            } else {
                throw TroupeError(.invalidInput, "'\(text)' is not HOST:PORT (for example 127.0.0.1:7420)")
            }
            guard let number = Int(port), (0...65535).contains(number) else {
                throw TroupeError(.invalidInput, "'\(port)' is not a port (0 to 65535)")
            }
            guard anyHost || Self.isLoopback(String(host)) else {
                throw TroupeError(.invalidInput, "'\(host)' is not a loopback address: without keys the API listens on 127.0.0.1, ::1 or localhost only")
            }
            self.host = host == "localhost" ? "127.0.0.1" : String(host)
            self.port = number
        }

        static func isLoopback(_ host: String) -> Bool {
            if host == "localhost" || host == "::1" { return true }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The application: the routes over `service`, listening at `listen`, asking every caller
    /// for a key when `keysRequired`. `onListening` is told the address actually bound (the port
    /// chosen when `listen` asked for 0). `/mcp`'s sessions are `mcp` (by default new ones), run
    /// as the application's service: swept while it runs, closed when it stops.
    public static func application(
        service: TroupeService, listen: Listen, keysRequired: Bool, mcp: MCPSessions? = nil, logger: Logger = Logger(label: "troupe.serve"),
        onListening: @escaping @Sendable (Listen) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let routes = APIRoutes(service: service, mcp: mcp)
        return Application(
            router: routes.router(keysRequired: keysRequired),
            configuration: ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: "troupe"),
            services: [routes.mcp],
            onServerRunning: { channel in
                var bound = listen
                bound.port = channel.localAddress?.port ?? listen.port
                await onListening(bound)
            },
            logger: logger)
    }
}
