//! `create`: the parent side of making a container, and its all-or-nothing clean-up.

use super::Runtime;
use crate::error::{Error, Result};
use crate::hooks;
use crate::process::channel::{self, Msg};
use crate::process::init::{self, InitArgs};
use crate::process::namespaces::{self, Plan};
use crate::process::{clone, Forked};
use crate::spec;
use crate::state::{self, State, FIFO_FILE};
use berth_cgroups::{CgroupManager, Manager};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

#[derive(Default, Clone)]
pub struct CreateOpts {
    pub id: String,
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: i32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// The bundle's config.json as the caller already has it: parsed, and its exact bytes.
    /// The file is then not read and parsed again (an engine that has just written it).
    pub config: Option<(oci_spec::runtime::Spec, Vec<u8>)>,
    /// Start the container as soon as it is created, through the start fifo this create
    /// holds open: `run`, without reading back the state and config that `start` would.
    pub start: bool,
}

/// A container that reached `created`; its init is our child until we exit.
pub struct Created {
    pub pid: i32,
    pub dir: PathBuf,
}

/// Undoes a half-made create when dropped without `disarm`.
struct Undo {
    dir: Option<PathBuf>,
    cgroup: Option<Manager>,
    pids: Vec<i32>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        for &pid in &self.pids {
            let p = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(p, None);
        }
        if let Some(cg) = &self.cgroup {
            let _ = cg.kill_all(libc::SIGKILL);
            let _ = cg.destroy();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Undo {
    fn disarm(mut self) {
        self.dir = None;
        self.cgroup = None;
        self.pids.clear();
    }
}

pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." || id.len() > 1024 {
        return Err(Error::InvalidId(
            id.into(),
            "must be a non-empty name other than . and ..",
        ));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c))
    {
        return Err(Error::InvalidId(
            id.into(),
            "may only contain letters, digits, '_', '+', '-' and '.'",
        ));
    }
    Ok(())
}

impl Runtime {
    pub fn create(&self, o: &CreateOpts) -> Result<Created> {
        validate_id(&o.id)?;
        let bundle =
            std::fs::canonicalize(&o.bundle).map_err(|e| Error::io("bundle", &o.bundle, e))?;
        let (spec, config_bytes) = match &o.config {
            Some(given) => given.clone(),
            None => spec::load_with_bytes(&bundle.join("config.json"))?,
        };
        spec::validate(&spec)?;
        let rootfs = spec::rootfs(&spec, &bundle)?;
        let filter = self.seccomp_filter(&spec)?;
        let linux = spec.linux().as_ref().expect("validated");
        let plan = Plan::from_spec(linux.namespaces().as_deref().unwrap_or(&[]));

        std::fs::create_dir_all(&self.root)
            .map_err(|e| Error::io("create state root", &self.root, e))?;
        let dir = self.dir(&o.id);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists(o.id.clone()))
            }
            Err(e) => return Err(Error::io("create state dir", &dir, e)),
        }
        let mut undo = Undo {
            dir: Some(dir.clone()),
            cgroup: None,
            pids: Vec::new(),
        };
        let lock = state::Lock::acquire(&dir)?;

        let cg = Manager::new(linux.cgroups_path().as_deref(), &o.id)?;
        undo.cgroup = Some(Manager::from_paths(&cg.paths())?);
        cg.create()?;
        if let Some(r) = super::devices_cgroup::effective_resources(&spec) {
            cg.apply(&r)?;
        }

        let fifo_path = dir.join(FIFO_FILE);
        nix::unistd::mkfifo(&fifo_path, nix::sys::stat::Mode::from_bits_truncate(0o622))
            .map_err(|e| Error::sys(format!("mkfifo {}", fifo_path.display()), e))?;
        // Read-write, so the init's read blocks until `start` writes, and never sees EOF.
        let fifo: OwnedFd = nix::fcntl::open(
            &fifo_path,
            nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| Error::sys(format!("open {}", fifo_path.display()), e))?;
        let console = match &o.console_socket {
            Some(p) => Some(crate::process::console::connect(p)?),
            None => None,
        };
        let idmapped = crate::rootfs::idmap::prepare(&spec, &bundle)?;
        let listen_fds = listen_fds();
        let annotations = serde_json::to_value(spec.annotations().clone().unwrap_or_default())
            .unwrap_or_default();
        let mut args = InitArgs {
            id: o.id.clone(),
            spec,
            bundle: bundle.clone(),
            rootfs: rootfs.clone(),
            plan,
            cgroup_paths: cg.paths(),
            fifo_fd: fifo.as_raw_fd(),
            console_fd: console.as_ref().map(|c| c.as_raw_fd()),
            no_pivot: o.no_pivot,
            no_new_keyring: o.no_new_keyring,
            keep_below: 3 + o.preserve_fds + listen_fds,
            annotations,
            parent_only: vec![lock.raw_fd()],
            filter,
            idmapped: idmapped
                .iter()
                .map(|t| t.as_ref().map(|fd| fd.as_raw_fd()))
                .collect(),
        };
        if listen_fds > 0 {
            add_listen_env(&mut args.spec, listen_fds);
        }

        let (mut parent, mut child) = channel::pair()?;
        // Fast path (as crun): with nothing to join and no user or time namespace, the init is
        // cloned straight into its namespaces; otherwise stage 1 prepares them.
        let direct = init::can_clone_directly(&args.plan);
        let flags = if direct {
            init::direct_clone_flags(&args.plan)
        } else {
            0
        };
        let first = match clone(flags)? {
            Forked::Child => {
                drop(parent);
                if direct {
                    crate::process::child_main(&mut child, |c| init::direct(c, &args))
                } else {
                    crate::process::child_main(&mut child, |c| init::stage1(c, &args))
                }
            }
            Forked::Parent(pid) => pid,
        };
        drop(child);
        undo.pids.push(first);
        // The fast-path init works while we do this and may already have failed: prefer its
        // reason over our EPIPE/ESRCH.
        if let Err(e) = cg
            .add_task(first)
            .map_err(Error::from)
            .and_then(|_| parent.send(&Msg::Continue))
        {
            return Err(parent.pending_error().unwrap_or(e));
        }
        let stage1 = first;
        let linux = args.spec.linux().as_ref().expect("validated");
        let mut init_pid = if direct { first } else { 0 };
        loop {
            match parent.recv()? {
                Some(Msg::MapIds) => {
                    namespaces::write_id_maps(
                        stage1,
                        linux.uid_mappings().as_deref().unwrap_or(&[]),
                        linux.gid_mappings().as_deref().unwrap_or(&[]),
                    )?;
                    parent.send(&Msg::Continue)?;
                }
                Some(Msg::Pid(pid)) => {
                    init_pid = pid;
                    undo.pids.insert(0, pid);
                    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(stage1), None);
                    undo.pids.retain(|p| *p != stage1);
                }
                Some(Msg::RunRuntimeHooks) => {
                    let st = args.hook_state("creating", init_pid);
                    if let Some(h) = args.spec.hooks() {
                        #[allow(deprecated)]
                        hooks::run_all("prestart", h.prestart().as_ref(), &st)?;
                        hooks::run_all("createRuntime", h.create_runtime().as_ref(), &st)?;
                    }
                    parent.send(&Msg::Continue)?;
                }
                Some(Msg::Ready) => break,
                Some(Msg::Error(e)) => return Err(Error::Child(e)),
                Some(m) => return Err(Error::State(format!("protocol: unexpected {m:?}"))),
                None => return Err(Error::Child("container init exited during setup".into())),
            }
        }
        let start_time = state::proc_stat(init_pid)
            .map(|s| s.0)
            .ok_or_else(|| Error::Child("container init exited during setup".into()))?;
        let st = State {
            id: o.id.clone(),
            pid: init_pid,
            start_time,
            bundle,
            rootfs,
            created: state::now_rfc3339(),
            owner: String::new(),
            annotations: args.spec.annotations().clone().unwrap_or_default(),
            cgroup_paths: cg.paths(),
            started: false,
        };
        let cfg = dir.join(state::CONFIG_FILE);
        std::fs::write(&cfg, &config_bytes).map_err(|e| Error::io("write", &cfg, e))?;
        st.save(&dir)?;
        if let Some(p) = &o.pid_file {
            write_pid_file(p, init_pid)?;
        }
        if o.start {
            // Before the disarm: a start that fails undoes the create.
            start_now(&fifo, &fifo_path, &st, &args.spec)?;
        }
        undo.disarm();
        drop(fifo);
        Ok(Created { pid: init_pid, dir })
    }
}

/// [`Runtime::start`] for the create that has just made the container: the init waits on
/// the fifo we hold, our byte releases it. Removing the fifo marks the container started.
fn start_now(
    fifo: &OwnedFd,
    path: &Path,
    st: &State,
    spec: &oci_spec::runtime::Spec,
) -> Result<()> {
    nix::unistd::write(fifo, &[0])
        .map_err(|e| Error::sys(format!("write {}", path.display()), e))?;
    let _ = std::fs::remove_file(path);
    if let Some(h) = spec.hooks() {
        // Poststart failures are reported but do not stop the container (OCI spec).
        hooks::run_all_warn(
            "poststart",
            h.poststart().as_ref(),
            &st.oci_json(crate::state::Status::Running),
        );
    }
    Ok(())
}

/// Written to a temp file and renamed: containerd reads it as soon as it appears.
pub fn write_pid_file(p: &Path, pid: i32) -> Result<()> {
    let tmp = p.with_extension("berth-tmp");
    std::fs::write(&tmp, pid.to_string()).map_err(|e| Error::io("write pid file", &tmp, e))?;
    std::fs::rename(&tmp, p).map_err(|e| Error::io("rename pid file", p, e))
}

/// Socket activation: when we were started with LISTEN_FDS for us, pass them on.
pub fn listen_fds() -> i32 {
    let me = std::process::id().to_string();
    match (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS")) {
        (Ok(pid), Ok(n)) if pid == me => n.parse().unwrap_or(0),
        _ => 0,
    }
}

fn add_listen_env(spec: &mut oci_spec::runtime::Spec, n: i32) {
    if let Some(p) = spec.process_mut().as_mut() {
        let mut env = p.env().clone().unwrap_or_default();
        env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
        env.push(format!("LISTEN_FDS={n}"));
        env.push("LISTEN_PID=1".into());
        p.set_env(Some(env));
    }
}
