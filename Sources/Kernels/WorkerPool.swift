#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of persistent threads that run `parallelFor` bodies; the calling thread takes part.
///
/// Mechanics (designed for many small calls per second on a shared, possibly oversubscribed machine):
/// - One 64-bit atomic word holds `generation << 32 | nextIndex`. A call publishes a new (even) generation; every
///   participant (the caller included) claims indices one at a time with a compare-exchange on that word, so a
///   worker that wakes late simply finds nothing left and the caller never waits for a thread that did no work.
/// - Publishing is two-phase (odd generation = "being prepared", even = "live"), so a worker still holding the
///   previous generation can never claim an index of the next one.
/// - Idle workers poll the word for a bounded time (`spinMicroseconds`, default 50: plain atomic loads; no `pause`
///   instruction is reachable from Swift without a C module), then sleep on a condition variable. The caller, once
///   nothing is left to claim, polls for stragglers for at most max(spin, 100 µs), then sleeps on a condition
///   variable too. Nothing spins unboundedly. Why 50 µs and not a few: on the 2-vCPU VM this was tuned on, waking
///   a sleeping thread costs the waker ~8 µs (futex + inter-processor interrupt) and the sleeper ~25 µs of latency,
///   so a spin shorter than that saves nothing; pass a smaller value on an oversubscribed machine.
/// - Which thread ran which index is not deterministic; callers must make each index write disjoint memory, and
///   then the results do not depend on the thread count.
/// - Nested calls (a body calling `parallelFor` on the same pool) and concurrent calls from other threads are
///   safe: they find the pool busy and run their loop inline on the calling thread.
/// - `threads == 1` runs every call inline and starts no thread. `deinit` stops and joins the workers.
public final class WorkerPool: @unchecked Sendable {
    /// Participants in a call: the caller plus `threadCount - 1` persistent workers.
    public let threadCount: Int

    private let shared: PoolShared
    private var workers: [ThreadHandle] = []

    /// `threads` (clamped to 1...256) counts the caller. `spinMicroseconds` (clamped to 0...1 s): how long an idle
    /// worker polls for the next call before it blocks (see the type's notes).
    public init(threads: Int, spinMicroseconds: Int = 50) {
        threadCount = max(1, min(threads, 256))
        shared = PoolShared(spinNanoseconds: UInt64(max(0, min(spinMicroseconds, 1_000_000))) * 1000)
        guard threadCount > 1 else { return }
        for _ in 1..<threadCount {
            let context = Unmanaged.passRetained(shared).toOpaque()
            var thread = ThreadHandle()
            let status = pthread_create(&thread, nil, { runWorker($0) }, context)
            precondition(status == 0, "WorkerPool: pthread_create failed (\(status))")
            workers.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in workers {
            #if canImport(Darwin)
            pthread_join(thread!, nil)
            #else
            pthread_join(thread, nil)
            #endif
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count` and returns when all have finished. The calling thread runs
    /// indices too. Each index is run exactly once; the order and the thread that runs it are unspecified.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 || count > Int(UInt32.max) || !shared.tryAcquire() {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = escapable
            withUnsafePointer(to: &job) { pointer in
                shared.run(count: count, body: UnsafeRawPointer(pointer))
            }
        }
        shared.release()
    }
}

// pthread_t is an integer on Linux and an optional pointer where pthread_create fills it on Darwin.
#if canImport(Darwin)
typealias ThreadHandle = pthread_t?
#else
typealias ThreadHandle = pthread_t
#endif

/// A worker thread's body (a function, not a closure: pthread_create takes a C function; its argument is optional
/// on Linux and not on Darwin, and either converts to this parameter).
private func runWorker(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<PoolShared>.fromOpaque(raw!).takeRetainedValue().workerLoop()
    return nil
}

/// The state the workers share with the pool object (a separate object so the threads do not keep the pool alive).
final class PoolShared: @unchecked Sendable {
    typealias Body = (Int) -> Void

    /// `generation << 32 | nextIndex`. Even generation: a live job; odd: the caller is preparing the next one.
    let state = Atomic<UInt64>(0)
    /// Indices finished in the live job.
    let done = Atomic<Int>(0)
    /// Index count of the live job (written before its generation is published).
    let count = Atomic<Int>(0)
    /// Workers asleep (or about to sleep) on `workCondition`.
    let sleepers = Atomic<Int>(0)
    /// The caller is asleep (or about to sleep) on `doneCondition`.
    let callerSleeping = Atomic<Bool>(false)
    /// One `parallelFor` at a time; others (nested or concurrent) run inline.
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    /// Pointer to the caller's `(Int) -> Void`; only dereferenced after a successful claim of the live job.
    var body: UnsafeRawPointer?

    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let workCondition: UnsafeMutablePointer<pthread_cond_t>
    let doneCondition: UnsafeMutablePointer<pthread_cond_t>

    /// How long an idle worker polls before it blocks.
    let spinNanoseconds: UInt64
    /// How long the caller polls for stragglers before it blocks (at least `spinNanoseconds`).
    static let callerSpinNanoseconds: UInt64 = 100_000

    init(spinNanoseconds: UInt64) {
        self.spinNanoseconds = spinNanoseconds
        mutex = .allocate(capacity: 1)
        workCondition = .allocate(capacity: 1)
        doneCondition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workCondition, nil)
        pthread_cond_init(doneCondition, nil)
    }

    deinit {
        pthread_cond_destroy(workCondition)
        pthread_cond_destroy(doneCondition)
        pthread_mutex_destroy(mutex)
        workCondition.deallocate()
        doneCondition.deallocate()
        mutex.deallocate()
    }

    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() { busy.store(false, ordering: .releasing) }

    @inline(__always) static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    @inline(never) static func invoke(_ body: UnsafeRawPointer, _ index: Int) {
        body.assumingMemoryBound(to: Body.self).pointee(index)
    }

    /// Claims and runs indices of generation `generation` until none is left.
    @inline(__always) func drain(generation: UInt64) {
        let total = UInt64(count.load(ordering: .relaxed))
        var current = state.load(ordering: .acquiring)
        while true {
            guard current >> 32 == generation else { return }
            let index = current & 0xFFFF_FFFF
            guard index < total else { return }
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current &+ 1, ordering: .acquiringAndReleasing)
            if !exchanged { current = original; continue }
            PoolShared.invoke(body!, Int(index))
            let finished = done.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            if finished == Int(total) {
                // Last one: wake the caller if it went to sleep.
                if callerSleeping.load(ordering: .sequentiallyConsistent) {
                    pthread_mutex_lock(mutex)
                    pthread_cond_signal(doneCondition)
                    pthread_mutex_unlock(mutex)
                }
                return
            }
            current = state.load(ordering: .acquiring)
        }
    }

    /// Called by the pool's owner thread with `busy` held.
    func run(count jobCount: Int, body jobBody: UnsafeRawPointer) {
        let previous = state.load(ordering: .relaxed) >> 32
        let preparing = previous &+ 1  // odd
        let live = (previous &+ 2) & 0xFFFF_FFFF  // even
        state.store(preparing << 32 | 0xFFFF_FFFF, ordering: .releasing)
        count.store(jobCount, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
        body = jobBody
        state.store(live << 32, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(workCondition)
            pthread_mutex_unlock(mutex)
        }
        drain(generation: live)
        // Wait for indices other threads are still running: bounded poll, then sleep.
        if done.load(ordering: .acquiring) != jobCount {
            let deadline = PoolShared.now() &+ max(spinNanoseconds, PoolShared.callerSpinNanoseconds)
            var polls = 0
            while done.load(ordering: .acquiring) != jobCount {
                polls &+= 1
                if polls & 63 == 0 && PoolShared.now() > deadline {
                    pthread_mutex_lock(mutex)
                    callerSleeping.store(true, ordering: .sequentiallyConsistent)
                    while done.load(ordering: .sequentiallyConsistent) != jobCount {
                        pthread_cond_wait(doneCondition, mutex)
                    }
                    callerSleeping.store(false, ordering: .relaxed)
                    pthread_mutex_unlock(mutex)
                    break
                }
            }
        }
        body = nil
    }

    func workerLoop() {
        // Generation 0 is the pool's initial state, never a job (reading the word here instead would make a
        // thread that starts late skip the first job).
        var seen: UInt64 = 0
        while true {
            // Wait for a live generation other than the one last seen.
            var generation = state.load(ordering: .acquiring) >> 32
            if generation == seen || generation & 1 == 1 {
                var deadline = PoolShared.now() &+ spinNanoseconds
                var polls = 0
                while true {
                    if stopping.load(ordering: .relaxed) { return }
                    generation = state.load(ordering: .acquiring) >> 32
                    if generation != seen && generation & 1 == 0 { break }
                    polls &+= 1
                    if polls & 63 == 0 && PoolShared.now() > deadline {
                        // Sleep until a new generation is published (odd ones are short-lived: keep polling).
                        pthread_mutex_lock(mutex)
                        _ = sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                        while state.load(ordering: .sequentiallyConsistent) >> 32 == seen
                            && !stopping.load(ordering: .sequentiallyConsistent) {
                            pthread_cond_wait(workCondition, mutex)
                        }
                        _ = sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                        pthread_mutex_unlock(mutex)
                        polls = 0
                        deadline = PoolShared.now() &+ spinNanoseconds
                    }
                }
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = generation
            drain(generation: generation)
        }
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(workCondition)
        pthread_mutex_unlock(mutex)
    }
}
