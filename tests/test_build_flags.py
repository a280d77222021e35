"""How ``make setup`` builds llama.cpp: this CPU's instruction sets, never AMX, no OpenMP."""

from __future__ import annotations

import importlib.util
import platform

import pytest

from tests.servers import ROOT

spec = importlib.util.spec_from_file_location("llama_build_flags",
                                              ROOT / "tools" / "llama_build_flags.py")
build_flags = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_flags)


def test_the_build_has_no_openmp_unless_asked_for_the_old_one():
    assert "-DGGML_OPENMP=OFF" in build_flags.flags()
    assert "-DGGML_OPENMP=ON" in build_flags.flags(openmp=True)
    assert not [f for f in build_flags.flags() if "OPENMP=ON" in f]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86 instruction sets")
def test_the_build_names_instruction_sets_and_never_amx():
    flags = build_flags.flags()
    assert "-DGGML_NATIVE=OFF" in flags
    assert not [f for f in flags if "AMX" in f]


def test_the_installed_llama_cpp_was_built_without_openmp():
    """OpenMP's threads are throttled once torch's request threads outnumber the cores
    (tools/llama_build_flags.py): the build ``make setup`` made must not use it."""
    llama_cpp = pytest.importorskip("llama_cpp")
    info = llama_cpp.llama_print_system_info().decode()
    assert "OPENMP = 1" not in info and "AMX" not in info, info
