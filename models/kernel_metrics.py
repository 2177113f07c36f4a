"""Image-quality metrics of the published kernel search, one value per map.

Every function takes ``[..., H, W]`` torch tensors (``out``, the dithered
reconstruction, and ``ref``, the reference) and returns ``[...]`` float64. They
follow bemc22/DeSign ``Custom_Dither/Metrics`` (MATLAB), as read there:

* ``mse``: mean of ``(out - ref)^2``;
* ``psnr``: MATLAB's ``psnr(out, ref, 1)``, ``10 log10(1 / MSE)``;
* ``pearson``: Pearson correlation of ``out`` and ``ref`` (the published
  ``corr.m`` correlates ``ref`` with the residual ``ref - out`` instead; signflow
  reports the plain correlation, where higher is better);
* ``total_variation``: ``mean(sqrt(dx^2 + dy^2))`` of ``out`` with forward
  differences; the published ``tv.m`` pairs ``dx`` (H x W-1) and ``dy``
  (H-1 x W) by their linear index, which for a square map adds the differences
  of different pixels; here both are taken at the same pixel, over the
  (H-1) x (W-1) pixels that have a right and a lower neighbour;
* ``wpsnr``: PSNR of the error weighted by the human contrast sensitivity
  function (CSF) of Miyahara et al. ("Objective Picture Quality Scale (PQS) for
  Image Coding", IEEE Trans. Comm. 46(9), 1998), as the published ``wpsnr.m``:
  the error ``ref - out`` is filtered by an FIR filter whose frequency response
  samples the CSF (``csf_filter``) and ``WPSNR = 10 log10(1 / mean(filtered^2))``.

PSNR and WPSNR are capped at ``PSNR_CAP_DB`` where the error is zero.
"""
import functools

import numpy as np
import torch

#: PSNR of identical maps (the MSE is clamped to ``10 ** -(PSNR_CAP_DB / 10)``)
PSNR_CAP_DB = 100.0
#: a map whose variance is at most this is constant: its correlation is 0 (undefined)
CONSTANT_VARIANCE = 1e-12
#: the CSF is sampled at integer frequencies -CSF_HALF..CSF_HALF (cycles/degree) along each axis
CSF_HALF = 20
#: ``csf_weight`` filters maps of at most this many pixels as one matrix product, larger ones by FFT
DENSE_PIXELS = 1024


def _f64(x):
    return torch.as_tensor(x, dtype=torch.float64)


def psnr_from_mse(mse, peak=1.0):
    """``10 log10(peak^2 / mse)``, capped at ``PSNR_CAP_DB``."""
    mse = _f64(mse).clamp(min=peak**2 * 10 ** (-PSNR_CAP_DB / 10))
    return 10.0 * torch.log10(peak**2 / mse)


def mse(out, ref):
    """Mean squared error per map."""
    return ((_f64(out) - _f64(ref)) ** 2).mean(dim=(-2, -1))


def psnr(out, ref, peak=1.0):
    """PSNR per map in dB, with ``peak`` the largest possible value (1 for maps in [0, 1])."""
    return psnr_from_mse(mse(out, ref), peak)


def correlation(mean_a, mean_b, mean_aa, mean_bb, mean_ab):
    """Pearson correlation from first and second moments; 0 where either variance is at most ``CONSTANT_VARIANCE``."""
    var_a = mean_aa - mean_a**2
    var_b = mean_bb - mean_b**2
    ok = (var_a > CONSTANT_VARIANCE) & (var_b > CONSTANT_VARIANCE)
    cov = mean_ab - mean_a * mean_b
    return torch.where(ok, cov / (var_a * var_b).clamp(min=CONSTANT_VARIANCE**2).sqrt(), torch.zeros_like(cov))


def pearson(out, ref):
    """Pearson correlation of ``out`` and ``ref`` per map; 0 where either is constant."""
    out, ref = torch.broadcast_tensors(_f64(out), _f64(ref))
    dims = (-2, -1)
    # centred first, so that the moments below do not cancel
    out = out - out.mean(dim=dims, keepdim=True)
    ref = ref - ref.mean(dim=dims, keepdim=True)
    zero = torch.zeros(out.shape[:-2], dtype=torch.float64)
    return correlation(zero, zero, (out * out).mean(dim=dims), (ref * ref).mean(dim=dims), (out * ref).mean(dim=dims))


def total_variation(out):
    """``mean(sqrt(dx^2 + dy^2))`` per map over the (H-1) x (W-1) pixels with both forward differences."""
    out = _f64(out)
    if min(out.shape[-2:]) < 2:
        raise ValueError(f"total variation needs maps of at least 2x2, not {list(out.shape[-2:])}")
    corner = out[..., :-1, :-1]
    dx = out[..., :-1, 1:] - corner
    dy = out[..., 1:, :-1] - corner
    return (dx**2 + dy**2).sqrt().mean(dim=(-2, -1))


def csf_response(u, v):
    """Miyahara's CSF at horizontal and vertical spatial frequencies ``u``, ``v`` (cycles/degree).

    A difference of Gaussians in the radial frequency, attenuated off the axes above
    ``f0 = 11.13`` cycles/degree (the eye sees diagonal detail less).
    """
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    sigma, beta, f0 = 2.0, 8.0, 11.13
    w = 2 * np.pi * np.hypot(u, v) / 60
    radial = 1.5 * np.exp(-(sigma**2) * w**2 / 2) - np.exp(-2 * sigma**2 * w**2 / 2)
    theta = np.arctan(v / (u + np.finfo(np.float64).eps))
    gate = np.exp(beta * (w - 2 * np.pi * f0 / 60))
    return radial * (1 + gate * np.cos(2 * theta) ** 4) / (1 + gate)


@functools.cache
def csf_filter():
    """The ``(2*CSF_HALF + 1)``-square FIR filter whose frequency response samples ``csf_response``.

    Frequency sampling (MATLAB's ``fsamp2``): the response sampled on an odd, centred grid is
    the DFT of the filter, so the filter is its inverse DFT with the centre moved to index 0
    and back. The CSF is even in both frequencies, so the filter is real and symmetric
    (correlating with it is convolving with it). Returns float64 ``[41, 41]``.
    """
    freqs = np.arange(-CSF_HALF, CSF_HALF + 1)
    response = csf_response(freqs[:, None], freqs[None, :])
    taps = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(response)))
    return np.ascontiguousarray(taps.real)


@functools.cache
def _csf_matrix(height, width):
    """``csf_weight`` on ``height`` x ``width`` maps as a ``[H*W, H*W]`` matrix (for small maps)."""
    taps = csf_filter()
    rows, cols = np.divmod(np.arange(height * width), width)
    d_row = rows[None, :] - rows[:, None]  # [output pixel, input pixel]
    d_col = cols[None, :] - cols[:, None]
    inside = (np.abs(d_row) <= CSF_HALF) & (np.abs(d_col) <= CSF_HALF)
    matrix = np.where(inside, taps[np.clip(d_row + CSF_HALF, 0, 2 * CSF_HALF), np.clip(d_col + CSF_HALF, 0, 2 * CSF_HALF)], 0.0)
    return torch.from_numpy(matrix)


def csf_weight(maps):
    """``maps`` ``[..., H, W]`` filtered by ``csf_filter``, same size, zero outside (MATLAB's ``filter2``).

    Maps of at most ``DENSE_PIXELS`` pixels go through the filter as one matrix product; larger
    ones through a linear convolution by FFT.
    """
    maps = _f64(maps)
    height, width = maps.shape[-2:]
    if height * width <= DENSE_PIXELS:
        return (maps.flatten(-2) @ _csf_matrix(height, width).T).unflatten(-1, (height, width))
    taps = torch.from_numpy(csf_filter())
    size = (height + 2 * CSF_HALF, width + 2 * CSF_HALF)
    full = torch.fft.irfft2(torch.fft.rfft2(maps, s=size) * torch.fft.rfft2(taps, s=size), s=size)
    return full[..., CSF_HALF:CSF_HALF + height, CSF_HALF:CSF_HALF + width]


def wpsnr(out, ref):
    """CSF-weighted PSNR per map in dB: ``10 log10(1 / mean(csf_weight(ref - out)^2))``."""
    error = csf_weight(_f64(ref) - _f64(out))
    return psnr_from_mse((error**2).mean(dim=(-2, -1)))
