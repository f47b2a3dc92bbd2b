//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the library. The binary wraps these with context.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tokenizer rejected its input (should not happen for valid UTF-8).
    #[error("tokenizer failed: {0}")]
    Tokenizer(String),
    /// A model file is not a slant model, is truncated, altered, or of another format version.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// Hyper-parameters or a training configuration failed validation.
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// The fitter (linfa) failed.
    #[error("fitting failed: {0}")]
    Fit(String),
    /// A corpus row could not be parsed or has inconsistent offsets.
    #[error("{path}:{line}: {message}")]
    Corpus {
        /// The corpus file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Training data is missing or unusable.
    #[error("no usable training data: {0}")]
    NoData(String),
    /// An I/O error while reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An I/O error on a stream (stdin/stdout or a writer given by the caller).
    #[error("stream error: {0}")]
    Stream(#[from] std::io::Error),
    /// A batch checkpoint cannot be resumed: it does not match the input, or is damaged.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// JSON (de)serialisation of a report failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
