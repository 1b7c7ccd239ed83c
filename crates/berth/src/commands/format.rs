//! Output shaped like the docker CLI's formatter: `--format table|json|TEMPLATE`, where
//! TEMPLATE is the subset of Go templates people type (`{{.Field}}`, `{{json .}}`,
//! `{{json .Field}}`, literal text, `\t` and `\n`), a `table ` prefix adds a header row and
//! aligns columns as Go's tabwriter does (min width 10, padding 3); sizes in Docker's units.

use serde_json::{Map, Value};

enum Part {
    Text(String),
    Field(String),
    Json(Option<String>),
}

pub struct Template {
    table: bool,
    parts: Vec<Part>,
}

fn bad(format: &str, why: impl std::fmt::Display) -> String {
    format!("template parsing error: {why} in {format:?}")
}

impl Template {
    /// Parse a `--format` value; `fields` are the names rows have.
    pub fn parse(format: &str, fields: &[&str]) -> Result<Template, String> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\t']) => (true, rest),
            _ => (false, format),
        };
        let body = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| bad(format, "unclosed action"))?;
            let action = after[..close].trim().trim_matches('-').trim();
            let field = |f: &str| -> Result<String, String> {
                let name = f
                    .strip_prefix('.')
                    .filter(|n| fields.contains(n))
                    .ok_or_else(|| {
                        bad(
                            format,
                            format!("can't evaluate field {f:?} (fields: {})", fields.join(", ")),
                        )
                    })?;
                Ok(name.to_string())
            };
            let words: Vec<&str> = action.split_whitespace().collect();
            parts.push(match words.as_slice() {
                ["json", "."] => Part::Json(None),
                ["json", f] => Part::Json(Some(field(f)?)),
                [f] => Part::Field(field(f)?),
                _ => return Err(bad(format, format!("unsupported action {{{{{action}}}}}"))),
            });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { table, parts })
    }

    fn render_with(&self, f: impl Fn(&Part) -> String) -> String {
        self.parts.iter().map(f).collect()
    }

    pub fn render(&self, row: &Map<String, Value>) -> String {
        self.render_with(|p| match p {
            Part::Text(t) => t.clone(),
            Part::Field(name) => match &row[name] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            },
            Part::Json(None) => Value::Object(row.clone()).to_string(),
            Part::Json(Some(name)) => row[name].to_string(),
        })
    }

    pub fn header(&self, headers: &[(&str, &str)]) -> String {
        self.render_with(|p| match p {
            Part::Text(t) => t.clone(),
            Part::Field(name) | Part::Json(Some(name)) => headers
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, h)| h.to_string())
                .unwrap_or_else(|| name.to_ascii_uppercase()),
            Part::Json(None) => String::new(),
        })
    }

    /// Print `rows`: with a header and aligned columns for `table`, as is otherwise.
    pub fn print(&self, rows: &[Map<String, Value>], headers: &[(&str, &str)]) {
        let mut lines: Vec<String> = Vec::new();
        if self.table {
            lines.push(self.header(headers));
        }
        lines.extend(rows.iter().map(|r| self.render(r)));
        let text = lines.join("\n");
        if self.table {
            print!("{}", tabwriter(&text));
        } else {
            for l in lines {
                println!("{l}");
            }
        }
    }
}

/// Go's text/tabwriter with Docker's settings: a cell ends at a tab and is padded to its
/// column's widest cell plus 3 (at least 10); the text after a line's last tab is not.
pub fn tabwriter(text: &str) -> String {
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut width = vec![10usize; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            width[i] = width[i].max(c.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                out.push_str(&" ".repeat(width[i] - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// Docker's sizes: decimal units, 3 significant digits (`4.26MB`, `123kB`, `0B`).
pub fn human_size(bytes: u64) -> String {
    human_size_digits(bytes, 3)
}

/// As [`human_size`] with `precision` significant digits (`image prune` prints 4).
pub fn human_size_digits(bytes: u64, precision: i32) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    let digits = if v < 1.0 {
        1
    } else {
        v.log10().floor() as i32 + 1
    };
    let decimals = (precision - digits).max(0) as usize;
    let mut n = format!("{v:.decimals$}");
    if n.contains('.') {
        n = n.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{n}{}", units[u])
}

/// Shorten to `max` characters with a trailing `…`, as Docker truncates long cells.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// JSON with Docker's 4-space indentation (serde_json's pretty form uses 2; strings never
/// hold a raw newline, so leading spaces are only indentation).
pub fn pretty(v: &serde_json::Value) -> String {
    let two = serde_json::to_string_pretty(v).expect("JSON of a Value");
    two.lines()
        .map(|l| {
            let body = l.trim_start_matches(' ');
            format!("{}{body}", " ".repeat(2 * (l.len() - body.len())))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(4_261_234), "4.26MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1_000_000), "1MB");
    }

    #[test]
    fn templates_render_fields_json_and_tables() {
        let row = json!({"ID": "abc", "Tag": "v1"})
            .as_object()
            .unwrap()
            .clone();
        let t = Template::parse("{{.ID}}:{{ .Tag }}\\t!", &["ID", "Tag"]).unwrap();
        assert_eq!(t.render(&row), "abc:v1\t!");
        let j = Template::parse("{{json .}}", &["ID", "Tag"]).unwrap();
        assert_eq!(j.render(&row), r#"{"ID":"abc","Tag":"v1"}"#);
        assert!(Template::parse("{{.Nope}}", &["ID"]).is_err());
        assert!(Template::parse("{{.ID", &["ID"]).is_err());
        let tab = Template::parse("table {{.ID}}\\t{{.Tag}}", &["ID", "Tag"]).unwrap();
        assert_eq!(tab.header(&[("ID", "IMAGE ID")]), "IMAGE ID\tTAG");
        assert_eq!(
            tabwriter("REPOSITORY\tTAG\tSIZE\nbusybox\tlatest\t1MB"),
            "REPOSITORY   TAG       SIZE\nbusybox      latest    1MB\n"
        );
    }
}
