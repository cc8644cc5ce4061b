//! The slot-history strip: one coloured cell per settled slot, plus the slot in
//! progress; attacked slots carry a red ⚔ and an underline.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::Model;
use crate::protocol::Outcome;

/// Rows the strip wants (one line inside a border).
pub(crate) const HEIGHT: u16 = 3;

/// The mark before an attacked slot's cell.
pub(crate) const ATTACK_MARK: &str = "⚔";

/// Colour of [`ATTACK_MARK`].
pub(crate) const ATTACK_COLOR: Color = Color::Red;

/// Background colour of a settled slot's cell.
pub(crate) fn outcome_color(outcome: Outcome) -> Color {
    match outcome {
        Outcome::FinalizedT1 => Color::Indexed(22),
        Outcome::FinalizedT2 => Color::Indexed(28),
        Outcome::FinalizedT3 => Color::Indexed(34),
        Outcome::FinalizedT4 => Color::Yellow,
        Outcome::FinalizedT5 => Color::LightYellow,
        Outcome::LivenessFault => Color::Red,
    }
}

/// Background colour of the cell of the slot in progress.
const IN_PROGRESS: Color = Color::DarkGray;

/// The cell text of a settled slot: `12 T3`, or `13 LF` for a liveness fault.
pub(crate) fn cell_label(slot: u64, outcome: Outcome) -> String {
    let tag = match outcome {
        Outcome::FinalizedT1 => "T1",
        Outcome::FinalizedT2 => "T2",
        Outcome::FinalizedT3 => "T3",
        Outcome::FinalizedT4 => "T4",
        Outcome::FinalizedT5 => "T5",
        Outcome::LivenessFault => "LF",
    };
    format!("{slot} {tag}")
}

/// One cell of the strip.
struct Cell {
    label: String,
    style: Style,
    attacked: bool,
}

impl Cell {
    /// Columns it takes: ` label `, the gap after it and the mark if any.
    fn width(&self) -> usize {
        self.label.chars().count() + 3 + usize::from(self.attacked)
    }
}

/// The strip's title: settled slots, liveness faults and attacked slots.
fn title(model: &Model) -> String {
    let mut parts = vec![format!("slots: {} settled", model.history.len())];
    let faults = model
        .history
        .iter()
        .filter(|h| !h.outcome.is_finalized())
        .count();
    match faults {
        0 => {}
        1 => parts.push("1 liveness fault".to_owned()),
        n => parts.push(format!("{n} liveness faults")),
    }
    if !model.attacked.is_empty() {
        parts.push(format!("{} attacked", model.attacked.len()));
    }
    format!(" {} ", parts.join(", "))
}

/// The one-line stand-in for the side column on a narrow terminal: warnings,
/// protocol loss and what the attacker lost.
fn summary(model: &Model) -> Line<'static> {
    let o = &model.outcome;
    let mut spans = vec![Span::raw(" ")];
    let sep = || Span::raw(" · ").dark_gray();
    if model.warnings_total > 0 {
        spans.push(Span::raw(format!("⚠{}", model.warnings_total)).yellow());
        spans.push(sep());
    }
    spans.push(Span::raw(format!("loss {}", o.loss)));
    if o.attacker_lost() > 0 {
        spans.push(sep());
        spans.push(Span::raw(format!("adv −{}", o.attacker_lost())).light_red());
    }
    if !o.honest_hurt.is_empty() {
        spans.push(sep());
        spans.push(Span::raw(format!("{} honest hurt", o.honest_hurt.len())).yellow());
    }
    spans.push(Span::raw(" "));
    Line::from(spans).right_aligned()
}

/// Render the strip into `area`: as many of the latest slots as fit, newest
/// right. With `with_summary`, the title line also carries [`summary`] (for when
/// the outcome panel is not on screen).
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model, with_summary: bool) {
    let mut cells: Vec<Cell> = model
        .history
        .iter()
        .map(|h| {
            let fg = if h.outcome == Outcome::LivenessFault {
                Color::White
            } else {
                Color::Black
            };
            Cell {
                label: cell_label(h.slot, h.outcome),
                style: Style::new().fg(fg).bg(outcome_color(h.outcome)),
                attacked: model.attacked.contains(&h.slot),
            }
        })
        .collect();
    if let Some(slot) = model.slot
        && model.history.last().is_none_or(|h| h.slot != slot)
    {
        let phase = model.phase.map_or("··", |p| p.label());
        cells.push(Cell {
            label: format!("{slot} {phase}…"),
            style: Style::new().fg(Color::White).bg(IN_PROGRESS),
            attacked: model.attacked.contains(&slot),
        });
    }
    let title = title(model);
    let mut block = Block::bordered().title(title.clone());
    if with_summary && (model.outcome.slots > 0 || model.warnings_total > 0) {
        // Only when it fits beside the title (corners and a gap included).
        let summary = summary(model);
        if title.chars().count() + summary.width() + 3 <= usize::from(area.width) {
            block = block.title_top(summary);
        }
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // Take cells from the newest back while they fit.
    let mut width = 0usize;
    let mut first = cells.len();
    for (i, cell) in cells.iter().enumerate().rev() {
        let w = cell.width();
        if width + w > usize::from(inner.width) + 1 {
            break;
        }
        width += w;
        first = i;
    }
    let mut spans = Vec::new();
    for cell in cells.into_iter().skip(first) {
        let mut style = cell.style;
        if cell.attacked {
            spans.push(Span::styled(
                ATTACK_MARK,
                Style::new().fg(ATTACK_COLOR).add_modifier(Modifier::BOLD),
            ));
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        spans.push(Span::styled(format!(" {} ", cell.label), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), inner);
}
