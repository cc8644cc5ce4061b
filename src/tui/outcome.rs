//! The outcome panel: what the attacker lost and earned, what the protocol lost
//! (payments + P × liveness faults) and which honest nodes were hurt, over the run.

use alloy_primitives::Address;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Hurt, Model, short_addr};

/// Colour of the attacker's line label (as the `⚠adv` role).
pub(crate) const ATTACKER: Color = Color::LightRed;
/// Colour of a penalized honest node.
pub(crate) const HURT: Color = Color::Yellow;
/// Colour of a slashed honest node.
pub(crate) const SLASHED: Color = Color::Red;
/// Colour of "none hurt".
pub(crate) const UNHURT: Color = Color::Green;

/// Width of the line labels.
const LABEL_W: usize = 10;
/// Indent of a detail line under a labelled one.
const DETAIL_INDENT: &str = "  ";

/// Rows the panel wants at `width` columns: borders, two lines each for attacker
/// and protocol, and the hurt honest nodes (at least one line).
pub(crate) fn wanted_height(model: &Model, width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2));
    let honest = honest_lines(model, inner, usize::MAX).len().max(1);
    u16::try_from(honest).unwrap_or(u16::MAX).saturating_add(6)
}

fn label(text: &str, style: Style) -> Span<'static> {
    Span::styled(
        format!("{text:<LABEL_W$}"),
        style.add_modifier(Modifier::BOLD),
    )
}

fn indent() -> Span<'static> {
    Span::raw(" ".repeat(LABEL_W))
}

fn detail(text: String) -> Line<'static> {
    Line::from(vec![
        Span::raw(DETAIL_INDENT),
        Span::styled(text, Style::new().fg(Color::DarkGray)),
    ])
}

/// `prover-2 −100` for a penalized honest node, `prover-3 −400 slashed` (in red)
/// for a slashed one.
fn hurt_span(model: &Model, address: &Address, hurt: Hurt) -> Span<'static> {
    let name = model
        .node(address)
        .map_or_else(|| short_addr(address), |r| r.info.name.clone());
    if hurt.slashed > 0 {
        Span::styled(
            format!("{name} −{} slashed", hurt.total()),
            Style::new().fg(SLASHED),
        )
    } else {
        Span::styled(format!("{name} −{}", hurt.total()), Style::new().fg(HURT))
    }
}

/// The hurt honest nodes in node-table order (unknown addresses last), packed
/// into lines of `width` columns, at most `max_lines` (the last one then ends
/// with "+N more"). Empty when nobody was hurt.
fn honest_lines(model: &Model, width: usize, max_lines: usize) -> Vec<Line<'static>> {
    let mut hurt: Vec<(&Address, &Hurt)> = model.outcome.honest_hurt.iter().collect();
    hurt.sort_by_key(|(a, _)| {
        model
            .nodes
            .iter()
            .position(|r| r.info.address == **a)
            .unwrap_or(usize::MAX)
    });
    let spans: Vec<Span<'static>> = hurt.iter().map(|(a, h)| hurt_span(model, a, **h)).collect();
    let room = width.saturating_sub(LABEL_W).max(1);
    let mut lines: Vec<Vec<Span<'static>>> = Vec::new();
    let mut used = 0usize;
    let mut shown = 0usize;
    for span in &spans {
        let w = span.width();
        if let Some(line) = lines.last_mut()
            && used + 2 + w <= room
        {
            line.push(Span::raw(", "));
            line.push(span.clone());
            used += 2 + w;
            shown += 1;
            continue;
        }
        if lines.len() == max_lines {
            break;
        }
        lines.push(vec![span.clone()]);
        used = w;
        shown += 1;
    }
    if shown < spans.len()
        && let Some(line) = lines.last_mut()
    {
        // End the last line with the count left, dropping entries to make room.
        loop {
            let more = Span::styled(
                format!(" +{} more", spans.len() - shown),
                Style::new().fg(HURT),
            );
            if used + more.width() <= room || line.len() <= 1 {
                line.push(more);
                break;
            }
            if let Some(entry) = line.pop() {
                used = used.saturating_sub(entry.width());
                shown -= 1;
            }
            if line.last().is_some_and(|s| s.content == ", ") {
                line.pop();
                used = used.saturating_sub(2);
            }
        }
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, mut spans)| {
            spans.insert(
                0,
                if i == 0 {
                    label("honest", Style::new())
                } else {
                    indent()
                },
            );
            Line::from(spans)
        })
        .collect()
}

/// The panel's lines for `model` in `rows` × `width` (the honest list ends with
/// "+N more" when it does not fit).
fn lines(model: &Model, rows: usize, width: usize) -> Vec<Line<'static>> {
    let o = &model.outcome;
    if o.slots == 0 {
        return vec![Line::from("waiting for the first settlement").dark_gray()];
    }
    let mut out = vec![
        Line::from(vec![
            label("attacker", Style::new().fg(ATTACKER)),
            Span::raw(format!(
                "lost {} · earned {}",
                o.attacker_lost(),
                o.attacker_rewards
            )),
        ]),
        detail(format!(
            "slashed {} · penalized {}",
            o.attacker_slashed, o.attacker_penalties
        )),
        Line::from(vec![
            label("protocol", Style::new()),
            Span::styled(
                format!("loss {}", o.loss),
                if o.liveness_faults > 0 {
                    Style::new().fg(Color::Red).bold()
                } else {
                    Style::new()
                },
            ),
        ]),
    ];
    let lf = match o.liveness_faults {
        0 => "no liveness fault".to_owned(),
        n => format!("{n} LF × {}", o.liveness_loss() / n),
    };
    out.push(detail(format!("paid {} + {lf}", o.payments)));
    if o.honest_hurt.is_empty() {
        out.push(Line::from(vec![
            label("honest", Style::new()),
            Span::styled("none hurt", Style::new().fg(UNHURT)),
        ]));
        return out;
    }
    let room = rows.saturating_sub(out.len()).max(1);
    out.extend(honest_lines(model, width, room));
    out
}

/// Render the panel into `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let title = match model.outcome.slots {
        0 => " outcome ".to_owned(),
        1 => " outcome · 1 slot ".to_owned(),
        n => format!(" outcome · {n} slots "),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(
        Paragraph::new(lines(
            model,
            usize::from(inner.height),
            usize::from(inner.width),
        )),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{addr, model};

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn honest_list_wraps_and_counts_what_does_not_fit() {
        let mut m = model();
        for (i, n) in ["prover-1", "prover-3", "prover-4", "prover-5"]
            .iter()
            .enumerate()
        {
            m.outcome.honest_hurt.insert(
                addr(n),
                Hurt {
                    penalties: 2,
                    slashed: if i == 1 { 400 } else { 0 },
                },
            );
        }
        // Wide enough for everything: 36 columns after the label.
        let all: Vec<String> = honest_lines(&m, 46, usize::MAX).iter().map(text).collect();
        assert_eq!(
            all,
            [
                "honest    prover-1 −2, prover-2 −100",
                "          prover-3 −402 slashed, prover-4 −2",
                "          prover-5 −2",
            ]
        );
        assert_eq!(wanted_height(&m, 48), 9);
        // Two lines only: the second ends with the count left.
        let cut: Vec<String> = honest_lines(&m, 46, 2).iter().map(text).collect();
        assert_eq!(
            cut,
            [
                "honest    prover-1 −2, prover-2 −100",
                "          prover-3 −402 slashed +2 more",
            ]
        );
        let one: Vec<String> = honest_lines(&m, 30, 1).iter().map(text).collect();
        assert_eq!(one, ["honest    prover-1 −2 +4 more"]);
    }
}
