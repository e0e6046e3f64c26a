/// Why bytes could not be turned into a message. Any of these closes the offending connection
/// (after a DISCONNECT frame carrying `resultCode`), and only that connection.
public enum ProtocolError: Error, Equatable, Sendable {
    /// The length prefix announces more than the negotiated maximum.
    case frameTooLarge(length: Int, limit: Int)
    /// The length prefix is smaller than the opcode it must contain.
    case frameTooShort(length: Int)
    case unknownOpcode(UInt16)
    /// A message body ended early, had bytes left over, or held an invalid value.
    case malformed(opcode: UInt16, reason: String)

    /// The result code sent in the DISCONNECT frame.
    public var resultCode: ResultCode {
        switch self {
        case .frameTooLarge: return .frameTooLarge
        case .frameTooShort, .malformed: return .malformedPacket
        case .unknownOpcode: return .unknownOpcode
        }
    }
}
