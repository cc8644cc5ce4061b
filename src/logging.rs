//! Tracing setup: `RUST_LOG`-filtered logs to stderr (headless) or to a file (TUI).
//!
//! The filter is `RUST_LOG` when set, else [`DEFAULT_FILTER`]. In TUI mode logs must
//! never reach the screen (STYLE.md), so [`init_tui`] appends them to a file without
//! ANSI colours.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "dpgnet=info";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `RUST_LOG` is not a valid filter.
    #[error("RUST_LOG={value:?} is not a valid log filter: {source}")]
    Filter {
        /// The value of `RUST_LOG`.
        value: String,
        /// The parser's complaint.
        source: tracing_subscriber::filter::ParseError,
    },
    /// The log file could not be opened for appending.
    #[error("cannot open log file {}: {source}", path.display())]
    File {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A global subscriber was already installed.
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// The filter from `RUST_LOG`, or [`DEFAULT_FILTER`] when it is unset or empty.
fn filter() -> Result<EnvFilter, LoggingError> {
    match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(value) if !value.trim().is_empty() => {
            EnvFilter::try_new(&value).map_err(|source| LoggingError::Filter { value, source })
        }
        _ => Ok(EnvFilter::new(DEFAULT_FILTER)),
    }
}

/// Logs to stderr, for headless mode (stdout carries the NDJSON stream); colours only
/// when stderr is a terminal.
///
/// # Errors
/// A malformed `RUST_LOG`, or a subscriber already installed.
pub fn init_headless() -> Result<(), LoggingError> {
    tracing_subscriber::fmt()
        .with_env_filter(filter()?)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| LoggingError::Install(e.to_string()))
}

/// Logs appended to the file at `path` without ANSI colours, for the TUI.
///
/// # Errors
/// A malformed `RUST_LOG`, a file that cannot be opened, or a subscriber already
/// installed.
pub fn init_tui(path: &Path) -> Result<(), LoggingError> {
    let filter = filter()?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LoggingError::File {
            path: path.to_owned(),
            source,
        })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| LoggingError::Install(e.to_string()))
}
