//! The numpy arithmetic that §11 depends on, to the bit: the float widths
//! ([`Float`] for `f32` and `f64`), numpy's pairwise sum ([`psum`]) and
//! `np.quantile`'s default linear method (`quantile_linear`, on a
//! non-empty slice).
//!
//! Each place where the float width decides the result follows the text of
//! §11 (its \[F32\]/\[F64\] marks): sums are numpy's pairwise sums, Python
//! floats meet numpy arrays under NEP 50 (a Python float takes the array's
//! width, a numpy float64 scalar widens the operation). Rust does not fuse
//! or widen float operations, so each `+`, `*` and `/` is one IEEE
//! operation in the width written.

use std::fmt;
use std::ops::{Add, Div, Mul, Sub};

/// The `f32`/`f64` operations the numpy code uses.
pub trait Float:
    Copy
    + PartialOrd
    + fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Rounds to nearest, ties to even (a numpy cast, or a weak Python
    /// float meeting an array of this width).
    fn from_f64(x: f64) -> Self;
    /// Exact widening.
    fn to_f64(self) -> f64;
    /// An integer as numpy converts it (exact below 2^24 for `f32`).
    fn from_count(n: usize) -> Self;
    /// NaN test.
    fn is_nan(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[allow(clippy::cast_possible_truncation)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_count(n: usize) -> Self {
        n as f32
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_count(n: usize) -> Self {
        n as f64
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
}

/// numpy's pairwise sum (`np.add.reduce`, §11.4.1): blocks of 8
/// accumulators up to 128 elements, halves (cut at a multiple of 8) above.
pub fn psum<T: Float>(v: &[T]) -> T {
    T::ZERO + pairwise(v)
}

fn pairwise<T: Float>(v: &[T]) -> T {
    let m = v.len();
    if m < 8 {
        v.iter().fold(T::ZERO, |acc, &x| acc + x)
    } else if m <= 128 {
        let mut r = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
        let whole = m - m % 8;
        let mut i = 8;
        while i < whole {
            for (k, slot) in r.iter_mut().enumerate() {
                *slot = *slot + v[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &v[whole..] {
            res = res + x;
        }
        res
    } else {
        let mut h = m / 2;
        h -= h % 8;
        pairwise(&v[..h]) + pairwise(&v[h..])
    }
}

/// `np.quantile(x, q)` with numpy's default linear method, on float32;
/// `x` is not empty (the caller checks).
pub(crate) fn quantile_linear(x: &[f32], q: f64) -> f32 {
    let mut sorted = x.to_vec();
    sorted.sort_by(f32::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let pos = (sorted.len() - 1) as f64 * q;
    let lo = pos.floor();
    let g = pos - lo;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = lo as usize;
    let a = sorted[lo];
    let b = sorted[(lo + 1).min(sorted.len() - 1)];
    let g32 = f32::from_f64(g);
    let diff = b - a;
    if g >= 0.5 {
        b - diff * (1.0 - g32)
    } else {
        a + diff * g32
    }
}
