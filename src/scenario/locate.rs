//! Finds where a scenario's expectations and plan values are written in its YAML
//! source, so that a refused one is reported at its line and column. `serde_yaml`
//! keeps no positions for values that parse; this scanner only needs top-level keys,
//! block-sequence items (`- `) and plain text search, and is used for error messages
//! alone.

/// A 1-based line and column (in characters) in the source.
pub(super) type Pos = (usize, usize);

/// The 0-based index of the line defining the top-level key `key` (`key:` at column 0).
fn key_line(lines: &[&str], key: &str) -> Option<usize> {
    lines.iter().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
    })
}

/// The 1-based line of the top-level key `key`.
pub(super) fn key(src: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = src.lines().collect();
    key_line(&lines, key).map(|i| i + 1)
}

/// The items of the block sequence under the top-level key `key`, each as the 0-based
/// range of its lines (the `- ` line up to the next item or the end of the sequence).
/// Empty for a flow sequence (`key: [a, b]`) or a missing key.
fn items(lines: &[&str], key: &str) -> Vec<(usize, usize)> {
    let Some(start) = key_line(lines, key) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut dash_indent = None;
    let mut end = lines.len();
    for (i, raw) in lines.iter().enumerate().skip(start + 1) {
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        let trimmed = content.trim_end();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent == 0 && !trimmed.starts_with('-') {
            end = i;
            break;
        }
        let is_dash = trimmed == "-" || trimmed.starts_with("- ");
        if is_dash && dash_indent.is_none_or(|d| d == indent) {
            dash_indent = Some(indent);
            if let Some(last) = out.last_mut() {
                last.1 = i;
            }
            out.push((i, lines.len()));
        } else if dash_indent.is_some_and(|d| indent < d) {
            end = i;
            break;
        }
    }
    if let Some(last) = out.last_mut() {
        last.1 = last.1.min(end);
    }
    out
}

/// 1-based column of byte offset `at` in `line`.
fn column(line: &str, at: usize) -> usize {
    line[..at].chars().count() + 1
}

/// The first occurrence of `needle` in lines `from..to`, at or after byte `col` of the
/// first line.
fn search(
    lines: &[&str],
    from: usize,
    to: usize,
    col: usize,
    needle: &str,
) -> Option<(usize, usize)> {
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        let start = if i == from { col.min(line.len()) } else { 0 };
        if let Some(at) = line.get(start..).and_then(|l| l.find(needle)) {
            return Some((i, start + at));
        }
    }
    None
}

/// Where the text of expectation `index` (its string `text`) starts under the
/// top-level `expect:` key: found in its own item, else by searching from the key, else
/// the item's first line.
pub(super) fn expectation(src: &str, index: usize, text: &str) -> Option<Pos> {
    let lines: Vec<&str> = src.lines().collect();
    let items = items(&lines, "expect");
    if let Some(&(from, to)) = items.get(index) {
        if let Some((i, at)) = search(&lines, from, to, 0, text) {
            return Some((i + 1, column(lines[i], at)));
        }
        let line = lines[from];
        let dash = line.find('-').unwrap_or(0);
        let content = line[dash + 1..].len() - line[dash + 1..].trim_start().len();
        return Some((from + 1, column(line, dash + 1 + content)));
    }
    // A flow sequence: the index-th occurrence of an expectation text after the key.
    let start = key_line(&lines, "expect")?;
    search(&lines, start, lines.len(), 0, text).map(|(i, at)| (i + 1, column(lines[i], at)))
}

/// Where plan step `index` starts (its `- ` line, the column after the dash).
pub(super) fn plan_step(src: &str, index: usize) -> Option<Pos> {
    let lines: Vec<&str> = src.lines().collect();
    let &(from, _) = items(&lines, "plan").get(index)?;
    let line = lines[from];
    let dash = line.find('-').unwrap_or(0);
    let rest = &line[dash + 1..];
    let skip = rest.len() - rest.trim_start().len();
    Some((from + 1, column(line, dash + 1 + skip)))
}

/// Where `value` is written after `key:` within plan step `index` (for `targets`, the
/// `value` inside its list). Falls back to the step's start.
pub(super) fn plan_value(src: &str, index: usize, key: &str, value: &str) -> Option<Pos> {
    let lines: Vec<&str> = src.lines().collect();
    let &(from, to) = items(&lines, "plan").get(index)?;
    let found = search(&lines, from, to, 0, &format!("{key}:")).and_then(|(i, at)| {
        let after = at + key.len() + 1;
        search(&lines, i, to, after, value)
    });
    match found {
        Some((i, at)) => Some((i + 1, column(lines[i], at))),
        None => plan_step(src, index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
name: x
# a comment
plan:
  - slot: 0
    strategy: steal
    targets: [prover-6, prover-7]
  - {slot: 1, kill: prover-2}
  -
    slot: 2
    targets:
      - prover-9
expect:
  - liveness_faults <= 0
  - \"slashed[adversary] >= 100\"
  - honest_slashed == 0
slots: 3
";

    #[test]
    fn finds_keys_and_items() {
        let lines: Vec<&str> = SRC.lines().collect();
        assert_eq!(key(SRC, "plan"), Some(3));
        assert_eq!(key(SRC, "slots"), Some(16));
        assert_eq!(items(&lines, "plan"), vec![(3, 6), (6, 7), (7, 11)]);
        assert_eq!(items(&lines, "expect"), vec![(12, 13), (13, 14), (14, 15)]);
    }

    #[test]
    fn finds_expectations_by_text_and_column() {
        assert_eq!(expectation(SRC, 0, "liveness_faults <= 0"), Some((13, 5)));
        assert_eq!(
            expectation(SRC, 1, "slashed[adversary] >= 100"),
            Some((14, 6))
        );
        // Text that is not found verbatim (an escaped string) falls back to the item.
        assert_eq!(expectation(SRC, 2, "nope"), Some((15, 5)));
        let flow = "expect: [a == 1, finalized == 2]\n";
        assert_eq!(expectation(flow, 1, "finalized == 2"), Some((1, 18)));
    }

    #[test]
    fn finds_plan_values() {
        assert_eq!(plan_value(SRC, 0, "strategy", "steal"), Some((5, 15)));
        assert_eq!(plan_value(SRC, 0, "targets", "prover-7"), Some((6, 25)));
        assert_eq!(plan_value(SRC, 1, "kill", "prover-2"), Some((7, 21)));
        assert_eq!(plan_value(SRC, 2, "targets", "prover-9"), Some((11, 9)));
        assert_eq!(plan_value(SRC, 2, "slot", "2"), Some((9, 11)));
        assert_eq!(plan_step(SRC, 2), Some((8, 4)));
        assert_eq!(plan_value(SRC, 1, "strategy", "x"), Some((7, 5)));
    }
}
