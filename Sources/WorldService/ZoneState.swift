/// One zone as the simulation runs it: its map, its interest grid and its head count.
struct ZoneState {
    let zone: Zone
    var grid: InterestGrid
    var playerCount = 0
}
