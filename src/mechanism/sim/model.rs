//! The simulator's proof model and the devnet YAML's optional `sim:` section.
//!
//! Proofs are not computed: a prover's proving time is a log-normal draw, and a prover
//! fails a slot's proving work with a fixed probability (DESIGN.md: "the same engine …
//! in the fast simulator"; issue 5). The parameters come from a `sim:` section of the
//! devnet file, then from `dpgnet sim` flags; `docs/sim.md` lists them.
//!
//! `config::parse` refuses unknown top-level keys, so [`load_devnet`] blanks the
//! `sim:` block out of the text (keeping every line number) before handing the rest to
//! it, and reads the block on its own.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{self, ConfigError, Devnet};

/// How modelled proofs behave (`sim:` section; flags override it). Times in seconds,
/// money in reward units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProofModel {
    /// Mean proving time of one prover's work in a slot (its partial proofs, or one
    /// full proof, or one aggregation), seconds. Log-normal. Default 3.
    pub latency_mean_s: f64,
    /// Standard deviation of the proving time, seconds (0: constant). Default 1.5.
    pub latency_sd_s: f64,
    /// Probability that an honest prover's proving work fails in a slot (it then
    /// delivers nothing that needs a proof). Default 0.01.
    pub failure_rate: f64,
    /// Deadline of a requested proof under the non-spec mechanisms, seconds from the
    /// request; a later proof counts as not delivered. Default: the slot length (the
    /// sum of the phase windows, 22 s in the default devnet).
    pub deadline_s: Option<f64>,
    /// The cost of producing one proof, reward units: the paper's unit (§2 "Setup":
    /// the cost is normalized to 1) for the non-spec mechanisms, which take it as each
    /// prover's `cost`. Losses are also reported divided by it. Default 100 (a choice of
    /// dpgnet's; no text gives it).
    pub proof_cost: u64,
}

impl Default for ProofModel {
    fn default() -> Self {
        Self {
            latency_mean_s: 3.0,
            latency_sd_s: 1.5,
            failure_rate: 0.01,
            deadline_s: None,
            proof_cost: 100,
        }
    }
}

impl ProofModel {
    /// Checks the parameters.
    ///
    /// # Errors
    /// One sentence naming the bad parameter.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.latency_mean_s.is_finite() && self.latency_mean_s > 0.0) {
            return Err(format!(
                "the latency mean must be a positive number of seconds (got {})",
                self.latency_mean_s
            ));
        }
        if !(self.latency_sd_s.is_finite() && self.latency_sd_s >= 0.0) {
            return Err(format!(
                "the latency standard deviation must be at least 0 seconds (got {})",
                self.latency_sd_s
            ));
        }
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Err(format!(
                "the failure rate must be between 0 and 1 (got {})",
                self.failure_rate
            ));
        }
        if let Some(d) = self.deadline_s
            && !(d.is_finite() && d > 0.0)
        {
            return Err(format!(
                "the deadline must be a positive number of seconds (got {d})"
            ));
        }
        if self.proof_cost == 0 {
            return Err("the proof cost must be at least 1 reward unit".into());
        }
        Ok(())
    }
}

/// The devnet of `path` and its `sim:` section (if any). Without a path: the
/// default devnet file if it exists in the working directory, else the built-in one.
/// Returns the devnet, the proof model of the file (defaults where absent) and a
/// description of the source for the stderr line.
///
/// # Errors
/// The devnet's own errors ([`ConfigError`]), or a malformed `sim:` section
/// (reported as [`ConfigError::Syntax`] with its line).
pub fn load_devnet(path: Option<&Path>) -> Result<(Devnet, ProofModel, String), ConfigError> {
    let (src, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|source| ConfigError::Io {
                path: p.to_owned(),
                source,
            })?,
            p.display().to_string(),
        ),
        None => {
            let default = Path::new(crate::cli::DEFAULT_DEVNET_PATH);
            if default.is_file() {
                return load_devnet(Some(default));
            }
            (
                config::DEFAULT_YAML.to_owned(),
                format!(
                    "the built-in default (no {} here)",
                    crate::cli::DEFAULT_DEVNET_PATH
                ),
            )
        }
    };
    let (rest, model) = split_sim_section(&src, &origin)?;
    let devnet = config::parse(&rest, &origin)?;
    Ok((devnet, model, origin))
}

/// Splits a devnet file's text into the text without its top-level `sim:` block (the
/// block's lines blanked, so line numbers stay right) and the parsed block.
///
/// # Errors
/// [`ConfigError::Syntax`] for a `sim:` block that is not a valid [`ProofModel`].
pub fn split_sim_section(src: &str, origin: &str) -> Result<(String, ProofModel), ConfigError> {
    let mut rest = String::with_capacity(src.len());
    let mut block = String::new();
    let mut first_line = 0;
    let mut inside = false;
    for (i, line) in src.lines().enumerate() {
        let top_level = !line.is_empty()
            && !line.starts_with(' ')
            && !line.starts_with('\t')
            && !line.starts_with('#');
        if top_level {
            inside = line.starts_with("sim:");
            if inside {
                first_line = i;
            }
        }
        if inside {
            block.push_str(line);
            block.push('\n');
            rest.push('\n');
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    if block.is_empty() {
        return Ok((rest, ProofModel::default()));
    }
    #[derive(Deserialize)]
    struct Section {
        sim: Option<ProofModel>,
    }
    let section: Section = serde_yaml::from_str(&block).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        ConfigError::Syntax {
            origin: origin.to_owned(),
            line: line + first_line,
            column,
            message: format!("sim: {e}"),
        }
    })?;
    let model = section.sim.unwrap_or_default();
    model.validate().map_err(|reason| ConfigError::Invalid {
        origin: origin.to_owned(),
        line: Some(first_line + 1),
        field: "sim".into(),
        reason,
    })?;
    Ok((rest, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVNET: &str = "\
name: t
participants:
  - role: validator
    count: 4
  - role: prover
    count: 8
sim:
  latency_mean_s: 2.5
  # a comment
  failure_rate: 0.0
network_params:
  liveness_penalty: 500
";

    #[test]
    fn the_sim_section_is_read_and_the_rest_parses() {
        let (rest, model) = split_sim_section(DEVNET, "t.yaml").unwrap();
        assert_eq!(model.latency_mean_s, 2.5);
        assert_eq!(model.failure_rate, 0.0);
        assert_eq!(model.latency_sd_s, 1.5);
        assert_eq!(rest.lines().count(), DEVNET.lines().count());
        let d = config::parse(&rest, "t.yaml").unwrap();
        assert_eq!(d.network_params.liveness_penalty, 500);
    }

    #[test]
    fn a_bad_sim_key_names_its_line() {
        let bad = DEVNET.replace("failure_rate: 0.0", "failure_rat: 0.0");
        let e = split_sim_section(&bad, "t.yaml").unwrap_err().to_string();
        assert!(e.contains("failure_rat"), "{e}");
        assert!(e.contains("t.yaml"), "{e}");
    }
}
