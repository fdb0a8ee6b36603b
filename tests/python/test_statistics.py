"""The estimates behave like the Monte Carlo estimator they claim to be.

For each of K = 200 seeds, N = 1e5 samples on the CPU give pi_hat and its
standard error se; z = (pi_hat - pi) / se. Under the contract (independent
uniform points; hits ~ Binomial(N, p), p = pi/4 up to 2^-32), each z is
N(0, 1) to within the CLT error at N = 1e5 (skewness of a binomial with
p = 0.785: 0.0031) and the z of distinct seeds are independent.

False-alarm rate (bounds chosen so a correct generator fails less than once in
500,000 runs):
- mean of K z's ~ N(0, 1/K): |mean| < 5.33 / sqrt(K) = 0.377 fails with
  probability P(|Z| > 5.33) = 9.8e-8.
- sample variance s^2: (K - 1) s^2 ~ chi^2(199). By the Wilson-Hilferty
  approximation ((X/k)^(1/3) ~ N(1 - 2/(9k), 2/(9k)), k = 199, sd 0.0334),
  P(s^2 > 1.6) = P(Z > 5.11) = 1.6e-7 and P(s^2 < 0.55) = P(Z < -5.37) = 3.9e-8.
- largest |z| of the K: each |z| < 5.8 fails with P(|Z| > 5.8) = 6.6e-9,
  so some of the K fails with at most K * 6.6e-9 = 1.3e-6.
- pooled over all K * N = 2e7 samples: |z| < 5.33, 9.8e-8.
In all at most 1.7e-6 per run (union bound). The seeds are fixed, so the test
is deterministic: it either always passes or always fails for this stream;
the rate above is the chance that a correct stream would have been rejected.
"""

from __future__ import annotations

import math

import pytest

import pi

K = 200
N = 100_000


def test_z_scores_over_many_seeds(capsys: pytest.CaptureFixture) -> None:
    zs = []
    total_hits = 0
    for seed in range(1000, 1000 + K):
        r = pi.estimate(N, seed=seed, backend="cpu")
        zs.append((r["pi"] - math.pi) / r["std_error"])
        total_hits += r["hits"]
    mean = sum(zs) / K
    var = sum((z - mean) ** 2 for z in zs) / (K - 1)
    assert abs(mean) < 5.33 / math.sqrt(K), (mean, var)
    assert 0.55 < var < 1.6, (mean, var)
    assert max(abs(z) for z in zs) < 5.8, max(zs, key=abs)

    p = math.pi / 4
    pooled_z = (total_hits - K * N * p) / math.sqrt(K * N * p * (1 - p))
    assert abs(pooled_z) < 5.33, pooled_z
    with capsys.disabled():
        print(
            f"\n[reliability] statistics: {K} seeds x {N} samples, mean z {mean:+.3f}, "
            f"variance {var:.3f}, max |z| {max(abs(z) for z in zs):.2f}, pooled z "
            f"{pooled_z:+.2f}; false-alarm rate < 1.7e-6"
        )


def test_neighbouring_seeds_and_offsets_are_not_copies() -> None:
    # Distinct (seed, first) give different sample streams: batches of hits differ.
    a = pi.count_hits_batched(1000, 50, seed=1).tolist()
    b = pi.count_hits_batched(1000, 50, seed=2).tolist()
    c = pi.count_hits_batched(1000, 50, seed=1, first=1).tolist()
    assert a != b and a != c
