/// Frame opcodes. Client-to-server opcodes are below 0x8000, server-to-client at or above.
/// Values are part of the wire protocol (docs/protocol.md) and never change.
public enum Opcode: UInt16, Sendable, CaseIterable {
    // client -> server
    case hello = 0x0001
    case ping = 0x0002
    case logout = 0x0003
    case login = 0x0010
    case resume = 0x0011
    case characterList = 0x0020
    case characterCreate = 0x0021
    case characterDelete = 0x0022
    case enterWorld = 0x0023
    case move = 0x0030
    case say = 0x0031
    case leaveWorld = 0x0032

    // server -> client
    case helloAck = 0x8001
    case pong = 0x8002
    case disconnect = 0x8003
    case error = 0x8004
    case loginResult = 0x8010
    case resumeResult = 0x8011
    case resumeToken = 0x8012
    case characterListResult = 0x8020
    case characterCreateResult = 0x8021
    case characterDeleteResult = 0x8022
    case enterWorldResult = 0x8023
    case worldUpdate = 0x8030
    case leftWorld = 0x8032
    case viewReset = 0x8033

    /// True for opcodes a client may send.
    public var isClientOpcode: Bool { rawValue < 0x8000 }
}
