//! Config's own keys (working dir, stop signal, health check) and HostConfig's restart
//! policy and log config.

use super::*;

/// The Config keys past the plain copies.
pub(super) fn config(req: &CreateRequest, o: &mut RunOptions) -> Result<()> {
    refuse("Domainname", &req.domainname, |d| !d.is_empty())?;
    refuse("MacAddress", &req.mac_address, |m| !m.is_empty())?;
    if let Some(e) = o
        .env
        .iter()
        .find(|e| e.contains('\0') || e.starts_with('='))
    {
        return Err(Error::invalid(
            "Env",
            e,
            "invalid environment variable: no name or a NUL byte",
        ));
    }
    if let Some(w) = non_empty(&req.working_dir) {
        if !w.starts_with('/') {
            return Err(Error::InvalidArgument(format!(
                "the working directory '{w}' is invalid, it needs to be an absolute path"
            )));
        }
        o.workdir = Some(w);
    }
    if let Some(s) = non_empty(&req.stop_signal) {
        o.stop_signal = Some(at("StopSignal", parse::stop_signal(&s))?);
    }
    o.healthcheck = req
        .healthcheck
        .as_ref()
        .map(healthcheck)
        .transpose()?
        .flatten();
    Ok(())
}

/// dockerd's checks of Config.Healthcheck: durations of at least 1 ms when set, no
/// negative retries, a test that starts with NONE, CMD or CMD-SHELL.
fn healthcheck(h: &HealthConfig) -> Result<Option<Healthcheck>> {
    const MIN: i64 = 1_000_000;
    let d = |field: &str, v: Option<i64>| -> Result<i64> {
        match v.unwrap_or(0) {
            0 => Ok(0),
            n if n < MIN => Err(Error::InvalidArgument(format!(
                "{field} in Healthcheck cannot be less than 1ms"
            ))),
            n => Ok(n),
        }
    };
    refuse("Healthcheck.StartInterval", &h.start_interval, |n| *n != 0)?;
    let retries = h.retries.unwrap_or(0);
    if retries < 0 {
        return Err(Error::InvalidArgument(
            "Retries in Healthcheck cannot be negative".into(),
        ));
    }
    let test = h.test.clone().unwrap_or_default();
    match test.first().map(String::as_str) {
        None | Some("NONE") | Some("CMD") | Some("CMD-SHELL") => {}
        Some(other) => {
            return Err(Error::invalid(
                "Healthcheck.Test",
                other,
                "the test must start with NONE, CMD or CMD-SHELL",
            ))
        }
    }
    let check = Healthcheck {
        test,
        interval: d("Interval", h.interval)?,
        timeout: d("Timeout", h.timeout)?,
        start_period: d("StartPeriod", h.start_period)?,
        retries,
    };
    Ok((check != Healthcheck::default()).then_some(check))
}

/// RestartPolicy as dockerd checks it: a count only with on-failure, never negative.
pub(super) fn restart(hc: &HostConfig) -> Result<RestartPolicy> {
    let Some(p) = &hc.restart_policy else {
        return Ok(RestartPolicy::No);
    };
    let name = p.name.clone().unwrap_or_default();
    let count = p.maximum_retry_count.unwrap_or(0);
    let field = "HostConfig.RestartPolicy";
    match name.as_str() {
        "" => Ok(RestartPolicy::No),
        "on-failure" if count < 0 => Err(Error::invalid(
            field,
            &count.to_string(),
            "invalid restart policy: maximum retry count cannot be negative",
        )),
        "on-failure" => at(field, parse::restart(&format!("on-failure:{count}"))),
        n if count != 0 => Err(Error::invalid(
            field,
            n,
            format!("invalid restart policy: maximum retry count cannot be used with restart policy '{n}'"),
        )),
        n => at(field, parse::restart(n)),
    }
}

/// LogConfig: Type "" is the default driver (json-file); Config are its options.
pub(super) fn log_config(hc: &HostConfig) -> Result<LogConfig> {
    let Some(l) = &hc.log_config else {
        return Ok(LogConfig::default());
    };
    let mut log = LogConfig::default();
    if let Some(t) = non_empty(&l.kind) {
        log.driver = at("HostConfig.LogConfig.Type", parse::log_driver(&t))?;
    }
    for (k, v) in l.config.iter().flatten() {
        at(
            "HostConfig.LogConfig.Config",
            parse::log_opt(&mut log, &format!("{k}={v}")),
        )?;
    }
    Ok(log)
}
