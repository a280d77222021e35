"""Print the CMAKE_ARGS that build llama-cpp-python for this machine's CPU, without AMX.

llama.cpp's ``GGML_NATIVE`` build (``-march=native``) turns on Intel AMX where the CPU
has it, and its AMX matrix kernels crash in this VM (SIGSEGV in
``ggml_backend_amx_mul_mat``). So the build is not native: every x86 instruction set the
CPU reports is switched on by name, AMX never. The result is still tuned to this CPU,
which is why ``make`` builds it here with ``--no-cache-dir`` instead of reusing a wheel.
Measured on the 2-core machine: prompt 81 tokens/s with AVX-512, 60 with AVX2 alone.

Nor does llama.cpp use OpenMP (``GGML_OPENMP=OFF``: ggml's own thread pool). The process
has one OpenMP runtime, torch's, which it shares with the embedding model, and it keeps a
team of threads for every thread that ever computed: once the server's request threads
have embedded questions, there are more such threads than cores, and OpenMP then stops
its threads spinning between operations. A token written then took ~97 ms instead of ~82
(served answers p50 ~0.2 s slower); and with nothing to throttle it, a core taken by
another process made the spinning cost 6x. docs/performance.md has the figures.
``--openmp`` prints the flags of the earlier build, to compare (``python -m bench.build``).
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

# ggml's option -> the /proc/cpuinfo flags it needs
X86 = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_BMI2": ("bmi2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    "GGML_AVX512": ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"),
    "GGML_AVX512_VBMI": ("avx512vbmi",),
    "GGML_AVX512_VNNI": ("avx512_vnni",),
    "GGML_AVX512_BF16": ("avx512_bf16",),
}
COMMON = ["-DLLAVA_BUILD=OFF"]


def flags(openmp: bool = False) -> list[str]:
    common = [*COMMON, f"-DGGML_OPENMP={'ON' if openmp else 'OFF'}"]
    if platform.machine() not in ("x86_64", "AMD64"):
        return [*common, "-DGGML_NATIVE=ON"]
    try:
        cpu = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpu = ""
    have = set(next((ln.split(":", 1)[1].split() for ln in cpu.splitlines()
                     if ln.startswith("flags")), []))
    options = [f"-D{name}={'ON' if set(needs) <= have else 'OFF'}"
               for name, needs in X86.items()]
    return [*common, "-DGGML_NATIVE=OFF", *options]


if __name__ == "__main__":
    print(" ".join(flags(openmp="--openmp" in sys.argv[1:])))
