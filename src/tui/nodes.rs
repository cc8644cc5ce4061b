//! The nodes table: name, role, address, stake, balance, assignment and status per node.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, HighlightSpacing, Row, Table, TableState};

use crate::app::{Model, NodeRow, NodeStatus, short_addr};
use crate::protocol::Role;

/// Rows the table wants for `n` nodes (borders and header included).
pub(crate) fn wanted_height(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX).saturating_add(3)
}

/// The colour of a status cell.
pub(crate) fn status_color(status: NodeStatus) -> Color {
    match status {
        NodeStatus::Idle => Color::Gray,
        NodeStatus::Selected => Color::Cyan,
        NodeStatus::Committed => Color::Blue,
        NodeStatus::Proved => Color::LightBlue,
        NodeStatus::Aggregated => Color::Magenta,
        NodeStatus::Paid => Color::Green,
        NodeStatus::Penalized => Color::Yellow,
        NodeStatus::Slashed => Color::Red,
        NodeStatus::Down => Color::DarkGray,
    }
}

fn role_label(model: &Model, row: &NodeRow) -> String {
    match row.info.role {
        Role::Validator if model.proposer == Some(row.info.address) => "validator ★".to_owned(),
        Role::Validator => "validator".to_owned(),
        Role::Prover if row.info.adversary_controlled => "prover ⚠adv".to_owned(),
        Role::Prover => "prover".to_owned(),
        Role::Adversary => "adversary".to_owned(),
    }
}

fn assignment_label(assignment: &[u32]) -> String {
    if assignment.is_empty() {
        "–".to_owned()
    } else {
        assignment
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn right(text: String) -> Cell<'static> {
    Cell::from(Line::from(text).right_aligned())
}

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Role,
    Address,
    Stake,
    Balance,
    Assigned,
    Status,
    Endpoint,
}

impl Column {
    /// Every column, left to right.
    const ALL: [Column; 8] = [
        Column::Name,
        Column::Role,
        Column::Address,
        Column::Stake,
        Column::Balance,
        Column::Assigned,
        Column::Status,
        Column::Endpoint,
    ];

    /// Columns dropped first when the table is too narrow, in dropping order.
    const DROP_ORDER: [Column; 4] = [
        Column::Endpoint,
        Column::Address,
        Column::Balance,
        Column::Assigned,
    ];

    /// Minimum width (the endpoint column takes what is left beyond it).
    fn width(self) -> u16 {
        match self {
            Column::Name | Column::Role | Column::Address => 12,
            Column::Stake | Column::Balance => 8,
            Column::Assigned => 9,
            Column::Status => 10,
            Column::Endpoint => 16,
        }
    }

    fn constraint(self) -> Constraint {
        match self {
            Column::Endpoint => Constraint::Fill(1),
            c => Constraint::Length(c.width()),
        }
    }

    fn header(self) -> Cell<'static> {
        match self {
            Column::Name => Cell::from("node"),
            Column::Role => Cell::from("role"),
            Column::Address => Cell::from("address"),
            Column::Stake => right("stake".to_owned()),
            Column::Balance => right("balance".to_owned()),
            Column::Assigned => Cell::from("assigned"),
            Column::Status => Cell::from("status"),
            Column::Endpoint => Cell::from("endpoint"),
        }
    }

    fn cell(self, model: &Model, row: &NodeRow) -> Cell<'static> {
        match self {
            Column::Name => Cell::from(row.info.name.clone()),
            Column::Role => {
                Cell::from(role_label(model, row)).style(if row.info.adversary_controlled {
                    Style::new().fg(Color::LightRed)
                } else {
                    Style::new()
                })
            }
            Column::Address => Cell::from(short_addr(&row.info.address)),
            Column::Stake => right(row.stake.to_string()),
            Column::Balance => right(row.balance.to_string()),
            Column::Assigned => Cell::from(assignment_label(&row.assignment)),
            Column::Status => {
                Cell::from(row.status.label()).style(Style::new().fg(status_color(row.status)))
            }
            Column::Endpoint => match &row.container {
                // Docker: the container's state before its bridge address.
                Some(state) => Cell::from(format!("{state} {}", row.info.endpoint)).style(
                    if state == "running" {
                        Style::new()
                    } else {
                        Style::new().fg(Color::LightRed)
                    },
                ),
                None => Cell::from(row.info.endpoint.clone()),
            },
        }
    }
}

/// The columns that fit in `width` (inside the borders), dropping the least
/// important ones first.
fn columns_for(width: u16) -> Vec<Column> {
    let mut cols = Column::ALL.to_vec();
    let needed = |cols: &[Column]| -> u16 {
        // highlight symbol + columns + one space between columns
        let n = u16::try_from(cols.len()).unwrap_or(u16::MAX);
        2 + cols.iter().map(|c| c.width()).sum::<u16>() + n.saturating_sub(1)
    };
    for drop in Column::DROP_ORDER {
        if needed(&cols) <= width {
            break;
        }
        cols.retain(|c| *c != drop);
    }
    cols
}

/// Render the nodes table into `area`, the model's `selected_node` highlighted.
/// Narrow areas drop the endpoint, address, balance and assignment columns, in
/// that order.
pub(crate) fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let block = Block::bordered().title(format!(" nodes ({}) ", model.nodes.len()));
    let cols = columns_for(block.inner(area).width);
    let header = Row::new(cols.iter().map(|c| c.header()))
        .style(Style::new().add_modifier(Modifier::BOLD).fg(Color::Gray));
    let rows = model.nodes.iter().map(|row| {
        let r = Row::new(cols.iter().map(|c| c.cell(model, row)));
        if row.up {
            r
        } else {
            r.style(Style::new().fg(Color::DarkGray))
        }
    });
    let table = Table::new(rows, cols.iter().map(|c| c.constraint()))
        .header(header)
        .block(block)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶ ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default()
        .with_selected((!model.nodes.is_empty()).then_some(model.selected_node));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::{Column, columns_for};

    #[test]
    fn narrow_tables_drop_the_least_important_columns() {
        assert_eq!(columns_for(118), Column::ALL.to_vec());
        assert!(!columns_for(90).contains(&Column::Endpoint));
        assert!(columns_for(90).contains(&Column::Address));
        let narrow = columns_for(58);
        assert_eq!(
            narrow,
            vec![
                Column::Name,
                Column::Role,
                Column::Stake,
                Column::Assigned,
                Column::Status
            ]
        );
        assert_eq!(columns_for(10).len(), 4);
    }
}
