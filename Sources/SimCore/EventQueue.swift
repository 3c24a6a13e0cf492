// EventQueue: the discrete-event core. Models: one virtual clock and the actions due on it.
// Guarantees: events run in (time, insertion order) order, so equal-time events are FIFO and a
// run is reproducible; cancelled events never run; an event budget bounds runaway scenarios.
// Leaves out: any notion of wall-clock time or threads.

import HeapModule

/// Identifies a scheduled event so that it can be cancelled.
public struct EventID: Hashable, Sendable {
    public let raw: UInt64
}

/// Why `run` stopped early.
public enum RunError: Error, Equatable {
    /// More events ran than the budget allows (a bridge loop, a storm).
    case budgetExceeded(budget: Int, at: SimTime)
}

public final class EventQueue {
    private struct Entry: Comparable {
        let time: SimTime
        /// Events of a lower rank run first at equal times; within a rank, FIFO by seq, or
        /// LIFO for the ranks `scheduleTimer` uses.
        let rank: Int32
        let seq: UInt64
        let action: () -> Void
        static func < (a: Entry, b: Entry) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.rank != b.rank { return a.rank < b.rank }
            return a.rank < EventQueue.fifoRank ? a.seq > b.seq : a.seq < b.seq
        }
        static func == (a: Entry, b: Entry) -> Bool { a.seq == b.seq }
    }

    /// The rank of ordinary events; lower ranks are timer buckets (run LIFO).
    static let fifoRank: Int32 = 1 << 20

    private var heap = Heap<Entry>()
    private var nextSeq: UInt64 = 0
    private var cancelled = Set<UInt64>()

    /// The current virtual time: the time of the event being run, or the last one run.
    public private(set) var now: SimTime
    /// Events run so far.
    public private(set) var processed: Int = 0
    /// Runs allowed in total before `run` throws `budgetExceeded`.
    public var budget: Int

    public init(start: SimTime = .zero, budget: Int = 50_000_000) {
        self.now = start
        self.budget = budget
    }

    /// Schedules `action` at absolute time `time` (never before now).
    @discardableResult
    public func schedule(at time: SimTime, _ action: @escaping () -> Void) -> EventID {
        insert(at: time, rank: EventQueue.fifoRank, action)
    }

    /// Schedules a timer of a timer-wheel `level`. Timers due at the same instant run before
    /// ordinary events, lower levels first and, within a level, the most recently armed
    /// first: the order in which the kernel's __run_timers() expires one bucket (each new
    /// timer is added at the head of its bucket's list).
    @discardableResult
    public func scheduleTimer(at time: SimTime, level: Int, _ action: @escaping () -> Void) -> EventID {
        insert(at: time, rank: Int32(level), action)
    }

    private func insert(at time: SimTime, rank: Int32, _ action: @escaping () -> Void) -> EventID {
        let t = time < now ? now : time
        let seq = nextSeq
        nextSeq &+= 1
        heap.insert(Entry(time: t, rank: rank, seq: seq, action: action))
        return EventID(raw: seq)
    }

    @discardableResult
    public func schedule(after delay: SimTime, _ action: @escaping () -> Void) -> EventID {
        schedule(at: now + delay, action)
    }

    public func cancel(_ id: EventID) { cancelled.insert(id.raw) }

    /// Actions that share one heap entry.
    private final class Batch {
        var actions: [() -> Void] = []
        var started = false
        func run() {
            started = true
            var i = 0
            while i < actions.count {
                actions[i]()
                i += 1
            }
        }
    }
    private var lastBatch: (seq: UInt64, time: SimTime, batch: Batch)?

    /// Schedules `action` at `time` without a cancel handle. When the previous schedule call
    /// was a batched one for the same time (nothing else scheduled in between) and its batch
    /// has not started, the action joins it: one heap entry then runs them in the order
    /// separate entries would have run. A bridge flooding one frame to many ports costs one
    /// heap operation instead of one per port.
    public func scheduleBatched(at time: SimTime, _ action: @escaping () -> Void) {
        let t = time < now ? now : time
        if let lb = lastBatch, lb.seq &+ 1 == nextSeq, lb.time == t, !lb.batch.started {
            lb.batch.actions.append(action)
            return
        }
        let b = Batch()
        b.actions.append(action)
        let id = schedule(at: t) { b.run() }
        lastBatch = (id.raw, t, b)
    }

    /// How many times `schedule` has been called: lets a caller tell whether anything was
    /// scheduled since its own last call (to batch without changing the order).
    public var scheduleCount: UInt64 { nextSeq }

    /// Number of events waiting (cancelled ones included until they surface).
    public var pending: Int { heap.count }

    /// Time of the next live event, if any.
    public var nextTime: SimTime? {
        while !cancelled.isEmpty, let top = heap.min, cancelled.contains(top.seq) {
            _ = heap.removeMin()
            cancelled.remove(top.seq)
        }
        return heap.min?.time
    }

    /// Runs every event due at or before `limit`, then sets the clock to `limit`.
    public func run(until limit: SimTime) throws {
        while let t = nextTime, t <= limit {
            try step()
        }
        if now < limit { now = limit }
    }

    /// Runs events until `done()` holds or the queue is empty; returns whether `done()` held.
    /// The clock stays at the last event run.
    public func run(while notDone: () -> Bool, deadline: SimTime? = nil) throws -> Bool {
        while notDone() {
            guard let t = nextTime else { return false }
            if let d = deadline, t > d { now = max(now, d); return false }
            try step()
        }
        return true
    }

    private func step() throws {
        let e = heap.removeMin()
        if !cancelled.isEmpty, cancelled.remove(e.seq) != nil { return }
        processed += 1
        if processed > budget { throw RunError.budgetExceeded(budget: budget, at: e.time) }
        now = e.time
        e.action()
    }
}
