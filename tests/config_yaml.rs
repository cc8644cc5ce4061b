//! The devnet YAML: the default file, the spec's numbers, malformed files (exact positions)
//! and impossible parameters (field, line and reason).

use dpgnet::config::{
    self, ConfigError, Devnet, FullProofPhase, NetworkParams, PhaseWindows, ProposerSelection,
    Rewards, Role, SlashDestination, VariableKind,
};

const DEFAULT: &str = include_str!("../devnet/default.yaml");

/// A small valid devnet; each test breaks one thing in it. Line numbers matter.
const BASE: &str = "\
name: t
participants:
  - role: validator
    count: 4
  - role: prover
    count: 8
network_params:
  phase_seconds: {t1: 1, t2: 2, t3: 1, t4: 1, t5: 1}
  redundancy_factor: 2
rewards:
  REWARD_T1_VALIDATOR: 3
  PENALTY_T1_PROVER: -1
";

fn parse(src: &str) -> Result<Devnet, ConfigError> {
    config::parse(src, "devnet/x.yaml")
}

/// `BASE` with line `line` (1-based) replaced.
fn base_with(line: usize, text: &str) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    lines[line - 1] = text;
    lines.join("\n") + "\n"
}

#[track_caller]
fn syntax(src: &str) -> (usize, usize, String) {
    match parse(src) {
        Err(ConfigError::Syntax {
            origin,
            line,
            column,
            message,
        }) => {
            assert_eq!(origin, "devnet/x.yaml");
            (line, column, message)
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[track_caller]
fn invalid(src: &str) -> (String, Option<usize>, String, String) {
    match parse(src) {
        Err(e @ ConfigError::Invalid { .. }) => {
            let display = e.to_string();
            let ConfigError::Invalid {
                field,
                line,
                reason,
                ..
            } = e
            else {
                unreachable!()
            };
            (field, line, reason, display)
        }
        other => panic!("expected an invalid-parameter error, got {other:?}"),
    }
}

#[test]
fn base_is_valid() {
    let d = parse(BASE).unwrap();
    assert_eq!(d.count(Role::Prover), 8);
    assert_eq!(d.network_params.phase_seconds.t2, 2.0);
}

#[test]
fn default_yaml_parses_and_is_the_default_devnet() {
    let d = parse(DEFAULT).unwrap();
    assert_eq!(d, Devnet::default_devnet());
    assert_eq!(config::DEFAULT_YAML, DEFAULT);
    assert_eq!(d.name, "default");
    assert_eq!(d.count(Role::Validator), 4);
    assert_eq!(d.count(Role::Prover), 8);
    assert_eq!(d.count(Role::Adversary), 1);
    assert_eq!(d.participants[0].stake, 32_000);
    assert_eq!(d.participants[1].stake, 1_000);
    assert_eq!(d.participants[1].full_proof, None);
    assert_eq!(d.participants[2].controls, 2);
    assert_eq!(d.participants[2].strategy.as_deref(), Some("honest"));
    let n = &d.network_params;
    assert_eq!(
        n.phase_seconds,
        PhaseWindows {
            t1: 2.0,
            t2: 8.0,
            t3: 4.0,
            t4: 4.0,
            t5: 4.0
        }
    );
    assert_eq!(n.phase_seconds.total(), 22.0);
    assert_eq!(n.phase_seconds.get(1), 2.0);
    assert_eq!(
        (
            n.num_partial_proofs,
            n.redundancy_factor,
            n.txs_per_sub_block,
            n.num_sub_block_sets
        ),
        (4, 2, 8, 1)
    );
    assert_eq!((n.seed, n.liveness_penalty, n.min_stake), (7, 10_000, 100));
    assert_eq!(n.slashed_to, SlashDestination::Burn);
    assert_eq!((n.reputation_step, n.reputation_cap), (0.05, 0.5));
    assert_eq!(n.proposer_selection, ProposerSelection::RoundRobin);
    assert_eq!(
        (n.genesis_validator_balance, n.genesis_prover_balance),
        (0, 0)
    );
    assert_eq!(d.rewards, Rewards::default());
    assert_eq!(d.prover_set_size(), 4);
}

#[test]
fn default_yaml_lists_every_variable_under_its_spec_name() {
    let map: serde_yaml::Mapping = serde_yaml::from_str(DEFAULT).unwrap();
    let rewards = map["rewards"].as_mapping().unwrap();
    let keys: Vec<&str> = rewards.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(keys, Rewards::NAMES);
    for (name, value, _) in Rewards::default().table() {
        assert_eq!(rewards[name].as_i64(), Some(value), "{name}");
    }
}

#[test]
fn default_yaml_marks_every_choice_not_from_the_spec() {
    let lines: Vec<&str> = DEFAULT.lines().collect();
    for key in [
        "REWARD_T2_PROVER:",
        "SLASH_INVALID_PROOF:",
        "SLASH_EQUIVOCATION:",
        "slashed_to:",
        "min_stake:",
        "reputation_step:",
        "num_sub_block_sets:",
    ] {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing"));
        let comment_above = lines[..at]
            .iter()
            .rev()
            .take_while(|l| l.trim_start().starts_with('#') || l.trim_start().starts_with("SLASH_"))
            .any(|l| l.to_lowercase().contains("not from the spec"));
        assert!(comment_above, "{key} is not marked as not from the spec");
    }
}

#[test]
fn rewards_default_are_the_spec_numbers() {
    let r = Rewards::default();
    assert_eq!(r.provers_per_proof, 200);
    assert_eq!(r.provers_per_aggproof, 5);
    assert_eq!(r.reward_full_proof_prover_t1, 9000);
    assert_eq!(r.reward_full_proof_sender_t1, 50);
    assert_eq!(r.reward_full_proof_validator_t1, 1000);
    assert_eq!(r.reward_t1_validator, 3);
    assert_eq!(r.penalty_t1_prover, -1);
    assert_eq!(r.reward_full_proof_prover_t2, 8000);
    assert_eq!(r.reward_full_proof_sender_t2, 40);
    assert_eq!(r.reward_full_proof_validator_t2, 900);
    assert_eq!(r.reward_t2_validator, 3);
    assert_eq!(r.penalty_t2_prover, -3);
    assert_eq!(r.reward_t2_prover, 10);
    assert_eq!(
        (
            r.reward_prover_reusing_t3,
            r.reward_prover_reused_t3,
            r.reward_prover_t3
        ),
        (40, 40, 50)
    );
    assert_eq!(
        (
            r.reward_validator_t3,
            r.penalty_prover_t3,
            r.penalty_prover_notreused_t3
        ),
        (1, -1, -1)
    );
    assert_eq!(
        (
            r.reward_prover_reusing_t4,
            r.reward_prover_reused_t4,
            r.reward_prover_t4
        ),
        (30, 30, 40)
    );
    assert_eq!(
        (
            r.reward_validator_t4,
            r.penalty_prover_t4,
            r.penalty_prover_notreused_t4
        ),
        (1, -2, -1)
    );
    assert_eq!(
        (
            r.reward_prover_reusing_t5,
            r.reward_prover_reused_t5,
            r.reward_prover_t5
        ),
        (20, 20, 40)
    );
    assert_eq!(
        (
            r.reward_validator_t5,
            r.penalty_prover_t5,
            r.penalty_prover_notreused_t5
        ),
        (1, -4, -1)
    );
    assert_eq!(
        (r.reward_agg_proof_prover, r.reward_agg_proof_validator),
        (50, 3)
    );
    assert_eq!((r.slash_invalid_proof, r.slash_equivocation), (-100, -200));
}

#[test]
fn table_lists_every_spec_variable_in_order() {
    let table = Rewards::default().table();
    // The spec's "Variables" table: 2 counts + 5 (T1) + 5 (T2) + 6 × 3 (T3–T5) + 2 (AggProof).
    let spec: Vec<_> = table
        .iter()
        .filter(|(_, _, from_spec)| *from_spec)
        .collect();
    assert_eq!(spec.len(), 32);
    assert_eq!(table.len(), 35);
    let ours: Vec<&str> = table.iter().filter(|r| !r.2).map(|r| r.0).collect();
    assert_eq!(
        ours,
        [
            "REWARD_T2_PROVER",
            "SLASH_INVALID_PROOF",
            "SLASH_EQUIVOCATION"
        ]
    );
    assert_eq!(table[0], ("PROVERS_PER_PROOF", 200, true));
    assert_eq!(table[2], ("REWARD_FULL_PROOF_PROVER_T1", 9000, true));
    let get = |name: &str| table.iter().find(|r| r.0 == name).map(|r| r.1);
    assert_eq!(get("REWARD_FULL_PROOF_PROVER_T1"), Some(9000));
    assert_eq!(get("PENALTY_PROVER_T5"), Some(-4));
    assert_eq!(get("REWARD_AGG_PROOF_VALIDATOR"), Some(3));
    assert_eq!(get("PENALTY_PROVER_NOTREUSED_T4"), Some(-1));
    // The spec's order, spot-checked across phases.
    let pos = |name: &str| table.iter().position(|r| r.0 == name).unwrap();
    assert!(pos("PENALTY_T1_PROVER") < pos("REWARD_FULL_PROOF_PROVER_T2"));
    assert!(pos("PENALTY_PROVER_NOTREUSED_T3") < pos("REWARD_PROVER_REUSING_T4"));
    assert!(pos("PENALTY_PROVER_NOTREUSED_T5") < pos("REWARD_AGG_PROOF_PROVER"));
    let kinds = Rewards::default().variables();
    assert_eq!(kinds[0].kind, VariableKind::Count);
    assert_eq!(kinds[6].kind, VariableKind::Penalty);
}

#[test]
fn minimal_yaml_gets_the_defaults() {
    let d = parse("participants:\n  - role: validator\n  - role: prover\n    count: 4\n").unwrap();
    assert_eq!(d.name, "devnet");
    assert_eq!(d.network_params, NetworkParams::default());
    assert_eq!(d.network_params, Devnet::default_devnet().network_params);
    assert_eq!(d.rewards, Rewards::default());
    assert_eq!(d.participants[0].count, 1);
    assert_eq!(d.participants[0].stake, 32_000);
    assert_eq!(d.participants[1].stake, 1_000);
    assert_eq!(d.participants[1].controls, 0);
    assert_eq!(d.participants[1].strategy, None);
    assert_eq!(d.prover_set_size(), 2);
    // The default redundancy (2) needs 2 selected provers, i.e. 4 provers.
    let (field, line, _, display) =
        invalid("participants:\n  - role: validator\n  - role: prover\n    count: 3\n");
    assert_eq!(field, "network_params.redundancy_factor");
    assert_eq!(line, None);
    assert!(
        display.starts_with("devnet/x.yaml: network_params.redundancy_factor = 2"),
        "{display}"
    );
}

#[test]
fn partial_sections_keep_the_other_defaults() {
    let d = parse(&base_with(11, "  REWARD_T1_VALIDATOR: 7")).unwrap();
    assert_eq!(d.rewards.reward_t1_validator, 7);
    assert_eq!(d.rewards.reward_full_proof_prover_t1, 9000);
    assert_eq!(d.network_params.seed, 7);
    let d = parse(&base_with(8, "  phase_seconds: {t2: 0.5}")).unwrap();
    assert_eq!(d.network_params.phase_seconds.t2, 0.5);
    assert_eq!(d.network_params.phase_seconds.t1, 2.0);
}

#[test]
fn strong_provers_and_enums() {
    let src = "participants:\n  - {role: validator}\n  - {role: prover, count: 2, full_proof: t2}\n\
               network_params: {slashed_to: proposer, proposer_selection: stake_weighted, redundancy_factor: 1}\n";
    let d = parse(src).unwrap();
    assert_eq!(d.participants[1].full_proof, Some(FullProofPhase::T2));
    assert_eq!(d.network_params.slashed_to, SlashDestination::Proposer);
    assert_eq!(
        d.network_params.proposer_selection,
        ProposerSelection::StakeWeighted
    );
}

#[test]
fn bad_indentation_is_a_syntax_error_at_its_position() {
    // `count` is indented less than `role`, which ends the item mid-mapping.
    let (line, column, message) = syntax(&base_with(4, "   count: 4"));
    assert_eq!((line, column), (4, 4), "{message}");
    // The position is reported once, in front; the parser's context keeps its own position.
    assert_eq!(
        message,
        "did not find expected '-' indicator, while parsing a block collection at line 3 column 3"
    );
    let e = parse(&base_with(4, "   count: 4")).unwrap_err().to_string();
    assert!(
        e.starts_with("devnet/x.yaml:4:4: did not find expected '-' indicator"),
        "{e}"
    );
    // A tab is not indentation in YAML.
    let (line, column, message) = syntax(&base_with(6, "\tcount: 8"));
    assert_eq!((line, column), (6, 1), "{message}");
}

#[test]
fn a_string_where_a_number_is_expected() {
    let src = base_with(9, "  redundancy_factor: two");
    let (line, column, message) = syntax(&src);
    assert_eq!((line, column), (9, 22), "{message}");
    assert!(
        message.contains("network_params.redundancy_factor"),
        "{message}"
    );
    assert!(
        message.contains("invalid type: string \"two\""),
        "{message}"
    );
    let e = parse(&src).unwrap_err().to_string();
    assert!(
        e.starts_with("devnet/x.yaml:9:22: network_params.redundancy_factor: invalid type"),
        "{e}"
    );
}

#[test]
fn an_unknown_key() {
    let src = base_with(9, "  redundancy: 2");
    let (line, column, message) = syntax(&src);
    assert_eq!((line, column), (9, 3), "{message}");
    assert!(
        message.contains("unknown field `redundancy`, expected one of"),
        "{message}"
    );
    let e = parse(&src).unwrap_err().to_string();
    assert!(
        e.starts_with("devnet/x.yaml:9:3: network_params: unknown field `redundancy`"),
        "{e}"
    );
    // Also inside participants and rewards.
    let (line, column, message) = syntax(&base_with(4, "    cuont: 4"));
    assert_eq!((line, column), (4, 5), "{message}");
    let (line, column, message) = syntax(&base_with(11, "  REWARD_T1_VALIDATORS: 3"));
    assert_eq!((line, column), (11, 3), "{message}");
    assert!(
        message.contains("unknown field `REWARD_T1_VALIDATORS`"),
        "{message}"
    );
}

#[test]
fn an_unknown_role() {
    let (line, column, message) = syntax(&base_with(5, "  - role: sequencer"));
    assert_eq!((line, column), (5, 11), "{message}");
    assert!(message.contains("unknown variant `sequencer`"), "{message}");
}

#[test]
fn a_missing_participants_key() {
    let (line, _, message) = syntax("name: x\n");
    assert_eq!(line, 1, "{message}");
    assert!(
        message.contains("missing field `participants`"),
        "{message}"
    );
}

#[test]
fn redundancy_zero_is_refused_at_its_line() {
    let (field, line, reason, display) = invalid(&base_with(9, "  redundancy_factor: 0"));
    assert_eq!(field, "network_params.redundancy_factor");
    assert_eq!(line, Some(9));
    assert!(
        reason.contains("every sub-block must be assigned to at least one prover"),
        "{reason}"
    );
    assert_eq!(
        display,
        "devnet/x.yaml:9: network_params.redundancy_factor = 0 is impossible: every sub-block \
         must be assigned to at least one prover"
    );
}

#[test]
fn redundancy_above_the_selected_provers_is_refused() {
    // 8 provers: min(200, 8 / 2) = 4 selected.
    assert!(parse(&base_with(9, "  redundancy_factor: 4")).is_ok());
    let (field, line, reason, _) = invalid(&base_with(9, "  redundancy_factor: 5"));
    assert_eq!(field, "network_params.redundancy_factor");
    assert_eq!(line, Some(9));
    assert!(
        reason.contains("needs 5 distinct provers, but each sub-block set selects only 4"),
        "{reason}"
    );

    // PROVERS_PER_PROOF caps the selection too.
    let src = format!(
        "{}  PROVERS_PER_PROOF: 1\n",
        base_with(9, "  redundancy_factor: 2")
    );
    let (field, _, reason, _) = invalid(&src);
    assert_eq!(field, "network_params.redundancy_factor");
    assert!(reason.contains("selects only 1 "), "{reason}");
}

#[test]
fn sub_block_sets_need_disjoint_prover_pools() {
    let ok = format!("{BASE}  PROVERS_PER_AGGPROOF: 5\n");
    assert!(
        parse(&ok.replace(
            "  redundancy_factor: 2",
            "  redundancy_factor: 2\n  num_sub_block_sets: 2"
        ))
        .is_ok()
    );
    let src = BASE.replace(
        "  redundancy_factor: 2",
        "  redundancy_factor: 2\n  num_sub_block_sets: 3",
    );
    // 8 provers / 3 pools = 2 each, 1 selected each, below redundancy 2.
    let (field, line, reason, _) = invalid(&src);
    assert_eq!(field, "network_params.redundancy_factor");
    assert_eq!(line, Some(9));
    assert!(reason.contains("selects only 1 "), "{reason}");
    let src = BASE.replace(
        "  redundancy_factor: 2",
        "  redundancy_factor: 1\n  num_sub_block_sets: 5",
    );
    let (field, line, _, _) = invalid(&src);
    assert_eq!(field, "network_params.num_sub_block_sets");
    assert_eq!(line, Some(10));
}

#[test]
fn negative_reward_is_refused_naming_the_variable() {
    let (field, line, reason, display) = invalid(&base_with(11, "  REWARD_T1_VALIDATOR: -3"));
    assert_eq!(field, "rewards.REWARD_T1_VALIDATOR");
    assert_eq!(line, Some(11));
    assert!(
        reason.starts_with("rewards.REWARD_T1_VALIDATOR = -3 is impossible"),
        "{reason}"
    );
    assert!(
        display.starts_with("devnet/x.yaml:11: rewards.REWARD_T1_VALIDATOR = -3"),
        "{display}"
    );
    let (field, _, _, _) = invalid(&format!("{BASE}  PROVERS_PER_PROOF: -1\n"));
    assert_eq!(field, "rewards.PROVERS_PER_PROOF");
    let (field, line, reason, _) = invalid(&format!("{BASE}  PROVERS_PER_PROOF: 0\n"));
    assert_eq!(field, "rewards.PROVERS_PER_PROOF");
    assert_eq!(line, Some(13));
    assert!(reason.contains("at least one prover"), "{reason}");
}

#[test]
fn positive_penalty_is_refused_naming_the_variable() {
    let (field, line, reason, _) = invalid(&base_with(12, "  PENALTY_T1_PROVER: 1"));
    assert_eq!(field, "rewards.PENALTY_T1_PROVER");
    assert_eq!(line, Some(12));
    assert!(
        reason.contains("rewards.PENALTY_T1_PROVER = 1 is impossible"),
        "{reason}"
    );
    assert!(reason.contains("negative sign"), "{reason}");
    let (field, line, _, _) = invalid(&format!("{BASE}  SLASH_EQUIVOCATION: 200\n"));
    assert_eq!(field, "rewards.SLASH_EQUIVOCATION");
    assert_eq!(line, Some(13));
}

#[test]
fn zero_phase_window_is_refused() {
    let (field, line, reason, _) = invalid(&base_with(
        8,
        "  phase_seconds: {t1: 1, t2: 2, t3: 0, t4: 1, t5: 1}",
    ));
    assert_eq!(field, "network_params.phase_seconds.t3");
    assert_eq!(line, Some(8));
    assert!(reason.contains("longer than 0 seconds"), "{reason}");
    let src = base_with(8, "  phase_seconds:\n    t1: 1\n    t4: -2");
    let (field, line, _, _) = invalid(&src);
    assert_eq!(field, "network_params.phase_seconds.t4");
    assert_eq!(line, Some(10));
    let (field, _, _, _) = invalid(&base_with(8, "  phase_seconds: {t5: .inf}"));
    assert_eq!(field, "network_params.phase_seconds.t5");
}

#[test]
fn controls_above_the_provers_is_refused() {
    let src = BASE.replace(
        "network_params:",
        "  - role: adversary\n    controls: 9\n    strategy: withhold\nnetwork_params:",
    );
    let (field, line, reason, _) = invalid(&src);
    assert_eq!(field, "participants[2].controls");
    assert_eq!(line, Some(8));
    assert!(reason.contains("only 8 provers to corrupt"), "{reason}");
    let d = parse(&src.replace("controls: 9", "controls: 8")).unwrap();
    assert_eq!(d.corrupted_provers(), 8);
    assert_eq!(d.participants[2].strategy.as_deref(), Some("withhold"));
}

#[test]
fn too_few_provers_or_validators() {
    let (field, line, reason, _) = invalid(&base_with(6, "    count: 1"));
    assert_eq!(field, "participants[1].count");
    assert_eq!(line, Some(6));
    assert!(reason.contains("at least 2 are needed"), "{reason}");
    let (field, line, _, _) = invalid(&base_with(4, "    count: 0"));
    assert_eq!(field, "participants[0].count");
    assert_eq!(line, Some(4));
    let (field, _, reason, _) = invalid(&base_with(3, "  - role: prover"));
    assert_eq!(field, "participants");
    assert!(reason.contains("no validator"), "{reason}");
}

#[test]
fn load_reads_files_and_reports_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, base_with(9, "  redundancy_factor: 0")).unwrap();
    let e = config::load(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:9: network_params.redundancy_factor",
            path.display()
        )),
        "{e}"
    );
    std::fs::write(&path, BASE).unwrap();
    assert_eq!(config::load(&path).unwrap(), parse(BASE).unwrap());
    let missing = dir.path().join("missing.yaml");
    assert!(matches!(config::load(&missing), Err(ConfigError::Io { path, .. }) if path == missing));
}

#[test]
fn shipped_default_file_loads_from_disk() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("devnet/default.yaml");
    assert_eq!(config::load(&path).unwrap(), Devnet::default_devnet());
}

#[test]
fn a_sim_section_is_kept_for_the_simulator_and_ignored_by_the_devnet() {
    let with = format!("{BASE}sim:\n  failure_rate: 0.05\n  latency_mean_s: 2\n");
    let d = parse(&with).unwrap();
    let plain = parse(BASE).unwrap();
    let sim = d.sim.clone().expect("the sim section is kept");
    assert_eq!(sim["failure_rate"].as_f64(), Some(0.05));
    // Everything the devnet uses is identical.
    assert_eq!(Devnet { sim: None, ..d }, plain);
    // A misspelled top-level key is still an error.
    assert!(parse(&format!("{BASE}simm:\n  x: 1\n")).is_err());
}
