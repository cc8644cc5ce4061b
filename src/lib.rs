//! dpgnet: a devnet orchestrator for distributed proof generation.
pub mod config;
pub mod protocol;
pub mod app;
pub mod tui;
pub mod node;
pub mod orchestrator;
pub mod cli;
pub mod headless;
pub mod logging;
pub mod bench;
