//! The help popup: the keybindings table and the legend, centred over a cleared background.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::KEYBINDINGS;

/// Legend lines shown under the keybindings.
const LEGEND: &[(&str, &str)] = &[
    ("★", "proposer of the current slot"),
    ("⚠adv", "prover controlled by the adversary agent"),
    ("LF", "liveness fault (no valid full proof by T5)"),
];

/// Render the popup centred in `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect) {
    // One line per action: its keys joined, in first-binding order.
    let mut groups: Vec<(Vec<String>, &str)> = Vec::new();
    let mut actions = Vec::new();
    for b in KEYBINDINGS {
        match actions.iter().position(|a| *a == b.action) {
            Some(i) => groups[i].0.push(b.key.label()),
            None => {
                actions.push(b.action);
                groups.push((vec![b.key.label()], b.description));
            }
        }
    }
    let mut lines: Vec<Line> = groups
        .into_iter()
        .map(|(keys, description)| {
            Line::from(vec![
                Span::styled(
                    format!("{:>10}", keys.join(", ")),
                    Style::new().fg(Color::Cyan).bold(),
                ),
                Span::raw("  "),
                Span::raw(description),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    for (sym, text) in LEGEND {
        lines.push(Line::from(vec![
            Span::styled(format!("{sym:>10}"), Style::new().fg(Color::Yellow)),
            Span::raw("  "),
            Span::raw(*text),
        ]));
    }
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let popup = area.centered(Constraint::Length(60), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Line::from(" help ").bold())
                .title_bottom(Line::from(" ? or Esc to close ").right_aligned())
                .border_style(Style::new().fg(Color::Cyan)),
        ),
        popup,
    );
}
