/// The live state of characters that left the world recently.
///
/// The world is the authority on a character's live state, but a join carries the database's
/// record, which the gateway read before the leave's save may have landed (LEAVE_WORLD then
/// ENTER_WORLD at once, logging in again, a takeover through another connection). So the world
/// keeps each departed character's last state until its save has landed *and* `retention` has
/// passed since it left, and a join starts from that state when it is newer than the record.
///
/// Bounded: past `capacity` entries the oldest departure is forgotten even if its save has not
/// landed yet (the save itself stays queued; only the shortcut for a quick return is lost).
/// Pure and clock-free: the simulation drives it with its `now`.
struct RecentDepartures {
    struct Entry {
        var state: CharacterPosition
        /// The movement budget it left with: a quick return neither refills nor loses it.
        var moveBudget: MoveBudget
        var leftAt: Duration
        /// A save of this version (or a newer one) returned success.
        var saved = false
    }

    let retention: Duration
    let capacity: Int
    private(set) var entries: [UInt64: Entry] = [:]
    /// (character, version) in departure order; an element whose entry was replaced or removed
    /// since is stale and skipped. Consumed from `head`, compacted when half is consumed.
    private var order: [(characterID: UInt64, version: UInt64)] = []
    private var head = 0

    init(retention: Duration, capacity: Int) {
        self.retention = retention
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The retained state of a character, if any.
    func entry(of characterID: UInt64) -> Entry? {
        entries[characterID]
    }

    /// Keeps the state of a character that just left.
    mutating func record(_ state: CharacterPosition, moveBudget: MoveBudget, at now: Duration) {
        entries[state.characterID] = Entry(state: state, moveBudget: moveBudget, leftAt: now)
        order.append((state.characterID, state.version))
        while entries.count > capacity, popOldest() {}
        // Stale elements (characters that came back) pile up behind an unsaved departure while
        // the database is down; rebuild rather than let `order` outgrow `entries` without bound.
        if order.count - head > 2 * capacity + 1024 {
            order = entries.values.sorted { $0.leftAt < $1.leftAt }.map { ($0.state.characterID, $0.state.version) }
            head = 0
        }
    }

    /// The character is in the world again: its live state supersedes the retained one.
    mutating func forget(_ characterID: UInt64) {
        entries.removeValue(forKey: characterID)
    }

    /// A save of `version` for the character returned success.
    mutating func confirmSaved(_ characterID: UInt64, version: UInt64) {
        guard let entry = entries[characterID], entry.state.version <= version else { return }
        entries[characterID]?.saved = true
    }

    /// Forgets departures whose save landed and that left at least `retention` before `now`.
    /// Oldest first; an unsaved departure stops the sweep (later ones wait for it, within
    /// `capacity`), so a sweep costs only what it removes.
    mutating func prune(now: Duration) {
        while head < order.count {
            let (id, version) = order[head]
            guard let entry = entries[id], entry.state.version == version else {
                head += 1  // stale: replaced by a later departure, or forgotten on a rejoin
                continue
            }
            guard entry.saved, now - entry.leftAt >= retention else { break }
            entries.removeValue(forKey: id)
            head += 1
        }
        compact()
    }

    /// Removes the oldest live entry; false when there is none.
    private mutating func popOldest() -> Bool {
        defer { compact() }
        while head < order.count {
            let (id, version) = order[head]
            head += 1
            if entries[id]?.state.version == version {
                entries.removeValue(forKey: id)
                return true
            }
        }
        return false
    }

    private mutating func compact() {
        if head == order.count {
            order.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
