import Testing
import WorldService

@Suite("InterestGrid")
struct InterestGridTests {
    let grid = InterestGrid(bounds: ZoneBounds(x: 0...1000, y: 0...1000), cellSize: 50)

    @Test("coordinates on the edges map to the first and last cells")
    func edges() {
        #expect(grid.columns == 21 && grid.rows == 21)
        #expect(grid.column(of: 0) == 0)
        #expect(grid.column(of: 49.99) == 0)
        #expect(grid.column(of: 50) == 1)
        #expect(grid.column(of: 999.99) == 19)
        #expect(grid.column(of: 1000) == 20)
        #expect(grid.row(of: 1000) == 20)
        #expect(grid.cell(containing: Position(x: 1000, y: 1000)) == 21 * 21 - 1)
    }

    @Test("coordinates outside the bounds or non-finite are clamped, never trap")
    func clamping() {
        #expect(grid.column(of: -0.01) == 0)
        #expect(grid.column(of: -1e30) == 0)
        #expect(grid.column(of: 1e30) == 20)
        #expect(grid.column(of: .nan) == 0)
        #expect(grid.row(of: .infinity) == 20)
        #expect(grid.row(of: -.infinity) == 0)
    }

    @Test("negative bounds are offset from their minimum")
    func negativeBounds() {
        let g = InterestGrid(bounds: ZoneBounds(x: -500...500, y: -300...(-100)), cellSize: 100)
        #expect(g.columns == 11 && g.rows == 3)
        #expect(g.column(of: -500) == 0)
        #expect(g.column(of: -400.01) == 0)
        #expect(g.column(of: -400) == 1)
        #expect(g.column(of: 0) == 5)
        #expect(g.column(of: 500) == 10)
        #expect(g.row(of: -300) == 0)
        #expect(g.row(of: -150) == 1)
        #expect(g.row(of: -100) == 2)
        #expect(g.row(of: 0) == 2)
    }

    @Test("insert, move and remove keep every entity in exactly one cell")
    func bookkeeping() {
        var g = grid
        g.insert(0, at: Position(x: 10, y: 10))
        g.insert(1, at: Position(x: 20, y: 20))
        g.insert(2, at: Position(x: 30, y: 30))
        g.insert(7, at: Position(x: 990, y: 990))
        #expect(Set(g.entities(inCell: 0)) == [0, 1, 2])
        #expect(g.count == 4)

        // Removing from the middle swaps the last entity into the hole; it must stay findable.
        g.remove(0)
        #expect(Set(g.entities(inCell: 0)) == [1, 2])
        g.move(2, to: Position(x: 60, y: 10))
        #expect(g.entities(inCell: 0) == [1])
        #expect(g.entities(inCell: 1) == [2])
        #expect(g.cell(of: 2) == 1)
        g.remove(2)
        g.remove(1)
        g.remove(1)  // no-op
        #expect(g.entities(inCell: 0).isEmpty && g.entities(inCell: 1).isEmpty)
        #expect(!g.contains(1) && g.contains(7))
        #expect(g.count == 1)

        // Slots are reusable after removal.
        g.insert(0, at: Position(x: 500, y: 500))
        #expect(g.cell(of: 0) == g.cell(containing: Position(x: 500, y: 500)))
    }

    @Test("a query visits the cells its circle overlaps and no others")
    func query() {
        var g = grid
        g.insert(0, at: Position(x: 500, y: 500))  // center cell (10, 10)
        g.insert(1, at: Position(x: 549, y: 451))  // neighbour cell (10, 9)
        g.insert(2, at: Position(x: 560, y: 500))  // cell (11, 10)
        g.insert(3, at: Position(x: 620, y: 500))  // cell (12, 10): too far
        g.insert(4, at: Position(x: 0, y: 0))

        var seen: Set<Int32> = []
        g.forEachCandidate(near: Position(x: 510, y: 510), radius: 40) { seen.insert($0) }
        #expect(seen == [0, 1, 2])

        // Near a corner, the query is cut at the bounds instead of wrapping around.
        seen = []
        g.forEachCandidate(near: Position(x: 0, y: 0), radius: 50) { seen.insert($0) }
        #expect(seen == [4])
    }

    @Test("a huge zone gets bigger cells instead of millions of them")
    func hugeZone() {
        let g = InterestGrid(bounds: ZoneBounds(x: 0...1_000_000, y: 0...1_000_000), cellSize: 50)
        #expect(g.columns * g.rows <= InterestGrid.maxCells)
        #expect(g.cellSize > 50)
    }
}
