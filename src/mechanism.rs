//! Procurement mechanisms from the research seeds, and the math that sizes them.
//!
//! `analysis` holds the pure, closed-form and numeric results of
//! `adversarial-procurement-paper.txt` (designated leader + committee, symmetric
//! committees, lottery, staking as insurance) and of `capacity-oracles-post.txt`
//! (random capacity audits, convex rewards, ε*(p, S)); `analyze_cmd` is the
//! `dpgnet analyze` command that prints them for practitioners.

pub mod analysis;
pub mod analyze_cmd;
pub mod compare;
pub mod rules;
pub mod sim;
