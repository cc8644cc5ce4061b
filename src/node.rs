//! The IO shells of the three roles — validator, prover, adversary — each a
//! JSON-RPC-over-HTTP server. The same code runs in a tokio task (in-process
//! runtime) or, later, in a container.
//!
//! Source: DESIGN.md "Shape" (node/) and "The protocol, concretely".

pub mod adversary;
pub mod circuits;
pub mod crypto;
pub mod prover;
pub mod rpc;
pub mod validator;
pub mod workload;

pub use adversary::{AdversaryNode, Strategy};
pub use circuits::Circuits;
pub use crypto::{CryptoError, NodeKey, Signed};
pub use prover::{ProverCore, ProverNode};
pub use validator::ValidatorNode;
