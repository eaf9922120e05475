//! A readable ASCII table of a frame, in the layout of the Go SDK's `Frame.StringTable`
//! (used in golden `.txt` files): a header cell per field with name, labels and Go type.

use std::fmt::Write;

use crate::error::Error;
use crate::frame::Frame;

/// The cell shown in place of the fields or rows that did not fit.
const ELIDED: &str = "...";

pub(crate) fn render(frame: &Frame, max_fields: usize, max_rows: usize) -> Result<String, Error> {
    let num_rows = frame.num_rows()?;
    let fields = frame.fields();
    let mut out = String::new();
    let _ = writeln!(out, "Name: {}", frame.name());
    let _ = writeln!(
        out,
        "Dimensions: {} Fields by {} Rows",
        fields.len(),
        num_rows
    );
    if fields.is_empty() {
        return Ok(out);
    }

    // As in Go: too many fields ⇒ the last shown column says how many are hidden; too many rows
    // ⇒ the last shown row is all "...".
    let max_fields = max_fields.max(2);
    let width = fields.len().min(max_fields);
    let too_wide = fields.len() > max_fields;
    let too_long = num_rows > max_rows;
    let shown_rows = if too_long {
        max_rows.saturating_sub(1)
    } else {
        num_rows
    };

    let mut columns: Vec<Vec<String>> = Vec::with_capacity(width);
    for (index, field) in fields.iter().take(width).enumerate() {
        if too_wide && index == width - 1 {
            let mut column = vec![format!("...+{} field...", fields.len() - index)];
            column.extend((0..shown_rows + usize::from(too_long)).map(|_| ELIDED.to_owned()));
            columns.push(column);
            break;
        }
        let labels = field.labels().map(ToString::to_string).unwrap_or_default();
        let mut column = Vec::with_capacity(shown_rows + 2);
        column.push(format!(
            "Name: {}\nLabels: {labels}\nType: {}",
            field.name(),
            field.go_type_name()
        ));
        column.extend(field.iter().take(shown_rows).map(|v| v.to_string()));
        if too_long {
            column.push(ELIDED.to_owned());
        }
        columns.push(column);
    }

    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            c.iter()
                .flat_map(|cell| cell.lines())
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let border = {
        let mut line = String::from("+");
        for w in &widths {
            line.push_str(&"-".repeat(w + 2));
            line.push('+');
        }
        line
    };
    let render_row = |out: &mut String, row: usize| {
        let cells: Vec<Vec<&str>> = columns
            .iter()
            .map(|c| c.get(row).map_or(vec![""], |s| s.split('\n').collect()))
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for line in 0..height {
            out.push('|');
            for (cell, w) in cells.iter().zip(&widths) {
                let text = cell.get(line).copied().unwrap_or("");
                let pad = w.saturating_sub(text.chars().count());
                let _ = write!(out, " {text}{} |", " ".repeat(pad));
            }
            out.push('\n');
        }
    };

    out.push_str(&border);
    out.push('\n');
    render_row(&mut out, 0);
    out.push_str(&border);
    out.push('\n');
    let body_rows = columns.first().map_or(0, |c| c.len().saturating_sub(1));
    for row in 1..=body_rows {
        render_row(&mut out, row);
    }
    if body_rows > 0 {
        out.push_str(&border);
        out.push('\n');
    }
    Ok(out)
}
