//! Finds the source line of a field path (`network_params.redundancy_factor`,
//! `participants[1].count`) in a block-style YAML document, so that a refused value can be
//! reported at its line. Parsing to `serde_yaml::Value` loses positions; this scanner only
//! needs indentation, `key:` and `- ` and is used for error messages alone.

/// One significant line: its number, the column of its first token, whether it opens a
/// sequence item (`- `), and the key it defines with the key's column, if any.
#[derive(Debug)]
struct Entry {
    line: usize,
    indent: usize,
    dash: bool,
    key: Option<(usize, String)>,
    text: String,
}

/// One step of a field path.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into `[Key(a), Key(b), Index(2), Key(c)]`; `None` if malformed.
fn segments(path: &str) -> Option<Vec<Segment<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while !rest.is_empty() {
            let (index, tail) = rest.split_once(']')?;
            out.push(Segment::Index(index.parse().ok()?));
            rest = tail.strip_prefix('[').unwrap_or(tail);
        }
    }
    Some(out)
}

/// The key a line's content defines (`key: value`, `"key":`), if any.
fn key_of(content: &str) -> Option<String> {
    if content.starts_with(['{', '[', '#', '&', '*', '!', '|', '>']) {
        return None;
    }
    let mut chars = content.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == ':' && chars.peek().is_none_or(|(_, n)| n.is_whitespace()) {
            let key = content[..i].trim();
            let key = key
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
                .unwrap_or(key);
            return (!key.is_empty()).then(|| key.to_owned());
        }
    }
    None
}

fn entries(src: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        let trimmed = content.trim_end();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "---" {
            continue;
        }
        let (dash, key) = if trimmed == "-" {
            (true, None)
        } else if let Some(after) = content.strip_prefix("- ") {
            let item = after.trim_start_matches(' ');
            let col = indent + 2 + (after.len() - item.len());
            (true, key_of(item).map(|k| (col, k)))
        } else {
            (false, key_of(content).map(|k| (indent, k)))
        };
        out.push(Entry {
            line: i + 1,
            indent,
            dash,
            key,
            text: trimmed.to_owned(),
        });
    }
    out
}

/// The 1-based line where the last segment of `path` is written in `src`, if it is written
/// there (a value left to its default has no line). When the last key sits inside a flow
/// mapping (`phase_seconds: {t1: 0, t2: 8}`), the line of that mapping.
pub(super) fn line_of(src: &str, path: &str) -> Option<usize> {
    let segments = segments(path)?;
    let entries = entries(src);
    let (mut lo, mut hi) = (0, entries.len());
    let mut line = None;
    for (n, segment) in segments.iter().enumerate() {
        match *segment {
            Segment::Key(key) => {
                let Some(col) = entries[lo..hi]
                    .iter()
                    .find_map(|e| e.key.as_ref().map(|k| k.0))
                else {
                    return flow_fallback(&entries, lo, &segments[n..], line);
                };
                let Some(at) = (lo..hi).find(|&i| {
                    entries[i]
                        .key
                        .as_ref()
                        .is_some_and(|(c, k)| *c == col && k == key)
                }) else {
                    return flow_fallback(&entries, lo, &segments[n..], line);
                };
                let end = (at + 1..hi)
                    .find(|&i| {
                        let e = &entries[i];
                        e.indent < col || (e.indent == col && !e.dash)
                    })
                    .unwrap_or(hi);
                line = Some(entries[at].line);
                (lo, hi) = (at + 1, end);
            }
            Segment::Index(index) => {
                let indent = entries[lo..hi]
                    .iter()
                    .filter(|e| e.dash)
                    .map(|e| e.indent)
                    .min()?;
                let items: Vec<usize> = (lo..hi)
                    .filter(|&i| entries[i].dash && entries[i].indent == indent)
                    .collect();
                let at = *items.get(index)?;
                let end = items.get(index + 1).copied().unwrap_or(hi);
                line = Some(entries[at].line);
                // The item's first key may sit on its dash line: search from the dash line.
                (lo, hi) = (at, end);
                if let Some(first) = entries.get(at)
                    && first.key.is_none()
                {
                    lo = at + 1;
                }
            }
        }
    }
    line
}

/// The keys left to find are not on lines of their own: if the parent's line (a flow mapping)
/// mentions the next key, report that line; otherwise the value is not written at all.
fn flow_fallback(
    entries: &[Entry],
    lo: usize,
    rest: &[Segment<'_>],
    parent: Option<usize>,
) -> Option<usize> {
    let Segment::Key(key) = rest.first()? else {
        return None;
    };
    let parent_entry = lo.checked_sub(1).and_then(|i| entries.get(i))?;
    (Some(parent_entry.line) == parent && parent_entry.text.contains(&format!("{key}:")))
        .then_some(parent_entry.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
# comment
name: x
participants:
  - role: validator
    count: 4
  -
    role: prover
    count: 8
    stake: 10
network_params:
  # count: not this one
  phase_seconds: {t1: 0, t2: 8}
  redundancy_factor: 3
rewards:
  \"PENALTY_T1_PROVER\": 1
";

    #[test]
    fn splits_paths() {
        assert_eq!(
            segments("participants[1].count"),
            Some(vec![
                Segment::Key("participants"),
                Segment::Index(1),
                Segment::Key("count")
            ])
        );
        assert_eq!(segments("a[x]"), None);
    }

    #[test]
    fn finds_keys_items_and_flow_mappings() {
        assert_eq!(line_of(SRC, "name"), Some(2));
        assert_eq!(line_of(SRC, "participants"), Some(3));
        assert_eq!(line_of(SRC, "participants[0].count"), Some(5));
        assert_eq!(line_of(SRC, "participants[0].role"), Some(4));
        assert_eq!(line_of(SRC, "participants[1]"), Some(6));
        assert_eq!(line_of(SRC, "participants[1].count"), Some(8));
        assert_eq!(line_of(SRC, "participants[1].stake"), Some(9));
        assert_eq!(line_of(SRC, "participants[0].stake"), None);
        assert_eq!(line_of(SRC, "participants[2].count"), None);
        assert_eq!(line_of(SRC, "network_params.redundancy_factor"), Some(13));
        assert_eq!(line_of(SRC, "network_params.phase_seconds.t1"), Some(12));
        assert_eq!(line_of(SRC, "network_params.phase_seconds.t3"), None);
        assert_eq!(line_of(SRC, "network_params.seed"), None);
        assert_eq!(line_of(SRC, "rewards.PENALTY_T1_PROVER"), Some(15));
    }

    #[test]
    fn sequences_at_the_parent_indentation() {
        let src = "participants:\n- role: validator\n- role: prover\n  count: 1\nname: y\n";
        assert_eq!(line_of(src, "participants[1].count"), Some(4));
        assert_eq!(line_of(src, "name"), Some(5));
        assert_eq!(line_of(src, "participants[0].count"), None);
    }
}
