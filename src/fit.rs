//! Fitting (feature `train`): hyper-parameters → validated hyper-parameters → fitted heads, in
//! the manner of linfa. `linfa-logistic` fits each head on a dense `f32` matrix built from the
//! selected feature columns only; the fitted weights become the plain vectors of
//! [`crate::model`].

use crate::error::{Error, Result};
use crate::features::SparseRow;
use crate::model::{LinearHead, MultiHead, Platt};
use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of one logistic head (unvalidated).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogisticParams {
    /// L2 penalty (linfa's `alpha`; the loss is a sum over rows, so this is like 1/C).
    pub alpha: f32,
    /// Maximum L-BFGS iterations.
    pub max_iterations: u64,
    /// Stop when the gradient norm falls below this.
    pub gradient_tolerance: f32,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            alpha: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
        }
    }
}

/// Validated [`LogisticParams`]; the only way to reach a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidLogisticParams(LogisticParams);

impl LogisticParams {
    /// Checks the parameters: finite, non-negative penalty, at least one iteration.
    pub fn check(self) -> Result<ValidLogisticParams> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(Error::InvalidParams(format!(
                "alpha must be finite and >= 0, got {}",
                self.alpha
            )));
        }
        if self.max_iterations == 0 {
            return Err(Error::InvalidParams(
                "max_iterations must be at least 1".into(),
            ));
        }
        if !self.gradient_tolerance.is_finite() || self.gradient_tolerance <= 0.0 {
            return Err(Error::InvalidParams(format!(
                "gradient_tolerance must be finite and > 0, got {}",
                self.gradient_tolerance
            )));
        }
        Ok(ValidLogisticParams(self))
    }
}

/// Builds a dense matrix from sparse rows (used only at training time).
pub fn densify(rows: &[SparseRow], n_cols: usize) -> Array2<f32> {
    let mut x = Array2::<f32>::zeros((rows.len(), n_cols));
    for (r, row) in rows.iter().enumerate() {
        for &(c, v) in row {
            if (c as usize) < n_cols {
                x[[r, c as usize]] += v;
            }
        }
    }
    x
}

/// A fit needs at least one row and one label per row.
fn check_rows(x: &Array2<f32>, n_labels: usize) -> Result<()> {
    if x.nrows() != n_labels || x.nrows() == 0 {
        return Err(Error::NoData(format!(
            "{} rows for {} labels",
            x.nrows(),
            n_labels
        )));
    }
    Ok(())
}

impl ValidLogisticParams {
    /// The parameters.
    pub fn params(&self) -> &LogisticParams {
        &self.0
    }

    /// Fits a binary head on a dense matrix; `y[i]` is true for the positive class.
    pub fn fit_binary(&self, x: &Array2<f32>, y: &[bool]) -> Result<LinearHead> {
        check_rows(x, y.len())?;
        if y.iter().all(|&v| v) || y.iter().all(|&v| !v) {
            return Err(Error::NoData("binary head needs both classes".into()));
        }
        let p = self.0;
        let ds = DatasetBase::new(x.view(), Array1::from(y.to_vec()));
        let fitted = LogisticRegression::default()
            .alpha(p.alpha)
            .max_iterations(p.max_iterations)
            .gradient_tolerance(p.gradient_tolerance)
            .with_intercept(true)
            .fit(&ds)
            .map_err(|e| Error::Fit(e.to_string()))?;
        // linfa's "positive" label is the more frequent class; orient weights towards `true`.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok(LinearHead {
            weights: fitted.params().iter().map(|w| w * sign).collect(),
            bias: fitted.intercept() * sign,
        })
    }

    /// Fits a multinomial head; `y[i]` is a class index below `n_classes`.
    pub fn fit_multi(&self, x: &Array2<f32>, y: &[usize], classes: &[String]) -> Result<MultiHead> {
        check_rows(x, y.len())?;
        let p = self.0;
        let ds = DatasetBase::new(x.view(), Array1::from(y.to_vec()));
        let fitted = MultiLogisticRegression::default()
            .alpha(p.alpha)
            .max_iterations(p.max_iterations)
            .gradient_tolerance(p.gradient_tolerance)
            .with_intercept(true)
            .fit(&ds)
            .map_err(|e| Error::Fit(e.to_string()))?;
        let n_features = x.ncols();
        let n_classes = classes.len();
        // Classes absent from `y` keep a very low bias so they are never predicted.
        let mut weights = vec![0.0f32; n_features * n_classes];
        let mut bias = vec![-30.0f32; n_classes];
        for (k, &class) in fitted.classes().iter().enumerate() {
            if class >= n_classes {
                return Err(Error::Fit(format!("class index {class} out of range")));
            }
            bias[class] = fitted.intercept()[k];
            for f in 0..n_features {
                weights[f * n_classes + class] = fitted.params()[[f, k]];
            }
        }
        Ok(MultiHead {
            classes: classes.to_vec(),
            weights,
            bias,
        })
    }
}

impl Platt {
    /// Fits the scaling on raw logits and labels (linfa-logistic on one feature).
    pub fn fit(logits: &[f32], y: &[bool]) -> Result<Platt> {
        let x = Array2::from_shape_vec((logits.len(), 1), logits.to_vec())
            .map_err(|e| Error::Fit(e.to_string()))?;
        let head = LogisticParams {
            alpha: 1e-3,
            max_iterations: 200,
            gradient_tolerance: 1e-6,
        }
        .check()?
        .fit_binary(&x, y)?;
        Ok(Platt {
            a: head.weights[0],
            b: head.bias,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_params_are_rejected_before_fit() {
        let bad = LogisticParams {
            alpha: -1.0,
            ..Default::default()
        };
        assert!(bad.check().is_err());
        let bad = LogisticParams {
            max_iterations: 0,
            ..Default::default()
        };
        assert!(bad.check().is_err());
        assert!(LogisticParams::default().check().is_ok());
    }

    #[test]
    fn binary_fit_is_oriented_to_true_even_when_true_is_the_majority() {
        // feature 0 marks the positive class; positives are the majority.
        let rows: Vec<SparseRow> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    vec![(1, 1.0)]
                } else {
                    vec![(0, 1.0)]
                }
            })
            .collect();
        let y: Vec<bool> = (0..30).map(|i| i % 3 != 0).collect();
        let x = densify(&rows, 2);
        let head = LogisticParams::default()
            .check()
            .unwrap()
            .fit_binary(&x, &y)
            .unwrap();
        assert!(head.logit(&[(0, 1.0)]) > 0.0);
        assert!(head.logit(&[(1, 1.0)]) < 0.0);
    }

    #[test]
    fn multi_fit_predicts_its_classes() {
        let rows: Vec<SparseRow> = (0..30).map(|i| vec![((i % 3) as u32, 1.0)]).collect();
        let y: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let classes: Vec<String> = vec!["a".into(), "b".into(), "c".into(), "never".into()];
        let head = LogisticParams::default()
            .check()
            .unwrap()
            .fit_multi(&densify(&rows, 3), &y, &classes)
            .unwrap();
        for k in 0..3u32 {
            let p = head.probabilities(&[(k, 1.0)]);
            let best = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(best, k as usize);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
}
