import Kernels

/// A fully connected layer `y = x W^T (+ b)` with `W` stored `[out, in]` (PyTorch's layout), over raw buffers.
enum Linear {
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, inputs: Int,
                        outputs: Int, weight: UnsafePointer<Float>, weightStride: Int? = nil,
                        bias: UnsafePointer<Float>?, accumulate: Bool = false, pool: WorkerPool?) {
        MatrixMultiply.multiply(m: rows, n: outputs, k: inputs, a: x, lda: inputs, transposeA: false,
                                b: weight, ldb: weightStride ?? inputs, transposeB: true, c: y, ldc: outputs,
                                accumulate: accumulate, bias: bias, pool: pool)
    }

    /// The same product with the weight packed by `pack`: for many small products with one weight (sampling),
    /// where packing it inside every call would cost as much as the product. Same numbers.
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, inputs: Int,
                        outputs: Int, packedWeight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        accumulate: Bool = false, pool: WorkerPool?) {
        MatrixMultiply.multiply(m: rows, n: outputs, k: inputs, a: x, lda: inputs, transposeA: false,
                                prepackedB: packedWeight, c: y, ldc: outputs, accumulate: accumulate, bias: bias,
                                pool: pool)
    }

    /// Floats of a packed `[out, in]` weight.
    static func packedCount(inputs: Int, outputs: Int) -> Int { MatrixMultiply.packedCount(k: inputs, n: outputs) }

    /// Packs `weight` (`[out, in]`) as the B operand of `forward(packedWeight:)`.
    static func pack(_ weight: UnsafePointer<Float>, inputs: Int, outputs: Int,
                     into destination: UnsafeMutablePointer<Float>) {
        MatrixMultiply.pack(k: inputs, n: outputs, b: weight, ldb: inputs, transposeB: true, into: destination)
    }

    /// `dX (+)= dY W`, `dW += dY^T X`, `dB += column sums of dY`.
    static func backward(dX: UnsafeMutablePointer<Float>?, accumulateInput: Bool, dW: UnsafeMutablePointer<Float>,
                         dB: UnsafeMutablePointer<Float>?, dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, weightStride: Int? = nil, rows: Int, inputs: Int,
                         outputs: Int, pool: WorkerPool?) {
        let ld = weightStride ?? inputs
        if let dX {
            MatrixMultiply.multiply(m: rows, n: inputs, k: outputs, a: dY, lda: outputs, transposeA: false,
                                    b: weight, ldb: ld, transposeB: false, c: dX, ldc: inputs,
                                    accumulate: accumulateInput, pool: pool)
        }
        MatrixMultiply.multiply(m: outputs, n: inputs, k: rows, a: dY, lda: outputs, transposeA: true,
                                b: x, ldb: inputs, transposeB: false, c: dW, ldc: ld, accumulate: true, pool: pool)
        if let dB { ColumnSum.accumulate(dB, input: dY, rows: rows, columns: outputs, pool: pool) }
    }
}

/// A weight matrix `[out, in]` as a product reads it: in place, or packed once for the many small products of
/// sampling (`Linear.pack`). The two give the same numbers.
enum LinearWeight {
    case plain(UnsafePointer<Float>)
    case packed(UnsafePointer<Float>)
}

extension Linear {
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int,
                        weight: LinearWeight, bias: UnsafePointer<Float>?, accumulate: Bool = false, pool: WorkerPool?) {
        switch weight {
        case .plain(let w):
            forward(y, x, rows: rows, inputs: inputs, outputs: outputs, weight: w, bias: bias, accumulate: accumulate, pool: pool)
        case .packed(let w):
            forward(y, x, rows: rows, inputs: inputs, outputs: outputs, packedWeight: w, bias: bias, accumulate: accumulate,
                    pool: pool)
        }
    }
}
