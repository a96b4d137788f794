import Foundation
import XCTest

/// How the commands treat their inputs: astronomically long grammars, large and CRLF inputs to `check`, cut-off or
/// malformed results files, claims that name what a file lacks, and files that cannot be read (issue 10, items
/// 12-18).
final class InputHandlingTests: CLITestCase {
    /// A file in the temporary folder, removed when the test ends.
    func temporaryFile(_ name: String, _ contents: Data) throws -> String {
        let path = NSTemporaryDirectory() + "cfg-run-input-\(getpid())-\(name)"
        try contents.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func temporaryFile(_ name: String, _ text: String) throws -> String {
        try temporaryFile(name, Data(text.utf8))
    }

    // MARK: item 12: grammars whose strings are astronomically long

    func testAGrammarWithAstronomicallyLongStringsIsRefusedBeforeSampling() throws {
        let generated = try run(["generate", "--levels", "30"], timeout: 30)
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.hasPrefix("# generated with: cfg-run generate --levels 30"))
        XCTAssertTrue(generated.stderr.contains("warning: the generated grammar: the expected string length is"), generated.stderr)
        XCTAssertTrue(generated.stderr.contains("over the limit of 1000000"), generated.stderr)
        let path = try temporaryFile("deep.cfg", generated.stdout)

        // Refused at once (the unguarded commands took gigabytes within seconds), saying the length and the limit.
        for command in [["sample", path, "-n", "1"], ["bench", "--grammar", path, "--repeats", "1", "--strings", "1"],
                        [path, "--sizes", "tiny", "--variants", "1gram", "--steps", "10"]] {
            let refused = try run(command, timeout: 30)
            XCTAssertEqual(refused.status, 2, "\(command): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("error: \(path): the expected string length is"), refused.stderr)
            XCTAssertTrue(refused.stderr.contains("terminals (exact), over the limit of 1000000"), refused.stderr)
            XCTAssertEqual(refused.stdout, "", "\(command)")
        }
        // stats prints the exact values and samples nothing.
        let stats = try run(["stats", path], timeout: 30)
        XCTAssertEqual(stats.status, 0, stats.stderr)
        XCTAssertTrue(stats.stdout.contains("length: sampled mean    NA (no strings sampled)"), stats.stdout)
        XCTAssertTrue(stats.stdout.contains("length: min             "), stats.stdout)
        XCTAssertTrue(stats.stderr.contains("no strings sampled"), stats.stderr)
        XCTAssertTrue(stats.stderr.contains("over the limit of 1000000"), stats.stderr)
        let csv = try run(["stats", path, "--csv"], timeout: 30)
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[1][rows[0].firstIndex(of: "sampled_mean_length")!], "NA")
        XCTAssertEqual(rows[1][rows[0].firstIndex(of: "entropy_per_char")!], "NA")

        // A shallow generated grammar gets no warning, and bundled ones sample as before.
        let shallow = try run(["generate", "--levels", "3"])
        XCTAssertEqual(shallow.status, 0)
        XCTAssertFalse(shallow.stderr.contains("warning"), shallow.stderr)
        XCTAssertEqual(try run(["sample", "grammars/dyck2.cfg", "-n", "3"]).status, 0)
    }

    // MARK: item 13: check is linear in its input

    func testCheckGivesOneVerdictPerLineOnTwentyThousandLines() throws {
        let sample = try run(["sample", "grammars/cfg3f-l3.cfg", "-n", "20000", "--seed", "5"])
        XCTAssertEqual(sample.status, 0)
        var lines = sample.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(lines.count, 20_000)
        // Every 7th line gets a symbol that is not a terminal, every 13th is emptied: those are rejected.
        var expected: [String] = []
        for i in lines.indices {
            if i % 13 == 0 {
                lines[i] = ""
                expected.append("reject")
            } else if i % 7 == 0 {
                lines[i] += " 4"
                expected.append("reject")
            } else {
                expected.append("ok")
            }
        }
        let input = lines.joined(separator: "\n") + "\n"
        let check = try run(["check", "grammars/cfg3f-l3.cfg", "-"], input: input, timeout: 120)
        XCTAssertEqual(check.status, 1, check.stderr)
        XCTAssertEqual(check.stdout, expected.map { $0 + "\n" }.joined())
        let unknown = lines.indices.filter { $0 % 7 == 0 && $0 % 13 != 0 }.count
        XCTAssertTrue(check.stderr.contains("<stdin>:8:"), check.stderr)  // line index 7, 1-based 8
        XCTAssertTrue(check.stderr.contains("'4' is not a terminal of the grammar"), check.stderr)
        XCTAssertTrue(check.stderr.contains("... and \(unknown - 10) more lines with symbols that are not terminals"), check.stderr)
        XCTAssertTrue(check.stderr.contains("checked 20000 strings"), check.stderr)
        // The verdicts do not depend on the threads.
        let oneThread = try run(["check", "grammars/cfg3f-l3.cfg", "--threads", "1", "--logprob"], input: input, timeout: 120)
        let threeThreads = try run(["check", "grammars/cfg3f-l3.cfg", "--threads", "3", "--logprob"], input: input, timeout: 120)
        XCTAssertEqual(oneThread.stdout, threeThreads.stdout)
        XCTAssertEqual(oneThread.stdout.split(separator: "\n").count, 20_000)
    }

    func testCheckOfEightThousandCfg3fStringsTakesSecondsNotMinutes() throws {
        // Quadratic input handling took 30 s for 2,000 cfg3f strings and 114 s for 4,000 (the parsing itself about
        // half a millisecond each); linear, these 8,000 take a few seconds. The limit is the run's timeout, far
        // above either machine noise or the linear cost.
        let sample = try run(["sample", "grammars/cfg3f.cfg", "-n", "8000", "--seed", "9"])
        XCTAssertEqual(sample.status, 0)
        let path = try temporaryFile("cfg3f-8000.txt", sample.stdout)
        let check = try run(["check", "grammars/cfg3f.cfg", path], timeout: 90)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, String(repeating: "ok\n", count: 8000))
    }

    // MARK: item 14: CRLF input

    /// Endless or binary input takes bounded memory and ends: check reads in batches and stops at a line too long
    /// to be a string; a grammar or results file has a size limit.
    func testEndlessInputIsRefusedNotReadIntoMemory() throws {
        let check = try run(["check", "grammars/dyck2.cfg", "/dev/zero"], timeout: 60)
        XCTAssertEqual(check.status, 2)
        XCTAssertTrue(check.stderr.contains("/dev/zero:1:1: error: a line of over 16777216 bytes"), check.stderr)
        for command in [["stats", "/dev/zero"], ["summary", "/dev/zero"], ["sample", "/dev/zero"]] {
            let outcome = try run(command, timeout: 60)
            XCTAssertEqual(outcome.status, 2, "\(command)")
            XCTAssertTrue(outcome.stderr.contains("bytes, the most this file can be"), "\(command): \(outcome.stderr)")
        }
    }

    func testCheckReadsCRLFLinesOneVerdictPerLine() throws {
        let sample = try run(["sample", "grammars/cfg3f-l3.cfg", "-n", "4", "--seed", "2"])
        let lines = sample.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        let crlf = lines.joined(separator: "\r\n") + "\r\n"
        let check = try run(["check", "grammars/cfg3f-l3.cfg"], input: crlf)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, "ok\nok\nok\nok\n")
        // A rejected CRLF line is rejected alone, and a last line without a line break counts.
        let mixed = lines[0] + "\r\n" + lines[1] + " 4\r\n" + lines[2] + "\n" + lines[3]
        let verdicts = try run(["check", "grammars/cfg3f-l3.cfg"], input: mixed)
        XCTAssertEqual(verdicts.status, 1, verdicts.stderr)
        XCTAssertEqual(verdicts.stdout, "ok\nreject\nok\nok\n")
        XCTAssertTrue(verdicts.stderr.contains("<stdin>:2:\(lines[1].unicodeScalars.count + 2): '4' is not a terminal"), verdicts.stderr)
    }

    /// A results CSV as cfg-run writes it: two variants at one size, two seeds, two evaluation points each.
    static let resultsHeader = "grammar,variant,size,layers,d_model,heads,params,nonembed_params,seed,step,tokens,chars,train_loss_per_char,val_loss_per_char,excess_per_char,true_entropy_per_char,gen_accuracy,gen_accuracy_lo,gen_accuracy_hi,gen_samples,lr,wall_s,status"

    static func resultsRows() -> [String] {
        var rows: [String] = []
        for (variant, excess) in [("1gram", 0.40), ("3gram-in", 0.30)] {
            for seed in 1...2 {
                for step in [100, 200] {
                    let value = String(format: "%.6f", excess + 0.01 * Double(seed) - 0.0001 * Double(step))
                    rows.append("cfg3f-l3,\(variant),tiny,1,16,2,4496,3312,\(seed),\(step),1000,900,1.200000,1.100000,\(value),0.720000,NaN,NaN,NaN,0,0.002,1.00,ok")
                }
            }
        }
        return rows
    }

    static func resultsCSV(lineBreak: String = "\n") -> String {
        ([resultsHeader] + resultsRows()).map { $0 + lineBreak }.joined()
    }

    func testSummaryAndAssertReadCRLFResults() throws {
        let lf = try temporaryFile("lf.csv", InputHandlingTests.resultsCSV())
        let crlf = try temporaryFile("crlf.csv", InputHandlingTests.resultsCSV(lineBreak: "\r\n"))
        let expected = try run(["summary", lf])
        XCTAssertEqual(expected.status, 0, expected.stderr)
        XCTAssertTrue(expected.stdout.contains("3gram-in"), expected.stdout)
        let summary = try run(["summary", crlf])
        XCTAssertEqual(summary.status, 0, summary.stderr)
        XCTAssertEqual(summary.stdout, expected.stdout)
        for path in [lf, crlf] {
            let claims = try run(["assert", path, "3gram-in < 1gram on excess_per_char for every seed by 0.05",
                                  "3gram-in > 1gram on excess_per_char"])
            XCTAssertEqual(claims.status, 1, claims.stderr)
            XCTAssertTrue(claims.stdout.contains("holds: 3gram-in < 1gram"), claims.stdout)
            XCTAssertTrue(claims.stdout.contains("FAILS: 3gram-in > 1gram"), claims.stdout)
        }
    }

    // MARK: item 15: cut-off and malformed results files

    func testResultsFilesCutOffOrWithBadNumbersAreRefused() throws {
        let complete = InputHandlingTests.resultsCSV()
        let rows = complete.split(separator: "\n").count
        // Cut after the last line's final field, and cut inside it ("ok" -> "o": the field count still matches).
        var cut = complete
        cut.removeLast(2)
        for text in [String(complete.dropLast()), cut] {
            let path = try temporaryFile("cut.csv", text)
            for command in [["summary", path], ["assert", path, "3gram-in < 1gram on excess_per_char"]] {
                let outcome = try run(command)
                XCTAssertEqual(outcome.status, 2, "\(command): \(outcome.stdout)")
                XCTAssertTrue(outcome.stderr.contains("error: \(path):\(rows): the last line does not end with a line break: the file looks cut off"), outcome.stderr)
                XCTAssertTrue(outcome.stderr.contains("a complete results file ends with a newline"), outcome.stderr)
                XCTAssertEqual(outcome.stdout, "")
            }
        }
        // A value that is not a number in a numeric column, and an unknown status, name file, line and column.
        var lines = complete.split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: ",1.100000,", with: ",1.1x,")
        let badNumber = try temporaryFile("bad-number.csv", lines.map { $0 + "\n" }.joined())
        let number = try run(["summary", badNumber])
        XCTAssertEqual(number.status, 2)
        XCTAssertTrue(number.stderr.contains("error: \(badNumber):4: column 'val_loss_per_char': '1.1x' is not a number"), number.stderr)
        lines = complete.split(separator: "\n").map(String.init)
        lines[5] = String(lines[5].dropLast(2)) + "fine"
        let badStatus = try temporaryFile("bad-status.csv", lines.map { $0 + "\n" }.joined())
        let status = try run(["assert", badStatus, "3gram-in < 1gram on excess_per_char"])
        XCTAssertEqual(status.status, 2)
        XCTAssertTrue(status.stderr.contains("error: \(badStatus):6: column 'status': 'fine' is not one of ok, diverged"), status.stderr)
        // NaN, as cfg-run writes it, is a number: the complete file reads.
        XCTAssertEqual(try run(["summary", try temporaryFile("complete.csv", complete)]).status, 0)
    }

    // MARK: item 17: claims that name what the file lacks

    func testClaimsAndBaselinesThatNameWhatTheFileLacksAreUsageErrors() throws {
        let path = try temporaryFile("claims.csv", InputHandlingTests.resultsCSV())
        let bogus = try run(["assert", path, "3gram-in < 1gram on bogus_metric"])
        XCTAssertEqual(bogus.status, 2)
        XCTAssertTrue(bogus.stderr.contains("compares on 'bogus_metric', which is not a column of the file"), bogus.stderr)
        XCTAssertTrue(bogus.stderr.contains("numeric columns: layers, d_model, heads, params, nonembed_params, seed, step"), bogus.stderr)
        XCTAssertTrue(bogus.stderr.contains("excess_per_char"), bogus.stderr)
        XCTAssertEqual(bogus.stdout, "", "nothing is checked when a claim is wrong")
        let status = try run(["assert", path, "3gram-in < 1gram on status"])
        XCTAssertEqual(status.status, 2)
        XCTAssertTrue(status.stderr.contains("compares on the column 'status', which is not numeric (numeric columns: "), status.stderr)
        let variant = try run(["assert", path, "3gram-in < 1gram on excess_per_char", "3gram-out < 1gram on excess_per_char"])
        XCTAssertEqual(variant.status, 2)
        XCTAssertTrue(variant.stderr.contains("names the variant '3gram-out', which has no runs in the file (variants in the file: 1gram, 3gram-in)"), variant.stderr)
        let size = try run(["assert", path, "3gram-in < 1gram on excess_per_char at size xl"])
        XCTAssertEqual(size.status, 2)
        XCTAssertTrue(size.stderr.contains("names the size 'xl', which has no runs in the file (sizes in the file: tiny)"), size.stderr)
        let baseline = try run(["summary", path, "--baseline", "foo"])
        XCTAssertEqual(baseline.status, 2)
        XCTAssertTrue(baseline.stderr.contains("no runs of the baseline variant 'foo' (variants in the file: 1gram, 3gram-in)"), baseline.stderr)
        XCTAssertEqual(baseline.stdout, "")
        let headerOnly = try temporaryFile("header.csv", InputHandlingTests.resultsHeader + "\n")
        let empty = try run(["summary", headerOnly])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("no result rows"), empty.stderr)
        // Known names still give verdicts, on any numeric column.
        XCTAssertEqual(try run(["assert", path, "3gram-in < 1gram on excess_per_char at size tiny"]).status, 0)
        XCTAssertEqual(try run(["summary", path, "--baseline", "3gram-in"]).status, 0)
    }

    // MARK: item 18: messages

    func testCheckShortensAHugeUnknownTokenInItsMessage() throws {
        let token = String(repeating: "x", count: 5_000_000)
        let check = try run(["check", "grammars/dyck2.cfg"], input: "( )\n( " + token + " )\n")
        XCTAssertEqual(check.status, 1)
        XCTAssertEqual(check.stdout, "ok\nreject\n")
        XCTAssertTrue(check.stderr.contains("<stdin>:2:3: '\(String(repeating: "x", count: 40))… (5000000 characters)' is not a terminal of the grammar"), String(check.stderr.prefix(500)))
        XCTAssertLessThan(check.stderr.utf8.count, 1000)
    }

    func testFilesThatCannotBeReadSayWhy() throws {
        let missing = "/nonexistent-\(getpid())/x"
        let grammarMissing = try run(["sample", missing + ".cfg"])
        XCTAssertEqual(grammarMissing.status, 2)
        XCTAssertTrue(grammarMissing.stderr.contains("\(missing).cfg:1:1: error: cannot read the file: no such file"), grammarMissing.stderr)
        let grammarFolder = try run(["stats", "grammars"])
        XCTAssertEqual(grammarFolder.status, 2)
        XCTAssertTrue(grammarFolder.stderr.contains("grammars:1:1: error: cannot read the file: is a directory, not a file"), grammarFolder.stderr)
        let inputMissing = try run(["check", "grammars/dyck2.cfg", missing])
        XCTAssertEqual(inputMissing.status, 2)
        XCTAssertTrue(inputMissing.stderr.contains("error: cannot read \(missing): no such file"), inputMissing.stderr)
        let inputFolder = try run(["check", "grammars/dyck2.cfg", "grammars"])
        XCTAssertEqual(inputFolder.status, 2)
        XCTAssertTrue(inputFolder.stderr.contains("error: cannot read grammars: is a directory, not a file"), inputFolder.stderr)
        let underAFile = try run(["check", "grammars/dyck2.cfg", "README.md/x"])
        XCTAssertEqual(underAFile.status, 2)
        XCTAssertTrue(underAFile.stderr.contains("error: cannot read README.md/x: a part of the path before the last '/' is a file"), underAFile.stderr)
        for command in ["assert", "summary"] {
            let arguments = command == "assert" ? [command, missing, "a < b on x"] : [command, missing]
            let results = try run(arguments)
            XCTAssertEqual(results.status, 2)
            XCTAssertTrue(results.stderr.contains("error: cannot read \(missing): no such file"), results.stderr)
            let folder = try run(command == "assert" ? [command, "results", "a < b on x"] : [command, "results"])
            XCTAssertEqual(folder.status, 2)
            XCTAssertTrue(folder.stderr.contains("error: cannot read results: is a directory, not a file"), folder.stderr)
        }
        if getuid() != 0 {  // root reads any file
            let locked = try temporaryFile("locked.txt", "( )\n")
            XCTAssertEqual(chmod(locked, 0), 0)
            let denied = try run(["check", "grammars/dyck2.cfg", locked])
            XCTAssertTrue(denied.stderr.contains("error: cannot read \(locked): permission denied"), denied.stderr)
        }
        // Not UTF-8: check marks the line 'error' (exit status 2) and says where; assert and summary refuse the file.
        let binary = try temporaryFile("binary.txt", Data([0x28, 0x20, 0x29, 0x0A, 0x28, 0x20, 0xFF, 0x29, 0x0A, 0x28, 0x20, 0x29, 0x0A]))
        let check = try run(["check", "grammars/dyck2.cfg", binary])
        XCTAssertEqual(check.status, 2)
        XCTAssertEqual(check.stdout, "ok\nerror\nok\n")
        XCTAssertTrue(check.stderr.contains("\(binary):2:3: error: not valid UTF-8 text"), check.stderr)
        let results = try run(["summary", binary])
        XCTAssertEqual(results.status, 2)
        XCTAssertTrue(results.stderr.contains("\(binary): not UTF-8 text"), results.stderr)
    }

    func testWeightErrorsSayWhatIsWrongWithTheWeight() throws {
        let cases = [("[abc]", "not a number"), ("[-0.5]", "a probability cannot be negative"),
                     ("[1.5]", "a probability cannot exceed 1"), ("[0]", "a rule of weight 0 can never be used")]
        for (weight, reason) in cases {
            let path = try temporaryFile("weight.cfg", "S -> a \(weight) | b [0.5]\n")
            let outcome = try run(["stats", path])
            XCTAssertEqual(outcome.status, 2)
            XCTAssertTrue(outcome.stderr.contains("\(path):1:8: error: expected a probability in (0, 1] like [0.25], found '\(weight)': \(reason)"), outcome.stderr)
            XCTAssertEqual(outcome.stderr.contains("weight 0"), weight == "[0]", outcome.stderr)
        }
    }
}
