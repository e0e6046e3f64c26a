import MMOProtocol

/// The streaming frame parser as the packet service drives it, then every frame's client message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameStream(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    DecoderFuzzCheck.fuzzOne(.frameStream, start, count)
}
