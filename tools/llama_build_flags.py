"""Print the CMAKE_ARGS that build llama-cpp-python for this machine's CPU, without AMX.

llama.cpp's ``GGML_NATIVE`` build (``-march=native``) turns on Intel AMX where the CPU
has it, and its AMX matrix kernels crash in this VM (SIGSEGV in
``ggml_backend_amx_mul_mat``). So the build is not native: every x86 instruction set the
CPU reports is switched on by name, AMX never. The result is still tuned to this CPU,
which is why ``make`` builds it here with ``--no-cache-dir`` instead of reusing a wheel.
Measured on the 2-core machine: prompt 81 tokens/s with AVX-512, 60 with AVX2 alone.
"""

from __future__ import annotations

import platform
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


def flags() -> list[str]:
    if platform.machine() not in ("x86_64", "AMD64"):
        return [*COMMON, "-DGGML_NATIVE=ON"]
    try:
        cpu = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpu = ""
    have = set(next((ln.split(":", 1)[1].split() for ln in cpu.splitlines()
                     if ln.startswith("flags")), []))
    options = [f"-D{name}={'ON' if set(needs) <= have else 'OFF'}"
               for name, needs in X86.items()]
    return [*COMMON, "-DGGML_NATIVE=OFF", *options]


if __name__ == "__main__":
    print(" ".join(flags()))
