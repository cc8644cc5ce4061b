//! The command line: help, usage errors and bad devnet files, through the built binary.
//! None of these start a devnet, so they do not need the orchestrator.

use std::path::Path;
use std::process::{Command, Output};

fn dpgnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpgnet"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the dpgnet binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A devnet file `name` with `text` in a fresh temporary directory.
fn devnet_file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

const VALID: &str = "\
name: t
participants:
  - role: validator
    count: 4
  - role: prover
    count: 8
network_params:
  redundancy_factor: 2
";

#[test]
fn help_exits_0_and_names_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(&["--help"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("run"), "{help}");
    assert!(help.contains("up"), "{help}");
    assert!(help.contains("Exit codes"), "{help}");
    let out = dpgnet(&["run", "--help"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--headless",
        "--slots",
        "--seed",
        "--report",
        "--expect-finalized",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn unknown_flag_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(
        &["run", "--headless", "--slots", "1", "--bogus"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--bogus"));
    let out = dpgnet(&["frobnicate"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_arguments_exit_2_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(&[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Usage: dpgnet"));
}

#[test]
fn run_without_headless_points_to_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(&["run", "--slots", "1"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--headless"), "{err}");
    assert!(err.contains("dpgnet up"), "{err}");
}

#[test]
fn run_without_slots_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(&["run", "--headless"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--slots"), "{}", stderr(&out));
    let out = dpgnet(&["run", "--headless", "--slots", "0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_yaml_exits_2_with_file_line_column() {
    // Line 4 is indented wrongly.
    let text = "name: t\nparticipants:\n  - role: validator\n   count: 4\n";
    let (dir, path) = devnet_file("bad.yaml", text);
    let out = dpgnet(
        &["run", "--headless", "--slots", "1", "--devnet", &path],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let at = format!("{path}:");
    let pos = err.find(&at).unwrap_or_else(|| panic!("no {at} in: {err}"));
    // file:line:column
    let rest = &err[pos + at.len()..];
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts.next().unwrap().parse().expect("a line number");
    let column: usize = parts.next().unwrap().parse().expect("a column number");
    assert!(line >= 1 && column >= 1, "{err}");
}

#[test]
fn zero_redundancy_exits_2_naming_redundancy() {
    let text = VALID.replace("redundancy_factor: 2", "redundancy_factor: 0");
    let (dir, path) = devnet_file("zero.yaml", &text);
    let out = dpgnet(
        &["run", "--headless", "--slots", "1", "--devnet", &path],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("redundancy"), "{err}");
    assert!(err.contains(&format!("{path}:8")), "{err}");
}

#[test]
fn missing_devnet_exits_2_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.yaml").display().to_string();
    for cmd in [
        &["run", "--headless", "--slots", "1", "--devnet", &path][..],
        &["up", "--devnet", &path, "--log-file", "up.log"][..],
    ] {
        let out = dpgnet(cmd, dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&path), "{}", stderr(&out));
    }
}

#[test]
fn bad_default_devnet_in_current_dir_is_used_and_reported() {
    // Without --devnet, ./devnet/default.yaml is used when it exists.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("devnet")).unwrap();
    let text = VALID.replace("redundancy_factor: 2", "redundancy_factor: 0");
    std::fs::write(dir.path().join("devnet/default.yaml"), text).unwrap();
    let out = dpgnet(&["run", "--headless", "--slots", "1"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("devnet/default.yaml:8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_rust_log_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dpgnet"))
        .args(["run", "--headless", "--slots", "1"])
        .current_dir(dir.path())
        .env("RUST_LOG", "dpgnet=notalevel")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("RUST_LOG"), "{}", stderr(&out));
}
