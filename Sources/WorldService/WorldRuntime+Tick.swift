import MMOTime
import MMOProtocol

extension WorldRuntime {
    /// Runs one tick at `now` (time since the world started): drains every link's inputs, steps
    /// the simulation, hands each link its batch, and queues saves. `run()` calls it at
    /// `tickRateHz`; tests call it directly.
    public func tick(now: Duration) {
        let started = ContinuousClock.now
        let (links, closed) = registry.withLock { r -> ([UInt32: GatewayLink], [UInt32]) in
            let closed = r.closed
            r.closed.removeAll()
            return (r.links, closed)
        }
        let tooSlow = core.withLock { core -> [GatewayLink] in
            guard !core.finished else { return [] }
            return runTick(&core, now: now, links: links, closed: closed)
        }
        for link in tooSlow {
            logger.warning(
                "gateway fell too far behind; disconnecting it",
                metadata: ["link": "\(link.id)", "gateway": "\(link.gatewayID)"])
            closeLink(link, reason: .tooSlow)
        }
        metrics.tickDuration.recordSeconds(started.duration(to: .now).inSeconds)
    }

    /// One tick under the tick lock. Returns the links that fell too far behind to take their
    /// batch (the caller disconnects them outside the lock).
    func runTick(_ core: inout Core, now: Duration, links: [UInt32: GatewayLink], closed: [UInt32]) -> [GatewayLink] {
        core.simulation.advanceVersionClock(toWallClockMicros: wallClockMicros())
        saves.drainLanded(into: &core.landed)
        for (id, version) in core.landed { core.simulation.confirmSaved(characterID: id, version: version) }
        for id in closed { core.simulation.closeLink(id) }
        drainInputs(&core, now: now, links: links)
        core.simulation.step(now: now)
        let tooSlow = deliverOutputs(&core, links: links)

        saves.enqueue(core.simulation.departed)
        // This tick's slice of the autosave: the buckets whose turn came (AutosaveSchedule).
        let due = core.autosave.due(at: now)
        if due.count > 0 {
            let bucketCount = core.autosave.bucketCount
            for i in 0..<due.count {
                core.simulation.takeChangedPositions(
                    bucket: (due.first + i) % bucketCount, of: bucketCount, into: &core.autosaveBatch)
            }
            saves.enqueue(core.autosaveBatch)
            core.autosaveBatch.removeAll(keepingCapacity: true)
        }

        metrics.players.record(core.simulation.playerCount)
        if core.simulation.counters != core.lastCounters {
            metrics.record(core.simulation.counters, since: core.lastCounters)
            core.lastCounters = core.simulation.counters
        }
        return tooSlow
    }

    /// Moves every link's queued inputs into the simulation, in arrival order, and answers the
    /// joins a full inbox refused with BUSY.
    private func drainInputs(_ core: inout Core, now: Duration, links: [UInt32: GatewayLink]) {
        var dropped = 0
        for link in links.values {
            let (refusedJoins, droppedHere) = link.drain(into: &core.drained)
            dropped += droppedHere
            for inputs in core.drained {
                for input in inputs {
                    core.simulation.submit(input.command, from: SessionKey(link: link.id, session: input.session))
                }
            }
            core.drained.removeAll(keepingCapacity: true)
            for session in refusedJoins {
                core.batches[link.id, default: TickBatch(tick: 0)].outputs.append(
                    GatewayOutput(session: session, outcome: .rejected(.busy)))
            }
        }
        guard dropped > 0 else { return }
        // At most one warning per 10 s: an overloaded world must not also flood its log.
        core.droppedSinceWarning += dropped
        if core.lastDropWarning.map({ now - $0 >= .seconds(10) }) ?? true {
            logger.warning(
                "gateway input queues overflowed; inputs dropped", metadata: ["dropped": "\(core.droppedSinceWarning)"])
            core.droppedSinceWarning = 0
            core.lastDropWarning = now
        }
    }

    /// Groups the step's outputs into one batch per gateway and hands each to its link. The
    /// update bodies travel as the simulation encoded them; turning a batch into a wire message
    /// is the gateway stream's job, off the tick. Returns the links too far behind to take one.
    private func deliverOutputs(_ core: inout Core, links: [UInt32: GatewayLink]) -> [GatewayLink] {
        var bytes = 0
        for output in core.simulation.outputs {
            if case .update(let body) = output.outcome { bytes += body.readableBytes }
            core.batches[output.key.link, default: TickBatch(tick: 0)].outputs.append(
                GatewayOutput(session: output.key.session, outcome: output.outcome))
        }
        if bytes > 0 { metrics.bytesOut.increment(by: bytes) }

        var tooSlow: [GatewayLink] = []
        for (id, var batch) in core.batches {
            // Sessions of links closed since the snapshot: nobody to deliver to.
            guard let link = links[id] else { continue }
            batch.tick = core.simulation.tick
            if !link.deliver(batch), link.closeReason == nil { tooSlow.append(link) }
        }
        core.batches.removeAll(keepingCapacity: true)
        return tooSlow
    }
}
