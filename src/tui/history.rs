//! The slot-history strip: one coloured cell per settled slot, plus the slot in progress.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::Model;
use crate::protocol::Outcome;

/// Rows the strip wants (one line inside a border).
pub(crate) const HEIGHT: u16 = 3;

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

/// Render the strip into `area`: as many of the latest slots as fit, newest right.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let mut cells: Vec<(String, Style)> = model
        .history
        .iter()
        .map(|h| {
            let fg = if h.outcome == Outcome::LivenessFault {
                Color::White
            } else {
                Color::Black
            };
            (
                cell_label(h.slot, h.outcome),
                Style::new().fg(fg).bg(outcome_color(h.outcome)),
            )
        })
        .collect();
    if let Some(slot) = model.slot
        && model.history.last().is_none_or(|h| h.slot != slot)
    {
        let phase = model.phase.map_or("··", |p| p.label());
        cells.push((
            format!("{slot} {phase}…"),
            Style::new().fg(Color::White).bg(IN_PROGRESS),
        ));
    }
    let faults = model
        .history
        .iter()
        .filter(|h| !h.outcome.is_finalized())
        .count();
    let title = match faults {
        0 => format!(" slots: {} settled ", model.history.len()),
        1 => format!(" slots: {} settled, 1 liveness fault ", model.history.len()),
        n => format!(
            " slots: {} settled, {n} liveness faults ",
            model.history.len()
        ),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // Take cells from the newest back while they fit (each is " label " plus a gap).
    let mut width = 0usize;
    let mut first = cells.len();
    for (i, (label, _)) in cells.iter().enumerate().rev() {
        let w = label.chars().count() + 3;
        if width + w > usize::from(inner.width) + 1 {
            break;
        }
        width += w;
        first = i;
    }
    let mut spans = Vec::new();
    for (label, style) in cells.into_iter().skip(first) {
        spans.push(Span::styled(format!(" {label} "), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), inner);
}
