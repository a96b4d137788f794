import Foundation
import XCTest

/// What a sweep and its analysis say must be true (issue 19): a grammar is known by its content, diverged and
/// unfinished runs are never averaged into a verdict, and no command's output replaces one of its inputs.
final class IntegrityTests: CLITestCase {
    static let grammar = "grammars/cfg3f-l3.cfg"
    /// A different grammar of the same terminals (the issue's edit).
    static let edited = "S -> 1 2 3 A | 3 2 1 A | 1 1\nA -> 2 | 3 3\n"

    func small(_ grammar: String, out: String) -> [String] {
        [grammar, "--sizes", "tiny", "--variants", "1gram,2gram-in", "--steps", "20", "--eval-every", "10",
         "--gen-samples", "20", "--val-samples", "50", "--threads", "1", "--out", out]
    }

    // Serious 1: a grammar edited in place is refused on resume and on --unit; the same rules under another path
    // spelling or in a copy are the same grammar; a folder of an older cfg-run takes the grammar it is used with.
    func testAGrammarIsKnownByItsContent() throws {
        let folder = try temporaryFolder()
        let g = folder + "/g.cfg", out = folder + "/r.csv"
        let original = read(CLITestCase.root.path + "/" + Self.grammar)
        try original.write(toFile: g, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(small(g, out: out) + ["--unit", "0"]).status, 0)
        try Self.edited.write(toFile: g, atomically: true, encoding: .utf8)
        for extra in [[], ["--unit", "1"], ["--unit", "0"]] {
            let refused = try run(small(g, out: out) + extra)
            XCTAssertEqual(refused.status, 2, "\(extra): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("is not the grammar the runs in \(out).runs were trained on"), refused.stderr)
            XCTAssertTrue(refused.stderr.contains("recorded but not in the grammar now: 'start: R', 'R -> 13 [0.3333333333333333]'"), refused.stderr)
            XCTAssertTrue(refused.stderr.contains("in the grammar now but not recorded: 'start: S', 'S -> 1 2 3 A [0.3333333333333333]'"), refused.stderr)
            XCTAssertFalse(refused.stdout.contains("cfg3f"), "no rows are printed")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing was written")
        // A byte-identical copy under another name, and the original under another spelling: accepted, and every
        // row names the grammar the sweep was made with.
        let copy = folder + "/copy.cfg"
        try original.write(toFile: copy, atomically: true, encoding: .utf8)
        let resumed = try run(small(copy, out: out))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let rows = read(out).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 4)
        XCTAssertTrue(rows.allSatisfy { $0.hasPrefix("g,") }, read(out))
        try original.write(toFile: g, atomically: true, encoding: .utf8)
        let before = read(out)
        let respelled = try run(small(folder + "/./g.cfg", out: out))
        XCTAssertEqual(respelled.status, 0, respelled.stderr)
        XCTAssertEqual(read(out), before, "every run is reused as it was")
        // A sweep folder of an older cfg-run (no grammar.json): used as it is, recording the grammar once.
        try FileManager.default.removeItem(atPath: out + ".runs/grammar.json")
        let old = try run(small(g, out: out))
        XCTAssertEqual(old.status, 0, old.stderr)
        XCTAssertEqual(old.stderr.components(separatedBy: "did not record the grammar's rules").count - 1, 1, old.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + ".runs/grammar.json"))
        XCTAssertFalse(try run(small(g, out: out)).stderr.contains("did not record"))
    }

    // Serious 1, --extend-from: the earlier sweep's grammar must be this one's.
    func testAnExtensionFromAnotherGrammarIsRefused() throws {
        let folder = try temporaryFolder()
        let g = folder + "/g.cfg"
        try read(CLITestCase.root.path + "/" + Self.grammar).write(toFile: g, atomically: true, encoding: .utf8)
        func wsd(_ steps: Int, out: String) -> [String] {
            [g, "--sizes", "tiny", "--variants", "1gram", "--steps", "\(steps)", "--eval-every", "10", "--warmup", "2",
             "--schedule", "wsd", "--decay", "0.5", "--gen-samples", "0", "--val-samples", "50", "--threads", "1", "--out", out]
        }
        XCTAssertEqual(try run(wsd(20, out: folder + "/a.csv")).status, 0)
        try Self.edited.write(toFile: g, atomically: true, encoding: .utf8)
        let refused = try run(wsd(40, out: folder + "/b.csv") + ["--extend-from", folder + "/a.csv"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("its runs were trained on another grammar"), refused.stderr)
        // Its own --out in another spelling is named as such (not as another process holding it).
        let own = try run(wsd(40, out: folder + "/b.csv") + ["--extend-from", folder + "/./b.csv"])
        XCTAssertEqual(own.status, 2)
        XCTAssertTrue(own.stderr.contains("names this sweep's own --out"), own.stderr)
        // The state folder itself is accepted in place of its CSV; a missing one says how to do without it.
        let missing = try run(wsd(40, out: folder + "/c.csv") + ["--extend-from", folder + "/none.csv"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("leave out --extend-from"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/c.csv.runs"), "refused before any work")
    }

    // Serious 2 and 3, and the analysis edge cases: diverged and unfinished runs are named, never averaged.
    func testDivergedAndUnfinishedRunsAreNamedNotUsed() throws {
        let folder = try temporaryFolder()
        func csv(_ rows: [(String, String, Int, Int, String, String)]) throws -> String {
            let path = folder + "/\(UInt32.random(in: 0...UInt32.max)).csv"
            let text = "variant,size,seed,nonembed_params,step,excess_per_char,status\n"
                + rows.map { "\($0.0),\($0.1),\($0.2),\($0.1 == "s" ? 100 : $0.1 == "m" ? 200 : 300),\($0.3),\($0.4),\($0.5)\n" }.joined()
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // A diverged seed of A: "for every seed" cannot range over the survivors.
        let diverged = try csv([("A", "s", 1, 100, "0.1", "ok"), ("A", "s", 2, 40, "NaN", "diverged"), ("A", "s", 3, 100, "0.1", "ok"),
                                ("B", "s", 1, 100, "0.2", "ok"), ("B", "s", 2, 100, "0.2", "ok"), ("B", "s", 3, 100, "0.2", "ok")])
        for claim in ["A < B on excess_per_char for every seed", "A < B on excess_per_char", "B > A on excess_per_char"] {
            let outcome = try run(["assert", diverged, claim])
            XCTAssertEqual(outcome.status, 1, claim + "\n" + outcome.stdout)
            XCTAssertTrue(outcome.stdout.hasPrefix("UNDECIDED"), outcome.stdout)
            XCTAssertTrue(outcome.stdout.contains("A seed 2 at size s diverged at step 40"), outcome.stdout)
        }
        // A seed that fails still fails the claim.
        let fails = try run(["assert", diverged, "A > B on excess_per_char for every seed"])
        XCTAssertEqual(fails.status, 1)
        XCTAssertTrue(fails.stdout.hasPrefix("FAILS"), fails.stdout)
        let summary = try run(["summary", diverged, "--baseline", "B"])
        XCTAssertEqual(summary.status, 0, summary.stderr)
        XCTAssertTrue(summary.stdout.contains("2+1*"), summary.stdout)
        XCTAssertTrue(summary.stdout.contains("A seed 2 at size s: diverged at step 40"), summary.stdout)
        XCTAssertFalse(summary.stdout.contains("yes"), summary.stdout)
        // Every run diverged: the table still shows them.
        let allDiverged = try csv([("A", "s", 1, 40, "NaN", "diverged"), ("B", "s", 1, 30, "NaN", "diverged")])
        let all = try run(["summary", allDiverged, "--baseline", "B"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("0+1*") && all.stdout.contains("B seed 1 at size s: diverged at step 30"), all.stdout)
        // An interrupted sweep: B stopped at step 40 of 100. Its last row is not final; --at-step compares like with like.
        let interrupted = try csv([("A", "s", 1, 50, "0.3", "ok"), ("A", "s", 1, 100, "0.1", "ok"),
                                   ("B", "s", 1, 20, "0.5", "ok"), ("B", "s", 1, 40, "0.4", "ok")])
        let unfinished = try run(["assert", interrupted, "A < B on excess_per_char"])
        XCTAssertEqual(unfinished.status, 1)
        XCTAssertTrue(unfinished.stdout.contains("B seed 1 at size s unfinished (its last row is at step 40, not 100)"), unfinished.stdout)
        let atStep = try run(["assert", interrupted, "--at-step", "40", "A < B on excess_per_char"])
        XCTAssertEqual(atStep.status, 1)
        XCTAssertTrue(atStep.stdout.contains("A seed 1 at size s has no row at step 40 (its rows end at step 100)"), atStep.stdout)
        XCTAssertEqual(try run(["assert", interrupted, "--at-step", "20", "A < B on excess_per_char"]).status, 1)
        // A step that no run has (a typo) is a usage error naming the steps there are, not an UNDECIDED verdict.
        let typo = try run(["assert", interrupted, "--at-step", "30", "A < B on excess_per_char"])
        XCTAssertEqual(typo.status, 2, typo.stdout)
        XCTAssertTrue(typo.stderr.contains("no run has a row at step 30 (its rows are at steps 20, 40, 50, 100)"), typo.stderr)
        XCTAssertEqual(try run(["summary", interrupted, "--at-step", "30"]).status, 2)
        let shared = try csv([("A", "s", 1, 20, "0.3", "ok"), ("A", "s", 1, 40, "0.2", "ok"), ("A", "s", 1, 60, "0.1", "ok"),
                              ("B", "s", 1, 20, "0.5", "ok"), ("B", "s", 1, 40, "0.4", "ok")])
        let compared = try run(["assert", shared, "--at-step", "40", "A < B on excess_per_char"])
        XCTAssertEqual(compared.status, 0, compared.stdout)
        // A trend across a size where B has no runs cannot hold (as 'for all sizes' fails there).
        let gap = try csv([("A", "s", 1, 10, "0.5", "ok"), ("B", "s", 1, 10, "0.3", "ok"), ("A", "m", 1, 10, "0.4", "ok"),
                           ("A", "l", 1, 10, "0.2", "ok"), ("B", "l", 1, 10, "0.2", "ok")])
        let trend = try run(["assert", gap, "A - B on excess_per_char decreases with size"])
        XCTAssertEqual(trend.status, 1, trend.stdout)
        XCTAssertTrue(trend.stdout.contains("the trend cannot hold across it"), trend.stdout)
        // Standard input, as check and sample take it.
        let piped = try run(["assert", "-", "A < B on excess_per_char"], input: read(shared))
        XCTAssertEqual(piped.status, 1, piped.stdout + piped.stderr)  // B is unfinished at its size's final step 60
        XCTAssertTrue(try run(["summary", "-", "--baseline", "B"], input: read(diverged)).stdout.contains("2+1*"))
        // A missing baseline among thousands of variants is a short message.
        let many = try csv((1...3000).map { ("v\($0)", "s", 1, 10, "0.1", "ok") })
        let baseline = try run(["summary", many])
        XCTAssertEqual(baseline.status, 2)
        XCTAssertTrue(baseline.stderr.contains("and 2990 more"), baseline.stderr)
        XCTAssertLessThan(baseline.stderr.count, 400)
    }

    // Serious 7: no command's output is one of its inputs; a file a sweep did not write is not replaced.
    func testOutputsNeverEatInputs() throws {
        let folder = try temporaryFolder()
        let g = folder + "/g.cfg"
        let original = read(CLITestCase.root.path + "/" + Self.grammar)
        try original.write(toFile: g, atomically: true, encoding: .utf8)
        for command in [small(g, out: g), small(g, out: folder + "/./g.cfg"),
                        ["kgram", g, "--chars", "1000", "--orders", "2", "--out", g]] {
            let outcome = try run(command)
            XCTAssertEqual(outcome.status, 2, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("is the input"), outcome.stderr)
            XCTAssertEqual(read(g), original)
        }
        // A CSV no sweep wrote (no state folder beside it) is not replaced.
        let foreign = folder + "/notes.csv"
        try "my,own\n1,2\n".write(toFile: foreign, atomically: true, encoding: .utf8)
        let refused = try run(small(g, out: foreign))
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("was not written by this sweep"), refused.stderr)
        XCTAssertEqual(read(foreign), "my,own\n1,2\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: foreign + ".runs"))
        // The sweep's own finished CSV without its folder (a committed result on a fresh clone): nothing to train.
        let out = folder + "/r.csv"
        XCTAssertEqual(try run(small(g, out: out)).status, 0)
        let finished = read(out)
        try FileManager.default.removeItem(atPath: out + ".runs")
        let again = try run(small(g, out: out))
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already holds the finished result of this sweep"), again.stderr)
        XCTAssertFalse(again.stderr.contains("| step "), "nothing is trained")
        XCTAssertEqual(read(out), finished)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".runs"))
        // The same file under other settings is not this sweep's result.
        let other = try run(small(g, out: out) + ["--lr", "0.001"])
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.stderr.contains("learning rate"), other.stderr)
        XCTAssertEqual(read(out), finished)
    }

    // Serious 5: check opens a named pipe once and reads what was written to it.
    func testCheckReadsANamedPipe() throws {
        let folder = try temporaryFolder()
        let fifo = folder + "/ff"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let strings = try run(["sample", Self.grammar, "-n", "5"]).stdout
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            _ = strings.withCString { write(descriptor, $0, strlen($0)) }
            close(descriptor)
        }
        writer.start()
        let outcome = try run(["check", Self.grammar, fifo], timeout: 30)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, String(repeating: "ok\n", count: 5))
    }

    // Medium: what is refused before any work, and what is said plainly.
    func testMistakesAreRefusedBeforeAnyWork() throws {
        let folder = try temporaryFolder()
        let out = folder + "/r.csv"
        let cases: [([String], String)] = [
            (small(Self.grammar, out: out) + ["--jobs", "0"], "--jobs expects an integer"),
            (small(Self.grammar, out: out) + ["--unit", "0", "--jobs", "2"], "--jobs has no effect with --unit"),
            (small(Self.grammar, out: folder + "/dir/"), "names a folder"),
            (small(Self.grammar, out: out) + ["--lr", "1e-50"], "too small for 32-bit floating point"),
            (small(Self.grammar, out: out) + ["--extend-from", folder + "/none.csv"], "no sweep folder"),
            (["bench", "--positions", "rotry"], "--positions expects learned or rotary"),
            (["bench", "--gemm", "--grammar", Self.grammar], "--grammar does not apply to the benchmark of --gemm"),
            (["bench", "--input", "3gram-out"], "its heads with --output 3gram-out"),
            (["check", "-"], "the strings cannot be"),
            (["kgram", Self.grammar, "--chars", "1000", "--orders", "3--5"], "--orders expects"),
        ]
        for (arguments, message) in cases {
            let outcome = try run(arguments, timeout: 60)
            XCTAssertEqual(outcome.status, 2, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
            XCTAssertFalse(outcome.stderr.contains("reading grammars"), "\(arguments): the grammar is not read first")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "nothing was created")
        // -0 is 0; a tiny memory limit is said in digits that are not 0.0.
        let memory = try run(small(Self.grammar, out: out) + ["--max-memory", "0.001"])
        XCTAssertEqual(memory.status, 2)
        XCTAssertFalse(memory.stderr.contains("0.0 GB"), memory.stderr)
        XCTAssertTrue(memory.stderr.contains("the limit is 0.001 GB"), memory.stderr)
        // A missing TMPDIR is named (and not created) when a sweep without --out needs it.
        let tmp = folder + "/no/such/tmp"
        let noTemp = try run(Array(small(Self.grammar, out: out).dropLast(2)), environment: ["TMPDIR": tmp])
        XCTAssertEqual(noTemp.status, 2)
        XCTAssertTrue(noTemp.stderr.contains("TMPDIR is \(tmp)"), noTemp.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/no"))
        // `cfg-run help sweep` is `cfg-run sweep --help`.
        XCTAssertEqual(try run(["help", "sweep"]).stdout, try run(["sweep", "--help"]).stdout)
        // bench --json quotes a path with a quote in it.
        let quoted = folder + "/a\"b.cfg"
        try "S -> a b | b\n".write(toFile: quoted, atomically: true, encoding: .utf8)
        let json = try run(["bench", "--grammar", quoted, "--strings", "10", "--repeats", "1", "--json"], timeout: 120)
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["grammar"] as? String, quoted)
    }

    // Medium 9: a sweep without --out leaves no temporary folder behind when its reader goes away or it is hung up.
    func testASweepWithoutOutputLeavesNoTemporaryFolderWhenCutOff() throws {
        let folder = try temporaryFolder()
        let arguments = Array(small(Self.grammar, out: "").dropLast(2)) + ["--steps", "4000", "--eval-every", "10"]
        let piped = try run(["-c", "\"$0\" \"$@\" | head -1", executable.path] + arguments, environment: ["TMPDIR": folder],
                            timeout: 120, shell: true)
        XCTAssertEqual(piped.stdout.split(separator: "\n").count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "the temporary folder is removed")
        let hungUp = try start(arguments, environment: ["TMPDIR": folder])
        let deadline = Date().addingTimeInterval(60)
        while (try FileManager.default.contentsOfDirectory(atPath: folder)).isEmpty && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        kill(hungUp.processIdentifier, SIGHUP)
        hungUp.waitUntilExit()
        XCTAssertEqual(hungUp.terminationStatus, 128 + SIGHUP)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    // Medium 10, 12, 14, 15: an extension without a stable checkpoint, a parse that would stall, a busy unit, merge
    // of a file.
    func testEdgesOfExtensionCheckingUnitsAndMerge() throws {
        let folder = try temporaryFolder()
        func wsd(_ steps: Int, out: String) -> [String] {
            [Self.grammar, "--sizes", "tiny", "--variants", "1gram,2gram-in", "--steps", "\(steps)", "--eval-every", "10",
             "--warmup", "2", "--schedule", "wsd", "--decay", "0.5", "--gen-samples", "0", "--val-samples", "50",
             "--threads", "1", "--out", out]
        }
        XCTAssertEqual(try run(wsd(20, out: folder + "/a.csv")).status, 0)
        try FileManager.default.removeItem(atPath: folder + "/a.csv.runs/tiny_2gram-in_seed1.stable.ckpt")
        // The state folder named itself; the run without its stable checkpoint is trained from the start, and the
        // rows are those of the longer budget trained straight.
        let extended = try run(wsd(40, out: folder + "/b.csv") + ["--extend-from", folder + "/a.csv.runs"])
        XCTAssertEqual(extended.status, 0, extended.stderr)
        XCTAssertTrue(extended.stderr.contains("tiny_1gram_seed1: continues from step 10"), extended.stderr)
        XCTAssertTrue(extended.stderr.contains("is missing, so it is trained from the start here"), extended.stderr)
        XCTAssertEqual(try run(wsd(40, out: folder + "/c.csv")).status, 0)
        XCTAssertEqual(withoutWallTime(read(folder + "/b.csv")), withoutWallTime(read(folder + "/c.csv")))

        // check bounds the work of one string: S -> S S | a is cubic in the length.
        let ambiguous = folder + "/amb.cfg"
        try "S -> S S [0.3] | a [0.7]\n".write(toFile: ambiguous, atomically: true, encoding: .utf8)
        let line = Array(repeating: "a", count: 300).joined(separator: " ") + "\n"
        let bounded = try run(["check", ambiguous, "--work-limit", "100000"], input: "a a\n" + line, timeout: 60)
        XCTAssertEqual(bounded.status, 2)
        XCTAssertEqual(bounded.stdout, "ok\nerror\n")
        XCTAssertTrue(bounded.stderr.contains("takes more than 100000 chart combinations"), bounded.stderr)
        XCTAssertEqual(try run(["check", ambiguous], input: line, timeout: 60).stdout, "ok\n")

        // A second --unit on a unit that is being trained says so at once, printing nothing else.
        let busyOut = folder + "/busy.csv"
        let first = try start(small(Self.grammar, out: busyOut).map { $0 == "20" ? "20000" : $0 } + ["--unit", "0"])
        defer { first.terminate(); first.waitUntilExit() }
        let lock = busyOut + ".runs/tiny_1gram_seed1.ckpt"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: lock) && Date() < deadline { usleep(50_000) }
        let second = try run(small(Self.grammar, out: busyOut).map { $0 == "20" ? "20000" : $0 } + ["--unit", "0"])
        XCTAssertEqual(second.status, 2)
        XCTAssertEqual(second.stdout, "")
        XCTAssertTrue(second.stderr.contains("is being trained by process"), second.stderr)
        XCTAssertFalse(second.stderr.contains("resuming"), second.stderr)

        // merge of a results file whose state folder is a file says so.
        try "x".write(toFile: folder + "/m.csv.runs", atomically: true, encoding: .utf8)
        let merge = try run(["merge", folder + "/m.csv"])
        XCTAssertEqual(merge.status, 2)
        XCTAssertTrue(merge.stderr.contains("a file, not a sweep folder"), merge.stderr)
    }
}
