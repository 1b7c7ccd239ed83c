//! Dockerfile instructions applied to an image config, as `docker import --change` takes
//! them: CMD, ENTRYPOINT (exec `["a","b"]` or shell form), ENV, LABEL, WORKDIR, USER,
//! EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK.

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

fn bad(change: &str, why: impl Into<String>) -> Error {
    Error::BadChange {
        change: change.to_string(),
        why: why.into(),
    }
}

/// Words split on whitespace, with "double" and 'single' quotes and backslash escapes.
fn words(s: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                cur.push(chars.next().ok_or("ends with a backslash")?);
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `["a", "b"]` (exec form) or a shell command line (run by `/bin/sh -c`).
fn command(change: &str, rest: &str) -> Result<Value> {
    if rest.starts_with('[') {
        let v: Vec<String> = serde_json::from_str(rest)
            .map_err(|e| bad(change, format!("not a JSON list of strings: {e}")))?;
        return Ok(json!(v));
    }
    Ok(json!(["/bin/sh", "-c", rest]))
}

fn key_values(change: &str, rest: &str) -> Result<Vec<(String, String)>> {
    let ws = words(rest).map_err(|w| bad(change, w))?;
    if ws.is_empty() {
        return Err(bad(change, "needs at least one argument"));
    }
    if !ws[0].contains('=') {
        // The old `ENV KEY value with spaces` form: one pair.
        let (k, v) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(change, "needs a value"))?;
        let v = words(v).map_err(|w| bad(change, w))?.join(" ");
        return Ok(vec![(k.to_string(), v)]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(bad(change, format!("{w:?} is not KEY=VALUE"))),
        })
        .collect()
}

/// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command`
/// or `HEALTHCHECK NONE`, as Docker's `Config.Healthcheck` (durations in nanoseconds).
fn healthcheck(change: &str, rest: &str) -> Result<Value> {
    let mut check = Map::new();
    let mut rest = rest.trim_start();
    while let Some(opt) = rest.strip_prefix("--") {
        let (flag, after) = opt.split_once(char::is_whitespace).unwrap_or((opt, ""));
        let (name, value) = flag
            .split_once('=')
            .ok_or_else(|| bad(change, format!("--{flag} needs a value")))?;
        let key = match name {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "retries" => "Retries",
            _ => return Err(bad(change, format!("unknown flag --{name}"))),
        };
        let n = if key == "Retries" {
            value.parse::<i64>().ok().filter(|n| *n >= 0)
        } else {
            crate::duration::go_duration(value).filter(|n| *n >= 0)
        }
        .ok_or_else(|| bad(change, format!("invalid --{name} {value:?}")))?;
        check.insert(key.into(), json!(n));
        rest = after.trim_start();
    }
    let (kind, cmd) = rest
        .split_once(char::is_whitespace)
        .map(|(k, c)| (k, c.trim()))
        .unwrap_or((rest, ""));
    let test = match kind.to_ascii_uppercase().as_str() {
        "NONE" if cmd.is_empty() => json!(["NONE"]),
        "CMD" if cmd.starts_with('[') => {
            let v: Vec<String> = serde_json::from_str(cmd)
                .map_err(|e| bad(change, format!("not a JSON list of strings: {e}")))?;
            let mut t = vec!["CMD".to_string()];
            t.extend(v);
            json!(t)
        }
        "CMD" if !cmd.is_empty() => json!(["CMD-SHELL", cmd]),
        _ => return Err(bad(change, "expects CMD command or NONE")),
    };
    check.insert("Test".into(), test);
    Ok(Value::Object(check))
}

/// Apply one instruction to `config` (the image config's `config` object).
pub fn apply(config: &mut Map<String, Value>, change: &str) -> Result<()> {
    let change_t = change.trim();
    let (inst, rest) = change_t
        .split_once(char::is_whitespace)
        .map(|(i, r)| (i, r.trim()))
        .unwrap_or((change_t, ""));
    let inst = inst.to_ascii_uppercase();
    if rest.is_empty() {
        return Err(bad(change, format!("{inst} needs an argument")));
    }
    match inst.as_str() {
        "CMD" => {
            config.insert("Cmd".into(), command(change, rest)?);
        }
        "ENTRYPOINT" => {
            config.insert("Entrypoint".into(), command(change, rest)?);
        }
        "WORKDIR" => {
            config.insert("WorkingDir".into(), json!(rest));
        }
        "USER" => {
            config.insert("User".into(), json!(rest));
        }
        "STOPSIGNAL" => {
            config.insert("StopSignal".into(), json!(rest));
        }
        "HEALTHCHECK" => {
            config.insert("Healthcheck".into(), healthcheck(change, rest)?);
        }
        "ENV" => {
            let mut env: Vec<String> = config
                .get("Env")
                .and_then(|e| serde_json::from_value(e.clone()).ok())
                .unwrap_or_default();
            for (k, v) in key_values(change, rest)? {
                env.retain(|e| e.split_once('=').map_or(e.as_str(), |(ek, _)| ek) != k);
                env.push(format!("{k}={v}"));
            }
            config.insert("Env".into(), json!(env));
        }
        "LABEL" => {
            let labels = config
                .entry("Labels")
                .or_insert_with(|| json!({}));
            if !labels.is_object() {
                *labels = json!({});
            }
            for (k, v) in key_values(change, rest)? {
                labels[k] = json!(v);
            }
        }
        "EXPOSE" | "VOLUME" => {
            let (key, list) = if inst == "EXPOSE" {
                let mut ports = Vec::new();
                for p in words(rest).map_err(|w| bad(change, w))? {
                    let (num, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
                    let ok = !num.is_empty()
                        && num.split('-').all(|n| n.parse::<u16>().is_ok())
                        && matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp");
                    if !ok {
                        return Err(bad(change, format!("invalid port {p:?}")));
                    }
                    ports.push(format!("{num}/{}", proto.to_ascii_lowercase()));
                }
                ("ExposedPorts", ports)
            } else if rest.starts_with('[') {
                let v: Vec<String> = serde_json::from_str(rest)
                    .map_err(|e| bad(change, format!("not a JSON list of strings: {e}")))?;
                ("Volumes", v)
            } else {
                ("Volumes", words(rest).map_err(|w| bad(change, w))?)
            };
            let map = config.entry(key).or_insert_with(|| json!({}));
            if !map.is_object() {
                *map = json!({});
            }
            for k in list {
                map[k] = json!({});
            }
        }
        other => {
            return Err(bad(
                change,
                format!("{other} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR are)"),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> Value {
        let mut m = Map::new();
        for c in changes {
            apply(&mut m, c).unwrap();
        }
        Value::Object(m)
    }

    #[test]
    fn healthcheck_becomes_dockers_config_healthcheck() {
        let c = applied(&["HEALTHCHECK --interval=5s --retries=2 CMD curl -f localhost"]);
        assert_eq!(
            c["Healthcheck"],
            json!({"Interval": 5_000_000_000i64, "Retries": 2, "Test": ["CMD-SHELL", "curl -f localhost"]})
        );
        let c = applied(&[r#"HEALTHCHECK CMD ["true"]"#]);
        assert_eq!(c["Healthcheck"]["Test"], json!(["CMD", "true"]));
        let c = applied(&["HEALTHCHECK NONE"]);
        assert_eq!(c["Healthcheck"]["Test"], json!(["NONE"]));
        let mut m = Map::new();
        for badc in [
            "HEALTHCHECK --interval=x CMD true",
            "HEALTHCHECK CMD",
            "HEALTHCHECK RUN x",
        ] {
            assert!(apply(&mut m, badc).is_err(), "{badc}");
        }
    }

    #[test]
    fn instructions_set_docker_config_keys() {
        let c = applied(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /bin/app --flag",
            "ENV A=1 B=\"two words\"",
            "ENV A=3",
            "ENV C plain value",
            "WORKDIR /srv",
            "user nobody",
            "LABEL org.example=yes other='x y'",
            "EXPOSE 80 53/udp",
            "VOLUME /data",
        ]);
        assert_eq!(c["Cmd"], json!(["sh", "-c", "echo hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/app --flag"]));
        assert_eq!(c["Env"], json!(["B=two words", "A=3", "C=plain value"]));
        assert_eq!(c["WorkingDir"], "/srv");
        assert_eq!(c["User"], "nobody");
        assert_eq!(c["Labels"], json!({"org.example": "yes", "other": "x y"}));
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["Volumes"], json!({"/data": {}}));
    }

    #[test]
    fn bad_changes_are_refused() {
        for c in [
            "RUN rm -rf /",
            "CMD",
            "CMD [not json",
            "EXPOSE http",
            "LABEL =x",
            "ENV A=\"open",
        ] {
            assert!(apply(&mut Map::new(), c).is_err(), "{c} accepted");
        }
    }
}
