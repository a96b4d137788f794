/// Exact parsing of strings under a grammar: membership, inside probability, number of parses, and the true
/// next-symbol distribution after every prefix — all from one left-to-right pass over a CYK chart.
///
/// The chart is filled by end position on the grammar's ``NormalForm``. Cell (i, j) holds, for every nonterminal A
/// deriving `x[i..<j]`, its inside probability. Alongside, a forward pass in the style of Jelinek & Lafferty (1991)
/// and Stolcke (1995) keeps, for every position j, the probability mass of the nonterminals predicted to start at
/// j given the prefix `x[..<j]`; from it come the probability of each next terminal and of the end of the string.
///
/// Probabilities are rescaled at every position by the inverse probability of the character consumed there, so
/// they neither underflow nor overflow on long strings; log-probabilities are recovered exactly from the scales.
/// Membership is decided by the chart's structure, not by floating point.
///
/// A `ChartParser` is an immutable value: one can be shared by many threads.
public struct ChartParser: Sendable {
    let normalForm: NormalForm
    /// The grammar this parser was built from.
    public let grammar: Grammar
    /// Upper bound on `string length x normal-form symbols`, which sizes the chart's dense work arrays.
    public static let maxWorkCells = 4_000_000
    /// Upper bound on the number of chart entries (nonterminal, span) for one string.
    public static let maxEntries = 20_000_000

    /// The longest string this parser analyses: `(length + 1) x normal-form symbols` must stay within
    /// ``maxWorkCells``; a longer string fails with a ``Failure`` at once.
    public var maximumLength: Int { ChartParser.maxWorkCells / normalForm.symbolCount - 1 }

    /// Why a string could not be analysed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Builds the normal form of `grammar` (fails only for grammars beyond ``NormalForm``'s limits).
    public init(grammar: Grammar) throws(Failure) {
        self.grammar = grammar
        do {
            normalForm = try NormalForm(grammar)
        } catch {
            throw Failure(message: "\(grammar.source): cannot prepare the grammar for parsing: \(error.message)")
        }
    }

    /// Whether the grammar derives `string` (terminal ids).
    public func accepts(_ string: [Int]) throws(Failure) -> Bool {
        try analyze(string, mode: .probability).accepted
    }

    /// The natural log of the probability of `string`, summed over all its parses; `-infinity` if rejected.
    /// `workLimit` bounds the chart combinations spent on it (see ``work(of:)``): past it, a `Failure` says so,
    /// so that one string cannot stall a batch. Exact parsing is cubic in the length for ambiguous grammars.
    public func logProbability(_ string: [Int], workLimit: Int = Int.max) throws(Failure) -> Double {
        try analyze(string, mode: .probability, workLimit: workLimit).logProbability
    }

    /// The number of parse trees of `string` in the original grammar (`+infinity` with cycles of unit rules).
    public func parseCount(_ string: [Int]) throws(Failure) -> Double {
        let result = try analyze(string, mode: .count)
        if normalForm.hasUnitCycle && result.accepted { return .infinity }
        return result.count
    }

    /// The result of ``analyze(_:nextSymbols:)``.
    public struct Analysis: Sendable {
        public let accepted: Bool
        /// Natural log of P(string); `-infinity` if rejected.
        public let logProbability: Double
        /// Row j (j = 0 ... length) holds P(next symbol | string[..<j]) for each terminal id, then P(end | prefix)
        /// in the last column: `(length + 1) * (terminalCount + 1)` values, row-major. Each row sums to 1 up to
        /// rounding (the rows are not renormalised, so the sum is a check); rows after the first impossible
        /// prefix are all zero. Empty unless requested.
        public let nextSymbol: [Double]
    }

    /// Membership, log-probability and, optionally, the exact next-symbol distribution after every prefix.
    public func analyze(_ string: [Int], nextSymbols: Bool) throws(Failure) -> Analysis {
        let result = try analyze(string, mode: nextSymbols ? .nextSymbols : .probability)
        return Analysis(accepted: result.accepted, logProbability: result.logProbability, nextSymbol: result.nextSymbol)
    }

    enum Mode { case probability, nextSymbols, count }

    struct RawResult {
        var accepted = false
        var logProbability = -Double.infinity
        var count = 0.0
        var nextSymbol: [Double] = []
    }

    func analyze(_ string: [Int], mode: Mode, workLimit: Int = Int.max) throws(Failure) -> RawResult {
        let nf = normalForm
        let n = string.count
        let v = nf.terminalCount
        let symbols = nf.symbolCount
        var result = RawResult()
        if mode == .nextSymbols { result.nextSymbol = [Double](repeating: 0, count: (n + 1) * (v + 1)) }
        for t in string where t < 0 || t >= v {
            throw Failure(message: "terminal id \(t) is outside the grammar's \(v) terminals")
        }
        guard (n + 1) * symbols <= ChartParser.maxWorkCells else {
            throw Failure(message: "a string of \(n) symbols is too long for this grammar's chart (\(symbols) normal-form symbols; length x symbols must stay under \(ChartParser.maxWorkCells))")
        }
        let forward = mode != .count
        let useCount = mode == .count
        let stride = symbols

        // Chart entries, grouped by end position; within one end sorted by label (counting sort).
        var entryLabel: [Int32] = []
        var entryStart: [Int32] = []
        var entryValue: [Double] = []
        entryLabel.reserveCapacity(64 * (n + 1))
        entryStart.reserveCapacity(64 * (n + 1))
        entryValue.reserveCapacity(64 * (n + 1))
        // labelRange[k * stride + B] = (begin, end) of the entries ending at k with label B.
        var labelBegin = [Int32](repeating: 0, count: (n + 1) * stride)
        var labelEnd = [Int32](repeating: 0, count: (n + 1) * stride)
        // Accumulators for the cells of the current end, one row per start.
        var accValue = [Double](repeating: 0, count: (n + 1) * stride)
        var accStamp = [Int32](repeating: -1, count: (n + 1) * stride)
        var rowLabels = [Int32](repeating: 0, count: (n + 1) * stride)
        var rowCount = [Int32](repeating: 0, count: n + 1)
        // Forward quantities: closed prediction mass per position and nonterminal.
        var predicted = forward ? [Double](repeating: 0, count: (n + 1) * stride) : []
        var open = forward ? [Double](repeating: 0, count: stride) : []
        var logScale = 0.0
        var endEntries: [(label: Int32, start: Int32, value: Double)] = []
        var labelCount = [Int32](repeating: 0, count: stride)
        var touchedLabels: [Int32] = []
        // Chart combinations (binary rule x left entry) so far: the parse's cost, bounded by `workLimit`.
        var work = 0

        // Closes `open` over the left-corner relation into predicted[position], then clears `open`.
        func closePrediction(at position: Int) {
            let base = position * stride
            for step in nf.closureSteps {
                switch step {
                case .single(let y):
                    let yi = Int(y)
                    var value = open[yi]
                    for e in Int(nf.leftParentOffset[yi])..<Int(nf.leftParentOffset[yi + 1]) {
                        let (x, p) = nf.leftParents[e]
                        value += predicted[base + Int(x)] * p
                    }
                    predicted[base + yi] = value
                case .component(let members, let inverse):
                    let k = members.count
                    var incoming = [Double](repeating: 0, count: k)
                    var inside = Set<Int32>(members)
                    for (i, y) in members.enumerated() {
                        let yi = Int(y)
                        var value = open[yi]
                        for e in Int(nf.leftParentOffset[yi])..<Int(nf.leftParentOffset[yi + 1]) {
                            let (x, p) = nf.leftParents[e]
                            if !inside.contains(x) { value += predicted[base + Int(x)] * p }
                        }
                        incoming[i] = value
                    }
                    for (j, y) in members.enumerated() {
                        var value = 0.0
                        for i in 0..<k { value += incoming[i] * inverse[i * k + j] }
                        predicted[base + Int(y)] = value
                    }
                    inside.removeAll()
                }
            }
            for i in 0..<stride { open[i] = 0 }
        }

        // Fills row `position` of nextSymbol from predicted[position] and the inside mass of (start, 0, position);
        // returns the scaled mass of each terminal's continuation and the total.
        func nextSymbolMass(at position: Int, terminal: Int?) -> (chosen: Double, total: Double, end: Double) {
            let base = position * stride
            var total = 0.0
            var chosen = 0.0
            for t in 0..<v {
                var mass = 0.0
                for e in Int(nf.lexicalOffset[t])..<Int(nf.lexicalOffset[t + 1]) {
                    let rule = nf.lexical[e]
                    mass += predicted[base + Int(rule.parent)] * rule.probability
                }
                if mode == .nextSymbols { result.nextSymbol[position * (v + 1) + t] = mass }
                total += mass
                if t == terminal { chosen = mass }
            }
            var end = 0.0
            if position > 0 {
                let slot = position * stride + nf.start
                for e in Int(labelBegin[slot])..<Int(labelEnd[slot]) where entryStart[e] == 0 { end = entryValue[e] }
            }
            total += end
            // No normalisation: the scales make these masses conditional probabilities already, so that their
            // sum (1 up to rounding) checks the whole computation.
            if mode == .nextSymbols { result.nextSymbol[position * (v + 1) + v] = end }
            return (chosen, total, end)
        }

        if forward {
            open[nf.start] = 1
            closePrediction(at: 0)
        }
        for j in 1...max(1, n) where n > 0 {
            let t = string[j - 1]
            // Scale for the character consumed at j-1: the inverse of its scaled forward mass.
            var scale = 1.0
            if forward {
                let mass = nextSymbolMass(at: j - 1, terminal: t)
                if mass.chosen > 0 {
                    scale = 1 / mass.chosen
                    logScale += log(scale)
                }
            }
            endEntries.removeAll(keepingCapacity: true)
            // Cell (j-1, j): lexical rules.
            let jm = j - 1
            rowCount[jm] = 0
            for e in Int(nf.lexicalOffset[t])..<Int(nf.lexicalOffset[t + 1]) {
                let rule = nf.lexical[e]
                let slot = jm * stride + Int(rule.parent)
                accValue[slot] = (useCount ? rule.multiplicity : rule.probability * scale)
                accStamp[slot] = Int32(j)
                rowLabels[jm * stride + Int(rowCount[jm])] = rule.parent
                rowCount[jm] += 1
            }
            for i in 0..<jm { rowCount[i] = 0 }
            // Complete cells (k, j) for k = j-1 down to 0; each pushes into the cells (i, j) with i < k.
            var k = jm
            while k >= 0 {
                let rowBase = k * stride
                for r in 0..<Int(rowCount[k]) {
                    let c = rowLabels[rowBase + r]
                    let value = accValue[rowBase + Int(c)]
                    endEntries.append((c, Int32(k), value))
                    if k == 0 { continue }
                    // Rules A -> B C with C spanning (k, j): B must span (i, k).
                    for e in Int(nf.byRightOffset[Int(c)])..<Int(nf.byRightOffset[Int(c) + 1]) {
                        let rule = nf.byRight[e]
                        let b = Int(rule.other)
                        let slotB = k * stride + b
                        let begin = Int(labelBegin[slotB]), end = Int(labelEnd[slotB])
                        if begin == end { continue }
                        let weight = (useCount ? rule.multiplicity : rule.probability) * value
                        work &+= end - begin
                        for f in begin..<end {
                            let i = Int(entryStart[f])
                            let slot = i * stride + Int(rule.parent)
                            let add = weight * entryValue[f]
                            if accStamp[slot] == Int32(j) {
                                accValue[slot] += add
                            } else {
                                accStamp[slot] = Int32(j)
                                accValue[slot] = add
                                rowLabels[i * stride + Int(rowCount[i])] = rule.parent
                                rowCount[i] += 1
                            }
                        }
                    }
                }
                k -= 1
            }
            if work > workLimit {
                throw Failure(message: "parsing this string of \(n) symbols takes more than \(workLimit) chart combinations (stopped at symbol \(j)): exact parsing is cubic in the length for an ambiguous grammar")
            }
            // Store the entries ending at j, grouped by label.
            let firstEntry = entryLabel.count
            guard firstEntry + endEntries.count <= ChartParser.maxEntries else {
                throw Failure(message: "the chart of this string exceeds \(ChartParser.maxEntries) entries (string too long or too ambiguous for exact parsing)")
            }
            touchedLabels.removeAll(keepingCapacity: true)
            for entry in endEntries {
                if labelCount[Int(entry.label)] == 0 { touchedLabels.append(entry.label) }
                labelCount[Int(entry.label)] += 1
            }
            touchedLabels.sort()
            var cursor = Int32(firstEntry)
            for label in touchedLabels {
                let slot = j * stride + Int(label)
                labelBegin[slot] = cursor
                labelEnd[slot] = cursor
                cursor += labelCount[Int(label)]
                labelCount[Int(label)] = 0
            }
            entryLabel.append(contentsOf: repeatElement(0, count: endEntries.count))
            entryStart.append(contentsOf: repeatElement(0, count: endEntries.count))
            entryValue.append(contentsOf: repeatElement(0, count: endEntries.count))
            for entry in endEntries {
                let slot = j * stride + Int(entry.label)
                let e = Int(labelEnd[slot])
                entryLabel[e] = entry.label
                entryStart[e] = entry.start
                entryValue[e] = entry.value
                labelEnd[slot] += 1
            }
            // Forward: every entry (B, i, j) advances the rules A -> B C predicted at i to predict C at j.
            if forward {
                for e in firstEntry..<entryLabel.count {
                    let b = Int(entryLabel[e])
                    let i = Int(entryStart[e])
                    let value = entryValue[e]
                    for f in Int(nf.byLeftOffset[b])..<Int(nf.byLeftOffset[b + 1]) {
                        let rule = nf.byLeft[f]
                        let before = predicted[i * stride + Int(rule.parent)]
                        if before != 0 { open[Int(rule.other)] += before * rule.probability * value }
                    }
                }
                closePrediction(at: j)
            }
        }
        // The whole string: the start symbol over (0, n).
        var whole = 0.0
        if n > 0 {
            let slot = n * stride + nf.start
            for e in Int(labelBegin[slot])..<Int(labelEnd[slot]) where entryStart[e] == 0 {
                result.accepted = true
                whole = entryValue[e]
            }
        }
        if forward { _ = nextSymbolMass(at: n, terminal: nil) }
        if useCount {
            result.count = whole
        } else if result.accepted {
            result.logProbability = log(whole) - logScale
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
