"""The GEMM calibration against its sources, reproducible from ``validation/kernel_figures.md`` (issue 18).

``gemm_k0`` is the least-squares fit of ``e = a · K / (K + k0) · w(M, N)`` over DeepGEMM's published H800 FP8 rows
with M = 4,096 per GEMM or group (six dense, four contiguous grouped), ``w`` the model's tile and wave factor on
H800's 132 SMs; the BF16/FP8 plateaus are the measured fractions restated free of the wave loss of the benchmark
shape (M = N = K = 8,192, an assumption).
"""

from pathlib import Path

import numpy as np
import pytest

from rackwright.perf.efficiency import GEMM_K0_H100_FP8, profile, wave_factor

FIGURES = Path(__file__).resolve().parents[1] / "validation" / "kernel_figures.md"
FP8_PEAK = 1979.0  # TFLOP/s, H800 = H100 SXM5 dense FP8


def deepgemm_rows():
    """(groups, M, N, K, fraction of the FP8 peak) of the M = 4,096 dense and the contiguous grouped rows."""
    text = FIGURES.read_text().split("### DeepGEMM", 1)[1].split("Grouped GEMMs, masked layout", 1)[0]
    rows = []
    for line in text.splitlines():
        cells = [c.strip().replace(",", "") for c in line.strip("|").split("|")]
        grouped = len(cells) == 6 and cells[5].endswith("%")  # groups, M per group, N, K, TFLOP/s, % of peak
        numbers = cells[:5] if grouped else cells[:4]  # dense: M, N, K, TFLOP/s, % of peak, memory bandwidth
        if len(cells) != 6 or not all(c.isdigit() for c in numbers):
            continue
        groups, m, n, k, tflops = [float(c) for c in numbers] if grouped else [1.0] + [float(c) for c in numbers]
        if m >= 4096:
            rows.append((groups, m, n, k, tflops / FP8_PEAK))
    return np.array(rows)


def fit(rows):
    """Least squares over k0 (a grid of 0.5 K-elements) with the plateau ``a`` in closed form: (k0, a, residuals)."""
    eff = profile("h100")  # H800 has H100's SMs (132) and tensor rate
    g, m, n, k, e = rows.T
    w = wave_factor(m, n, eff, g)

    def solve(k0):
        x = k / (k + k0) * w
        a = x @ e / (x @ x)
        return a, e - a * x

    k0 = min(np.arange(100.0, 3000.0, 0.5), key=lambda k0: float(np.sum(solve(k0)[1] ** 2)))
    a, residuals = solve(k0)
    return k0, a, residuals


def test_deepgemm_rows_read():
    rows = deepgemm_rows()
    assert len(rows) == 10 and sorted(set(rows[:, 0])) == [1.0, 4.0, 8.0]
    assert rows[0].tolist() == pytest.approx([1, 4096, 2112, 7168, 1058 / 1979])


def test_gemm_k0_is_the_least_squares_fit_with_waves():
    k0, a, residuals = fit(deepgemm_rows())
    assert GEMM_K0_H100_FP8 == pytest.approx(k0, rel=0.05)
    # The fit (kernel_figures.md): k0 742.5, a 0.757; every row within ±0.025 but the narrow N = 2,112 one, whose
    # 17 × 16 = 272 tiles take 3 waves of 132 SMs (w = 0.667) where DeepGEMM picks a narrower tile.
    assert k0 == pytest.approx(742.5) and a == pytest.approx(0.757, abs=0.001)
    assert residuals[0] == pytest.approx(0.077, abs=0.001) and np.all(np.abs(residuals[1:]) < 0.025)
    # The profiles scale it by the dense BF16 FLOP per clock per SM: A100 2,048, H100 4,096, B200 8,192 (FP8's
    # 8,192 on H100).
    assert [profile(p).gemm_k0 for p in ("a100", "h100", "b200")] == [740 / 4, 740 / 2, 740]


def test_plateaus_restated_free_of_the_benchmark_waves():
    # 8,192² output in 256 × 128 tiles: 32 · 64 = 2,048 tiles; waves ⌈2,048 / SMs⌉: A100 19 (2,052 slots), H100 16
    # (2,112), B200 14 (2,072), B300 13 (2,080). The plateau is the measured fraction × slots / tiles.
    for name, measured, slots in (("a100", 0.78, 19 * 108), ("h100", 0.72, 16 * 132), ("b200", 0.72, 14 * 148),
                                  ("b300", 0.72, 13 * 160)):
        assert profile(name).gemm == pytest.approx(measured * slots / 2048)
    # FP8 (FlashAttention-3's ratio on the BF16 fraction, measured at the same shape), block-scaled FP8 and NVFP4.
    h100, b200 = profile("h100"), profile("b200")
    assert (h100.gemm_fp8, h100.gemm_fp8_blockwise) == pytest.approx((0.58 * 2112 / 2048, 0.55 * 2112 / 2048))
    assert (b200.gemm_fp8, b200.gemm_mxfp8, b200.gemm_fp4) == pytest.approx(
        (0.58 * 2072 / 2048, 0.58 * 2072 / 2048, 0.47 * 2072 / 2048))
