import Foundation
import XCTest

/// The analysis commands (assert, summary, plot) over generated results files: diverged and unfinished runs, NaN
/// and infinite values, one-row and header-only files, thousands of variants. Every verdict is checked against an
/// independent reading of what the file holds: exit status 0 from assert exactly when every claim holds. No
/// command may crash (exit status other than 0, 1, 2), hang, or draw a non-finite coordinate.
final class AnalysisFuzzTests: CLITestCase {
    /// A small deterministic generator (SplitMix64), so that a failure names a reproducible file.
    struct Dice {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    /// One generated run: its rows' steps and values, and how it ended.
    struct Run {
        let variant: String, size: String, seed: Int
        var steps: [Int]
        var values: [Double]
        var diverged: Bool
    }

    static let budget = [100, 200]

    func generate(_ dice: inout Dice, variants: Int) -> (runs: [Run], params: [String: Int]) {
        let sizes = (0..<(1 + dice.below(3))).map { "s\($0)" }
        var params: [String: Int] = [:]
        for (i, size) in sizes.enumerated() { params[size] = 100 * (i + 1) + dice.below(50) }
        let seeds = 1 + dice.below(4)
        // Each kind of fault in some files only (a missing seed, an unfinished or a diverged run, odd values), so
        // that each is met alone, where it alone decides the verdict, and clean files give claims that hold.
        let missing = dice.chance(0.35), unfinished = dice.chance(0.35), divergent = dice.chance(0.35), odd = dice.chance(0.35)
        var runs: [Run] = []
        for size in sizes {
            let budget = Self.budget[dice.below(2)]
            for v in 0..<variants {
                for seed in 1...seeds where !(missing && dice.chance(0.15)) {   // now and then a seed is missing
                    var steps = stride(from: budget / 4, through: budget, by: budget / 4).map { $0 }
                    var diverged = false
                    if unfinished && dice.chance(0.1) { steps = Array(steps.prefix(1 + dice.below(3))) }   // unfinished
                    if divergent && dice.chance(0.1) {                                        // diverged
                        steps = Array(steps.prefix(1 + dice.below(steps.count)))
                        steps[steps.count - 1] -= dice.below(budget / 4)
                        diverged = true
                    }
                    let values: [Double] = steps.enumerated().map { i, _ in
                        if diverged && i == steps.count - 1 { return .nan }
                        if odd && dice.chance(0.04) { return [Double.nan, .infinity, -.infinity][dice.below(3)] }
                        if odd && dice.chance(0.02) { return [1.7e308, -1.7e308, 1e-300, 0][dice.below(4)] }
                        // Variants apart on the whole (v0 lowest), so that many claims hold and many do not.
                        return ((Double(v) * 0.25 + dice.unit() * 0.3) * 1000).rounded() / 1000
                    }
                    runs.append(Run(variant: "v\(v)", size: size, seed: seed, steps: steps, values: values, diverged: diverged))
                }
            }
        }
        return (runs, params)
    }

    func text(_ runs: [Run], params: [String: Int]) -> String {
        var text = "variant,size,seed,nonembed_params,step,excess_per_char,gen_accuracy,status\n"
        func number(_ x: Double) -> String { x.isNaN ? "NaN" : x == .infinity ? "Inf" : x == -.infinity ? "-Inf" : "\(x)" }
        for run in runs {
            for (i, (step, value)) in zip(run.steps, run.values).enumerated() {
                let status = run.diverged && i == run.steps.count - 1 ? "diverged" : "ok"
                text += "\(run.variant),\(run.size),\(run.seed),\(params[run.size]!),\(step),\(number(value)),\(number(value)),\(status)\n"
            }
        }
        return text
    }

    /// Whether a claim holds, read independently of the tool from the generated runs, by the documented rules:
    /// a run is final at its size's highest step; diverged or unfinished runs, non-finite values and unpaired seeds
    /// leave a claim undecided (not holding), in every form; every size in scope needs runs of both variants.
    func holds(_ runs: [Run], params: [String: Int], a: String, b: String, everySeed: Bool, trend: Bool,
               confident: Bool = false, tie: Bool = false) -> Bool {
        let sizes = Set(runs.map(\.size)).sorted { (params[$0]!, $0) < (params[$1]!, $1) }
        var differences: [Double] = []
        for size in sizes {
            let atSize = runs.filter { $0.size == size }
            let final = atSize.map { $0.steps.last! }.max()!
            let xs = atSize.filter { $0.variant == a }, ys = atSize.filter { $0.variant == b }
            guard !xs.isEmpty, !ys.isEmpty else { return false }
            for run in xs + ys where run.diverged || run.steps.last! != final || !run.values.last!.isFinite { return false }
            guard Set(xs.map(\.seed)) == Set(ys.map(\.seed)) else { return false }
            if confident || tie {
                // The paired differences' 95% t-interval (t quantiles for 1-3 degrees of freedom: up to 4 seeds).
                let d = xs.map { x in x.values.last! - ys.first { $0.seed == x.seed }!.values.last! }
                guard d.count >= 2 else { return false }
                let n = Double(d.count), mean = d.reduce(0, +) / n
                let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
                let half = [12.706, 4.303, 3.182][d.count - 2] * sd / n.squareRoot()
                if tie ? !(mean - half <= 0 && mean + half >= 0) : !(mean + half < 0) { return false }
                continue
            }
            if everySeed {
                for x in xs {
                    let y = ys.first { $0.seed == x.seed }!
                    if !(x.values.last! - y.values.last! < 0) { return false }
                }
            }
            let mx = xs.map { $0.values.last! }.reduce(0, +) / Double(xs.count)
            let my = ys.map { $0.values.last! }.reduce(0, +) / Double(ys.count)
            differences.append(mx - my)
            if !trend && !everySeed && !(mx - my < 0) { return false }
        }
        if trend {
            guard differences.count >= 2 else { return false }
            for (p, q) in zip(differences, differences.dropFirst()) where !(q > p) { return false }
        }
        return true
    }

    func testGeneratedFilesNeverGiveAFalseVerdictACrashOrAHang() throws {
        let folder = try temporaryFolder()
        var dice = Dice(state: 20_261_207)
        let started = Date()
        var decided = [true: 0, false: 0]
        for index in 0..<45 {
            let variants = index == 0 ? 2000 : 1 + dice.below(4)
            let (runs, params) = generate(&dice, variants: variants)
            let path = folder + "/f\(index).csv"
            try text(runs, params: params).write(toFile: path, atomically: true, encoding: .utf8)
            let names = Array(Set(runs.map(\.variant))).sorted()
            guard names.count >= 2 else { continue }
            let a = names[dice.below(names.count)], b = names.filter { $0 != a }[dice.below(names.count - 1)]
            for (claim, everySeed, trend, confident, tie) in [
                ("\(a) < \(b) on excess_per_char", false, false, false, false),
                ("\(a) < \(b) on excess_per_char for every seed", true, false, false, false),
                ("\(a) - \(b) on excess_per_char increases with size", false, true, false, false),
                ("\(a) < \(b) on excess_per_char with 95% confidence", false, false, true, false),
                ("\(a) ~ \(b) on excess_per_char", false, false, false, true)] {
                let outcome = try run(["assert", path, claim], timeout: 60)
                let truth = holds(runs, params: params, a: a, b: b, everySeed: everySeed, trend: trend,
                                  confident: confident, tie: tie)
                decided[truth, default: 0] += 1
                XCTAssertEqual(outcome.status, truth ? 0 : 1, "\(path): \(claim)\n\(outcome.stdout)\(outcome.stderr)")
            }
            let summary = try run(["summary", path, "--baseline", a], timeout: 60)
            XCTAssertEqual(summary.status, 0, "\(path): \(summary.stderr)")
            let problems = runs.contains { $0.diverged } || runs.contains { run in
                run.steps.last! != runs.filter { $0.size == run.size }.map { $0.steps.last! }.max()! }
            XCTAssertEqual(summary.stdout.contains("* not in the means above"), problems, "\(path)\n\(summary.stdout)")
            XCTAssertFalse(summary.stdout.lowercased().contains("nan") || summary.stdout.contains("inf"), "\(path)\n\(summary.stdout)")
            if index < 12 {
                for extra in [[], ["--x", "size"], ["--x", "size", "--baseline", a]] {
                    let plot = try run(["plot", path, "--y", "excess_per_char"] + extra, timeout: 60)
                    XCTAssertTrue([0, 2].contains(plot.status), "\(path) \(extra): \(plot.stderr)")
                    if plot.status == 0 {
                        XCTAssertFalse(plot.stdout.contains("nan") || plot.stdout.contains("inf"), "\(path) \(extra)")
                    }
                }
            }
        }
        // Degenerate files: header only, one row, no rows of a claim's variant.
        let header = folder + "/header.csv", one = folder + "/one.csv"
        try "variant,size,seed,step,excess_per_char,status\n".write(toFile: header, atomically: true, encoding: .utf8)
        try "variant,size,seed,step,excess_per_char,status\nA,s,1,10,0.1,ok\n".write(toFile: one, atomically: true, encoding: .utf8)
        for arguments in [["assert", header, "A < B on excess_per_char"], ["summary", header], ["plot", header],
                          ["assert", one, "A < B on excess_per_char"], ["assert", one, "A < A on excess_per_char"],
                          ["summary", one, "--baseline", "A"], ["plot", one, "--y", "excess_per_char"],
                          ["plot", header, "--x", "size"], ["plot", one, "--x", "size", "--y", "excess_per_char"],
                          ["plot", one, "--x", "size", "--y", "excess_per_char", "--baseline", "A"]] {
            let outcome = try run(arguments, timeout: 60)
            XCTAssertTrue([0, 1, 2].contains(outcome.status), "\(arguments): \(outcome.status)")
            if arguments[0] == "assert" { XCTAssertNotEqual(outcome.status, 0, "\(arguments): \(outcome.stdout)") }
        }
        XCTAssertGreaterThan(decided[true] ?? 0, 5, "the generated files must also hold claims that hold: \(decided)")
        XCTAssertGreaterThan(decided[false] ?? 0, 5)
        XCTAssertLessThan(Date().timeIntervalSince(started), 120)
    }
}
