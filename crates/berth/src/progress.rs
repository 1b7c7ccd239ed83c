//! Pull progress shown the way `docker pull` shows it: on a terminal, one line per layer
//! (short digest, status, bar, bytes/total, rate) redrawn in place; otherwise one plain line
//! per status change and no byte counts, so logs stay readable.

use berth_image::progress::{Event, Progress, Silent};
use berth_image::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// The renderer for this stdout: nothing with `-q`, bars on a terminal, lines otherwise.
pub fn for_stdout(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stdout().is_terminal() {
        Box::new(Bars {
            // Docker draws on stdout (indicatif's default is stderr).
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: Mutex::default(),
        })
    } else {
        Box::new(Lines)
    }
}

/// Docker shows a layer by the first 12 hex digits of its blob digest.
fn short(d: &Digest) -> &str {
    d.hex().get(..12).unwrap_or(d.hex())
}

fn status(e: Event) -> &'static str {
    match e {
        Event::AlreadyExists => "Already exists",
        Event::Pulling => "Pulling fs layer",
        Event::Waiting => "Waiting",
        Event::Downloading { .. } => "Downloading",
        Event::DownloadComplete => "Download complete",
        Event::Extracting => "Extracting",
        Event::PullComplete => "Pull complete",
    }
}

/// `<id>: <status>` lines; byte counts and extraction are progress, which docker does not
/// print when its output is not a terminal.
struct Lines;

impl Progress for Lines {
    fn layer(&self, d: &Digest, e: Event) {
        if matches!(e, Event::Downloading { .. } | Event::Extracting) {
            return;
        }
        // One write per line: layers report from several threads.
        let _ = writeln!(std::io::stdout().lock(), "{}: {}", short(d), status(e));
    }
}

struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
}

fn plain_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").expect("a valid template")
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix}: {msg} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec}",
    )
    .expect("a valid template")
    .progress_chars("=> ")
}

impl Bars {
    fn bar(&self, d: &Digest) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.entry(d.clone())
            .or_insert_with(|| {
                self.multi.add(
                    ProgressBar::new(0)
                        .with_style(plain_style())
                        .with_prefix(short(d).to_string()),
                )
            })
            .clone()
    }
}

impl Progress for Bars {
    fn layer(&self, d: &Digest, e: Event) {
        let bar = self.bar(d);
        let msg = status(e);
        match e {
            Event::Downloading { done, total } => {
                if bar.length() != Some(total) {
                    bar.set_message(msg);
                    bar.set_length(total);
                    bar.set_style(bytes_style());
                }
                bar.set_position(done);
            }
            Event::AlreadyExists | Event::PullComplete => {
                bar.set_style(plain_style());
                bar.finish_with_message(msg);
            }
            _ => {
                bar.set_style(plain_style());
                bar.set_message(msg);
            }
        }
    }
}
