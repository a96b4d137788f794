"""numpy (OpenBLAS) side of bench/gemm.sh: float32 matmul GFLOP/s on the training shapes.

Same method as MatrixMultiplyBenchmark.run (Sources/Kernels/MatrixMultiplyBenchmark.swift): values in [-1, 1),
one untimed warm-up call, then REPEATS measurements, each running the product back to back for at least 0.05 s;
prints the median (and min, max) of 2*m*n*k*calls/seconds. op(A)/op(B) are transposed views, which numpy hands
to sgemm as transpose flags (no copy); the output array is preallocated (matmul(out=)).

Usage: python3 bench/gemm.py THREADS REPEATS [m,n,k,transposeA,transposeB ...]
       python3 bench/gemm.py --list      (the default shapes, in that format)
The thread count must be fixed before numpy starts: threadpoolctl is used when installed, otherwise the caller
(bench/gemm.sh) sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS; THREADS is only checked and printed.
Output lines: numpy M N K TA TB THREADS GFLOPS_MEDIAN GFLOPS_MIN GFLOPS_MAX
"""
import sys
import time

import numpy as np

SHAPES = [  # the same list as MatrixMultiplyBenchmark.trainingShapes
    (4096, 384, 128, 0, 1), (4096, 1024, 256, 0, 1), (4096, 256, 1024, 0, 1),
    (4096, 128, 384, 0, 0), (4096, 256, 1024, 0, 0), (4096, 1024, 256, 0, 0),
    (384, 128, 4096, 1, 0), (1024, 256, 4096, 1, 0), (256, 1024, 4096, 1, 0),
]


def measure(m, n, k, ta, tb, repeats, minimum=0.05):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    opa = a.T if ta else a
    opb = b.T if tb else b
    c = np.empty((m, n), np.float32)
    np.matmul(opa, opb, out=c)
    flops = 2.0 * m * n * k
    rates = []
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            np.matmul(opa, opb, out=c)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= minimum:
                break
        rates.append(flops * calls / elapsed / 1e9)
    rates.sort()
    return float(np.median(rates)), rates[0], rates[-1]


def main():
    if sys.argv[1:] == ["--list"]:
        print(" ".join(",".join(str(x) for x in shape) for shape in SHAPES))
        return
    threads, repeats = int(sys.argv[1]), int(sys.argv[2])
    shapes = [tuple(int(x) for x in s.split(",")) for s in sys.argv[3:]] or SHAPES
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        limiter = None
    for m, n, k, ta, tb in shapes:
        median, low, high = measure(m, n, k, ta, tb, repeats)
        print(f"numpy {m} {n} {k} {ta} {tb} {threads} {median:.1f} {low:.1f} {high:.1f}", flush=True)
    del limiter


if __name__ == "__main__":
    main()
