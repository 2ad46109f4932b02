"""The GEMM calibration against its sources, reproducible from ``validation/kernel_figures.md`` (issue 18).

``gemm_k0`` is the least-squares fit of ``e = a · K / (K + k0) · q(M, N)`` over DeepGEMM's published H800 FP8 rows
with M = 4,096 per GEMM or group (six dense, four contiguous grouped), ``q`` the model's tile factor (DeepGEMM sizes
its blocks to fill the SMs, so no wave term); the BF16/FP8 plateaus are the measured fractions restated free of the
tile loss of the benchmark shape (M = N = K = 8,192, an assumption), which is none.
"""

from pathlib import Path

import numpy as np
import pytest

from rackwright.perf.efficiency import GEMM_K0_H100_FP8, profile, tile_factor

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
    eff = profile("h100")  # H800 has H100's tile and tensor rate
    _, m, n, k, e = rows.T
    w = tile_factor(m, n, eff)

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


def test_gemm_k0_is_the_least_squares_fit_with_tiles():
    k0, a, residuals = fit(deepgemm_rows())
    assert GEMM_K0_H100_FP8 == pytest.approx(k0, rel=0.05)
    # The fit (kernel_figures.md): k0 622.5, a 0.695; every row within ±0.025 but the narrow N = 2,112 one, 0.086
    # below the curve. Its tile factor: 4,096 × 2,112 in 256 × 128 tiles pads N to 17 · 128 = 2,176 (q = 66/68),
    # in 128 × 256 to 9 · 256 = 2,304 (q = 11/12); the better is 66/68. Every other row is whole tiles (q = 1).
    assert k0 == pytest.approx(622.5) and a == pytest.approx(0.695, abs=0.001)
    assert residuals[0] == pytest.approx(1058 / 1979 - 0.695 * 7168 / (7168 + 622.5) * 66 / 68, abs=0.001)
    assert residuals[0] == pytest.approx(-0.086, abs=0.001) and np.all(np.abs(residuals[1:]) < 0.025)
    # The profiles scale it by the dense BF16 FLOP per clock per SM: A100 2,048, H100 4,096, B200 8,192 (FP8's
    # 8,192 on H100).
    assert [profile(p).gemm_k0 for p in ("a100", "h100", "b200")] == [620 / 4, 620 / 2, 620]


def test_plateaus_restated_free_of_the_benchmark_tiles():
    # 8,192² output in 256 × 128 tiles: 32 · 64 = 2,048 whole tiles, no padding (q = 1): the plateau is the measured
    # fraction as it stands.
    for name, measured in (("a100", 0.78), ("h100", 0.72), ("b200", 0.72), ("b300", 0.72)):
        assert profile(name).gemm == pytest.approx(measured)
    # FP8 (FlashAttention-3's ratio on the BF16 fraction, measured at the same shape), block-scaled FP8 and NVFP4.
    h100, b200 = profile("h100"), profile("b200")
    assert (h100.gemm_fp8, h100.gemm_fp8_blockwise) == pytest.approx((0.58, 0.55))
    assert (b200.gemm_fp8, b200.gemm_mxfp8, b200.gemm_fp4) == pytest.approx((0.58, 0.58, 0.47))


def cutlass_blackwell_bars():
    """{data type: (bar top y in px, % of peak @ power)} of the CUTLASS 3.8 SM100 chart as kernel_figures.md reads
    it from the SVG."""
    text = FIGURES.read_text().split("**CUTLASS 3.8 + CUDA 12.8, Blackwell SM100 (NVIDIA).**", 1)[1]
    text = text.split("What it does and does not give", 1)[0]
    bars = {}
    for line in text.splitlines():
        cells = [c.strip().replace(",", "") for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[2].replace(".", "").isdigit():
            bars[cells[0]] = (float(cells[1]), float(cells[2]))
    return bars


def test_cutlass_blackwell_chart_read_from_its_geometry():
    # The SVG's 0 % axis is at y = 1,817 and its 100 % grid line at y = 273.5: 15.435 px per point. BF16's bar top
    # at y = 363.012: (1,817 - 363.012) / 15.435 = 1,453.988 / 15.435 = 94.2 %; F8's at 409.013: 1,407.987 / 15.435
    # = 91.2 %.
    bars = cutlass_blackwell_bars()
    assert list(bars) == ["NVFP4", "MXFP4", "MXFP8", "S8", "F8", "F16", "BF16", "TF32"]
    assert bars["BF16"][1] == 94.2 and bars["F8"][1] == 91.2
    for y, share in bars.values():
        assert share == pytest.approx((1817.0 - y) / 15.435, abs=0.05)


def test_blackwell_keeps_hoppers_gemm_plateaus():
    # No allowed source prints B200's sustained clock or an absolute GEMM rate (kernel_figures.md, "Blackwell (B200)
    # GEMM"), so B200 keeps H100's measured plateaus. CUTLASS's F8 share at the power-limited clock is 0.912: the
    # FP8 plateau 0.58 of the data-sheet peak means a sustained clock of 0.58 / 0.912 = 0.636 of the peak's 1.856 GHz
    # (BF16: 0.72 / 0.942 = 0.764), below FlashAttention-4's 0.71 of the peak for attention only in FP8.
    h100, b200 = profile("h100"), profile("b200")
    assert (b200.gemm, b200.gemm_fp8) == (h100.gemm, h100.gemm_fp8)
    bars = cutlass_blackwell_bars()
    assert b200.gemm_fp8 / (bars["F8"][1] / 100) == pytest.approx(0.636, abs=0.001)
    assert b200.gemm / (bars["BF16"][1] / 100) == pytest.approx(0.764, abs=0.001)
