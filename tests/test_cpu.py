"""The CPU reading that chooses the int8 recipe and labels every benchmark."""

from __future__ import annotations

from index.cpu import read_cpu

AVX2_ONLY = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 avx avx2 fma\n\nprocessor\t: 1\n"
VNNI = "model name\t: Xeon\nflags\t: sse2 avx2 avx512f avx512_vnni\n"


def test_avx2_only_saturates_int8(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(AVX2_ONLY)
    cpu = read_cpu(cpuinfo)
    assert cpu.as_dict() == {"model": "AMD EPYC", "simd": "AVX2 only", "flags": ["avx2"]}
    assert cpu.int8_saturates and not cpu.vnni


def test_vnni_does_not(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(VNNI)
    cpu = read_cpu(cpuinfo)
    assert cpu.simd == "AVX-512 VNNI" and cpu.vnni and not cpu.int8_saturates
    cpuinfo.write_text("model name\t: Core\nflags\t: sse2 avx2 avx_vnni\n")
    assert read_cpu(cpuinfo).simd == "AVX2 with AVX-VNNI" and not read_cpu(cpuinfo).int8_saturates


def test_avx512_without_vnni_saturates(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Skylake\nflags\t: sse2 avx2 avx512f\n")
    cpu = read_cpu(cpuinfo)
    assert cpu.simd == "AVX-512 without VNNI" and cpu.int8_saturates


def test_unreadable_cpuinfo_gives_an_unknown_cpu(tmp_path):
    cpu = read_cpu(tmp_path / "missing")
    assert cpu.flags == () and cpu.model


def test_the_int8_recipe_follows_the_cpu(tmp_path):
    from index.onnx.quantize import INT8_RECIPES, int8_recipe, quantization

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(AVX2_ONLY)
    saturating = int8_recipe(read_cpu(cpuinfo))
    cpuinfo.write_text(VNNI)
    exact = int8_recipe(read_cpu(cpuinfo))
    assert (saturating, exact) == ("no-vnni", "vnni")
    # A matmul's input is quantised per token (index.onnx.per_token) with signed weights;
    # without VNNI they are 7-bit: onnxruntime's u8 x s8 kernels would saturate on 8 bits.
    assert (quantization(saturating)["weight_type"], quantization(exact)["weight_type"]) == ("QInt8", "QInt8")
    assert (quantization(saturating)["reduce_range"], quantization(exact)["reduce_range"]) == (True, False)
    assert quantization(saturating)["input_scale"] == quantization(exact)["input_scale"] == "per-token"
    assert set(INT8_RECIPES) == {saturating, exact}
