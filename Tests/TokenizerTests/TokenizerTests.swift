import Model
import Tokenizer
import XCTest

final class TokenizerTests: XCTestCase {
    let names = ["1gram", "2gram-gpt", "3gram-gpt", "4gram-gpt", "3gram-in", "4gram-in", "3gram-hin", "2gram-out",
                 "3gram-out", "4gram-out", "3gram-hin@m=1021,k=2", "2gram-hin@m=7,k=1", "2gram-mtp", "3gram-mtp@w=0.3"]

    func testSpellingsRoundTrip() throws {
        for name in names { XCTAssertEqual(try VocabularyDesign(parsing: name).description, name) }
        // Every design of the Tokenizer module is among the spellings tested here (other tests may register more).
        let tested = Set(try names.map { ObjectIdentifier(type(of: try VocabularyDesign(parsing: $0).definition)) })
        for type in VocabularyDesign.registry where String(reflecting: type).hasPrefix("Tokenizer.") {
            XCTAssertTrue(tested.contains(ObjectIdentifier(type)), "\(type)")
        }
        // A list as --variants takes it: settings after '@' are separated by commas too.
        XCTAssertEqual(try VocabularyDesign.list(parsing: "1gram,3gram-hin@m=97,k=2,3gram-out,2gram-hin@m=7").map(\.description),
                       ["1gram", "3gram-hin@m=97,k=2", "3gram-out", "2gram-hin@m=7,k=1"])
        XCTAssertThrowsError(try VocabularyDesign.list(parsing: "1gram,,3gram-in"))
        XCTAssertEqual(try VocabularyDesign(parsing: "3gram-hin@m=31").description, "3gram-hin@m=31,k=1")
        XCTAssertEqual(try VocabularyDesign(parsing: "3gram-mtp@w=0.1").description, "3gram-mtp")
        for bad in ["2gram", "1gram-in", "9gram-in", "xgram-out", "3gram-foo", "3gram-in@m=5", "3gram-hin@k=2",
                    "3gram-hin@m=0", "3-gram-in", "", "3gram-mtp@w=0", "3gram-mtp@m=3", "1gram@w=1", "3gram-hin@m=7,"] {
            XCTAssertThrowsError(try VocabularyDesign(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("expected one of"), "\(error)")
            }
        }
    }

    func testVocabularySizes() throws {
        // V = 3 terminals (the cfg3 family).
        let sizes: [(String, Int, Int)] = [("1gram", 5, 5), ("3gram-gpt", 41, 41), ("3gram-in", 5, 5),
                                            ("3gram-out", 5, 27 + 1 + 3 + 9), ("2gram-gpt", 14, 14)]
        for (name, inputs, classes) in sizes {
            let tokenizer = Tokenizer(design: try VocabularyDesign(parsing: name), alphabet: 3)
            XCTAssertEqual(tokenizer.inputVocabulary, inputs, name)
            XCTAssertEqual(tokenizer.classes, classes, name)
        }
    }

    func testEncodeDecodeRoundTripsForEveryDesign() throws {
        var state: UInt64 = 7
        for name in names {
            let tokenizer = Tokenizer(design: try VocabularyDesign(parsing: name), alphabet: 3)
            for length in 1...12 {
                let sentence = (0..<length).map { _ -> Int in
                    state = state &* 6364136223846793005 &+ 1; return Int(state >> 33) % 3
                }
                let (inputs, targets, characters) = tokenizer.encode(sentence)
                XCTAssertEqual(inputs.count, targets.count)
                XCTAssertEqual(characters, length + 1)
                XCTAssertEqual(inputs.first, tokenizer.inputBOS)
                XCTAssertEqual(targets.last, -1)
                XCTAssertTrue(targets.allSatisfy { $0 < Int32(tokenizer.classes) })
                XCTAssertTrue(inputs.allSatisfy { $0 >= 0 && $0 < Int32(tokenizer.inputVocabulary) })
                // Sampling the targets in order (first character of each joint gram) reproduces the sentence.
                let generated = targets.dropLast().map { tokenizer.nextInputToken(forClass: Int($0)) }
                let decoded = tokenizer.decode(generated)
                XCTAssertTrue(decoded.ended, name)
                XCTAssertEqual(decoded.sentence, sentence, name)
                if tokenizer.design.definition is NGramGPT {
                    XCTAssertEqual(inputs.count, 2 + (length + tokenizer.design.order - 1) / tokenizer.design.order)
                } else {
                    XCTAssertEqual(inputs.count, length + 2)
                }
                // Every target class predicts the characters that follow.
                let following = sentence.map { Int32($0) } + [4]
                var at = 0
                for (i, target) in targets.dropLast().enumerated() {
                    let predicted = tokenizer.characters(ofClass: Int(target))
                    XCTAssertEqual(Array(predicted), Array(following[at..<min(following.count, at + predicted.count)]), "\(name) position \(i)")
                    at += tokenizer.design.definition is NGramGPT ? predicted.filter { $0 != 4 }.count : 1
                }
            }
        }
    }

    func testJointGramsOfNgramOut() throws {
        let tokenizer = Tokenizer(design: try VocabularyDesign(parsing: "3gram-out"), alphabet: 3)
        // Sentence 2 0 1 1: grams "2 0 1", "0 1 1", "1 1 EOS", "1 EOS", "EOS".
        let (_, targets, _) = tokenizer.encode([2, 0, 1, 1])
        let grams = targets.dropLast().map { tokenizer.characters(ofClass: Int($0)) }
        XCTAssertEqual(grams, [[2, 0, 1], [0, 1, 1], [1, 1, 4], [1, 4], [4]])
        // Every class maps to a distinct gram, and sampling a class continues with the gram's first character.
        let all = (0..<tokenizer.classes).map { tokenizer.characters(ofClass: $0) }
        XCTAssertEqual(Set(all.map { $0.map(String.init).joined(separator: ",") }).count, tokenizer.classes)
        for (c, gram) in all.enumerated() { XCTAssertEqual(tokenizer.nextInputToken(forClass: c), gram[0]) }
    }

    /// What each design asks of the model: the multi-token design is the only one with extra heads.
    func testModelComponentsOfEveryDesign() throws {
        func design(_ name: String) throws -> any Design { try VocabularyDesign(parsing: name).definition }
        XCTAssertEqual(try design("1gram").inputLayer.specification, TokenEmbedding().specification)
        XCTAssertEqual(try design("3gram-in").inputLayer.specification, NGramEmbedding(order: 3).specification)
        XCTAssertEqual(try design("3gram-hin").inputLayer.specification, HierarchicalNGramEmbedding(order: 3).specification)
        XCTAssertEqual(try design("3gram-hin@m=97,k=2").inputLayer.specification,
                       HashedNGramEmbedding(order: 3, rows: 97, slices: 2).specification)
        XCTAssertEqual(try design("3gram-out").inputLayer.specification, TokenEmbedding().specification)
        XCTAssertEqual(try design("3gram-mtp").predictionWeights, [1, 0.1, 0.1])
        XCTAssertEqual(try design("2gram-mtp@w=0.5").predictionWeights, [1, 0.5])
        for name in names where !name.contains("mtp") { XCTAssertEqual(try design(name).predictionWeights, [1], name) }
        // Sizes beyond any integer are still numbers.
        let huge = try design("8gram-out").classes(alphabet: 10_000)
        XCTAssertTrue(huge.isFinite && huge > 1e32, "\(huge)")
    }

    func testMalformedGenerationsDoNotEnd() throws {
        let gpt = Tokenizer(design: try VocabularyDesign(parsing: "3gram-gpt"), alphabet: 3)
        XCTAssertFalse(gpt.decode([2, 3, 0, 4]).ended)   // a BOS in the middle
        XCTAssertFalse(gpt.decode([2, 3]).ended)         // no end
        let chars = Tokenizer(design: try VocabularyDesign(parsing: "1gram"), alphabet: 3)
        XCTAssertFalse(chars.decode([0, 1, 3, 2]).ended) // BOS in the middle
        XCTAssertEqual(chars.decode([0, 1, 4]).sentence, [0, 1])
    }
}
