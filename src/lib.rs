//! # slant
//!
//! Finds loaded framing and propaganda techniques in news text. The pipeline follows the data:
//!
//! text → sentences → tokens (byte offsets into the original) → features → scores (the
//! sentence, span and technique heads of the fitted [`Model`]) → spans → [`report`] →
//! [`render`]. [`Analyzer::run`] strings the stages together and hands what it finds to a
//! [`ReportSink`]; [`Analyzer::analyze`] collects it into a [`Report`].
//!
//! Every span in a [`Report`] indexes the original text: `start`/`end` in Unicode code points
//! (the SemEval convention), `byte_start`/`byte_end` in UTF-8 bytes, and `text` is exactly the
//! covered slice. Each span names its most likely technique and the words that drove its score.
//!
//! ```
//! use slant::{Analyzer, Model, Options};
//!
//! let model = Model::embedded()?; // the default model shipped inside the crate
//! let analyzer = Analyzer::new(&model, Options::default());
//! let text = "Officials said the talks ended on Tuesday. Critics called it a shameful, reckless betrayal.";
//! let report = analyzer.analyze(text)?;
//! assert!((0.0..=1.0).contains(&report.score));
//! for span in &report.spans {
//!     assert_eq!(&text[span.byte_start..span.byte_end], span.text);
//!     println!("{} {} {:.2}", span.text, span.technique_name(), span.score);
//! }
//! # Ok::<(), slant::Error>(())
//! ```
//!
//! Models are fitted with `linfa-logistic` by `train` (feature `train`) and stored by
//! [`model_file`]; the
//! corpora are read by [`corpus`]; [`eval`] implements the official metrics; [`batch`] scores
//! JSONL streams.

#![deny(missing_docs)]
#![deny(private_interfaces, private_bounds)]

pub mod analyze;
pub mod batch;
pub(crate) mod compiled;
pub mod corpus;
pub mod error;
pub mod eval;
pub(crate) mod features;
#[cfg(feature = "train")]
pub mod fit;
pub(crate) mod hashing;
mod json;
pub(crate) mod lexicon;
pub mod model;
pub mod model_file;
pub mod render;
pub mod report;
pub(crate) mod scores;
pub(crate) mod sentences;
pub(crate) mod spans;
#[cfg(test)]
mod test_support;
pub(crate) mod text;
pub(crate) mod tokens;
#[cfg(feature = "train")]
pub mod train;

#[cfg(feature = "blas")]
extern crate blas_src;

pub use analyze::{Analyzer, Options, ReportSink};
pub use error::{Error, Result};
pub use model::Model;
pub use report::{Evidence, Label, Report, SentenceReport, SpanReport, Technique};
