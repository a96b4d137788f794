import Dispatch
import Kernels
import XCTest

final class WorkerPoolTests: XCTestCase {
    func testEveryIndexExactlyOnce() {
        for threads in 1...4 {
            let pool = WorkerPool(threads: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for count in [0, 1, 2, 3, 5, 17, 64, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
                hits.initialize(repeating: 0, count: max(1, count))
                pool.parallelFor(count) { i in hits[i] += 1 }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "threads \(threads) count \(count) index \(i)") }
                hits.deallocate()
            }
        }
    }

    func testManySmallCalls() {
        let pool = WorkerPool(threads: 3)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        hits.initialize(repeating: 0, count: 8)
        for round in 0..<10_000 {
            pool.parallelFor(1 + round % 8) { i in hits[i] += 1 }
        }
        for i in 0..<8 { XCTAssertEqual(hits[i], (0..<10_000).filter { 1 + $0 % 8 > i }.count) }
        hits.deallocate()
    }

    func testNestedCallsRunInline() {
        let pool = WorkerPool(threads: 2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 6 * 7)
        hits.initialize(repeating: 0, count: 6 * 7)
        for _ in 0..<100 {
            pool.parallelFor(6) { i in
                pool.parallelFor(7) { j in hits[i * 7 + j] += 1 }
            }
        }
        for i in 0..<42 { XCTAssertEqual(hits[i], 100) }
        hits.deallocate()
    }

    func testConcurrentCallersAreSafe() {
        let pool = WorkerPool(threads: 2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 50)
        hits.initialize(repeating: 0, count: 4 * 50)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<200 {
                pool.parallelFor(50) { i in hits[caller * 50 + i] += 1 }
            }
        }
        for i in 0..<200 { XCTAssertEqual(hits[i], 200) }
        hits.deallocate()
    }

    func testCreateAndDestroy() {
        for round in 0..<50 {
            let pool = WorkerPool(threads: 1 + round % 4)
            var sum = 0
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: 16)
            pool.parallelFor(16) { i in slots[i] = i }
            for i in 0..<16 { sum += slots[i] }
            slots.deallocate()
            XCTAssertEqual(sum, 120)
        }
    }

    /// Two indices that wait for each other can only both finish if they run at the same time.
    func testRunsConcurrently() {
        let pool = WorkerPool(threads: 2)
        let signals = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let met = UnsafeMutablePointer<Bool>.allocate(capacity: 2)
        met.initialize(repeating: false, count: 2)
        pool.parallelFor(2) { i in
            signals[i].signal()
            met[i] = signals[1 - i].wait(timeout: .now() + 20) == .success
        }
        XCTAssertTrue(met[0] && met[1])
        met.deallocate()
    }

    /// Workers that went to sleep wake up for the next call.
    func testWakesAfterIdle() {
        let pool = WorkerPool(threads: 3)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 30)
        hits.initialize(repeating: 0, count: 30)
        for _ in 0..<3 {
            usleep(2_000)
            pool.parallelFor(30) { i in hits[i] += 1 }
        }
        for i in 0..<30 { XCTAssertEqual(hits[i], 3) }
        hits.deallocate()
    }
}
