//! `--health-cmd`, `--health-interval`, `--health-timeout`, `--health-retries`,
//! `--health-start-period` and `--no-healthcheck` as Docker's `Config.Healthcheck`, with the
//! docker CLI's checks. Durations are Go's (`30s`, `1m30s`, `500ms`).

use super::Healthcheck;
use crate::{Error, Result};

/// The health flags as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct HealthFlags<'a> {
    pub cmd: Option<&'a str>,
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub start_period: Option<&'a str>,
    pub retries: Option<i64>,
    pub none: bool,
}

/// A Go duration (`1h2m3.5s`, `250ms`, `0`) in nanoseconds.
pub fn go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = after;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let n = total.round() as i64;
    Some(if neg { -n } else { n })
}

fn duration(flag: &str, s: Option<&str>) -> Result<i64> {
    let Some(s) = s else { return Ok(0) };
    let n = go_duration(s)
        .ok_or_else(|| Error::invalid(flag, s, format!("time: invalid duration {:?}", s)))?;
    if n < 0 {
        return Err(Error::InvalidArgument(format!("{flag} cannot be negative")));
    }
    Ok(n)
}

/// None when no health flag was given (the image's check applies).
pub fn healthcheck(f: &HealthFlags) -> Result<Option<Healthcheck>> {
    let any_timing = f.interval.is_some()
        || f.timeout.is_some()
        || f.start_period.is_some()
        || f.retries.is_some();
    if f.none {
        if f.cmd.is_some() || any_timing {
            return Err(Error::InvalidArgument(
                "--no-healthcheck conflicts with --health-* options".into(),
            ));
        }
        return Ok(Some(Healthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        }));
    }
    if f.cmd.is_none() && !any_timing {
        return Ok(None);
    }
    let retries = f.retries.unwrap_or(0);
    if retries < 0 {
        return Err(Error::InvalidArgument(
            "--health-retries cannot be negative".into(),
        ));
    }
    Ok(Some(Healthcheck {
        test: match f.cmd.filter(|c| !c.is_empty()) {
            Some(c) => vec!["CMD-SHELL".into(), c.into()],
            None => vec![],
        },
        interval: duration("--health-interval", f.interval)?,
        timeout: duration("--health-timeout", f.timeout)?,
        start_period: duration("--health-start-period", f.start_period)?,
        retries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("30s"), Some(30_000_000_000));
        assert_eq!(go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration("250ms"), Some(250_000_000));
        assert_eq!(go_duration("0"), Some(0));
        assert_eq!(go_duration("-2s"), Some(-2_000_000_000));
        for bad in ["", "5", "s", "5x", "1..5s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn flags_become_dockers_healthcheck() {
        let h = healthcheck(&HealthFlags {
            cmd: Some("wget -q localhost"),
            interval: Some("5s"),
            retries: Some(3),
            ..Default::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(h.test, vec!["CMD-SHELL", "wget -q localhost"]);
        assert_eq!((h.interval, h.retries, h.timeout), (5_000_000_000, 3, 0));
        assert_eq!(healthcheck(&HealthFlags::default()).unwrap(), None);
        let none = healthcheck(&HealthFlags {
            none: true,
            ..Default::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(none.test, vec!["NONE"]);
        for (f, want) in [
            (
                HealthFlags {
                    none: true,
                    cmd: Some("x"),
                    ..Default::default()
                },
                "conflicts",
            ),
            (
                HealthFlags {
                    interval: Some("-1s"),
                    ..Default::default()
                },
                "--health-interval cannot be negative",
            ),
            (
                HealthFlags {
                    retries: Some(-1),
                    ..Default::default()
                },
                "--health-retries cannot be negative",
            ),
        ] {
            let e = healthcheck(&f).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
