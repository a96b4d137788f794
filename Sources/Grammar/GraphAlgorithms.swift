/// Strongly connected components of a directed graph on `0..<adjacency.count`, by an iterative Tarjan's algorithm
/// (no recursion, so a chain of a million nodes is fine). Components come out in reverse topological order: every
/// component is listed after all components it has edges to.
func stronglyConnectedComponents(_ adjacency: [[Int]]) -> [[Int]] {
    let n = adjacency.count
    var index = [Int](repeating: -1, count: n)
    var lowLink = [Int](repeating: 0, count: n)
    var onStack = [Bool](repeating: false, count: n)
    var stack: [Int] = []
    var components: [[Int]] = []
    var counter = 0
    // Explicit call stack of (node, next edge position).
    var frames: [(node: Int, edge: Int)] = []
    for root in 0..<n where index[root] < 0 {
        frames.append((root, 0))
        index[root] = counter; lowLink[root] = counter; counter += 1
        stack.append(root); onStack[root] = true
        while let frame = frames.last {
            let v = frame.node
            if frame.edge < adjacency[v].count {
                frames[frames.count - 1].edge += 1
                let w = adjacency[v][frame.edge]
                if index[w] < 0 {
                    index[w] = counter; lowLink[w] = counter; counter += 1
                    stack.append(w); onStack[w] = true
                    frames.append((w, 0))
                } else if onStack[w] {
                    lowLink[v] = min(lowLink[v], index[w])
                }
                continue
            }
            frames.removeLast()
            if let parent = frames.last { lowLink[parent.node] = min(lowLink[parent.node], lowLink[v]) }
            if lowLink[v] == index[v] {
                var component: [Int] = []
                while true {
                    let w = stack.removeLast()
                    onStack[w] = false
                    component.append(w)
                    if w == v { break }
                }
                components.append(component)
            }
        }
    }
    return components
}

/// Solves `(I - M) x = b` for a small dense `M` (row-major, `k x k`) by Gaussian elimination without pivoting.
/// For `M >= 0` this succeeds exactly when the spectral radius of `M` is below 1 (then `I - M` is a nonsingular
/// M-matrix and every pivot is positive); returns `nil` otherwise.
func solveIdentityMinus(_ m: [Double], _ b: [Double], size k: Int) -> [Double]? {
    var a = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
        for j in 0..<k { a[i * k + j] = (i == j ? 1 : 0) - m[i * k + j] }
    }
    var x = b
    let tolerance = 1e-10
    for p in 0..<k {
        let pivot = a[p * k + p]
        guard pivot > tolerance else { return nil }
        for i in (p + 1)..<max(p + 1, k) {
            let factor = a[i * k + p] / pivot
            if factor == 0 { continue }
            for j in p..<k { a[i * k + j] -= factor * a[p * k + j] }
            x[i] -= factor * x[p]
        }
    }
    for p in stride(from: k - 1, through: 0, by: -1) {
        var sum = x[p]
        for j in (p + 1)..<max(p + 1, k) { sum -= a[p * k + j] * x[j] }
        x[p] = sum / a[p * k + p]
        guard x[p].isFinite, x[p] >= 0 else { return nil }
    }
    return x
}

/// Inverts `I - M` for a small dense `M >= 0` with spectral radius below 1 (Gauss-Jordan without pivoting);
/// `nil` when that fails.
func invertIdentityMinus(_ m: [Double], size k: Int) -> [Double]? {
    var a = [Double](repeating: 0, count: k * k)
    var inverse = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
        for j in 0..<k { a[i * k + j] = (i == j ? 1 : 0) - m[i * k + j] }
        inverse[i * k + i] = 1
    }
    for p in 0..<k {
        let pivot = a[p * k + p]
        guard pivot > 1e-10 else { return nil }
        for j in 0..<k { a[p * k + j] /= pivot; inverse[p * k + j] /= pivot }
        for i in 0..<k where i != p {
            let factor = a[i * k + p]
            if factor == 0 { continue }
            for j in 0..<k {
                a[i * k + j] -= factor * a[p * k + j]
                inverse[i * k + j] -= factor * inverse[p * k + j]
            }
        }
    }
    return inverse
}

/// A binary min-heap of (key, value) pairs.
struct MinHeap {
    private var items: [(key: Double, value: Int)] = []
    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ key: Double, _ value: Int) {
        items.append((key, value))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].key <= items[i].key { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (key: Double, value: Int)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < items.count && items[l].key < items[smallest].key { smallest = l }
                if r < items.count && items[r].key < items[smallest].key { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return top
    }
}
