//! The event log: the newest lines of the ring buffer, with its "dropped: N" counter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{LogLevel, Model};

/// The colour of a level label.
pub(crate) fn level_color(level: LogLevel) -> Color {
    match level {
        LogLevel::Info => Color::Gray,
        LogLevel::Warn => Color::Yellow,
        LogLevel::Error => Color::Red,
    }
}

/// Render the newest lines that fit into `area`, newest last.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let mut block = Block::bordered().title(format!(" events ({}) ", model.log.len()));
    if model.log.dropped() > 0 {
        block = block.title_top(
            Line::from(format!(" dropped: {} ", model.log.dropped()))
                .yellow()
                .right_aligned(),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height);
    let skip = model.log.len().saturating_sub(rows);
    let lines: Vec<Line> = model
        .log
        .iter()
        .skip(skip)
        .map(|l| {
            let slot = l
                .slot
                .map_or_else(|| "    ".to_owned(), |s| format!("s{s:<3}"));
            let text_style = match l.level {
                LogLevel::Info => Style::new(),
                LogLevel::Warn => Style::new().fg(Color::Yellow),
                LogLevel::Error => Style::new().fg(Color::Red),
            };
            Line::from(vec![
                Span::raw(slot).dark_gray(),
                Span::raw(" "),
                Span::styled(
                    l.level.label(),
                    Style::new().fg(level_color(l.level)).bold(),
                ),
                Span::raw(" "),
                Span::styled(l.text.clone(), text_style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
