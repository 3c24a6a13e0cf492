// Timer: kernel timers on the virtual clock, in jiffies, rounded as the timer wheel rounds.
// Models: kernel/time/timer.c's wheel (LVL_BITS 6, LVL_CLK_SHIFT 3): a timer fires on a tick,
// never early, and late by up to its level's granularity. This is why a neighbour's 5 s
// DELAY timer fires 5.0-5.26 s later at HZ=250.
// Guarantees: the tick phase and starting jiffies come from the machine's seeded stream.
// Leaves out: hrtimers (user-space sleeps use exact times), NOHZ idle lag.

import SimCore

extension Machine {
    var tickNS: Int64 { 1_000_000_000 / kernel.config.hz }

    /// Jiffies at virtual time `t` (the last tick at or before `t`).
    public func jiffies(at t: SimTime) -> Int64 {
        let rel = t.ns - tickPhase.ns
        let q = rel >= 0 ? rel / tickNS : -((-rel + tickNS - 1) / tickNS)
        return jiffiesAtZero + q
    }

    /// Virtual time of tick `j`.
    public func time(ofJiffies j: Int64) -> SimTime {
        SimTime(ns: (j - jiffiesAtZero) * tickNS + tickPhase.ns)
    }

    public var jiffiesNow: Int64 { jiffies(at: kernel.clock.now) }

    /// Whole jiffies for a duration, rounding up like msecs_to_jiffies().
    public func toJiffies(_ d: SimTime) -> Int64 { (d.ns + tickNS - 1) / tickNS }

    /// Kernel: calc_wheel_index() in kernel/time/timer.c: the tick on which a timer armed now
    /// for absolute jiffies `expires` actually runs.
    public func wheelExpiry(_ expires: Int64) -> Int64 { wheelSlot(expires).expiry }

    /// The tick a timer armed now for `expires` runs on, and its wheel level.
    func wheelSlot(_ expires: Int64) -> (expiry: Int64, level: Int) {
        let clk = jiffiesNow
        let delta = expires - clk
        if delta < 0 { return (clk + 1, 0) }
        var lvl: Int64 = 0
        // LVL_START(n) = 63 << 3(n-1)
        while lvl < 8 && delta >= (63 << (3 * lvl)) { lvl += 1 }
        let shift = 3 * lvl
        return (((expires >> shift) + 1) << shift, Int(lvl))
    }

    /// Schedules `action` as a kernel timer armed now for absolute jiffies `expires`. Timers
    /// of one tick run as the kernel runs them: lower levels first, the latest armed first.
    @discardableResult
    public func addTimer(expires: Int64, _ action: @escaping () -> Void) -> EventID {
        let slot = wheelSlot(expires)
        return kernel.clock.scheduleTimer(at: time(ofJiffies: slot.expiry), level: slot.level, action)
    }
}
