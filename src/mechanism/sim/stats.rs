//! Monte Carlo statistics: batch means and 95% confidence intervals.
//!
//! A run's slots are cut into batches (contiguous slots of one replica); the
//! estimate is the overall mean and its standard error is the standard deviation of
//! the batch means over `√B`. Batching keeps the interval honest when consecutive
//! slots are correlated (the spec engine carries stake, reputation and a failed
//! block from one slot to the next); for independent slots it equals the per-slot
//! formula up to noise. The interval is `mean ± t(0.975, B − 1) · SE` (Student's t,
//! normal approximation of the batch means by the central limit theorem).

use serde::Serialize;

/// A mean with its 95% confidence interval. Units: those of the measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The mean over all slots.
    pub mean: f64,
    /// Standard error of the mean (batch means).
    pub std_error: f64,
    /// Lower end of the 95% confidence interval.
    pub ci95_low: f64,
    /// Upper end of the 95% confidence interval.
    pub ci95_high: f64,
    /// Batches the standard error was computed from.
    pub batches: usize,
}

impl Estimate {
    /// Half the width of the 95% interval.
    #[must_use]
    pub fn half_width(&self) -> f64 {
        (self.ci95_high - self.ci95_low) / 2.0
    }

    /// True if `x` lies within `k` standard errors of the mean.
    #[must_use]
    pub fn within_se(&self, x: f64, k: f64) -> bool {
        (x - self.mean).abs() <= k * self.std_error
    }

    /// `mean ± half-width`, formatted with `digits` decimals.
    #[must_use]
    pub fn display(&self, digits: usize) -> String {
        format!(
            "{:.digits$} ± {:.digits$}",
            self.mean,
            self.half_width(),
            digits = digits
        )
    }
}

/// Sums of one batch: the number of slots and the per-quantity totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Slots in the batch.
    pub slots: u64,
    /// One running sum per tracked quantity.
    pub sums: Vec<f64>,
}

impl Batch {
    /// An empty batch tracking `quantities` sums.
    #[must_use]
    pub fn new(quantities: usize) -> Self {
        Self {
            slots: 0,
            sums: vec![0.0; quantities],
        }
    }

    /// Add one slot's values (same order as the sums).
    pub fn add(&mut self, values: &[f64]) {
        self.slots += 1;
        for (s, v) in self.sums.iter_mut().zip(values) {
            *s += v;
        }
    }
}

/// The estimate of quantity `q` from `batches` (empty batches are skipped). With one
/// batch the standard error is reported as 0 and the interval is degenerate.
#[must_use]
pub fn estimate(batches: &[Batch], q: usize) -> Estimate {
    let used: Vec<&Batch> = batches.iter().filter(|b| b.slots > 0).collect();
    let slots: u64 = used.iter().map(|b| b.slots).sum();
    if slots == 0 {
        return Estimate {
            mean: f64::NAN,
            std_error: f64::NAN,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
            batches: 0,
        };
    }
    let total: f64 = used.iter().map(|b| b.sums[q]).sum();
    let mean = total / slots as f64;
    let k = used.len();
    if k < 2 {
        return Estimate {
            mean,
            std_error: 0.0,
            ci95_low: mean,
            ci95_high: mean,
            batches: k,
        };
    }
    // Batch means weighted by their sizes (sizes differ by at most one slot).
    let avg_size = slots as f64 / k as f64;
    let var = used
        .iter()
        .map(|b| {
            let m = b.sums[q] / b.slots as f64;
            let w = b.slots as f64 / avg_size;
            w * (m - mean).powi(2)
        })
        .sum::<f64>()
        / (k - 1) as f64;
    let std_error = (var / k as f64).sqrt();
    let t = student_t_975(k - 1);
    Estimate {
        mean,
        std_error,
        ci95_low: mean - t * std_error,
        ci95_high: mean + t * std_error,
        batches: k,
    }
}

/// The 0.975 quantile of Student's t with `dof` degrees of freedom: exact table to 30,
/// then the Cornish–Fisher expansion around the normal quantile 1.959964 (error < 1e-4).
#[must_use]
pub fn student_t_975(dof: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if dof == 0 {
        return f64::INFINITY;
    }
    if dof <= 30 {
        return TABLE[dof - 1];
    }
    let z: f64 = 1.959_964;
    let v = dof as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
}

/// Split `n` items into `k` near-equal contiguous parts: the sizes (the first
/// `n mod k` parts get one more).
#[must_use]
pub fn split(n: u64, k: u64) -> Vec<u64> {
    let k = k.max(1);
    (0..k).map(|i| n / k + u64::from(i < n % k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_is_continuous_past_the_table() {
        assert!((student_t_975(30) - 2.042).abs() < 1e-3);
        assert!((student_t_975(31) - 2.040).abs() < 1e-3);
        assert!((student_t_975(60) - 2.000).abs() < 1e-3);
        assert!((student_t_975(10_000) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn batch_means_of_constant_data_have_zero_width() {
        let mut b = vec![Batch::new(1), Batch::new(1)];
        for _ in 0..5 {
            b[0].add(&[2.0]);
            b[1].add(&[2.0]);
        }
        let e = estimate(&b, 0);
        assert_eq!(e.mean, 2.0);
        assert_eq!(e.std_error, 0.0);
        assert_eq!(e.batches, 2);
    }

    #[test]
    fn split_is_near_equal() {
        assert_eq!(split(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split(3, 4), vec![1, 1, 1, 0]);
    }
}
