extension WorldSimulation {
    /// Reconciles a player's view pairs with its current position: pairs beyond the leave radius
    /// are dropped, the rest learn the new position, and entities inside the enter radius that
    /// are not seen yet appear (both ways), within `maxVisibleEntities` on both sides.
    mutating func updateInterest(of slot: Int32) {
        let s = Int(slot)
        let center = positions[s]
        let entityID = players[s].entityID
        let cap = configuration.maxVisibleEntities

        scratch.removeAll(keepingCapacity: true)
        if !views[s].isEmpty {
            let view = views[s]  // a shared copy: this player's own view is not changed in the loop
            let move = encodeOnce(.move(entityId: entityID, x: center.x, y: center.y))
            for (other, since) in view {
                if positions[Int(other)].distanceSquared(to: center) > leaveRadiusSquared {
                    scratch.append(other)
                } else if since != tick {
                    // A pair made this tick already carried the latest position in its appear.
                    push(encoded: move, to: other)
                }
            }
        }
        for index in scratch.indices {
            let other = scratch[index]
            views[s].removeValue(forKey: other)
            views[Int(other)].removeValue(forKey: slot)
            push(.disappear(entityId: players[Int(other)].entityID), to: slot)
            push(.disappear(entityId: entityID), to: other)
        }

        guard views[s].count < cap else { return }
        let grid = zones[players[s].zoneIndex].grid
        grid.forEachCandidate(near: center, radius: configuration.interestRadius) { other in
            guard other != slot,
                positions[Int(other)].distanceSquared(to: center) <= enterRadiusSquared,
                views[s].count < cap, views[Int(other)].count < cap,
                views[s][other] == nil
            else { return }
            views[s][other] = tick
            views[Int(other)][slot] = tick
            push(.appear(appearance(of: other)), to: slot)
            push(.appear(appearance(of: slot)), to: other)
        }
    }
}
