//! The help popup: the keybinding tables (main screen, attack menu) and the
//! legend, centred over a cleared background.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::{ATTACK_MENU_KEYBINDINGS, Action, KEYBINDINGS, Keybinding};

/// Legend lines shown under the keybindings.
const LEGEND: &[(&str, &str)] = &[
    ("★", "proposer of the current slot"),
    ("⚠adv", "prover controlled by the adversary agent"),
    ("⚔", "slot attacked (fault or attack strategy on)"),
    ("LF", "liveness fault (no valid full proof by T5)"),
];

/// One line per action of `bindings` (its keys joined, in first-binding order),
/// skipping the actions in `skip`.
fn key_lines(bindings: &[Keybinding], skip: &[Action]) -> Vec<Line<'static>> {
    let mut groups: Vec<(Action, Vec<String>, &str)> = Vec::new();
    for b in bindings.iter().filter(|b| !skip.contains(&b.action)) {
        match groups.iter_mut().find(|(a, _, _)| *a == b.action) {
            Some((_, keys, _)) => keys.push(b.key.label()),
            None => groups.push((b.action, vec![b.key.label()], b.description)),
        }
    }
    groups
        .into_iter()
        .map(|(_, keys, description)| {
            Line::from(vec![
                Span::styled(
                    format!("{:>10}", keys.join(", ")),
                    Style::new().fg(Color::Cyan).bold(),
                ),
                Span::raw("  "),
                Span::raw(description),
            ])
        })
        .collect()
}

/// Render the popup centred in `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect) {
    let mut lines = key_lines(KEYBINDINGS, &[]);
    lines.push(Line::from(""));
    lines.push(Line::from("  in the attack menu (a)").bold());
    // Actions the main table already explains (help, quit) are not repeated.
    let main: Vec<Action> = KEYBINDINGS.iter().map(|b| b.action).collect();
    lines.extend(key_lines(ATTACK_MENU_KEYBINDINGS, &main));
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
