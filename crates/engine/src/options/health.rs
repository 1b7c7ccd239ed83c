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

pub use berth_image::duration::go_duration;

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
