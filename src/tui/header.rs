//! The header: devnet, slot and phase, the PAUSED badge, the mechanism and its parameters,
//! and the T1–T5 phase gauge.

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
/// Colour of the mechanism and its parameters.
pub(crate) const MECHANISM: Color = Color::Magenta;
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
    if let Some(m) = mechanism_label(model) {
        spans.push(sep());
        spans.push(Span::raw(m).fg(MECHANISM));
    }
    Line::from(spans)
}

/// `mechanism <kind> <name>=<value> …` once the engine announced its mechanism
/// ([`crate::protocol::Event::MechanismChosen`]), else `None`.
pub(crate) fn mechanism_label(model: &Model) -> Option<String> {
    let (kind, params) = model.mechanism.as_ref()?;
    let mut s = format!("mechanism {kind}");
    for (k, v) in params {
        s.push_str(&format!(" {k}={v}"));
    }
    Some(s)
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

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::app::{Msg, update};
    use crate::mechanism::rules::{Delivery, Request};
    use crate::protocol::Event;

    fn announced() -> Model {
        let mut m = Model::new("mech", "inproc", 7);
        update(
            &mut m,
            Msg::Engine(Event::MechanismChosen {
                kind: "designated".into(),
                params: vec![("m".into(), "2".into()), ("q".into(), "0.5".into())],
            }),
        );
        m
    }

    #[test]
    fn the_header_shows_the_mechanism_once_announced() {
        assert_eq!(mechanism_label(&Model::new("d", "inproc", 0)), None);
        let m = announced();
        assert_eq!(
            mechanism_label(&m).as_deref(),
            Some("mechanism designated m=2 q=0.5")
        );
        let mut t = Terminal::new(TestBackend::new(120, HEIGHT)).unwrap();
        t.draw(|f| render(f, f.area(), &m)).unwrap();
        let buf = t.backend().buffer().clone();
        let row: String = (0..120).map(|x| buf[(x, 1)].symbol().to_owned()).collect();
        assert!(row.contains("mechanism designated m=2 q=0.5"), "{row}");
        let x = row.find("mechanism").unwrap();
        // Column of the first char (the row is ASCII up to the box-drawing separators).
        let col = row[..x].chars().count() as u16;
        assert_eq!(buf[(col, 1)].fg, MECHANISM);
    }

    #[test]
    fn each_settled_slot_logs_who_was_asked_delivered_paid_and_slashed() {
        let mut m = announced();
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        update(
            &mut m,
            Msg::Engine(Event::MechanismSettled {
                slot: 3,
                kind: "designated".into(),
                request: Box::new(Request {
                    designated: Some(a),
                    asked: vec![a, b],
                    ..Request::default()
                }),
                deliveries: vec![
                    Delivery {
                        prover: a,
                        delivered: false,
                        amount: 0,
                    },
                    Delivery {
                        prover: b,
                        delivered: true,
                        amount: 2,
                    },
                ],
                delivered: vec![b],
                payments: vec![],
                slashes: vec![(a, 50)],
                liveness_fault: false,
                capacity_oracle: None,
            }),
        );
        let last = m.log.iter().last().unwrap();
        assert_eq!(last.slot, Some(3));
        let (sa, sb) = (crate::app::short_addr(&a), crate::app::short_addr(&b));
        assert_eq!(
            last.text,
            format!("designated: asked {sa}*, {sb}; delivered {sb}; paid –; slashed {sa} 50")
        );
    }
}
