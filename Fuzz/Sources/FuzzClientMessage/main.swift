import MMOProtocol

/// Every client-message decoder: the input's first two bytes are the opcode, the rest the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientMessage(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    DecoderFuzzCheck.fuzzOne(.clientMessage, start, count)
}
