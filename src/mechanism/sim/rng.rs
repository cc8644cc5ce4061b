//! The simulator's random numbers: a small, seedable, splittable generator and the
//! proof model's draws (uniform, normal, log-normal latency).
//!
//! xoshiro256++ (Blackman and Vigna) seeded through SplitMix64: fast, with 2^256 − 1
//! period and good statistical quality, and fully determined by one `u64` seed, so a
//! run is reproducible from `--seed` alone. Replicas and mechanisms get independent
//! sub-streams from [`SimRng::stream`] (SplitMix64 of the seed and a stream tag), never
//! from thread scheduling.

/// SplitMix64: one step of the seed mixer (Steele, Lea and Flood).
#[must_use]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xoshiro256++ generator.
#[derive(Debug, Clone)]
pub struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// A generator whose whole state is derived from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    /// The independent sub-stream `tag` of `seed` (e.g. one per replica): the seed and
    /// the tag are mixed through SplitMix64 before seeding.
    #[must_use]
    pub fn stream(seed: u64, tag: u64) -> Self {
        let mut sm = seed ^ 0x5EED_0FD9_6E70_0001;
        let a = splitmix64(&mut sm);
        let mut sm2 = a ^ tag.wrapping_mul(0xD134_2543_DE82_EF95);
        Self::new(splitmix64(&mut sm2))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw in `[0, 1)` (53 random bits).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// A uniform index in `0..n` (`n ≥ 1`; Lemire's multiply-shift, bias < n / 2^64).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A standard normal draw (Marsaglia's polar method).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }
}

/// A log-normal distribution given by its mean and standard deviation (same unit,
/// e.g. seconds), as the proof model's latency: `ln X ~ N(μ, σ²)` with
/// `σ² = ln(1 + sd²/mean²)` and `μ = ln(mean) − σ²/2`. `sd = 0` is the constant `mean`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    mu: f64,
    sigma: f64,
    mean: f64,
}

impl LogNormal {
    /// The log-normal with this mean and standard deviation (`mean > 0`, `sd ≥ 0`).
    #[must_use]
    pub fn from_mean_sd(mean: f64, sd: f64) -> Self {
        let var = (1.0 + (sd * sd) / (mean * mean)).ln();
        Self {
            mu: mean.ln() - var / 2.0,
            sigma: var.sqrt(),
            mean,
        }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        if self.sigma == 0.0 {
            return self.mean;
        }
        (self.mu + self.sigma * rng.normal()).exp()
    }

    /// `P(X ≤ x)`.
    #[must_use]
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if self.sigma == 0.0 {
            return if x >= self.mean { 1.0 } else { 0.0 };
        }
        0.5 * erfc(-(x.ln() - self.mu) / (self.sigma * std::f64::consts::SQRT_2))
    }
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
#[must_use]
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = SimRng::stream(7, 1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SimRng::stream(7, 1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = SimRng::stream(7, 2);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn lognormal_has_the_requested_mean_and_sd() {
        let d = LogNormal::from_mean_sd(3.0, 1.5);
        let mut r = SimRng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 1.5).abs() < 0.03, "{}", var.sqrt());
        let frac = xs.iter().filter(|x| **x <= 4.0).count() as f64 / n as f64;
        assert!(
            (frac - d.cdf(4.0)).abs() < 0.005,
            "{frac} vs {}",
            d.cdf(4.0)
        );
    }
}
