//! The attack menu popup: a strategy list, its number, the adversary-controlled
//! targets and the slot, with a preview of the plan step Enter launches.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::{AttackMenu, MenuField, Model, strategy_choices};

/// Colour of the focused field's label and highlighted item.
pub(crate) const FOCUS: Color = Color::Cyan;
/// Popup width.
const WIDTH: u16 = 68;
/// Width of the strategy column.
const LEFT_W: u16 = 30;

/// A field label: `› strategy` in the focus colour when focused.
fn field_label(text: &str, focused: bool) -> Span<'static> {
    if focused {
        Span::styled(
            format!("› {text}"),
            Style::new().fg(FOCUS).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(format!("  {text}"), Style::new().fg(Color::Gray))
    }
}

/// The style of a highlighted item: reversed in the focus colour when its field
/// is focused, bold otherwise.
fn item_style(focused: bool) -> Style {
    if focused {
        Style::new()
            .fg(FOCUS)
            .add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

fn strategy_lines(menu: &AttackMenu) -> Vec<Line<'static>> {
    let focused = menu.field == MenuField::Strategy;
    let mut lines = vec![Line::from(field_label("strategy", focused))];
    for (i, c) in strategy_choices().into_iter().enumerate() {
        let suffix = c.param.map(|(name, _)| format!(" [{name}]"));
        let mut spans = if i == menu.strategy {
            vec![Span::raw("  ▶ "), Span::styled(c.name, item_style(focused))]
        } else {
            vec![Span::raw("    "), Span::raw(c.name)]
        };
        if let Some(s) = suffix {
            spans.push(Span::raw(s).dark_gray());
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// `◂ 4 ▸` in the focus colour when focused.
fn number(value: u64, focused: bool) -> Span<'static> {
    let text = format!("◂ {value} ▸");
    if focused {
        Span::styled(text, item_style(true))
    } else {
        Span::styled(text, Style::new().add_modifier(Modifier::BOLD))
    }
}

fn right_lines(model: &Model, menu: &AttackMenu) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // The strategy's number, in Tab order first.
    let choice = menu.choice();
    match choice.param {
        Some((name, default)) => lines.push(Line::from(vec![
            field_label(&format!("{name:<9}"), menu.field == MenuField::Param),
            number(u64::from(menu.param), menu.field == MenuField::Param),
            Span::raw(format!("  default {default}")).dark_gray(),
        ])),
        None => lines.push(Line::from(vec![
            field_label(&format!("{:<9}", "number"), false),
            Span::raw("–").dark_gray(),
        ])),
    }
    lines.push(Line::from(""));
    let focused = menu.field == MenuField::Targets;
    let picked = menu.targets.iter().filter(|(_, on)| *on).count();
    lines.push(Line::from(vec![
        field_label("targets", focused),
        Span::raw(format!("  {picked}/{} picked", menu.targets.len())).dark_gray(),
    ]));
    if menu.targets.is_empty() {
        lines.push(Line::from("    (no adversary-controlled prover)").dark_gray());
    }
    for (i, (name, on)) in menu.targets.iter().enumerate() {
        let text = format!("[{}] {name}", if *on { "x" } else { " " });
        lines.push(Line::from(vec![
            Span::raw(if i == menu.cursor { "  ▶ " } else { "    " }),
            if i == menu.cursor && focused {
                Span::styled(text, item_style(true))
            } else {
                Span::raw(text)
            },
        ]));
    }
    lines.push(Line::from(""));
    let when = match model.slot {
        Some(s) if menu.slot <= s => "now (running slot)".to_owned(),
        _ if menu.slot == model.next_slot() => "next slot".to_owned(),
        _ => format!("in {} slots", menu.slot - model.next_slot() + 1),
    };
    lines.push(Line::from(vec![
        field_label(&format!("{:<9}", "slot"), menu.field == MenuField::Slot),
        number(menu.slot, menu.field == MenuField::Slot),
        Span::raw(format!("  {when}")).dark_gray(),
    ]));
    lines
}

/// The line under the columns: what Enter launches, or why it cannot.
fn preview(menu: &AttackMenu) -> Line<'static> {
    if let Some(e) = &menu.error {
        return Line::from(Span::styled(
            format!(" ✗ {e}"),
            Style::new().fg(Color::Red).bold(),
        ));
    }
    match menu.plan_step() {
        Ok(step) => Line::from(vec![
            Span::raw(" Enter: ").dark_gray(),
            Span::raw(format!("{}, slot {}", step.fault, step.slot)).bold(),
        ]),
        Err(e) => Line::from(Span::styled(format!(" ✗ {e}"), Style::new().fg(Color::Red))),
    }
}

/// Render the popup centred in `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model, menu: &AttackMenu) {
    let left = strategy_lines(menu);
    let right = right_lines(model, menu);
    let rows = left.len().max(right.len());
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(4);
    let popup = area.centered(Constraint::Length(WIDTH), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Line::from(" ⚔ attack ").bold())
        .title_bottom(
            Line::from(" Tab field · Space target · Enter launch · Esc close ").right_aligned(),
        )
        .border_style(Style::new().fg(Color::LightRed));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [columns, _, bottom] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let [l, r] =
        Layout::horizontal([Constraint::Length(LEFT_W), Constraint::Fill(1)]).areas(columns);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(right), r);
    frame.render_widget(Paragraph::new(preview(menu)), bottom);
}
