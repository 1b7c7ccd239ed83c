//! `berth logs`: the container's json-file log, as `docker logs` prints it.

use super::{engine, fail, Failure};
use crate::cli::LogsArgs;
use crate::env::Env;
use berth_engine::logs::{self, LogOptions};
use berth_engine::options::{LogDriver, RestartPolicy};
use berth_engine::store::State;

pub fn logs(env: &Env, a: &LogsArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let mut r = e.find(&a.container)?;
    berth_engine::container::exit::refresh(&e, &mut r)?;
    let options = berth_engine::container::options_of(&r);
    if options.log.driver == LogDriver::None {
        return Err(fail("configured logging driver does not support reading"));
    }
    let now = logs::now();
    let time = |flag: &str, v: &Option<String>| -> Result<Option<logs::Nanos>, Failure> {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| logs::parse_time(flag, v, now))
            .transpose()
            .map_err(Failure::from)
    };
    let tail = match a.tail.as_str() {
        "all" | "" => None,
        n => match n.parse::<i64>() {
            // docker reads a negative tail as "all".
            Ok(n) if n < 0 => None,
            Ok(n) => Some(n as usize),
            Err(_) => return Err(fail(format!("invalid value for \"tail\": {n:?}"))),
        },
    };
    let opts = LogOptions {
        tail,
        since: time("--since", &a.since)?,
        until: time("--until", &a.until)?,
        timestamps: a.timestamps,
        // Following a container that does not run would never end.
        follow: a.follow && matches!(r.state, State::Running | State::Paused | State::Restarting),
        monitor_pid: (r.monitor_pid > 0).then_some(r.monitor_pid),
        across_restarts: options.restart != RestartPolicy::No,
    };
    // Buffered: a line per write(2) made a large log slow; the engine flushes when the
    // stream changes and whenever it waits for more.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let mut err = std::io::BufWriter::with_capacity(64 << 10, std::io::stderr().lock());
    logs::write_logs(&e.dir(&r.id), &r.id, &opts, &mut out, &mut err)?;
    Ok(0)
}
