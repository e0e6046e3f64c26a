extension Duration {
    /// Seconds as a Double, for rate arithmetic and metrics (Duration's own arithmetic is exact
    /// but slow). The world service's only Duration-to-number conversion.
    @inlinable
    var secondsDouble: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
