import AuthService
import CharacterService
import Configuration
import DatabaseService
import Foundation
import Logging
import MMORedis
import MMOUtils
import PacketService
import WorldService

/// One configuration key: its name (`a.b` -> env `A_B`, flag `--a-b`), default and meaning.
public struct ConfigKeyDoc: Sendable {
    public let key: String
    public let defaultValue: String
    public let help: String
}

extension ServerConfiguration {
    /// Every key the server reads, in one place. `mmo config-keys` prints this table and
    /// docs/configuration.md is generated from it (a test keeps them equal).
    public static let keys: [ConfigKeyDoc] = [
        .init(key: "services", defaultValue: "all", help: "`mmo serve` only: `all` or a comma-separated subset of database,auth,character,world,packet"),
        .init(key: "config", defaultValue: "", help: "path of a JSON file with more keys, e.g. `{\"packet\": {\"port\": 7777}}` (also `MMO_CONFIG`)"),
        .init(key: "log.level", defaultValue: "info", help: "trace, debug, info, notice, warning, error, critical"),
        .init(key: "log.format", defaultValue: "human", help: "`human` or `json` (one object per line)"),
        .init(key: "admin.host", defaultValue: "0.0.0.0", help: "admin HTTP bind address (`/metrics`, `/health/live`, `/health/ready`)"),
        .init(key: "admin.port", defaultValue: "9100 (mmo serve); 9101-9105 per single service", help: "admin HTTP port; `-1` disables"),
        .init(key: "grpc.host", defaultValue: "127.0.0.1", help: "bind address of this process's gRPC servers; any other than loopback needs `grpc.secret` or `grpc.tls.*` (in a container: `0.0.0.0` and a secret and/or certificates)"),
        .init(key: "grpc.secret", defaultValue: "(none)", help: "shared secret (16+ characters) every internal gRPC call must carry, checked on every call (UNAUTHENTICATED otherwise); the same value for every service; also env `MMO_GRPC_SECRET`; never logged"),
        .init(key: "grpc.tls.certificate", defaultValue: "(none)", help: "PEM certificate (chain) of this process for mutual TLS between services; with `grpc.tls.privateKey` and `grpc.tls.trustRoots` (all three or none): every gRPC server of this process requires TLS and a client certificate signed by the trust roots, every gRPC client presents it and verifies the server's, hostname included; it must name (SAN) every host/IP the service is dialled by; also env `MMO_GRPC_TLS_CERTIFICATE`; see docs/adr/0006-internal-mtls.md"),
        .init(key: "grpc.tls.privateKey", defaultValue: "(none)", help: "PEM private key of `grpc.tls.certificate`; also env `MMO_GRPC_TLS_PRIVATE_KEY`"),
        .init(key: "grpc.tls.trustRoots", defaultValue: "(none)", help: "PEM CA certificate(s) that sign the services' certificates; also env `MMO_GRPC_TLS_TRUST_ROOTS`"),
        .init(key: "grpc.expose", defaultValue: "false with all services in one process, else true", help: "also serve in-process services on their TCP gRPC ports"),
        .init(key: "grpc.timeoutMs", defaultValue: "5000", help: "deadline of every request/response RPC between services"),
        .init(key: "grpc.resolveIntervalSeconds", defaultValue: "10", help: "how often the addresses of other services (`<service>.address`: DNS names, comma-separated lists) are resolved again; calls go round robin over every address"),
        .init(key: "database.grpc.port", defaultValue: "50051", help: "database service gRPC port"),
        .init(key: "auth.grpc.port", defaultValue: "50052", help: "auth service gRPC port"),
        .init(key: "character.grpc.port", defaultValue: "50053", help: "character service gRPC port"),
        .init(key: "world.grpc.port", defaultValue: "50054", help: "world service gRPC port"),
        .init(key: "database.address", defaultValue: "127.0.0.1:50051", help: "where other processes reach the database service: `host:port`, a DNS name (a Kubernetes headless Service: every pod) or a comma-separated list of replicas; round robin over every address"),
        .init(key: "auth.address", defaultValue: "127.0.0.1:50052", help: "where the packet service reaches the auth service"),
        .init(key: "character.address", defaultValue: "127.0.0.1:50053", help: "where the packet service reaches the character service"),
        .init(key: "world.address", defaultValue: "127.0.0.1:50054", help: "where the packet service reaches the world service"),
        .init(key: "database.url", defaultValue: "sqlite:mmo.sqlite", help: "`sqlite:PATH` (embedded) or `postgres://user:pass@host:5432/db?sslmode=prefer` (env `DATABASE_URL`)"),
        .init(key: "database.poolSize", defaultValue: "10", help: "PostgreSQL connections"),
        .init(key: "database.migrate", defaultValue: "true", help: "run our migrations at start; `false` only checks that every needed table and column exists"),
        .init(key: "database.authNaming", defaultValue: "camelCase", help: "better-auth column naming: `camelCase` or `snake_case`"),
        .init(key: "database.sessionCacheSeconds", defaultValue: "2", help: "how long a session read from the `session` table may be cached: a ban or sign-out on the web app refuses new logins within this; `0` caches nothing"),
        .init(key: "database.betterAuthSecondaryStorage", defaultValue: "none", help: "`redis`: read sessions from better-auth's Redis `secondaryStorage` (the Redis at `redis.url`, which must be the web app's), uncached; `none`: the `session` table"),
        .init(key: "database.betterAuthRedisKeyPrefix", defaultValue: "better-auth:", help: "key prefix of better-auth's secondary storage (`@better-auth/redis-storage`'s `keyPrefix`; empty for a storage without one)"),
        .init(key: "database.betterAuthStoreSessionInDatabase", defaultValue: "false", help: "better-auth's `session.storeSessionInDatabase`: a token missing from Redis is looked up in the `session` table (keep `false` with `preserveSessionInDatabase`)"),
        .init(key: "database.characterCacheSeconds", defaultValue: "300", help: "how long a character list may be cached (writes invalidate it)"),
        .init(key: "redis.url", defaultValue: "(none: in-memory cache)", help: "`redis://[:password@]host:6379[/db]` for the shared cache and the packet service's resume tokens (env `REDIS_URL`)"),
        .init(key: "redis.poolSize", defaultValue: "4", help: "Redis connections"),
        .init(key: "auth.secret", defaultValue: "(none)", help: "the web app's BETTER_AUTH_SECRET, to accept signed cookie tokens (env `AUTH_SECRET` or `BETTER_AUTH_SECRET`)"),
        .init(key: "auth.acceptRawTokens", defaultValue: "true", help: "accept the raw 32-character session token (better-auth bearer default)"),
        .init(key: "character.maxPerAccount", defaultValue: "8", help: "character slots per account"),
        .init(key: "character.nameMinLength", defaultValue: "3", help: "shortest character name"),
        .init(key: "character.nameMaxLength", defaultValue: "16", help: "longest character name"),
        .init(key: "world.tickHz", defaultValue: "20", help: "simulation ticks per second"),
        .init(key: "world.interestRadius", defaultValue: "50", help: "how far a player sees other players"),
        .init(key: "world.maxSpeed", defaultValue: "7", help: "units per second a player may move"),
        .init(key: "world.autosaveSeconds", defaultValue: "10", help: "a moved player's position is saved at most this long after the move, spread over the ticks (also on leave and shutdown); the most a killed world process loses"),
        .init(key: "world.finalSaveTimeoutSeconds", defaultValue: "300", help: "on shutdown, retry the final save this long before giving up and exiting non-zero with the number of characters lost; 0 = retry until killed"),
        .init(key: "world.maxPlayersPerZone", defaultValue: "5000", help: "a full zone refuses ENTER_WORLD with WORLD_FULL"),
        .init(key: "world.zoneSize", defaultValue: "1000", help: "side of the default square zone 1 (Greenvale), spawn at its centre; new characters start there too (give the character service the same value)"),
        .init(key: "world.gatewayOutboxBatches", defaultValue: "200", help: "per-tick output batches a gateway may have unread; a gateway that falls further behind is disconnected (its players leave) rather than buffered"),
        .init(key: "world.gatewayOutboxBytes", defaultValue: "268435456", help: "bytes of output a gateway may have unread (256 MiB); past it the gateway is disconnected like past `world.gatewayOutboxBatches`"),
        .init(key: "packet.host", defaultValue: "0.0.0.0", help: "client listener bind address"),
        .init(key: "packet.port", defaultValue: "7777", help: "client listener port (0 picks a free one)"),
        .init(key: "packet.gatewayId", defaultValue: "hostname-pid", help: "this gateway's name in the world service's logs and metrics"),
        .init(key: "packet.maxFrameSize", defaultValue: "4096", help: "largest client frame (opcode + body) in bytes"),
        .init(key: "packet.idleTimeoutSeconds", defaultValue: "60", help: "close connections silent this long"),
        .init(key: "packet.loginTimeoutSeconds", defaultValue: "10", help: "close connections not logged in this long after HELLO (LOGIN_TIMEOUT)"),
        .init(key: "packet.sessionRecheckSeconds", defaultValue: "30", help: "validate logged-in sessions again this often; a signed-out, expired or banned one is disconnected (0: never)"),
        .init(key: "packet.resumeGraceSeconds", defaultValue: "60", help: "a character whose connection dropped stays in the world link-dead this long, resumable with RESUME (0: leaves at once, no resume tokens; at most 65535); with `redis.url` set, resume tokens are kept in that Redis so any gateway accepts them"),
        .init(key: "packet.maxConnections", defaultValue: "20000", help: "connections beyond this are refused with SERVICE_UNAVAILABLE"),
        .init(key: "packet.fileDescriptorReserve", defaultValue: "256", help: "open files kept for everything but client connections; `packet.maxConnections` is lowered to fit the open-file limit minus this"),
        .init(key: "packet.maxConnectionsPerAddress", defaultValue: "50", help: "open connections per client address (IPv6: per /64); more are refused with TOO_MANY_CONNECTIONS"),
        .init(key: "packet.maxFailedLoginsPerAddress", defaultValue: "20", help: "failed logins from one address within `packet.failedLoginWindowSeconds` that block it (ADDRESS_BLOCKED) for `packet.addressPenaltySeconds`"),
        .init(key: "packet.failedLoginWindowSeconds", defaultValue: "60", help: "window of `packet.maxFailedLoginsPerAddress`"),
        .init(key: "packet.addressPenaltySeconds", defaultValue: "300", help: "how long a blocked address gets no connection and no LOGIN"),
        .init(key: "packet.addressLimitExempt", defaultValue: PacketServerConfiguration.loopbackText, help: "comma-separated addresses/CIDR ranges no per-address limit applies to (local load tests; a TCP load balancer's addresses); empty = none"),
        .init(key: "packet.rateLimitPerSecond", defaultValue: "30", help: "sustained client frames per second per connection"),
        .init(key: "packet.rateLimitBurst", defaultValue: "60", help: "burst allowance of client frames"),
        .init(key: "packet.chatRateLimitLines", defaultValue: "5", help: "SAY lines per connection per `packet.chatRateLimitSeconds`, all usable at once; more get CHAT_RATE_LIMITED"),
        .init(key: "packet.chatRateLimitSeconds", defaultValue: "10", help: "period of `packet.chatRateLimitLines`"),
        .init(key: "packet.worldRejoinSeconds", defaultValue: "30", help: "while the world link is down its players stay in the world as far as their clients know, to be re-admitted when it is back; after this long they get LEFT_WORLD (docs/protocol.md \"Reconnecting\" says 30 seconds)"),
        .init(key: "packet.worldQueueInputs", defaultValue: "65536", help: "moves and chat lines waiting for the world link (a stalled or slow world), all players together; more are dropped and counted (joins and leaves are never dropped)"),
        .init(key: "packet.worldQueueMovesPerSession", defaultValue: "64", help: "moves one player may have waiting for the world link; a newer one then replaces its last (only the newest position matters)"),
        .init(key: "packet.worldQueueChatPerSession", defaultValue: "16", help: "chat lines one player may have waiting for the world link; more are dropped and counted"),
        .init(key: "packet.tls.certificate", defaultValue: "(none: plain TCP)", help: "PEM certificate chain for TLS on the client port; with `packet.tls.privateKey` (both or neither) the port speaks TLS 1.2+ only (clients connect with `mmos://`); both files are read again on SIGHUP (a failed reload keeps the old pair)"),
        .init(key: "packet.tls.privateKey", defaultValue: "(none)", help: "PEM private key of `packet.tls.certificate` (unencrypted; keep it mode 600); never logged"),
    ]

    /// Reads every key (see `keys`). Values that can't be used throw a `ServerConfigurationError`
    /// naming the key; secrets are never part of the message.
    public init(reader config: ConfigReader, services defaultServices: [ServiceKind]) throws {
        // A comma-separated flag value may come back as an array (swift-configuration splits
        // command-line values on commas).
        let servicesText = config.string(forKey: "services") ?? config.stringArray(forKey: "services")?.joined(separator: ",")
        let services = try servicesText.map(ServiceKind.parseList) ?? defaultServices
        self.init(services: services)

        if let level = config.string(forKey: "log.level") {
            guard let parsed = Logger.Level(rawValue: level) else { throw ServerConfigurationError("log.level: unknown level '\(level)'") }
            logLevel = parsed
        }
        if let format = config.string(forKey: "log.format") {
            guard let parsed = LogFormat(rawValue: format) else { throw ServerConfigurationError("log.format: expected human or json") }
            logFormat = parsed
        }
        let adminPort = config.int(forKey: "admin.port", default: admin?.port ?? 9100)
        admin = adminPort < 0 ? nil : AdminServerConfiguration(host: config.string(forKey: "admin.host", default: "0.0.0.0"), port: try port(adminPort, "admin.port"))

        grpcHost = config.string(forKey: "grpc.host", default: grpcHost)
        if let secret = config.string(forKey: "grpc.secret", isSecret: true) ?? config.string(forKey: "mmo.grpc.secret", isSecret: true), !secret.isEmpty {
            guard let parsed = InternalCallSecret(secret) else {
                throw ServerConfigurationError("grpc.secret: must be at least \(InternalCallSecret.minimumLength) characters")
            }
            grpcSecret = parsed
        }
        grpcTLS = try Self.readInternalTLS(config)
        exposeGRPC = config.bool(forKey: "grpc.expose", default: exposeGRPC)
        rpcTimeout = .milliseconds(try positive(config.int(forKey: "grpc.timeoutMs", default: 5000), "grpc.timeoutMs"))
        resolveInterval = .seconds(try positive(config.int(forKey: "grpc.resolveIntervalSeconds", default: 10), "grpc.resolveIntervalSeconds"))
        for kind in ServiceKind.allCases where kind != .packet {
            grpcPorts[kind] = try port(config.int(forKey: ConfigKey("\(kind.rawValue).grpc.port"), default: kind.defaultGRPCPort), "\(kind.rawValue).grpc.port")
            // A list of replicas may arrive as one string or (command line) as an array.
            if let address = config.string(forKey: ConfigKey("\(kind.rawValue).address"))
                ?? config.stringArray(forKey: ConfigKey("\(kind.rawValue).address"))?.joined(separator: ",") {
                do { peers[kind] = try PeerAddress(parsing: address) } catch { throw ServerConfigurationError("\(kind.rawValue).address: \(error)") }
            } else {
                peers[kind] = PeerAddress(host: "127.0.0.1", port: grpcPorts[kind]!)
            }
        }

        // database
        let url = config.string(forKey: "database.url", isSecret: true) ?? "sqlite:mmo.sqlite"
        let poolSize = try positive(config.int(forKey: "database.poolSize", default: 10), "database.poolSize")
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ServerConfigurationError("database.url: sqlite: needs a path, e.g. sqlite:mmo.sqlite") }
            database.backend = .sqlite(path: path)
        } else {
            do { database.backend = try .postgres(url: url, poolSize: poolSize) } catch { throw ServerConfigurationError("database.url: \(error)") }
        }
        database.runMigrations = config.bool(forKey: "database.migrate", default: true)
        switch config.string(forKey: "database.authNaming", default: "camelCase") {
        case "camelCase": database.authNaming = .camelCase
        case "snake_case", "snakeCase": database.authNaming = .snakeCase
        case let other: throw ServerConfigurationError("database.authNaming: expected camelCase or snake_case, got '\(other)'")
        }
        let sessionCacheSeconds = config.int(forKey: "database.sessionCacheSeconds", default: 2)
        guard sessionCacheSeconds >= 0 else { throw ServerConfigurationError("database.sessionCacheSeconds: must be 0 or more") }
        database.sessionCacheTTL = .seconds(sessionCacheSeconds)
        database.characterCacheTTL = .seconds(try positive(config.int(forKey: "database.characterCacheSeconds", default: 300), "database.characterCacheSeconds"))
        if let redisURL = config.string(forKey: "redis.url", isSecret: true), !redisURL.isEmpty {
            do {
                var redis = try RedisClientConfiguration(url: redisURL)
                redis.poolSize = try positive(config.int(forKey: "redis.poolSize", default: 4), "redis.poolSize")
                database.redis = redis
            } catch {
                throw ServerConfigurationError("redis.url: not a valid redis:// URL")
            }
        }
        switch config.string(forKey: "database.betterAuthSecondaryStorage", default: "none") {
        case "none": database.betterAuthSessionStorage = .database
        case "redis":
            guard database.redis != nil else {
                throw ServerConfigurationError("database.betterAuthSecondaryStorage: redis needs redis.url (the web app's Redis)")
            }
            database.betterAuthSessionStorage = .redis(
                keyPrefix: config.string(forKey: "database.betterAuthRedisKeyPrefix", default: "better-auth:"),
                storeSessionInDatabase: config.bool(forKey: "database.betterAuthStoreSessionInDatabase", default: false))
        case let other: throw ServerConfigurationError("database.betterAuthSecondaryStorage: expected none or redis, got '\(other)'")
        }

        // auth
        auth.secret = config.string(forKey: "auth.secret", isSecret: true) ?? config.string(forKey: "better.auth.secret", isSecret: true)
        auth.acceptRawTokens = config.bool(forKey: "auth.acceptRawTokens", default: true)

        // character
        character.rules.maxCharactersPerAccount = try positive(config.int(forKey: "character.maxPerAccount", default: 8), "character.maxPerAccount")
        character.rules.minNameLength = try positive(config.int(forKey: "character.nameMinLength", default: 3), "character.nameMinLength")
        character.rules.maxNameLength = try positive(config.int(forKey: "character.nameMaxLength", default: 16), "character.nameMaxLength")
        guard character.rules.minNameLength <= character.rules.maxNameLength, character.rules.maxNameLength <= 64 else {
            throw ServerConfigurationError("character.nameMinLength/nameMaxLength: need min <= max <= 64")
        }

        // world
        world.tickRateHz = try positive(config.int(forKey: "world.tickHz", default: 20), "world.tickHz")
        world.interestRadius = Float(config.double(forKey: "world.interestRadius", default: Double(world.interestRadius)))
        world.chatRadius = world.interestRadius
        world.maxSpeed = Float(config.double(forKey: "world.maxSpeed", default: Double(world.maxSpeed)))
        world.autosaveInterval = .seconds(try positive(config.int(forKey: "world.autosaveSeconds", default: 10), "world.autosaveSeconds"))
        let finalSaveTimeout = config.int(forKey: "world.finalSaveTimeoutSeconds", default: 300)
        guard finalSaveTimeout >= 0 else { throw ServerConfigurationError("world.finalSaveTimeoutSeconds: must be >= 0 (0: never give up)") }
        world.finalSaveTimeout = .seconds(finalSaveTimeout)
        world.maxPlayersPerZone = try positive(config.int(forKey: "world.maxPlayersPerZone", default: world.maxPlayersPerZone), "world.maxPlayersPerZone")
        world.maxPendingBatchesPerGateway = try positive(config.int(forKey: "world.gatewayOutboxBatches", default: world.maxPendingBatchesPerGateway), "world.gatewayOutboxBatches")
        world.maxPendingBytesPerGateway = try positive(config.int(forKey: "world.gatewayOutboxBytes", default: world.maxPendingBytesPerGateway), "world.gatewayOutboxBytes")
        if let size = config.double(forKey: "world.zoneSize") {
            guard size >= 10 else { throw ServerConfigurationError("world.zoneSize: must be at least 10") }
            let side = Float(size)
            world.zones = [Zone(id: 1, name: "Greenvale", bounds: ZoneBounds(minX: 0, maxX: side, minY: 0, maxY: side), spawn: Position(x: side / 2, y: side / 2))]
        }
        do { try world.validate() } catch { throw ServerConfigurationError("world: \(error)") }

        // packet
        packet.host = config.string(forKey: "packet.host", default: packet.host)
        let packetPort = config.int(forKey: "packet.port", default: packet.port)
        guard (0...65535).contains(packetPort) else { throw ServerConfigurationError("packet.port: must be 0-65535") }
        packet.port = packetPort
        packet.gatewayId = config.string(forKey: "packet.gatewayId", default: packet.gatewayId)
        packet.maxFrameSize = try positive(config.int(forKey: "packet.maxFrameSize", default: packet.maxFrameSize), "packet.maxFrameSize")
        guard (16...65536).contains(packet.maxFrameSize) else { throw ServerConfigurationError("packet.maxFrameSize: must be 16-65536") }
        packet.idleTimeout = .seconds(try positive(config.int(forKey: "packet.idleTimeoutSeconds", default: 60), "packet.idleTimeoutSeconds"))
        packet.loginTimeout = .seconds(try positive(config.int(forKey: "packet.loginTimeoutSeconds", default: 10), "packet.loginTimeoutSeconds"))
        packet.sessionRecheckInterval = .seconds(try nonNegative(config.int(forKey: "packet.sessionRecheckSeconds", default: 30), "packet.sessionRecheckSeconds"))
        packet.maxConnections = try positive(config.int(forKey: "packet.maxConnections", default: packet.maxConnections), "packet.maxConnections")
        packet.fileDescriptorReserve = try nonNegative(config.int(forKey: "packet.fileDescriptorReserve", default: packet.fileDescriptorReserve), "packet.fileDescriptorReserve")
        packet.maxConnectionsPerAddress = try positive(config.int(forKey: "packet.maxConnectionsPerAddress", default: packet.maxConnectionsPerAddress), "packet.maxConnectionsPerAddress")
        packet.maxFailedLoginsPerAddress = try positive(config.int(forKey: "packet.maxFailedLoginsPerAddress", default: packet.maxFailedLoginsPerAddress), "packet.maxFailedLoginsPerAddress")
        packet.failedLoginWindow = .seconds(try positive(config.int(forKey: "packet.failedLoginWindowSeconds", default: 60), "packet.failedLoginWindowSeconds"))
        packet.addressPenalty = .seconds(try positive(config.int(forKey: "packet.addressPenaltySeconds", default: 300), "packet.addressPenaltySeconds"))
        do {
            let exempt = config.string(forKey: "packet.addressLimitExempt")
                ?? config.stringArray(forKey: "packet.addressLimitExempt")?.joined(separator: ",")
                ?? PacketServerConfiguration.loopbackText
            packet.addressLimitExempt = try AddressRange.parseList(exempt)
        } catch {
            throw ServerConfigurationError("packet.addressLimitExempt: \(error)")
        }
        packet.rateLimitFramesPerSecond = config.double(forKey: "packet.rateLimitPerSecond", default: packet.rateLimitFramesPerSecond)
        packet.rateLimitBurst = try positive(config.int(forKey: "packet.rateLimitBurst", default: packet.rateLimitBurst), "packet.rateLimitBurst")
        packet.chatRateLimitLines = try positive(config.int(forKey: "packet.chatRateLimitLines", default: packet.chatRateLimitLines), "packet.chatRateLimitLines")
        packet.chatRateLimitPeriod = .seconds(try positive(config.int(forKey: "packet.chatRateLimitSeconds", default: 10), "packet.chatRateLimitSeconds"))
        packet.worldRejoinTimeout = .seconds(try positive(config.int(forKey: "packet.worldRejoinSeconds", default: 30), "packet.worldRejoinSeconds"))
        packet.worldQueueMaxInputs = try positive(config.int(forKey: "packet.worldQueueInputs", default: packet.worldQueueMaxInputs), "packet.worldQueueInputs")
        packet.worldQueueMaxMovesPerSession = try positive(config.int(forKey: "packet.worldQueueMovesPerSession", default: packet.worldQueueMaxMovesPerSession), "packet.worldQueueMovesPerSession")
        packet.worldQueueMaxChatPerSession = try positive(config.int(forKey: "packet.worldQueueChatPerSession", default: packet.worldQueueMaxChatPerSession), "packet.worldQueueChatPerSession")
        packet.requestTimeout = rpcTimeout
        packet.tls = try Self.readClientTLS(config, checkFiles: runs(.packet))
        let resumeGraceSeconds = try nonNegative(config.int(forKey: "packet.resumeGraceSeconds", default: 60), "packet.resumeGraceSeconds")
        guard resumeGraceSeconds <= Int(UInt16.max) else { throw ServerConfigurationError("packet.resumeGraceSeconds: must be 0-65535 (RESUME_TOKEN carries it as u16)") }
        packet.resumeGrace = .seconds(resumeGraceSeconds)
        // With a Redis, resume tokens live there: a client may resume on any gateway.
        packet.resumeTokenRedis = database.redis
    }

    /// `packet.tls.*`: both keys or neither; with `checkFiles`, the pair is loaded now so a
    /// missing or broken file stops the process at start, named (never its content).
    static func readClientTLS(_ config: ConfigReader, checkFiles: Bool) throws -> ClientTLSFiles? {
        let certificate = config.string(forKey: "packet.tls.certificate").flatMap { $0.isEmpty ? nil : $0 }
        let privateKey = config.string(forKey: "packet.tls.privateKey").flatMap { $0.isEmpty ? nil : $0 }
        switch (certificate, privateKey) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw ServerConfigurationError("packet.tls.privateKey: not set; TLS on the client port needs packet.tls.certificate and packet.tls.privateKey")
        case (nil, .some):
            throw ServerConfigurationError("packet.tls.certificate: not set; TLS on the client port needs packet.tls.certificate and packet.tls.privateKey")
        case (let certificate?, let privateKey?):
            let files = ClientTLSFiles(certificateChain: certificate, privateKey: privateKey)
            if checkFiles {
                do { _ = try ClientTLS.makeContext(files) } catch { throw ServerConfigurationError(error.description) }
            }
            return files
        }
    }

    /// `grpc.tls.*`: all three keys or none; the files are read now, so a missing one stops
    /// the process at start naming it.
    static func readInternalTLS(_ config: ConfigReader) throws -> InternalTLS? {
        let keys = ["grpc.tls.certificate", "grpc.tls.privateKey", "grpc.tls.trustRoots"]
        let values = keys.map { key -> String? in
            let value = config.string(forKey: ConfigKey(key)) ?? config.string(forKey: ConfigKey("mmo." + key))
            return value?.isEmpty == false ? value : nil
        }
        if values.allSatisfy({ $0 == nil }) { return nil }
        let missing = zip(keys, values).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let certificate = values[0], let privateKey = values[1], let trustRoots = values[2] else {
            throw ServerConfigurationError(
                "\(missing.joined(separator: ", ")): not set; mutual TLS needs all of grpc.tls.certificate, grpc.tls.privateKey and grpc.tls.trustRoots")
        }
        do {
            return try InternalTLS(certificate: certificate, privateKey: privateKey, trustRoots: trustRoots)
        } catch let error as InternalTLS.LoadError {
            // Name the key whose file it is (all three when they do not fit together).
            let key = zip(keys, values).first { $0.1 == error.path }?.0 ?? "grpc.tls"
            throw ServerConfigurationError("\(key): \(error)")
        }
    }

    /// Markdown table of every key (docs/configuration.md).
    public static func keysMarkdown() -> String {
        var lines = [
            "| key | environment | flag | default | meaning |",
            "|---|---|---|---|---|",
        ]
        for k in keys {
            lines.append("| `\(k.key)` | `\(environmentName(k.key))` | `--\(flagName(k.key))` | \(k.defaultValue) | \(k.help) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `database.poolSize` -> `DATABASE_POOL_SIZE` (swift-configuration's mapping).
    static func environmentName(_ key: String) -> String {
        key.split(separator: ".").map { component -> String in
            var out = ""
            var previousLower = false
            for ch in component {
                if ch.isUppercase && previousLower { out.append("_") }
                out.append(ch)
                previousLower = ch.isLowercase
            }
            return out.uppercased()
        }.joined(separator: "_")
    }

    /// `database.poolSize` -> `database-pool-size`.
    static func flagName(_ key: String) -> String {
        environmentName(key).lowercased().replacingOccurrences(of: "_", with: "-")
    }
}

private func positive(_ value: Int, _ key: String) throws -> Int {
    guard value > 0 else { throw ServerConfigurationError("\(key): must be positive") }
    return value
}

private func nonNegative(_ value: Int, _ key: String) throws -> Int {
    guard value >= 0 else { throw ServerConfigurationError("\(key): must not be negative") }
    return value
}

private func port(_ value: Int, _ key: String) throws -> Int {
    guard (0...65535).contains(value) else { throw ServerConfigurationError("\(key): must be 0-65535") }
    return value
}
