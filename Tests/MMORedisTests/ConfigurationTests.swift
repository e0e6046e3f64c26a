import Testing

@testable import MMORedis

struct ConfigurationTests {
    @Test func defaults() {
        let configuration = RedisClientConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.password == nil)
        #expect(configuration.username == nil)
        #expect(configuration.database == 0)
        #expect(configuration.poolSize == 4)
        #expect(configuration.connectTimeout == .seconds(2))
        #expect(configuration.commandTimeout == .seconds(2))
        #expect(configuration.keyPrefix == "")
    }

    @Test func parsesHostOnly() throws {
        let configuration = try RedisClientConfiguration(url: "redis://cache.internal")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.password == nil)
    }

    @Test func parsesEverything() throws {
        let configuration = try RedisClientConfiguration(url: "redis://:s3cret@10.0.0.5:6390/3")
        #expect(configuration.host == "10.0.0.5")
        #expect(configuration.port == 6390)
        #expect(configuration.database == 3)
        #expect(configuration.password == "s3cret")
        #expect(configuration.username == nil)
    }

    @Test func parsesUserPercentEncodingAndIPv6() throws {
        let configuration = try RedisClientConfiguration(url: "REDIS://game:p%40ss%3Aw%2Fd@[::1]:7000/")
        #expect(configuration.username == "game")
        #expect(configuration.password == "p@ss:w/d")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
        #expect(configuration.database == 0)
    }

    @Test func passwordWithoutColonIsAPassword() throws {
        let configuration = try RedisClientConfiguration(url: "redis://topsecret@localhost")
        #expect(configuration.password == "topsecret")
        #expect(configuration.username == nil)
    }

    @Test(arguments: [
        "localhost:6379", "http://localhost", "rediss://localhost", "redis://", "redis://host:notaport",
        "redis://host:70000", "redis://host/x", "redis://host/-1", "redis://host?timeout=1", "redis://[::1",
        "redis://:%zz@host",
    ])
    func rejectsInvalidURLs(url: String) {
        #expect {
            _ = try RedisClientConfiguration(url: url)
        } throws: { error in
            (error as? RedisError)?.code == .invalidConfiguration
        }
    }

    @Test func errorsAndDescriptionNeverContainThePassword() throws {
        let configuration = try RedisClientConfiguration(url: "redis://user:hunter2@host:1/2")
        #expect(!configuration.description.contains("hunter2"))
        #expect(configuration.description.contains("***"))
        do {
            _ = try RedisClientConfiguration(url: "redis://:hunter2@host:bad")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
