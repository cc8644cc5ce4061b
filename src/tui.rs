//! The terminal UI: pure views of the [`Model`] and the terminal loop that feeds [`update`].
//!
//! [`draw`] is a pure function of the model; one file per widget lives in `tui/`.
//! [`run`] owns the terminal: it enters raw mode and the alternate screen
//! (restored by a drop guard and by the panic hook that `ratatui::try_init`
//! installs), then runs one `tokio::select!` over the cancellation token, a render
//! tick, crossterm's key events and the orchestrator's messages. Logs must never
//! reach the screen: the orchestrator sends tracing output to a file.

mod attack_menu;
mod event_log;
mod footer;
mod header;
mod help;
mod history;
mod nodes;
mod outcome;
mod warnings;

use std::time::Duration;

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures::StreamExt;
use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::app::{Action, Effect, Key, LogLine, Model, Msg, action_for, action_in, update};

/// How often the screen is redrawn (when something changed).
pub const RENDER_INTERVAL: Duration = Duration::from_millis(100);

/// Draw the whole screen for `model`. Pure: reads the model, writes the frame.
///
/// Top to bottom: header, nodes table (with the outcome panel and the warnings
/// list beside it on a wide terminal), slot-history strip, event log, footer; the
/// attack menu and then the help popup over everything when open. On a small
/// terminal the header keeps its rows first, then the footer, the nodes table and
/// the rest; the side column goes first, and the history strip then carries a
/// one-line summary of it.
pub fn draw(frame: &mut Frame, model: &Model) {
    let mut rest = frame.area();
    let header = take_top(&mut rest, header::HEIGHT);
    let footer = if rest.height >= footer::HEIGHT + 3 {
        take_bottom(&mut rest, footer::HEIGHT)
    } else {
        Rect::default()
    };
    let body = split_body(rest, model);

    header::render(frame, header, model);
    if !body.nodes.is_empty() {
        nodes::render(frame, body.nodes, model);
    }
    if !body.outcome.is_empty() {
        outcome::render(frame, body.outcome, model);
    }
    if !body.warnings.is_empty() {
        warnings::render(frame, body.warnings, model);
    }
    if !body.history.is_empty() {
        let summary = body.outcome.is_empty() && body.warnings.is_empty();
        history::render(frame, body.history, model, summary);
    }
    if !body.log.is_empty() {
        event_log::render(frame, body.log, model);
    }
    if !footer.is_empty() {
        footer::render(frame, footer, model);
    }
    if let Some(menu) = &model.attack_menu {
        attack_menu::render(frame, frame.area(), model, menu);
    }
    if model.show_help {
        help::render(frame, frame.area());
    }
}

/// Cut the top `height` rows (at most all) off `area`.
fn take_top(area: &mut Rect, height: u16) -> Rect {
    let h = height.min(area.height);
    let top = Rect { height: h, ..*area };
    area.y += h;
    area.height -= h;
    top
}

/// Cut the bottom `height` rows (at most all) off `area`.
fn take_bottom(area: &mut Rect, height: u16) -> Rect {
    let h = height.min(area.height);
    area.height -= h;
    Rect {
        y: area.y + area.height,
        height: h,
        ..*area
    }
}

/// Cut the right `width` columns (at most all) off `area`.
fn take_right(area: &mut Rect, width: u16) -> Rect {
    let w = width.min(area.width);
    area.width -= w;
    Rect {
        x: area.x + area.width,
        width: w,
        ..*area
    }
}

/// Width of the nodes table with addresses but without endpoints.
const NODES_MIN_WIDTH: u16 = 81;
/// The side column (outcome and warnings) is shown at least this wide, or not at all.
const SIDE_MIN_WIDTH: u16 = 36;
/// The side column never grows wider.
const SIDE_MAX_WIDTH: u16 = 56;
/// Rows the nodes band gets at least when the side column is shown.
const SIDE_MIN_HEIGHT: u16 = 10;

/// Where the body's widgets go; an empty rect is not drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Body {
    nodes: Rect,
    outcome: Rect,
    warnings: Rect,
    history: Rect,
    log: Rect,
}

/// Split the body into nodes table (with the side column of outcome and warnings
/// on its right when wide enough), history strip and event log. The nodes band
/// gets what it wants unless that would leave the log less than a third (at most
/// 8 rows); a log with no room for a line is dropped.
fn split_body(mut body: Rect, model: &Model) -> Body {
    let history_h = if body.height >= 3 * history::HEIGHT {
        history::HEIGHT
    } else {
        0
    };
    let side_w = body
        .width
        .saturating_sub(NODES_MIN_WIDTH)
        .min(SIDE_MAX_WIDTH);
    let side = side_w >= SIDE_MIN_WIDTH;
    let rest_h = body.height - history_h;
    let log_min = (rest_h / 3).min(8);
    let mut wanted = nodes::wanted_height(model.nodes.len());
    if side {
        wanted = wanted.max(SIDE_MIN_HEIGHT);
    }
    let mut nodes_h = wanted.min(rest_h - log_min);
    if rest_h - nodes_h < 3 {
        nodes_h = rest_h;
    }
    let mut nodes_area = take_top(&mut body, nodes_h);
    let history = take_top(&mut body, history_h);
    let (outcome, warnings) = if side && nodes_area.height >= 6 {
        let mut column = take_right(&mut nodes_area, side_w);
        // The outcome panel gets what it wants up to about half the column (at
        // least its fixed lines), the warnings the rest unless that is < 3 rows.
        let cap = (column.height / 2 + 1).max(7);
        let outcome_h = outcome::wanted_height(model, side_w).min(cap);
        let outcome_h = if column.height >= outcome_h + 3 {
            outcome_h
        } else {
            column.height
        };
        (take_top(&mut column, outcome_h), column)
    } else {
        (Rect::default(), Rect::default())
    };
    Body {
        nodes: nodes_area,
        outcome,
        warnings,
        history,
        log: body,
    }
}

/// The terminal-independent [`Key`] of a crossterm key event (presses and repeats
/// only; releases and unbound modifier combinations give `None`).
#[must_use]
pub fn key_of(event: &KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    match event.code {
        KeyCode::Char(c) if ctrl => Some(Key::Ctrl(c.to_ascii_lowercase())),
        KeyCode::Char(c)
            if !event
                .modifiers
                .intersects(KeyModifiers::ALT | KeyModifiers::SUPER) =>
        {
            Some(Key::Char(c))
        }
        KeyCode::Up => Some(Key::Up),
        KeyCode::Down => Some(Key::Down),
        KeyCode::Left => Some(Key::Left),
        KeyCode::Right => Some(Key::Right),
        KeyCode::Tab => Some(Key::Tab),
        KeyCode::BackTab => Some(Key::BackTab),
        KeyCode::Enter => Some(Key::Enter),
        KeyCode::Esc => Some(Key::Esc),
        _ => None,
    }
}

/// The [`Action`] a crossterm key event triggers on the main screen, through
/// [`crate::app::KEYBINDINGS`].
#[must_use]
pub fn action_of(event: &KeyEvent) -> Option<Action> {
    key_of(event).and_then(action_for)
}

/// The [`Action`] a crossterm key event triggers in `model`'s current
/// [`crate::app::KeyContext`] (the attack menu's keys while it is open).
#[must_use]
pub fn action_in_model(model: &Model, event: &KeyEvent) -> Option<Action> {
    key_of(event).and_then(|k| action_in(model.key_context(), k))
}

/// Restores the terminal when dropped (normal return, `?` error or unwinding).
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Run the TUI until the user quits or `cancel` fires; returns the final model.
///
/// Every [`Msg`] from `msgs`, every mapped key and every tick goes through
/// [`update`]; the resulting [`Effect`]s are sent on `effects` (including
/// [`Effect::Quit`] when the user presses `q`). When `msgs` closes, the final
/// state stays on screen (with a log line saying so) until the user quits.
///
/// Enters raw mode and the alternate screen with `ratatui::try_init`, which also
/// installs a panic hook that restores the terminal before the panic message is
/// printed; a drop guard restores it on every return path.
///
/// # Errors
/// Terminal setup, drawing or reading terminal events failed.
pub async fn run(
    mut model: Model,
    mut msgs: UnboundedReceiver<Msg>,
    effects: UnboundedSender<Effect>,
    cancel: CancellationToken,
) -> anyhow::Result<Model> {
    let _guard = RestoreGuard;
    let mut terminal = ratatui::try_init()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(RENDER_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut msgs_open = true;
    let mut dirty = true;
    loop {
        if model.should_quit {
            break;
        }
        let (msg, redraw_now) = tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => (Msg::Tick, dirty),
            ev = keys.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => match action_in_model(&model, &k) {
                    Some(a) => (Msg::Key(a), true),
                    None => continue,
                },
                Some(Ok(TermEvent::Resize(..))) => {
                    dirty = true;
                    continue;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                // No more terminal input: nobody can press q any more.
                None => break,
            },
            m = msgs.recv(), if msgs_open => match m {
                Some(m) => (m, false),
                None => {
                    msgs_open = false;
                    (Msg::Log(LogLine::info(model.slot, "devnet stopped; press q to quit")), true)
                }
            },
        };
        let changes = !matches!(msg, Msg::Tick);
        for effect in update(&mut model, msg) {
            // The orchestrator may already be gone; the model still records the quit.
            let _ = effects.send(effect);
        }
        dirty |= changes;
        if redraw_now {
            terminal.draw(|f| draw(f, &model))?;
            dirty = false;
        }
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Modifier};

    use super::*;
    use crate::app::fixtures::{self, addr};
    use crate::app::{EventLog, NodeStatus};
    use crate::protocol::{EntryKind, Event, LedgerEntry, Phase, WarningKind};

    fn render(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, model)).unwrap();
        terminal
    }

    /// Position of the first occurrence of `needle` in the buffer, if any.
    fn locate(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
        for y in 0..buf.area.height {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(i) = row.find(needle) {
                let x = row[..i].chars().count() as u16;
                return Some((x, y));
            }
        }
        None
    }

    /// Position of the first occurrence of `needle` in the buffer.
    fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
        locate(buf, needle).unwrap_or_else(|| panic!("{needle:?} not on screen"))
    }

    /// Position of `needle` in the first row that holds `row_needle`.
    fn find_in_row(buf: &Buffer, row_needle: &str, needle: &str) -> (u16, u16) {
        for y in 0..buf.area.height {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(r) = row.find(row_needle)
                && let Some(i) = row[r..].find(needle)
            {
                let x = row[..r + i].chars().count() as u16;
                return (x, y);
            }
        }
        panic!("{needle:?} after {row_needle:?} not on screen");
    }

    /// The model of [`fixtures::model`] with the attack menu open on
    /// `invalid_proof`, the targets focused and prover-8 unpicked.
    fn menu_model() -> Model {
        let mut model = fixtures::model();
        for a in [
            Action::OpenAttackMenu,
            Action::MenuDown,
            Action::MenuDown,
            Action::MenuDown,
            Action::MenuNextField,
            Action::MenuDown,
            Action::MenuToggle,
        ] {
            update(&mut model, Msg::Key(a));
        }
        model
    }

    #[test]
    fn main_screen() {
        let terminal = render(&fixtures::model(), 120, 40);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn help_popup() {
        let mut model = fixtures::model();
        update(&mut model, Msg::Key(Action::ToggleHelp));
        let terminal = render(&model, 120, 40);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn paused_screen() {
        let mut model = fixtures::model();
        update(&mut model, Msg::Key(Action::TogglePause));
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "PAUSED");
        assert_eq!(buf[(x, y)].bg, Color::Yellow);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn tiny_terminal_keeps_the_header() {
        let mut model = fixtures::model();
        let terminal = render(&model, 60, 15);
        insta::assert_snapshot!(terminal.backend());
        find(terminal.backend().buffer(), "default");
        find(terminal.backend().buffer(), "slot 3/10");
        // Even smaller, with the help popup: no panic.
        update(&mut model, Msg::Key(Action::ToggleHelp));
        for (w, h) in [(20, 5), (1, 1), (0, 0), (200, 3)] {
            render(&model, w, h);
        }
    }

    #[test]
    fn empty_model_renders() {
        let terminal = render(&Model::new("default", "auto", 7), 80, 20);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn liveness_fault_cell_is_red_and_finalized_cell_green() {
        let terminal = render(&fixtures::model(), 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "2 LF");
        assert_eq!(buf[(x, y)].bg, Color::Red);
        let (x, y) = find(buf, "1 T3");
        assert_eq!(
            buf[(x, y)].bg,
            history::outcome_color(crate::protocol::Outcome::FinalizedT3)
        );
        let (x, y) = find(buf, "3 T2…");
        assert_eq!(buf[(x, y)].bg, Color::DarkGray);
    }

    #[test]
    fn status_cells_are_coloured() {
        let mut model = fixtures::model();
        update(
            &mut model,
            Msg::Engine(Event::Ledger(LedgerEntry {
                slot: 3,
                phase: Phase::T2,
                node: addr("prover-7"),
                kind: EntryKind::Slash,
                amount: 100,
                rule: "equivocation".to_owned(),
                applied: 100,
            })),
        );
        assert_eq!(
            model.node(&addr("prover-7")).unwrap().status,
            NodeStatus::Slashed
        );
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find_in_row(buf, "prover-7 ", "slashed");
        assert_eq!(buf[(x, y)].fg, Color::Red);
        let (x, y) = find(buf, "committed");
        assert_eq!(buf[(x, y)].fg, Color::Blue);
        let (x, y) = find(buf, "down ");
        assert_eq!(buf[(x, y)].fg, Color::DarkGray);
        let (x, y) = find(buf, "conservation ok");
        assert_eq!(buf[(x, y)].fg, Color::Green);
    }

    #[test]
    fn conservation_violation_is_red() {
        let mut model = fixtures::model();
        model.conservation_ok = false;
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "VIOLATED");
        assert_eq!(buf[(x, y)].bg, Color::Red);
    }

    #[test]
    fn gauge_fills_past_and_current_phases() {
        let model = fixtures::model();
        assert_eq!(header::segment_ratio(&model, Phase::T1), 1.0);
        assert_eq!(header::segment_ratio(&model, Phase::T2), 1.5 / 4.0);
        assert_eq!(header::segment_ratio(&model, Phase::T3), 0.0);
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        // The first cell of the T1 segment is filled green, T2's cyan, T3's empty.
        let (x, y) = find(buf, "T1 ✓");
        assert_eq!(buf[(1, y)].fg, header::PAST);
        assert!(x > 1);
        let (_, y2) = find(buf, "T2 1.5/4.0s");
        assert_eq!(y, y2);
    }

    #[test]
    fn dropped_counter_is_shown() {
        let mut model = fixtures::model();
        model.log = EventLog::with_capacity(4);
        for i in 0..10 {
            update(
                &mut model,
                Msg::Log(LogLine::info(Some(3), format!("line {i}"))),
            );
        }
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        find(buf, "dropped: 6");
        find(buf, "line 9");
        assert_eq!(model.log.dropped(), 6);
    }

    #[test]
    fn selected_row_is_highlighted() {
        let mut model = fixtures::model();
        update(&mut model, Msg::Key(Action::Down));
        update(&mut model, Msg::Key(Action::Down));
        let terminal = render(&model, 120, 40);
        let (_, y) = find(terminal.backend().buffer(), "▶ validator-3");
        let (_, y3) = find(terminal.backend().buffer(), "validator-3");
        assert_eq!(y, y3);
    }

    #[test]
    fn attack_menu_popup() {
        let model = menu_model();
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        // The chosen strategy is highlighted in the focus colour only while its
        // field is focused; the focused field here is the targets list.
        let (x, y) = find(buf, "[ ] prover-8");
        assert_eq!(buf[(x, y)].fg, attack_menu::FOCUS);
        assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
        let (x, y) = find(buf, "invalid_proof");
        assert!(!buf[(x, y)].modifier.contains(Modifier::REVERSED));
        find(buf, "Enter: strategy invalid_proof on prover-7, slot 4");
        // The footer shows the menu's keys.
        find(buf, "Enter launch");
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn attack_menu_number_field_and_errors() {
        let mut model = fixtures::model();
        update(&mut model, Msg::Key(Action::OpenAttackMenu));
        for _ in 0..7 {
            update(&mut model, Msg::Key(Action::MenuDown));
        }
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        find(buf, "capacity");
        find(buf, "◂ 2 ▸  default 2");
        find(
            buf,
            "Enter: strategy sybil:2 on every corrupted prover, slot 4",
        );
        // Unpick both targets: Enter refuses, in red.
        for a in [
            Action::MenuNextField,
            Action::MenuNextField,
            Action::MenuToggle,
            Action::MenuDown,
            Action::MenuToggle,
            Action::MenuLaunch,
        ] {
            update(&mut model, Msg::Key(a));
        }
        let terminal = render(&model, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "✗ pick at least one target");
        assert_eq!(buf[(x, y)].fg, Color::Red);
        // Small terminals: no panic.
        for (w, h) in [(40, 10), (1, 1), (0, 0)] {
            render(&model, w, h);
        }
    }

    #[test]
    fn attacked_slots_are_marked_and_keep_outcome_colours() {
        let terminal = render(&fixtures::model(), 120, 40);
        let buf = terminal.backend().buffer();
        for (cell, bg) in [
            (
                "⚔ 1 T3",
                history::outcome_color(crate::protocol::Outcome::FinalizedT3),
            ),
            ("⚔ 2 LF", Color::Red),
            ("⚔ 3 T2…", Color::DarkGray),
        ] {
            let (x, y) = find(buf, cell);
            assert_eq!(buf[(x, y)].fg, history::ATTACK_COLOR, "{cell}");
            assert_eq!(buf[(x + 2, y)].bg, bg, "{cell}");
            assert!(buf[(x + 2, y)].modifier.contains(Modifier::UNDERLINED));
        }
        find(buf, "slots: 2 settled, 1 liveness fault, 3 attacked");
        // The running attack in the header.
        let (x, y) = find(buf, " ⚔ withhold ");
        assert_eq!(buf[(x, y)].bg, header::ATTACK);
        // Without an attack: no mark.
        let mut model = fixtures::model();
        model.attacked.clear();
        model.attack = None;
        let terminal = render(&model, 120, 40);
        let row = (0..120)
            .map(|x| terminal.backend().buffer()[(x, 21)].symbol().to_owned())
            .collect::<String>();
        assert!(!row.contains('⚔'), "{row}");
        assert!(row.contains("1 T3"), "{row}");
    }

    #[test]
    fn warnings_panel_colours_each_kind() {
        let terminal = render(&fixtures::model(), 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, " warnings (2) ");
        assert_eq!(buf[(x + 1, y)].fg, Color::Yellow);
        // Newest first: slot 3's equivocation above slot 1's stolen proof.
        let (xe, ye) = find(buf, "equivocation");
        assert_eq!(
            buf[(xe, ye)].fg,
            warnings::kind_color(WarningKind::Equivocation)
        );
        assert_eq!(buf[(xe, ye)].fg, Color::Magenta);
        let (xs, ys) = find(buf, "stolen proof");
        assert_eq!(buf[(xs, ys)].fg, Color::LightRed);
        assert_eq!(ys, ye + 1);
        find_in_row(buf, "s3   T2 prover-7", "equivocation");
        find_in_row(buf, "s1   T2 prover-7", "stolen proof");
        assert_eq!(warnings::kind_color(WarningKind::InvalidProof), Color::Red);
        assert_eq!(warnings::kind_color(WarningKind::Late), Color::Yellow);
    }

    #[test]
    fn outcome_panel_shows_the_settled_totals() {
        let terminal = render(&fixtures::model(), 120, 40);
        let buf = terminal.backend().buffer();
        find(buf, " outcome · 2 slots ");
        let (x, y) = find(buf, "attacker  lost 5200 · earned 0");
        assert_eq!(buf[(x, y)].fg, outcome::ATTACKER);
        find(buf, "slashed 5000 · penalized 200");
        let (x, y) = find(buf, "loss 1260");
        assert_eq!(buf[(x, y)].fg, Color::Red);
        find(buf, "paid 260 + 1 LF × 1000");
        let (x, y) = find(buf, "honest    prover-2 −100");
        assert_eq!(buf[(x + 10, y)].fg, outcome::HURT);
        // Nobody hurt: green.
        let mut model = fixtures::model();
        model.outcome.honest_hurt.clear();
        let terminal = render(&model, 120, 40);
        let (x, y) = find(terminal.backend().buffer(), "none hurt");
        assert_eq!(terminal.backend().buffer()[(x, y)].fg, outcome::UNHURT);
    }

    #[test]
    fn narrow_screen_summarises_the_side_column() {
        let terminal = render(&fixtures::model(), 100, 30);
        let buf = terminal.backend().buffer();
        assert_eq!(locate(buf, " outcome "), None);
        assert_eq!(locate(buf, " warnings ("), None);
        let (x, y) = find(buf, "⚠2 · loss 1260 · adv −5200 · 1 honest hurt");
        assert_eq!(buf[(x, y)].fg, Color::Yellow);
        insta::assert_snapshot!(terminal.backend());
    }

    /// Needs a real terminal (ignored by default): run the test binary under a pty
    /// with `--ignored run_loop_quits_on_q` and press `q` within ten seconds.
    #[tokio::test]
    #[ignore = "needs a terminal and a key press"]
    async fn run_loop_quits_on_q() {
        let (msg_tx, msg_rx) = tokio::sync::mpsc::unbounded_channel();
        let (eff_tx, mut eff_rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        for m in fixtures::msgs() {
            msg_tx.send(m).unwrap();
        }
        drop(msg_tx);
        let timeout = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            timeout.cancel();
        });
        let model = run(Model::new("default", "inproc", 42), msg_rx, eff_tx, cancel)
            .await
            .unwrap();
        assert!(model.should_quit, "q was not pressed");
        assert_eq!(eff_rx.recv().await, Some(Effect::Quit));
        assert_eq!(model.history.len(), 2);
        assert!(model.log.iter().any(|l| l.text.contains("devnet stopped")));
    }

    #[test]
    fn crossterm_keys_map_through_keybindings() {
        let press = |code, mods| KeyEvent::new(code, mods);
        assert_eq!(
            action_of(&press(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_of(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_of(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_of(&press(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Action::CloseHelp)
        );
        assert_eq!(
            action_of(&press(KeyCode::Up, KeyModifiers::NONE)),
            Some(Action::Up)
        );
        assert_eq!(
            action_of(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            action_of(&press(KeyCode::Char('q'), KeyModifiers::ALT)),
            None
        );
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(action_of(&release), None);
        // The attack menu's keys, live only while it is open.
        let mut model = fixtures::model();
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(action_in_model(&model, &enter), None);
        assert_eq!(
            action_in_model(&model, &press(KeyCode::Char('a'), KeyModifiers::NONE)),
            Some(Action::OpenAttackMenu)
        );
        update(&mut model, Msg::Key(Action::OpenAttackMenu));
        assert_eq!(action_in_model(&model, &enter), Some(Action::MenuLaunch));
        for (code, mods, action) in [
            (KeyCode::Tab, KeyModifiers::NONE, Action::MenuNextField),
            (KeyCode::BackTab, KeyModifiers::SHIFT, Action::MenuPrevField),
            (KeyCode::Right, KeyModifiers::NONE, Action::MenuNextField),
            (KeyCode::Left, KeyModifiers::NONE, Action::MenuPrevField),
            (KeyCode::Char(' '), KeyModifiers::NONE, Action::MenuToggle),
            (KeyCode::Char('+'), KeyModifiers::SHIFT, Action::MenuPlus),
            (KeyCode::Char('-'), KeyModifiers::NONE, Action::MenuMinus),
            (KeyCode::Esc, KeyModifiers::NONE, Action::MenuClose),
        ] {
            assert_eq!(action_in_model(&model, &press(code, mods)), Some(action));
        }
        assert_eq!(
            action_in_model(&model, &press(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
    }
}
