/// The grammar rewritten for chart parsing: every rule is `A -> B C` (two nonterminals) or `A -> t` (one terminal).
///
/// Three exact rewrites get there, each preserving the probability of every string and the number of its parses:
/// - terminals inside longer rules get a preterminal `T_t -> t` (probability 1);
/// - right-hand sides longer than two are binarised right to left, `A -> X Y Z` into `A -> X [Y Z]`,
///   `[Y Z] -> Y Z`, with the bracketed intermediates shared between rules (hash-consed pairs, so a rule of a
///   million symbols costs a million intermediates, not their squares);
/// - unit rules `A -> B` are removed: A takes B's rules with probability multiplied by the total probability of
///   the unit paths from A to B (an inverse of `I - U` on recursive unit components), and its parse
///   multiplicity by their number.
struct NormalForm: Sendable {
    /// Number of normal-form nonterminals: the grammar's own, then preterminals, then intermediates.
    let symbolCount: Int
    let start: Int
    let terminalCount: Int

    /// Binary rules `parent -> left right`, indexed two ways (compressed rows).
    struct BinaryRule: Sendable {
        let parent: Int32
        let other: Int32       // the left child in `byRight`, the right child in `byLeft`
        let probability: Double
        let multiplicity: Double
    }
    /// `byRight[byRightOffset[C] ..< byRightOffset[C+1]]`: the rules whose right child is C (with `other` = left).
    let byRightOffset: [Int32]
    let byRight: [BinaryRule]
    /// `byLeft[byLeftOffset[B] ..< byLeftOffset[B+1]]`: the rules whose left child is B (with `other` = right).
    let byLeftOffset: [Int32]
    let byLeft: [BinaryRule]

    /// Lexical rules `parent -> t` for each terminal t (`other` unused).
    let lexicalOffset: [Int32]
    let lexical: [BinaryRule]

    /// True when unit rules form a cycle, so some strings have infinitely many parses.
    let hasUnitCycle: Bool

    /// The left-corner closure, applied per position by the next-symbol computation:
    /// `closed(Y) = open(Y) + sum over X of closed(X) * P_L(X, Y)`, with `P_L(X, Y)` the total probability of the
    /// rules `X -> Y C`. Processed in `closureSteps` order (parents before children).
    enum ClosureStep: Sendable {
        /// One nonterminal that is not left-recursive: add its parents' contributions.
        case single(Int32)
        /// A left-recursive component: add outside parents' contributions, then multiply by `inverse` (row-major,
        /// `(I - P_L)^-1` restricted to `members`).
        case component(members: [Int32], inverse: [Double])
    }
    let closureSteps: [ClosureStep]
    /// `leftParents[leftParentOffset[Y] ..< leftParentOffset[Y+1]]`: (X, P_L(X, Y)) pairs.
    let leftParentOffset: [Int32]
    let leftParents: [(Int32, Double)]

    /// The largest unit-recursive or left-recursive component the normal form will invert.
    static let maxComponent = 1000
    /// The most rules unit elimination may create.
    static let maxRules = 20_000_000

    struct TooLarge: Error { let message: String }

    init(_ grammar: Grammar) throws(TooLarge) {
        let n = grammar.nonterminals.count
        let v = grammar.terminals.count
        var count = n
        var preterminal = [Int](repeating: -1, count: v)
        var pairs: [Int64: Int] = [:]
        // Rules in normal form before unit elimination, per left-hand side.
        var binary: [(parent: Int, left: Int, right: Int, p: Double, m: Double)] = []
        var lexicalRules: [(parent: Int, terminal: Int, p: Double, m: Double)] = []
        var units: [(parent: Int, child: Int, p: Double)] = []

        func symbolID(_ symbol: Symbol) -> Int {
            switch symbol {
            case .nonterminal(let a): return a
            case .terminal(let t):
                if preterminal[t] < 0 {
                    preterminal[t] = count
                    lexicalRules.append((count, t, 1, 1))
                    count += 1
                }
                return preterminal[t]
            }
        }
        func intermediate(_ left: Int, _ right: Int) -> Int {
            let key = Int64(left) << 32 | Int64(right)
            if let id = pairs[key] { return id }
            let id = count
            count += 1
            pairs[key] = id
            binary.append((id, left, right, 1, 1))
            return id
        }
        for rule in grammar.rules {
            if rule.rhs.count == 1 {
                switch rule.rhs[0] {
                case .terminal(let t): lexicalRules.append((rule.lhs, t, rule.probability, 1))
                case .nonterminal(let b): units.append((rule.lhs, b, rule.probability))
                }
                continue
            }
            let ids = rule.rhs.map(symbolID)
            var right = ids[ids.count - 1]
            for i in stride(from: ids.count - 2, through: 1, by: -1) { right = intermediate(ids[i], right) }
            binary.append((rule.lhs, ids[0], right, rule.probability, 1))
        }

        // Unit elimination: closure[A] = sparse (B, probability of the unit paths A =>* B, number of such paths),
        // kept only for targets B that have rules of their own to lend (so a unit chain of a million
        // nonterminals stays linear in size).
        var hasUnitCycle = false
        if !units.isEmpty {
            var unitAdjacency = [[(Int, Double)]](repeating: [], count: n)
            for u in units { unitAdjacency[u.parent].append((u.child, u.p)) }
            var lends = [Bool](repeating: false, count: n)
            for r in binary where r.parent < n { lends[r.parent] = true }
            for r in lexicalRules where r.parent < n { lends[r.parent] = true }
            var closure = [[Int: (p: Double, m: Double)]](repeating: [:], count: n)
            var createdRules = 0
            func tooMany() -> TooLarge {
                TooLarge(message: "removing unit rules (A -> B) would create more than \(NormalForm.maxRules) rules")
            }
            for members in stronglyConnectedComponents(unitAdjacency.map { $0.map(\.0) }) {
                let cyclic = members.count > 1 || unitAdjacency[members[0]].contains { $0.0 == members[0] }
                if !cyclic {
                    let a = members[0]
                    var row: [Int: (p: Double, m: Double)] = lends[a] ? [a: (1, 1)] : [:]
                    for (b, p) in unitAdjacency[a] {
                        for (c, value) in closure[b] {
                            let old = row[c] ?? (0, 0)
                            row[c] = (old.p + p * value.p, old.m + value.m)
                        }
                    }
                    createdRules += row.count
                    guard createdRules <= NormalForm.maxRules else { throw tooMany() }
                    closure[a] = row
                    continue
                }
                hasUnitCycle = true
                let k = members.count
                guard k <= NormalForm.maxComponent else {
                    throw TooLarge(message: "\(k) nonterminals form a cycle of unit rules (A -> B); at most \(NormalForm.maxComponent) are supported")
                }
                var slot: [Int: Int] = [:]
                for (i, a) in members.enumerated() { slot[a] = i }
                var m = [Double](repeating: 0, count: k * k)
                for (i, a) in members.enumerated() {
                    for (b, p) in unitAdjacency[a] { if let j = slot[b] { m[i * k + j] += p } }
                }
                guard let inverse = invertIdentityMinus(m, size: k) else {
                    throw TooLarge(message: "a cycle of unit rules through '\(grammar.nonterminals[members[0]])' has total probability 1")
                }
                // What each member reaches in one step without staying in the component: itself (if it lends
                // rules) and the closed rows of the components its unit rules leave to.
                let exits: [[Int: Double]] = members.map { b in
                    var row: [Int: Double] = lends[b] ? [b: 1] : [:]
                    for (c, p) in unitAdjacency[b] where slot[c] == nil {
                        for (d, value) in closure[c] { row[d, default: 0] += p * value.p }
                    }
                    return row
                }
                for (i, a) in members.enumerated() {
                    var row: [Int: (p: Double, m: Double)] = [:]
                    for j in 0..<k where inverse[i * k + j] != 0 {
                        for (d, p) in exits[j] {
                            row[d] = ((row[d]?.p ?? 0) + inverse[i * k + j] * p, .infinity)
                        }
                    }
                    createdRules += row.count
                    guard createdRules <= NormalForm.maxRules else { throw tooMany() }
                    closure[a] = row
                }
            }
            // Each A takes the non-unit rules of every B it reaches through unit rules.
            var binaryOf = [[Int]](repeating: [], count: count)
            for (i, r) in binary.enumerated() { binaryOf[r.parent].append(i) }
            var lexicalOf = [[Int]](repeating: [], count: count)
            for (i, r) in lexicalRules.enumerated() { lexicalOf[r.parent].append(i) }
            var newBinary: [Int64: (p: Double, m: Double)] = [:]
            var newLexical: [Int64: (p: Double, m: Double)] = [:]
            var keepBinary = [Bool](repeating: true, count: binary.count)
            var keepLexical = [Bool](repeating: true, count: lexicalRules.count)
            var total = 0
            for a in 0..<n where !(closure[a].count == 1 && closure[a][a].map { $0 == (1, 1) } == true) {
                for i in binaryOf[a] { keepBinary[i] = false }
                for i in lexicalOf[a] { keepLexical[i] = false }
                for (b, path) in closure[a] {
                    for i in binaryOf[b] {
                        let r = binary[i]
                        let key = (Int64(a) << 42) | (Int64(r.left) << 21) | Int64(r.right)
                        let old = newBinary[key] ?? (0, 0)
                        newBinary[key] = (old.p + path.p * r.p, old.m + path.m * r.m)
                        total += 1
                    }
                    for i in lexicalOf[b] {
                        let r = lexicalRules[i]
                        let key = (Int64(a) << 32) | Int64(r.terminal)
                        let old = newLexical[key] ?? (0, 0)
                        newLexical[key] = (old.p + path.p * r.p, old.m + path.m * r.m)
                        total += 1
                    }
                    guard total <= NormalForm.maxRules else { throw tooMany() }
                }
            }
            guard count < (1 << 21) || newBinary.isEmpty else {
                throw TooLarge(message: "the grammar has too many symbols (\(count)) for unit-rule elimination")
            }
            binary = binary.indices.filter { keepBinary[$0] }.map { binary[$0] }
            lexicalRules = lexicalRules.indices.filter { keepLexical[$0] }.map { lexicalRules[$0] }
            for (key, value) in newBinary.sorted(by: { $0.key < $1.key }) {
                binary.append((Int(key >> 42), Int((key >> 21) & 0x1F_FFFF), Int(key & 0x1F_FFFF), value.p, value.m))
            }
            for (key, value) in newLexical.sorted(by: { $0.key < $1.key }) {
                lexicalRules.append((Int(key >> 32), Int(key & 0xFFFF_FFFF), value.p, value.m))
            }
        }

        self.symbolCount = count
        self.start = grammar.start
        self.terminalCount = v
        self.hasUnitCycle = hasUnitCycle

        func compressed<T>(_ items: [T], groups: Int, key: (T) -> Int, make: (T) -> BinaryRule) -> ([Int32], [BinaryRule]) {
            var offsets = [Int32](repeating: 0, count: groups + 1)
            for item in items { offsets[key(item) + 1] += 1 }
            for g in 0..<groups { offsets[g + 1] += offsets[g] }
            var fill = offsets
            var out = [BinaryRule](repeating: BinaryRule(parent: 0, other: 0, probability: 0, multiplicity: 0), count: items.count)
            for item in items {
                let g = key(item)
                out[Int(fill[g])] = make(item)
                fill[g] += 1
            }
            return (offsets, out)
        }
        (byRightOffset, byRight) = compressed(binary, groups: count, key: { $0.right }) {
            BinaryRule(parent: Int32($0.parent), other: Int32($0.left), probability: $0.p, multiplicity: $0.m)
        }
        (byLeftOffset, byLeft) = compressed(binary, groups: count, key: { $0.left }) {
            BinaryRule(parent: Int32($0.parent), other: Int32($0.right), probability: $0.p, multiplicity: $0.m)
        }
        (lexicalOffset, lexical) = compressed(lexicalRules, groups: v, key: { $0.terminal }) {
            BinaryRule(parent: Int32($0.parent), other: -1, probability: $0.p, multiplicity: $0.m)
        }

        // Left-corner relation P_L(X, Y) = sum of p(X -> Y C); closure order parents first.
        var leftCorner = [[Int: Double]](repeating: [:], count: count)
        for r in binary { leftCorner[r.parent][r.left, default: 0] += r.p }
        var parentLists = [[(Int32, Double)]](repeating: [], count: count)
        for x in 0..<count {
            for (y, p) in leftCorner[x].sorted(by: { $0.key < $1.key }) { parentLists[y].append((Int32(x), p)) }
        }
        var offsets = [Int32](repeating: 0, count: count + 1)
        var flat: [(Int32, Double)] = []
        for y in 0..<count {
            flat.append(contentsOf: parentLists[y])
            offsets[y + 1] = Int32(flat.count)
        }
        leftParentOffset = offsets
        leftParents = flat
        var steps: [ClosureStep] = []
        let components = stronglyConnectedComponents(leftCorner.map { $0.keys.sorted() })
        for members in components.reversed() {
            let cyclic = members.count > 1 || leftCorner[members[0]][members[0]] != nil
            if !cyclic {
                steps.append(.single(Int32(members[0])))
                continue
            }
            let k = members.count
            guard k <= NormalForm.maxComponent else {
                throw TooLarge(message: "\(k) nonterminals are left-recursive together (A -> B ..., B -> A ...); at most \(NormalForm.maxComponent) are supported")
            }
            var slot: [Int: Int] = [:]
            for (i, a) in members.enumerated() { slot[a] = i }
            var m = [Double](repeating: 0, count: k * k)
            for (i, x) in members.enumerated() {
                for (y, p) in leftCorner[x] { if let j = slot[y] { m[i * k + j] += p } }
            }
            guard let inverse = invertIdentityMinus(m, size: k) else {
                throw TooLarge(message: "the left-recursive rules through '\(members[0] < n ? grammar.nonterminals[members[0]] : "an intermediate")' have total probability 1")
            }
            steps.append(.component(members: members.map { Int32($0) }, inverse: inverse))
        }
        closureSteps = steps
    }
}
