//! `berth-serve` (run as `berth serve`): the Docker Engine API over Berth's engine, so that
//! the docker CLI, docker-compose and the Docker SDKs drive Berth. The engine is the same
//! library the CLI uses, on the same data root: CLI and server see and change the same
//! containers. Containers belong to their monitors, not to the server: stopping the server
//! leaves them running, and a restarted server finds them.
//!
//! HTTP is hyper's (HTTP/1.1 with upgrades for the hijacked attach and exec streams) on tokio;
//! engine calls run on tokio's blocking threads, each with an engine handle of its own.

mod archive;
mod attach;
mod attach_ws;
mod body;
mod containers;
mod events;
mod exec;
mod hijack;
mod images;
mod listen;
mod networks;
mod reply;
mod req;
mod router;
mod state;
mod stats;
mod system;
mod tls;
mod volumes;

use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "berth serve", about = "Serve the Docker Engine API")]
struct Args {
    /// Where to listen: unix://PATH, tcp://ADDR:PORT, fd:// (repeatable)
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Berth's data root [default: $BERTH_ROOT, else /var/lib/berth]
    #[arg(long)]
    root: Option<PathBuf>,
    /// Accept plain TCP without TLS client verification (anyone who reaches the port is root)
    #[arg(long)]
    insecure_tcp: bool,
    /// Serve tcp:// hosts over TLS, admitting only clients with a certificate the CA signed
    #[arg(long)]
    tlsverify: bool,
    /// The CA that signs client certificates
    #[arg(long, value_name = "FILE")]
    tlscacert: Option<PathBuf>,
    /// The server's certificate
    #[arg(long, value_name = "FILE")]
    tlscert: Option<PathBuf>,
    /// The server's key
    #[arg(long, value_name = "FILE")]
    tlskey: Option<PathBuf>,
    /// Log level (error, warn, info, debug, trace)
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log_level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The containers we start are waited for: an inherited SIG_IGN would have the kernel
    // reap them.
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    let root = args
        .root
        .clone()
        .or_else(|| std::env::var_os("BERTH_ROOT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/lib/berth"));
    let root = std::path::absolute(&root).unwrap_or(root);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(256)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the server: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(serve(args, root));
    // Blocking work still in flight (a follow, an attach) ends with the process.
    rt.shutdown_background();
    std::process::exit(code);
}

async fn serve(args: Args, root: PathBuf) -> i32 {
    // The full repair, once: the server's requests then open the engine as CLI commands
    // do, repairing only what a killed command or a dead monitor left.
    let open_root = root.clone();
    let opened = tokio::task::spawn_blocking(move || {
        berth_engine::Engine::open_repaired(&open_root).map(drop)
    })
    .await;
    match opened {
        Ok(Ok(())) => tracing::info!(root = %root.display(), "engine opened and repaired"),
        Ok(Err(e)) => {
            eprintln!("Error: {e}");
            return 1;
        }
        Err(e) => {
            eprintln!("Error: opening the engine: {e}");
            return 1;
        }
    }
    let hosts = if args.hosts.is_empty() {
        vec![listen::DEFAULT_HOST.to_string()]
    } else {
        args.hosts.clone()
    };
    let tls = match (args.tlsverify, &args.tlscacert, &args.tlscert, &args.tlskey) {
        (false, None, None, None) => None,
        (true, Some(ca), Some(cert), Some(key)) => Some(tls::TlsFiles {
            ca: ca.clone(),
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => {
            eprintln!("Error: TLS needs --tlsverify with --tlscacert, --tlscert and --tlskey");
            return 1;
        }
    };
    let listeners = match listen::bind_all(&hosts, args.insecure_tcp, tls.as_ref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let state = Arc::new(state::State::new(root));
    let mut sockets = Vec::new();
    for l in listeners {
        if let listen::Listener::Unix(_, Some(p)) = &l {
            sockets.push(p.clone());
        }
        tokio::spawn(router::accept_loop(l, state.clone()));
    }
    // The monitors the server started are its children until it exits: the ended ones are
    // reaped (by pid, never another child's status) so none is left a zombie.
    tokio::spawn(async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            berth_engine::container::children::reap();
        }
    });
    tracing::info!(hosts = ?hosts, "API listening");
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down; containers keep running under their monitors");
    for s in sockets {
        let _ = std::fs::remove_file(s);
    }
    0
}
