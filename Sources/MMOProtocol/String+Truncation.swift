extension String {
    /// The longest prefix of whole characters whose UTF-8 encoding fits in `maxBytes`.
    /// Used before encoding human-readable text so a limit never splits a character.
    public func truncatedUTF8(maxBytes: Int) -> String {
        if utf8.count <= maxBytes { return self }
        var bytes = 0
        var end = startIndex
        for index in indices {
            let next = self.index(after: index)
            let size = self[index..<next].utf8.count
            if bytes + size > maxBytes { break }
            bytes += size
            end = next
        }
        return String(self[..<end])
    }
}
