/// A uniform grid over one zone that answers "who might be within r of this point" by looking at
/// the few cells a circle of radius r overlaps, instead of at every entity in the zone.
///
/// Entities are small integers (the simulation's player slots). Every operation is O(1) except
/// queries, which are O(entities in the overlapped cells). Cells are arrays that keep their
/// capacity, so a steady-state world moves entities between cells without allocating.
///
/// Positions outside the bounds (or non-finite) are clamped into the edge cells: the grid never
/// traps on a bad coordinate, and the simulation never stores one anyway.
public struct InterestGrid: Sendable {
    public let bounds: ZoneBounds
    public let cellSize: Float
    public let columns: Int
    public let rows: Int

    /// Entity slots per cell, row-major.
    @usableFromInline var cells: [[Int32]]
    /// Per entity slot: its cell, or -1 when not in the grid.
    @usableFromInline var cellOf: [Int32] = []
    /// Per entity slot: its index inside `cells[cellOf[slot]]`, for O(1) swap-removal.
    @usableFromInline var indexInCell: [Int32] = []

    /// The most cells a grid allocates; a huge zone gets proportionally bigger cells instead.
    public static let maxCells = 1 << 20

    /// - Parameter cellSize: about the interest radius, so an interest query touches 3x3 cells.
    public init(bounds: ZoneBounds, cellSize: Float) {
        precondition(cellSize > 0 && cellSize.isFinite, "cell size must be positive")
        var size = cellSize
        while (Double(bounds.width / size).rounded(.up) + 1) * (Double(bounds.height / size).rounded(.up) + 1)
            > Double(Self.maxCells)
        {
            size *= 2
        }
        self.bounds = bounds
        self.cellSize = size
        // +1 so a coordinate exactly on the max edge has a cell of its own instead of an
        // off-by-one; it also keeps widths that are exact multiples of the cell size correct.
        self.columns = Int((bounds.width / size).rounded(.down)) + 1
        self.rows = Int((bounds.height / size).rounded(.down)) + 1
        self.cells = Array(repeating: [], count: columns * rows)
    }

    /// The column of `x`, clamped into the grid (NaN goes to column 0).
    @inlinable
    public func column(of x: Float) -> Int {
        let f = (x - bounds.minX) / cellSize
        guard f >= 0 else { return 0 }
        guard f < Float(columns - 1) else { return columns - 1 }
        return Int(f)
    }

    /// The row of `y`, clamped into the grid (NaN goes to row 0).
    @inlinable
    public func row(of y: Float) -> Int {
        let f = (y - bounds.minY) / cellSize
        guard f >= 0 else { return 0 }
        guard f < Float(rows - 1) else { return rows - 1 }
        return Int(f)
    }

    /// The index of the cell containing `position` (clamped).
    @inlinable
    public func cell(containing position: Position) -> Int {
        row(of: position.y) * columns + column(of: position.x)
    }

    /// The entities in one cell, in no particular order.
    public func entities(inCell cell: Int) -> [Int32] { cells[cell] }

    /// True when `entity` is in the grid.
    public func contains(_ entity: Int32) -> Bool {
        Int(entity) < cellOf.count && cellOf[Int(entity)] >= 0
    }

    /// The cell `entity` is filed under, if it is in the grid.
    public func cell(of entity: Int32) -> Int? {
        contains(entity) ? Int(cellOf[Int(entity)]) : nil
    }

    /// Files `entity` at `position`. The entity must not already be in the grid.
    public mutating func insert(_ entity: Int32, at position: Position) {
        precondition(entity >= 0, "negative entity slot")
        let slot = Int(entity)
        if slot >= cellOf.count {
            let newCount = Swift.max(slot + 1, cellOf.count * 2)
            cellOf.append(contentsOf: repeatElement(-1, count: newCount - cellOf.count))
            indexInCell.append(contentsOf: repeatElement(-1, count: newCount - indexInCell.count))
        }
        precondition(cellOf[slot] < 0, "entity \(entity) is already in the grid")
        let cell = self.cell(containing: position)
        cellOf[slot] = Int32(cell)
        indexInCell[slot] = Int32(cells[cell].count)
        cells[cell].append(entity)
    }

    /// Removes `entity` from the grid; a no-op when it is not there.
    public mutating func remove(_ entity: Int32) {
        guard contains(entity) else { return }
        let slot = Int(entity)
        detach(slot, from: Int(cellOf[slot]))
        cellOf[slot] = -1
        indexInCell[slot] = -1
    }

    /// Refiles `entity` after it moved. Cheap when it stays in its cell (the common case).
    public mutating func move(_ entity: Int32, to position: Position) {
        let slot = Int(entity)
        precondition(contains(entity), "entity \(entity) is not in the grid")
        let newCell = cell(containing: position)
        let oldCell = Int(cellOf[slot])
        guard newCell != oldCell else { return }
        detach(slot, from: oldCell)
        cellOf[slot] = Int32(newCell)
        indexInCell[slot] = Int32(cells[newCell].count)
        cells[newCell].append(entity)
    }

    /// Swap-removes `slot` from `cell`, fixing the index of the entity that took its place.
    @usableFromInline
    mutating func detach(_ slot: Int, from cell: Int) {
        let index = Int(indexInCell[slot])
        let last = cells[cell].count - 1
        if index != last {
            let moved = cells[cell][last]
            cells[cell][index] = moved
            indexInCell[Int(moved)] = Int32(index)
        }
        cells[cell].removeLast()
    }

    /// Calls `body` with every entity in the cells a circle of `radius` around `center` touches.
    /// These are candidates: the caller checks the exact distance.
    @inlinable
    public func forEachCandidate(near center: Position, radius: Float, _ body: (Int32) throws -> Void) rethrows {
        let c0 = column(of: center.x - radius)
        let c1 = column(of: center.x + radius)
        let r0 = row(of: center.y - radius)
        let r1 = row(of: center.y + radius)
        guard c0 <= c1, r0 <= r1 else { return }
        for r in r0...r1 {
            let base = r * columns
            for c in c0...c1 {
                for entity in cells[base + c] { try body(entity) }
            }
        }
    }

    /// The number of entities in the grid.
    public var count: Int { cells.reduce(0) { $0 + $1.count } }
}
