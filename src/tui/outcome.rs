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
/// Colour of a hurt honest node.
pub(crate) const HURT: Color = Color::Yellow;
/// Colour of "none hurt".
pub(crate) const UNHURT: Color = Color::Green;

/// Width of the line labels.
const LABEL_W: usize = 10;
/// Indent of a detail line under a labelled one.
const DETAIL_INDENT: &str = "  ";

/// Rows the panel wants: borders, two lines each for attacker and protocol, and
/// one per hurt honest node (at least one).
pub(crate) fn wanted_height(model: &Model) -> u16 {
    let honest = u16::try_from(model.outcome.honest_hurt.len().max(1)).unwrap_or(u16::MAX);
    honest.saturating_add(6)
}

fn label(text: &str, style: Style) -> Span<'static> {
    Span::styled(format!("{text:<LABEL_W$}"), style.add_modifier(Modifier::BOLD))
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

/// `prover-2  −100 penalized` for one hurt honest node.
fn hurt_text(model: &Model, address: &Address, hurt: Hurt) -> String {
    let name = model
        .node(address)
        .map_or_else(|| short_addr(address), |r| r.info.name.clone());
    let what = match (hurt.slashed > 0, hurt.penalties > 0) {
        (true, true) => format!("slashed {} + penalized {}", hurt.slashed, hurt.penalties),
        (true, false) => "slashed".to_owned(),
        _ => "penalized".to_owned(),
    };
    format!("{name} −{} {what}", hurt.total())
}

/// The panel's lines for `model`, `rows` lines at most (the honest list is cut
/// with a "+N more" line).
fn lines(model: &Model, rows: usize) -> Vec<Line<'static>> {
    let o = &model.outcome;
    if o.slots == 0 {
        return vec![Line::from("waiting for the first settlement").dark_gray()];
    }
    let mut out = vec![
        Line::from(vec![
            label("attacker", Style::new().fg(ATTACKER)),
            Span::raw(format!("lost {} · earned {}", o.attacker_lost(), o.attacker_rewards)),
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
    // Hurt honest nodes in node-table order, unknown addresses last.
    let mut hurt: Vec<(&Address, &Hurt)> = o.honest_hurt.iter().collect();
    hurt.sort_by_key(|(a, _)| {
        model
            .nodes
            .iter()
            .position(|r| r.info.address == **a)
            .unwrap_or(usize::MAX)
    });
    let room = rows.saturating_sub(out.len()).max(1);
    let shown = if hurt.len() > room { room - 1 } else { hurt.len() };
    for (i, (a, h)) in hurt.iter().take(shown).enumerate() {
        out.push(Line::from(vec![
            if i == 0 {
                label("honest", Style::new())
            } else {
                indent()
            },
            Span::styled(hurt_text(model, a, **h), Style::new().fg(HURT)),
        ]));
    }
    if shown < hurt.len() {
        out.push(Line::from(vec![
            if shown == 0 {
                label("honest", Style::new())
            } else {
                indent()
            },
            Span::styled(format!("+{} more hurt", hurt.len() - shown), Style::new().fg(HURT)),
        ]));
    }
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
        Paragraph::new(lines(model, usize::from(inner.height))),
        inner,
    );
}
