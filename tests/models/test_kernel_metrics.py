"""The metrics of the published kernel search, on maps small enough to check by hand."""
import numpy as np
import pytest
import torch
from scipy.signal import correlate2d

from signflow.models.kernel_metrics import (
    CSF_HALF,
    DENSE_PIXELS,
    PSNR_CAP_DB,
    csf_filter,
    csf_response,
    csf_weight,
    mse,
    pearson,
    psnr,
    total_variation,
    wpsnr,
)


def test_mse_and_psnr_known_answers():
    ref = torch.zeros(2, 2)
    out = torch.tensor([[0.1, 0.1], [0.1, 0.1]])
    assert mse(out, ref).item() == pytest.approx(0.01)
    assert psnr(out, ref).item() == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert psnr(torch.full((3, 3), 0.5), torch.zeros(3, 3)).item() == pytest.approx(10 * np.log10(4.0))
    assert psnr(ref, ref).item() == PSNR_CAP_DB
    # per map over the last two axes
    assert mse(torch.ones(4, 3, 2, 2), torch.zeros(2, 2)).shape == (4, 3)


def test_total_variation_known_answers():
    assert total_variation(torch.ones(5, 7)).item() == 0.0
    # only pixel (0, 0) has a right and a lower neighbour: sqrt(0.22^2 + 0.22^2)
    out = torch.tensor([[0.12, 0.34], [0.34, 1.0]])
    assert total_variation(out).item() == pytest.approx(0.22 * np.sqrt(2))
    # a vertical edge between columns 1 and 2 of a 3x4 map: 2 of the 2x3 inner pixels see dx = 1
    edge = torch.zeros(3, 4)
    edge[:, 2:] = 1
    assert total_variation(edge).item() == pytest.approx(2 / 6)
    # the last row and column only serve as neighbours
    ramp = torch.arange(12.0).reshape(3, 4)  # dx = 1, dy = 4 everywhere
    assert total_variation(ramp).item() == pytest.approx(np.sqrt(17))
    with pytest.raises(ValueError, match="2x2"):
        total_variation(torch.zeros(1, 5))


def test_pearson_known_answers():
    ramp = torch.arange(12.0).reshape(3, 4)
    assert pearson(ramp, 2 * ramp + 1).item() == pytest.approx(1.0)
    assert pearson(ramp, -ramp).item() == pytest.approx(-1.0)
    assert pearson(ramp, torch.ones(3, 4)).item() == 0.0  # constant: undefined, 0
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 6)), rng.random((5, 6))
    assert pearson(torch.tensor(a), torch.tensor(b)).item() == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_csf_filter_samples_the_csf():
    taps = csf_filter()
    assert taps.shape == (2 * CSF_HALF + 1,) * 2
    np.testing.assert_allclose(taps, taps[::-1, ::-1], atol=1e-15)  # symmetric: correlation == convolution
    np.testing.assert_allclose(taps, taps.T, atol=1e-15)
    # the DC gain is the CSF at zero frequency; the DFT of the taps gives back the sampled response
    assert taps.sum() == pytest.approx(csf_response(0.0, 0.0)) == pytest.approx(0.5)
    freqs = np.arange(-CSF_HALF, CSF_HALF + 1)
    response = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(taps))).real
    np.testing.assert_allclose(response, csf_response(freqs[:, None], freqs[None, :]), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 6, 6), (2, 5, 9), (1, 2, 50), (1, 33, 35)])
def test_csf_weight_is_matlab_filter2(shape):
    """Zero-padded 'same' filtering; small maps by a matrix, large ones by FFT."""
    maps = np.random.default_rng(1).random(shape)
    expected = np.stack([correlate2d(m, csf_filter(), mode="same") for m in maps])
    np.testing.assert_allclose(csf_weight(torch.tensor(maps)).numpy(), expected, atol=1e-12)
    assert (shape[1] * shape[2] > DENSE_PIXELS) == (shape == (1, 33, 35))


def test_wpsnr_weights_the_error():
    ref = torch.zeros(6, 6)
    out = torch.full((6, 6), 0.1)
    error = correlate2d(np.full((6, 6), -0.1), csf_filter(), mode="same")
    assert wpsnr(out, ref).item() == pytest.approx(10 * np.log10(1 / np.mean(error**2)))
    assert wpsnr(ref, ref).item() == PSNR_CAP_DB
    # the CSF passes half of a flat error at most, so the weighted PSNR of a flat error beats its PSNR
    assert wpsnr(out, ref).item() > psnr(out, ref).item() + 6.0
