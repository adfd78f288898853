"""Video metrics against closed forms and scikit-image."""

import pytest
import torch

from interdiff_core.metrics.video import gap_bucket, l1, psnr, ssim


def test_psnr_closed_form():
    a = torch.zeros(2, 3, 4, 4)
    b = a + 0.1  # MSE 0.01 -> 20 dB at range 1, 40 dB at range 10
    torch.testing.assert_close(psnr(b, a), torch.full((2,), 20.0))
    torch.testing.assert_close(psnr(b, a, data_range=10.0), torch.full((2,), 40.0))
    assert (psnr(a, a) >= 100).all()


def test_l1_per_frame():
    a = torch.zeros(5, 2, 3, 3)
    b = a.clone()
    b[1] = -2.0
    assert l1(b, a).tolist() == [0, 2, 0, 0, 0]


def test_ssim_identity_is_one_and_constant_images_match_closed_form():
    x = torch.rand(3, 16, 16)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-6)
    a, b = 0.2, 0.6  # constant images: variances 0, SSIM = (2ab + c1) / (a² + b² + c1)
    c1 = 0.01**2
    const = torch.ones(1, 12, 12, dtype=torch.float64)
    got = ssim(a * const, b * const).item()
    assert got == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-6)


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 24, 20, generator=gen)
    y = (x + 0.2 * torch.randn(3, 24, 20, generator=gen)).clamp(0, 1)
    ref = metrics.structural_similarity(
        x.double().numpy(), y.double().numpy(), channel_axis=0, data_range=1.0,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    )  # fmt: skip
    assert ssim(y.double(), x.double()).item() == pytest.approx(ref, abs=1e-6)
    assert ref < 0.9  # the noise is visible: the comparison is not between two ones


def test_ssim_batched_per_frame():
    x = torch.rand(2, 4, 3, 16, 16)
    y = x.clone()
    y[1, 2] = 1 - y[1, 2]
    s = ssim(y, x)
    assert s.shape == (2, 4)
    assert s[1, 2] < 0.5 and (s[0] > 0.999).all()


@pytest.mark.parametrize(
    "gap, name",
    [
        (1, None),
        (2, "2-3"),
        (3, "2-3"),
        (4, "4-6"),
        (6, "4-6"),
        (7, "7-10"),
        (10, "7-10"),
        (11, "11+"),
        (40, "11+"),
    ],  # fmt: skip
)
def test_gap_buckets(gap, name):
    assert gap_bucket(gap) == name
