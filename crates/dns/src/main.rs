//! `berth-dns`: the embedded DNS server of one user-defined network (docs/network-design.md,
//! "Embedded DNS"). Answers the network's container names and aliases from its hosts file,
//! forwards every other name to the upstream resolvers, over UDP and TCP, in one thread.
//!
//! Exit status 0 on SIGTERM/SIGINT or when the hosts file is removed (the network is gone);
//! 1 with one `Error:` line when it cannot start.

mod answer;
mod args;
mod forward;
mod hosts;
mod hosts_file;
mod pid_file;
mod server;
mod signals;
mod tcp;

use std::net::{TcpListener, UdpSocket};
use std::process::ExitCode;

use args::Args;
use hosts_file::HostsFile;
use pid_file::PidFile;
use server::{Server, Stop};
use signals::Signals;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("Error: {e}\n{}", args::USAGE);
            return ExitCode::FAILURE;
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    // Signals first: a SIGTERM from a starter that gives up early must not kill the process
    // halfway (with a pid file written and no one to remove it).
    let signals = Signals::open().map_err(|e| format!("blocking signals: {e}"))?;
    let hosts = HostsFile::open(args.hosts.clone())
        .map_err(|e| format!("reading hosts file {}: {e}", args.hosts.display()))?;
    let udp = UdpSocket::bind(args.listen)
        .map_err(|e| format!("listening on UDP {}: {e}", args.listen))?;
    let tcp = TcpListener::bind(args.listen)
        .map_err(|e| format!("listening on TCP {}: {e}", args.listen))?;
    let mut server = Server::new(udp, tcp, signals, hosts, args.upstreams)
        .map_err(|e| format!("setting up sockets on {}: {e}", args.listen))?;
    let pid_file = match &args.pid_file {
        Some(path) => Some(
            PidFile::write(path)
                .map_err(|e| format!("writing pid file {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let stopped = server.run();
    if let Some(pid_file) = pid_file {
        pid_file.remove();
    }
    match stopped {
        Ok(Stop::Signal) => Ok(()),
        Ok(Stop::HostsRemoved) => {
            eprintln!("berth-dns: {} was removed, exiting", args.hosts.display());
            Ok(())
        }
        Err(e) => Err(format!("serving on {}: {e}", args.listen)),
    }
}
