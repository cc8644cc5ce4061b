//! The detectors' warnings, tokio-console style: the latest findings, newest
//! first, each with slot, phase, node and kind in its colour; the count in the title.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Model, short_addr, warning_label};
use crate::protocol::WarningKind;

/// The colour of a warning kind.
pub(crate) fn kind_color(kind: WarningKind) -> Color {
    match kind {
        WarningKind::Late => Color::Yellow,
        WarningKind::Equivocation => Color::Magenta,
        WarningKind::InvalidProof => Color::Red,
        WarningKind::StolenProof => Color::LightRed,
    }
}

/// Render the newest warnings that fit into `area`, newest first.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let title = Line::from(format!(" warnings ({}) ", model.warnings_total));
    let block = Block::bordered().title(if model.warnings_total > 0 {
        title.yellow().bold()
    } else {
        title
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if model.warnings.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::from("no detector fired").dark_gray()),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = model
        .warnings
        .iter()
        .rev()
        .take(usize::from(inner.height))
        .map(|w| {
            let name = model
                .node(&w.node)
                .map_or_else(|| short_addr(&w.node), |r| r.info.name.clone());
            let mut spans = vec![
                Span::raw(format!("s{:<3} {} ", w.slot, w.phase)).dark_gray(),
                Span::raw(format!("{name:<10} ")),
                Span::styled(
                    warning_label(w.kind),
                    Style::new()
                        .fg(kind_color(w.kind))
                        .add_modifier(Modifier::BOLD),
                ),
            ];
            if !w.detail.is_empty() {
                spans.push(Span::raw(format!(" {}", w.detail)).dark_gray());
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
