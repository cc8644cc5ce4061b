//! The header: devnet, slot and phase, the PAUSED badge and the T1–T5 phase gauge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph};

use crate::app::Model;
use crate::protocol::Phase;

/// Rows the header wants (two lines inside a border).
pub(crate) const HEIGHT: u16 = 4;

/// Colour of a phase that already closed.
pub(crate) const PAST: Color = Color::Green;
/// Colour of the phase in progress.
pub(crate) const CURRENT: Color = Color::Cyan;
/// Background of the running-attack badge.
pub(crate) const ATTACK: Color = Color::Red;
/// Colour of the gauge's empty track.
const TRACK: Color = Color::DarkGray;

/// Render the header into `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let block = Block::bordered().title(Line::from(" dpgnet ").bold());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [info, gauge] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(info_line(model)), info);
    render_gauge(frame, gauge, model);
}

fn info_line(model: &Model) -> Line<'static> {
    let sep = || Span::raw(" │ ").dark_gray();
    let mut spans = vec![Span::raw(model.devnet.clone()).bold()];
    if model.paused {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            " PAUSED ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(attack) = &model.attack {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" ⚔ {attack} "),
            Style::new()
                .fg(Color::White)
                .bg(ATTACK)
                .add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(sep());
    let slot = match (model.slot, model.slots_target) {
        (Some(s), Some(t)) => format!("slot {s}/{t}"),
        (Some(s), None) => format!("slot {s}"),
        (None, Some(t)) => format!("slot –/{t}"),
        (None, None) => "slot –".to_owned(),
    };
    spans.push(Span::raw(slot).bold());
    spans.push(sep());
    spans.push(Span::raw(format!(
        "phase {}",
        model.phase.map_or("–", Phase::label)
    )));
    if let Some(p) = model.proposer {
        spans.push(sep());
        let who = model
            .node(&p)
            .map_or_else(|| crate::app::short_addr(&p), |r| r.info.name.clone());
        spans.push(Span::raw(format!("proposer {who}")));
    }
    spans.push(sep());
    spans.push(Span::raw(format!("runtime {}", model.runtime)));
    spans.push(sep());
    spans.push(Span::raw(format!("seed {}", model.seed)));
    Line::from(spans)
}

/// The fill of `phase`'s segment: past phases full, the current one by elapsed
/// time over its window, later ones empty.
pub(crate) fn segment_ratio(model: &Model, phase: Phase) -> f64 {
    match model.phase {
        Some(cur) if phase < cur => 1.0,
        Some(cur) if phase == cur && model.phase_window_s > 0.0 => {
            (model.phase_elapsed_s / model.phase_window_s).clamp(0.0, 1.0)
        }
        _ => 0.0,
    }
}

fn render_gauge(frame: &mut Frame, area: Rect, model: &Model) {
    let segments = Layout::horizontal([Constraint::Fill(1); 5])
        .spacing(1)
        .split(area);
    for (phase, seg) in Phase::ALL.into_iter().zip(segments.iter()) {
        let current = model.phase == Some(phase);
        let past = model.phase.is_some_and(|cur| phase < cur);
        let (label, fg) = if current {
            let label = if model.phase_window_s > 0.0 {
                format!(
                    "{phase} {:.1}/{:.1}s",
                    model.phase_elapsed_s, model.phase_window_s
                )
            } else {
                phase.label().to_owned()
            };
            (Span::raw(label).bold(), CURRENT)
        } else if past {
            (Span::raw(format!("{phase} ✓")), PAST)
        } else {
            (Span::raw(phase.label()), TRACK)
        };
        let gauge = Gauge::default()
            .ratio(segment_ratio(model, phase))
            .label(label)
            .use_unicode(true)
            .gauge_style(Style::new().fg(fg).bg(TRACK));
        frame.render_widget(gauge, *seg);
    }
}
