#!/usr/bin/python3
"""The float64 GEMM peak of one core, measured with a tuned BLAS (OpenBLAS).

Usage (Debian: apt-get install -y libopenblas0-pthread):

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/gemm_peak.py [LIB]
    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/gemm_peak.py

LIB defaults to Debian's OpenBLAS. OPENBLAS_CORETYPE picks OpenBLAS's kernels
(it takes AVX2's "Haswell" on a CPU it does not know). Prints GFLOP/s (2 per
multiply-add, the best of 7 rounds) of square products, then of the products
the default network's layers compute at batch 20 (the engine's
BenchmarkPhase reports the same FLOPs per phase).
"""
import ctypes
import sys
import time

LIB = sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
lib = ctypes.CDLL(LIB)
lib.openblas_get_corename.restype = ctypes.c_char_p
lib.openblas_set_num_threads(1)
print("# %s, kernels %s" % (LIB, lib.openblas_get_corename().decode()))

ROW_MAJOR, NO_TRANS = 101, 111
c_double = ctypes.c_double

# (name, M, K, N): C (M×N) = A (M×K) · B (K×N)
SHAPES = [
    ("square 256", 256, 256, 256), ("square 512", 512, 512, 512),
    ("square 1024", 1024, 1024, 1024), ("square 2048", 2048, 2048, 2048),
    ("conv1 forward", 8, 25, 15680), ("conv1 dL/dW", 8, 15680, 25),
    ("conv2 forward", 16, 200, 3920), ("conv2 dL/dW", 16, 3920, 200), ("conv2 dL/dX", 8, 400, 3920),
    ("dense forward", 20, 256, 10), ("dense dL/dW", 10, 20, 256), ("dense dL/dX", 20, 10, 256),
]

for name, m, k, n in SHAPES:
    a = (c_double * (m * k))(*[1.0 / (i % 7 + 1) for i in range(m * k)])
    b = (c_double * (k * n))(*[1.0 / (i % 5 + 1) for i in range(k * n)])
    c = (c_double * (m * n))()

    def run():
        lib.cblas_dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, c_double(1.0), a, k, b, n, c_double(0.0), c, n)

    run()
    flops = 2 * m * n * k
    reps = max(1, int(1e9 / flops))
    best = float("inf")
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        best = min(best, (time.perf_counter() - t0) / reps)
    print("%-14s M=%-5d K=%-5d N=%-5d %6.1f GFLOP/s" % (name, m, k, n, flops / best / 1e9))
