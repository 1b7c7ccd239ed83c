//! `top CONTAINER [ps OPTIONS]`: the engine's [`berth_engine::Engine::top`] table, printed as
//! docker prints it.

use super::{engine, Failure};
use crate::cli::TopArgs;
use crate::env::Env;

/// Docker's top table: tabwriter with minimum width 20 and padding 3.
fn print(rows: &[Vec<String>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let mut w = vec![20usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols.saturating_sub(1)) {
            w[i] = w[i].max(c.chars().count() + 3);
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(w[i].saturating_sub(c.chars().count())));
            }
        }
        println!("{line}");
    }
}

pub fn top(env: &Env, a: &TopArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let t = e.top(a.container(), a.ps_args())?;
    let mut rows = vec![t.titles];
    rows.extend(t.processes);
    print(&rows);
    Ok(0)
}
