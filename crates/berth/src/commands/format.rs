//! Output shaped like the docker CLI's formatter. `--format` takes `table`, `json` or a Go
//! template: templates are Go's text/template (the `gotmpl` crate: pipelines, `if`/`range`/
//! `with`/`else`, variables, `index`, `len`, `printf`, `println`, comparisons) plus the
//! functions docker's templates add (`json`, `split`, `join`, `title`, `lower`, `upper`,
//! `pad`, `truncate`). A `table ` prefix adds a header row (each field's column name,
//! rendered by the same template) and aligns columns as Go's tabwriter does with docker's
//! settings (min width 10, padding 3). List rows and inspect objects are serde_json values,
//! turned into template values here; sizes are printed in Docker's units.
//!
//! Only the formatting commands reach this module: `berth run` never parses a template.

use gotmpl::{MissingKey, Value as T};
use serde_json::{Map, Value};
use std::sync::Arc;

/// A `--format` that could not be parsed or run, with the exit status docker gives it.
#[derive(Debug)]
pub struct FormatError {
    pub msg: String,
    /// 64 for a template that does not parse in `inspect`, `info` and `version` (docker's
    /// usage status), 1 otherwise.
    pub code: i32,
}

impl From<FormatError> for String {
    fn from(e: FormatError) -> String {
        e.msg
    }
}

impl From<FormatError> for super::container::Failure {
    fn from(e: FormatError) -> Self {
        super::container::Failure {
            msg: e.msg,
            code: e.code,
        }
    }
}

/// For commands whose errors are plain lines (exit 1): print a template's error and give
/// its status (64 for one that does not parse in `inspect`, `info`, `version`).
pub fn report(e: FormatError) -> i32 {
    eprintln!("Error: {}", e.msg);
    e.code
}

/// serde_json to template values: objects become maps (sorted by key, as Go ranges maps).
pub fn to_template(v: &Value) -> T {
    match v {
        Value::Null => T::Nil,
        Value::Bool(b) => T::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                T::Int(i)
            } else if let Some(u) = n.as_u64() {
                T::Uint(u)
            } else {
                T::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => T::String(Arc::from(s.as_str())),
        Value::Array(a) => T::List(a.iter().map(to_template).collect()),
        Value::Object(o) => T::Map(Arc::new(
            o.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_template(v)))
                .collect(),
        )),
    }
}

/// Template values back to JSON, for the `json` function.
fn to_json(v: &T) -> Value {
    match v {
        T::Nil => Value::Null,
        T::Bool(b) => Value::Bool(*b),
        T::Int(i) => Value::from(*i),
        T::Uint(u) => Value::from(*u),
        T::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        T::String(s) => Value::String(s.to_string()),
        T::List(l) => Value::Array(l.iter().map(to_json).collect()),
        T::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
        T::Function(_) => Value::Null,
    }
}

fn exec_error(msg: impl Into<String>) -> gotmpl::TemplateError {
    gotmpl::TemplateError::Exec(msg.into())
}

fn string_arg<'a>(name: &str, args: &'a [T], i: usize) -> gotmpl::Result<&'a str> {
    match args.get(i) {
        Some(T::String(s)) => Ok(s),
        Some(other) => Err(exec_error(format!(
            "error calling {name}: wrong type for value; expected string; got {}",
            type_name(other)
        ))),
        None => Err(exec_error(format!(
            "wrong number of args for {name}: want {} got {}",
            i + 1,
            args.len()
        ))),
    }
}

fn int_arg(name: &str, args: &[T], i: usize) -> gotmpl::Result<i64> {
    match args.get(i) {
        Some(T::Int(n)) => Ok(*n),
        Some(T::Uint(n)) => Ok(*n as i64),
        Some(other) => Err(exec_error(format!(
            "error calling {name}: wrong type for value; expected int; got {}",
            type_name(other)
        ))),
        None => Err(exec_error(format!(
            "wrong number of args for {name}: want {} got {}",
            i + 1,
            args.len()
        ))),
    }
}

fn type_name(v: &T) -> &'static str {
    match v {
        T::Nil => "<nil>",
        T::Bool(_) => "bool",
        T::Int(_) => "int",
        T::Uint(_) => "uint",
        T::Float(_) => "float64",
        T::String(_) => "string",
        T::List(_) => "[]interface {}",
        T::Map(_) => "map[string]interface {}",
        T::Function(_) => "func",
    }
}

fn string(s: impl AsRef<str>) -> T {
    T::String(Arc::from(s.as_ref()))
}

/// Go's strings.Title: the first letter of each word (after a space or punctuation) upper.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_separator = true;
    for c in s.chars() {
        if after_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        after_separator = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Docker's extra functions (its `templates` package), for rows and objects.
fn with_docker_funcs(t: gotmpl::Template) -> gotmpl::Template {
    t.func("json", |args| {
        let v = args.first().map(to_json).unwrap_or(Value::Null);
        Ok(string(v.to_string()))
    })
    .func("split", |args| {
        let (s, sep) = (string_arg("split", args, 0)?, string_arg("split", args, 1)?);
        let parts: Vec<T> = if sep.is_empty() {
            s.chars().map(|c| string(c.to_string())).collect()
        } else {
            s.split(sep).map(string).collect()
        };
        Ok(T::List(parts.into()))
    })
    .func("join", |args| {
        let sep = string_arg("join", args, 1)?;
        match args.first() {
            Some(T::List(l)) => Ok(string(
                l.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(sep),
            )),
            Some(T::Nil) => Ok(string("")),
            Some(other) => Err(exec_error(format!(
                "error calling join: wrong type for value; expected []string; got {}",
                type_name(other)
            ))),
            None => Err(exec_error("wrong number of args for join: want 2 got 0")),
        }
    })
    .func("title", |args| {
        Ok(string(title(string_arg("title", args, 0)?)))
    })
    .func("lower", |args| {
        Ok(string(string_arg("lower", args, 0)?.to_lowercase()))
    })
    .func("upper", |args| {
        Ok(string(string_arg("upper", args, 0)?.to_uppercase()))
    })
    .func("pad", |args| {
        let s = string_arg("pad", args, 0)?;
        let (before, after) = (int_arg("pad", args, 1)?, int_arg("pad", args, 2)?);
        if s.is_empty() {
            return Ok(string(""));
        }
        let spaces = |n: i64| " ".repeat(n.max(0) as usize);
        Ok(string(format!("{}{s}{}", spaces(before), spaces(after))))
    })
    .func("truncate", |args| {
        let s = string_arg("truncate", args, 0)?;
        let n = int_arg("truncate", args, 1)?.max(0) as usize;
        Ok(string(s.chars().take(n).collect::<String>()))
    })
}

/// Docker's header functions: a table's header row shows each column's name untouched.
fn with_header_funcs(t: gotmpl::Template) -> gotmpl::Template {
    let first = |args: &[T]| Ok(args.first().cloned().unwrap_or(T::Nil));
    let mut t = t;
    for name in [
        "json", "split", "join", "title", "lower", "upper", "truncate",
    ] {
        t = t.func(name, first);
    }
    t.func("pad", |args| {
        let s = args.first().map(|v| v.to_string()).unwrap_or_default();
        let n = |i: usize| match args.get(i) {
            Some(T::Int(n)) => (*n).max(0) as usize,
            _ => 0,
        };
        Ok(string(format!(
            "{}{s}{}",
            " ".repeat(n(1)),
            " ".repeat(n(2))
        )))
    })
    .func("label", |_| Ok(string("")))
}

/// `.Label "key"` is a method of docker's list rows; templates here have no methods, so it
/// becomes a call of the `label` function with the row (`label . "key"`).
fn label_methods(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(i) = rest.find(".Label ") {
        let before = rest[..i].chars().last();
        let on_dot = before.is_none_or(|c| c.is_whitespace() || "{(|".contains(c));
        out.push_str(&rest[..i]);
        out.push_str(if on_dot { "label . " } else { ".Label " });
        rest = &rest[i + ".Label ".len()..];
    }
    out.push_str(rest);
    out
}

/// The value of `key` in a row's `Labels` (`k=v,k2=v2`, as docker lists them).
fn label_of_row(args: &[T]) -> gotmpl::Result<T> {
    let key = string_arg("label", args, 1)?;
    let labels = match args.first() {
        Some(T::Map(m)) => m.get("Labels").map(|v| v.to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    Ok(string(
        labels
            .split(',')
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key))
            .map(|(_, v)| v)
            .unwrap_or(""),
    ))
}

/// Go's parse errors name the line only (`template: :1: unclosed action`); gotmpl's
/// carry `line:column` and no name.
fn go_parse_message(e: &gotmpl::TemplateError) -> String {
    let text = e.to_string();
    let go = text.strip_prefix("template: ").and_then(|rest| {
        let (line, rest) = rest.split_once(':')?;
        let (col, msg) = rest.split_once(": ")?;
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (numeric(line) && numeric(col)).then(|| format!("template: :{line}: {msg}"))
    });
    go.unwrap_or(text)
}

fn parse_error(e: gotmpl::TemplateError, code: i32) -> FormatError {
    FormatError {
        msg: format!("template parsing error: {}", go_parse_message(&e)),
        code,
    }
}

/// An error while running a template. Go finds an unknown function when it parses, so
/// that one is reported as a parsing error, with the parsing status.
fn run_error(e: gotmpl::TemplateError, prefix: &str, parse_code: i32) -> FormatError {
    match e {
        gotmpl::TemplateError::UndefinedFunction(name) => FormatError {
            msg: format!("template parsing error: template: :1: function {name:?} not defined"),
            code: parse_code,
        },
        // Only rows, info and version use missingkey=error: docker's structs.
        gotmpl::TemplateError::MissingKey { key } => FormatError {
            msg: format!(
                "{prefix}template: :1: executing \"\" at <.{key}>: can't evaluate field {key}"
            ),
            code: 1,
        },
        e => FormatError {
            msg: format!("{prefix}{e}"),
            code: 1,
        },
    }
}

/// A template for one object at a time (`inspect`, `info`, `version`).
pub struct ObjectTemplate(gotmpl::Template);

impl ObjectTemplate {
    /// For `inspect`: Go's semantics on maps, so a missing field prints `<no value>` as
    /// docker's raw-JSON fallback does.
    pub fn parse(format: &str) -> Result<ObjectTemplate, FormatError> {
        Self::parse_with(format, MissingKey::Invalid)
    }

    /// For `info` and `version`, whose objects are structs in docker: a field they do not
    /// have is an error.
    pub fn parse_strict(format: &str) -> Result<ObjectTemplate, FormatError> {
        Self::parse_with(format, MissingKey::Error)
    }

    fn parse_with(format: &str, missing: MissingKey) -> Result<ObjectTemplate, FormatError> {
        let t = with_docker_funcs(gotmpl::Template::new("").missing_key(missing))
            .parse(format)
            .map(ObjectTemplate)
            .map_err(|e| parse_error(e, 64))?;
        // A dry run finds an unknown function before any object is looked up, as Go's parser
        // does (other errors depend on the object, and wait for it).
        match t.render(&Value::Object(Map::new())) {
            Err(e) if e.code == 64 => Err(e),
            _ => Ok(t),
        }
    }

    pub fn render(&self, v: &Value) -> Result<String, FormatError> {
        self.0
            .execute_to_string(&to_template(v))
            .map_err(|e| run_error(e, "", 64))
    }

    /// Each object rendered and ended by a newline, as docker prints them; the first error
    /// stops the output.
    pub fn print_all(&self, values: &[Value]) -> Result<(), FormatError> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for v in values {
            let text = self.render(v)?;
            let _ = writeln!(out, "{text}");
        }
        Ok(())
    }
}

/// A `--format` of a list command (`ps`, `images`, `volume ls`, ...): rows with a fixed set
/// of fields, where an unknown field is an error (docker's rows are structs).
pub struct Template {
    table: bool,
    body: gotmpl::Template,
    header: gotmpl::Template,
    fields: Vec<String>,
}

impl Template {
    /// Parse a `--format` value; `fields` are the names rows have.
    pub fn parse(format: &str, fields: &[&str]) -> Result<Template, FormatError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\t']) => (true, rest),
            _ => (false, format),
        };
        let body = label_methods(
            &body
                .trim_matches(' ')
                .replace("\\t", "\t")
                .replace("\\n", "\n"),
        );
        let new = || gotmpl::Template::new("").missing_key(MissingKey::Error);
        let parsed = with_docker_funcs(new())
            .func("label", label_of_row)
            .parse(&body)
            .map_err(|e| parse_error(e, 1))?;
        let header = with_header_funcs(new())
            .parse(&body)
            .map_err(|e| parse_error(e, 1))?;
        Ok(Template {
            table,
            body: parsed,
            header,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        })
    }

    pub fn render(&self, row: &Map<String, Value>) -> Result<String, FormatError> {
        self.body
            .execute_to_string(&to_template(&Value::Object(row.clone())))
            .map_err(|e| run_error(e, "failed to execute template: ", 1))
    }

    /// The header row: the template run over each field's column name (from `headers`,
    /// else the field's name in capitals). Also checks the template's fields when there
    /// are no rows, as docker checks them before listing.
    pub fn header(&self, headers: &[(&str, &str)]) -> Result<String, FormatError> {
        let names: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| {
                let h = headers
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, h)| h.to_string())
                    .unwrap_or_else(|| f.to_ascii_uppercase());
                (f.clone(), Value::String(h))
            })
            .collect();
        self.header
            .execute_to_string(&to_template(&Value::Object(names)))
            .map_err(|e| run_error(e, "failed to execute template: ", 1))
    }

    /// Print `rows`: with a header and aligned columns for `table`, as is otherwise.
    pub fn print(
        &self,
        rows: &[Map<String, Value>],
        headers: &[(&str, &str)],
    ) -> Result<(), FormatError> {
        let header = self.header(headers)?;
        let mut text = String::new();
        if self.table {
            text.push_str(&header);
            text.push('\n');
        }
        for r in rows {
            text.push_str(&self.render(r)?);
            text.push('\n');
        }
        if self.table {
            print!("{}", tabwriter(&text));
        } else {
            print!("{text}");
        }
        Ok(())
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

/// Where an object's keys go when printed: Docker's struct order for the object at a path
/// (keys from the root), None to keep them sorted.
pub type KeyOrder<'a> = &'a dyn Fn(&[&str]) -> Option<&'static [&'static str]>;

/// JSON as [`pretty`] prints it, starting at indentation `depth`, with each object's keys in
/// the order `order` gives for its path (keys it does not name follow, sorted).
pub fn pretty_ordered(v: &Value, depth: usize, order: KeyOrder) -> String {
    fn write(v: &Value, path: &mut Vec<String>, depth: usize, order: KeyOrder, out: &mut String) {
        let pad = |n: usize| "    ".repeat(n);
        match v {
            Value::Object(m) if !m.is_empty() => {
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                let first = order(&names).unwrap_or(&[]);
                let mut keys: Vec<&String> = first
                    .iter()
                    .filter_map(|k| m.get_key_value(*k).map(|(k, _)| k))
                    .collect();
                keys.extend(m.keys().filter(|k| !first.contains(&k.as_str())));
                out.push_str("{\n");
                for (i, k) in keys.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    out.push_str(&Value::String(k.to_string()).to_string());
                    out.push_str(": ");
                    path.push(k.to_string());
                    write(&m[k.as_str()], path, depth + 1, order, out);
                    path.pop();
                    out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push('}');
            }
            Value::Array(a) if !a.is_empty() => {
                out.push_str("[\n");
                for (i, x) in a.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    write(x, path, depth + 1, order, out);
                    out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut Vec::new(), depth, order, &mut out);
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

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn templates_render_fields_json_and_tables() {
        let r = row(json!({"ID": "abc", "Tag": "v1"}));
        let t = Template::parse("{{.ID}}:{{ .Tag }}\\t!", &["ID", "Tag"]).unwrap();
        assert_eq!(t.render(&r).unwrap(), "abc:v1\t!");
        let j = Template::parse("{{json .}}", &["ID", "Tag"]).unwrap();
        assert_eq!(j.render(&r).unwrap(), r#"{"ID":"abc","Tag":"v1"}"#);
        let nope = Template::parse("{{.Nope}}", &["ID"]).unwrap();
        assert!(nope.render(&r).is_err());
        assert!(nope.header(&[]).is_err());
        let e = Template::parse("{{.ID", &["ID"]).err().unwrap();
        assert_eq!(
            e.msg,
            "template parsing error: template: :1: unclosed action"
        );
        let e = nope.render(&r).unwrap_err();
        assert!(e.msg.contains("can't evaluate field Nope"), "{}", e.msg);
        let tab = Template::parse("table {{.ID}}\\t{{.Tag}}", &["ID", "Tag"]).unwrap();
        assert_eq!(tab.header(&[("ID", "IMAGE ID")]).unwrap(), "IMAGE ID\tTAG");
        assert_eq!(
            tabwriter("REPOSITORY\tTAG\tSIZE\nbusybox\tlatest\t1MB"),
            "REPOSITORY   TAG       SIZE\nbusybox      latest    1MB\n"
        );
    }

    #[test]
    fn docker_functions_behave_as_in_docker_templates() {
        let v = json!({"S": "hello world", "L": ["a", "b"], "M": {"k": "v", "a": 1}, "N": 3});
        let run = |src: &str| ObjectTemplate::parse(src).unwrap().render(&v).unwrap();
        assert_eq!(run("{{upper .S}}"), "HELLO WORLD");
        assert_eq!(run("{{lower \"AbC\"}}"), "abc");
        assert_eq!(run("{{title .S}}"), "Hello World");
        assert_eq!(run("{{join .L \",\"}}"), "a,b");
        assert_eq!(run("{{index (split .S \" \") 1}}"), "world");
        assert_eq!(run("{{json .M}}"), r#"{"a":1,"k":"v"}"#);
        assert_eq!(run("{{json .L}}"), r#"["a","b"]"#);
        assert_eq!(run("{{pad .S 1 2}}|"), " hello world  |");
        assert_eq!(run("{{truncate .S 4}}"), "hell");
        assert_eq!(run("{{len .L}} {{index .M \"k\"}}"), "2 v");
        assert_eq!(run("{{printf \"%-6s|%03d\" \"ab\" .N}}"), "ab    |003");
        assert_eq!(
            run("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}"),
            "a=1;k=v;"
        );
        assert_eq!(
            run("{{with .M}}{{.k}}{{end}}{{if .Missing}}x{{else}}y{{end}}"),
            "vy"
        );
        assert_eq!(run("{{.L}} {{.Missing}}"), "[a b] <no value>");
        assert_eq!(run("{{println .S}}"), "hello world\n");
        let e = ObjectTemplate::parse("{{nofunc .}}").err().unwrap();
        assert_eq!(e.code, 64);
        assert!(e.msg.contains("\"nofunc\" not defined"), "{}", e.msg);
    }

    #[test]
    fn ordered_json_matches_pretty_and_follows_the_order() {
        let v = json!({"b": {"y": [1, {"q": 2}], "x": {}}, "a": [], "c": null});
        let sorted = pretty_ordered(&v, 0, &|_| None);
        assert_eq!(sorted, pretty(&v));
        let order = |p: &[&str]| match p {
            [] => Some(&["c", "b"][..]),
            ["b"] => Some(&["y", "x"][..]),
            _ => None,
        };
        let text = pretty_ordered(&v, 0, &order);
        let keys: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(keys[1], "\"c\": null,");
        assert_eq!(keys[2], "\"b\": {");
        assert_eq!(keys[3], "\"y\": [");
        assert!(text.ends_with("\"a\": []\n}"), "{text}");
    }

    #[test]
    fn label_method_reads_a_rows_labels() {
        let r = row(json!({"Labels": "a=1,b=two", "Names": "x"}));
        let t = Template::parse("{{.Names}} {{.Label \"b\"}}", &["Labels", "Names"]).unwrap();
        assert_eq!(t.render(&r).unwrap(), "x two");
        let tab = Template::parse("table {{.Label \"b\"}}", &["Labels"]).unwrap();
        assert_eq!(tab.header(&[]).unwrap(), "");
    }
}
