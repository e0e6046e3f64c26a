#if canImport(Glibc)
// `stdout` is a C global var; Swift 6 refuses to touch it unless the module is imported this way
// (and this file must not import Foundation, which re-exports it without the annotation).
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

enum Stdout {
    /// Makes stdout line-buffered so progress lines appear as they happen, even through a pipe.
    static func lineBuffer() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
