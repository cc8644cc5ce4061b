//! dpgnet: a devnet orchestrator for distributed proof generation.
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod headless;
pub mod logging;
pub mod mechanism;
pub mod node;
pub mod orchestrator;
pub mod protocol;
pub mod runtime;
pub mod scenario;
pub mod tui;
