//! The footer: ledger totals with the conservation check, and the key hints.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Action, KeyContext, Model};

/// Rows the footer wants.
pub(crate) const HEIGHT: u16 = 2;

/// The short hint of an action in the footer.
fn hint(action: Action) -> &'static str {
    match action {
        Action::Quit => "quit",
        Action::TogglePause => "pause",
        Action::ToggleHelp => "help",
        Action::CloseHelp => "close help",
        Action::Up | Action::MenuUp => "up",
        Action::Down | Action::MenuDown => "down",
        Action::OpenAttackMenu => "attack",
        Action::StopAttack => "stop attack",
        Action::KillNode => "kill",
        Action::PauseNode => "freeze",
        Action::RestartNode => "restart",
        Action::DisconnectNode => "cut off",
        Action::MenuNextField => "next",
        Action::MenuPrevField => "prev",
        Action::MenuPlus => "slot+",
        Action::MenuMinus => "slot−",
        Action::MenuToggle => "pick",
        Action::MenuLaunch => "launch",
        Action::MenuClose => "close",
    }
}

/// `q/Ctrl-c quit · p pause · …`, built from the bindings of `context`
/// ([`crate::app::KEYBINDINGS`] or [`crate::app::ATTACK_MENU_KEYBINDINGS`]).
/// When that is wider than `width`, each action shows its first key only.
pub(crate) fn hints_line(context: KeyContext, width: u16) -> Line<'static> {
    let line = hints(context, false);
    if line.width() <= usize::from(width) {
        line
    } else {
        hints(context, true)
    }
}

fn hints(context: KeyContext, first_key_only: bool) -> Line<'static> {
    let mut groups: Vec<(Action, Vec<String>)> = Vec::new();
    // Esc only matters while the help popup is open (which says so itself).
    for b in context
        .bindings()
        .iter()
        .filter(|b| b.action != Action::CloseHelp)
    {
        match groups.iter_mut().find(|(a, _)| *a == b.action) {
            Some((_, keys)) if !first_key_only => keys.push(b.key.label()),
            Some(_) => {}
            None => groups.push((b.action, vec![b.key.label()])),
        }
    }
    let mut spans = Vec::new();
    for (i, (action, keys)) in groups.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · ").dark_gray());
        }
        spans.push(Span::raw(keys.join("/")).bold());
        spans.push(Span::raw(format!(" {}", hint(action))).dark_gray());
    }
    Line::from(spans)
}

fn totals_line(model: &Model) -> Line<'static> {
    let Some(t) = model.totals else {
        return Line::from("totals: waiting for genesis").dark_gray();
    };
    let check = if model.conservation_ok {
        Span::styled("conservation ok", Style::new().fg(Color::Green))
    } else {
        Span::styled(
            " conservation VIOLATED ",
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        )
    };
    let mut spans = vec![
        Span::raw(format!(
            "minted {} · burned {} · treasury {} · stake {} · balance {}",
            t.minted, t.burned, t.treasury, t.stake, t.balance
        )),
        Span::raw(" │ ").dark_gray(),
        check,
    ];
    if let Some(detail) = &model.runtime_connection {
        spans.push(Span::raw(" │ ").dark_gray());
        spans.push(Span::styled(
            format!(" {detail} (retrying) "),
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// Render the footer into `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let [totals, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(totals_line(model)), totals);
    frame.render_widget(
        Paragraph::new(hints_line(model.key_context(), hints.width)),
        hints,
    );
}
