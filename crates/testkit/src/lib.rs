//! Fixtures for Berth's tests, made offline on this machine: a real registry (Debian's
//! docker-registry) on 127.0.0.1, stopped by PID when dropped, and a busybox image built from
//! busybox-static as an OCI layout, pushed with skopeo.

use berth_image::Digest;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod breaking_proxy;
mod token_server;
pub use breaking_proxy::BreakingProxy;
pub use token_server::{TokenOptions, TokenServer};

pub struct Registry {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Start Debian's docker-registry on a free loopback port, storage in a temp dir.
    pub fn start() -> Registry {
        Self::start_with(None, "")
    }

    /// As [`Registry::start`], taking Bearer tokens signed by `tokens` (`auth: token:`).
    pub fn start_with_token(tokens: &TokenServer) -> Registry {
        Self::start_with(None, &tokens.registry_config())
    }

    /// The registry's storage directory (`docker/registry/v2/...`), to damage on purpose.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Where the registry keeps blob `d`'s bytes.
    pub fn blob_data_path(&self, d: &Digest) -> std::path::PathBuf {
        self.data_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&d.hex()[..2])
            .join(d.hex())
            .join("data")
    }

    /// As [`Registry::start`], requiring Basic auth for `user`/`password` (htpasswd, bcrypt).
    pub fn start_with_htpasswd(user: &str, password: &str) -> Registry {
        Self::start_with(Some((user, password)), "")
    }

    fn start_with(auth: Option<(&str, &str)>, extra_config: &str) -> Registry {
        Self::start_opts(&Options {
            htpasswd: auth,
            extra_config,
            ..Options::default()
        })
    }

    /// As [`Registry::start`], over HTTPS with `tls`'s server certificate (for 127.0.0.1 and
    /// localhost), optionally with Basic auth and requiring a client certificate signed by
    /// `tls`'s CA.
    pub fn start_tls(tls: &Tls, htpasswd: Option<(&str, &str)>, client_certs: bool) -> Registry {
        Self::start_opts(&Options {
            htpasswd,
            tls: Some((tls, client_certs)),
            ..Options::default()
        })
    }

    /// As [`Registry::start`], listening on `ip` (a non-loopback address, see
    /// [`non_loopback_ip`]) instead of 127.0.0.1.
    pub fn start_on(ip: std::net::IpAddr) -> Registry {
        Self::start_opts(&Options {
            ip: Some(ip),
            ..Options::default()
        })
    }

    fn start_opts(o: &Options) -> Registry {
        let auth = o.htpasswd;
        let ip = o.ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let addr = std::net::SocketAddr::new(ip, 0);
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind(addr)
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = std::net::SocketAddr::new(ip, port);
        let cfg = dir.path().join("config.yml");
        let mut http = format!("http:\n  addr: {host}\n  secret: berth-test-secret\n");
        if let Some((tls, client_certs)) = o.tls {
            http += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                tls.server_cert().display(),
                tls.server_key().display()
            );
            if client_certs {
                http += &format!("    clientcas:\n      - {}\n", tls.ca_cert().display());
            }
        }
        std::fs::write(
            &cfg,
            format!("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n{http}{}", dir.path().join("data").display(), o.extra_config),
        )
        .unwrap();
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) must be installed");
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
            let mut c = std::fs::OpenOptions::new().append(true).open(&cfg).unwrap();
            std::io::Write::write_all(
                &mut c,
                format!(
                    "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
                .as_bytes(),
            )
            .unwrap();
        }
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry must be installed (apt-get install docker-registry)");
        let r = Registry { child, port, dir };
        let url = format!("http://{host}/v2/");
        for _ in 0..200 {
            // Up means answering at all: 200, 401 when auth is on, 400 for plain HTTP to TLS.
            if matches!(
                ureq::get(&url).call(),
                Ok(_) | Err(ureq::Error::Status(401 | 400, _))
            ) {
                return r;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("registry did not come up on port {port}");
    }
}

#[derive(Default)]
struct Options<'a> {
    htpasswd: Option<(&'a str, &'a str)>,
    tls: Option<(&'a Tls, bool)>,
    ip: Option<std::net::IpAddr>,
    /// More registry config (YAML, top level), e.g. `auth: token:`.
    extra_config: &'a str,
}

/// A test CA, a server certificate it signed for `IP:127.0.0.1` and `DNS:localhost`, and a
/// client certificate it signed, made with the openssl CLI in a temp dir (PEM files).
pub struct Tls {
    dir: tempfile::TempDir,
}

impl Tls {
    pub fn make() -> Tls {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("openssl must be installed");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Berth test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        for (name, cn) in [("server", "127.0.0.1"), ("client", "berth-test-client")] {
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.crt"),
            ]);
        }
        Tls { dir }
    }

    pub fn ca_cert(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.crt")
    }
    pub fn server_cert(&self) -> std::path::PathBuf {
        self.dir.path().join("server.crt")
    }
    pub fn server_key(&self) -> std::path::PathBuf {
        self.dir.path().join("server.key")
    }
    pub fn client_cert(&self) -> std::path::PathBuf {
        self.dir.path().join("client.crt")
    }
    pub fn client_key(&self) -> std::path::PathBuf {
        self.dir.path().join("client.key")
    }
}

/// An address of this host that is not loopback (the first of `hostname -I`), if it has one.
pub fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let out = Command::new("hostname").arg("-I").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One gzip layer from (path, contents, mode) files, plus its image config and manifest,
/// stored as blobs under `dir`; returns the manifest's digest and size.
fn image(
    dir: &Path,
    arch: &str,
    files: &[(&str, &[u8], u32)],
    symlinks: &[(&str, &str)],
) -> (Digest, usize) {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("bin/").unwrap();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    for (path, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    for (path, target) in symlinks {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_link_name(target).unwrap();
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    let layer = put(dir, &gz);
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&tar).to_string()]}
    }))
    .unwrap();
    let config_d = put(dir, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.to_string(), "size": gz.len()}]
    }))
    .unwrap();
    (put(dir, &manifest), manifest.len())
}

fn put(dir: &Path, data: &[u8]) -> Digest {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let d = Digest::sha256_of(data);
    std::fs::write(blobs.join(d.hex()), data).unwrap();
    d
}

fn write_index(dir: &Path, media_type: &str, digest: &Digest, size: usize) {
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": media_type,
        "digest": digest.to_string(), "size": size, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// A one-layer busybox image as an OCI layout (tag `v1`), built from busybox-static.
pub fn busybox_layout(dir: &Path) {
    let bb = std::fs::read("/bin/busybox").expect("busybox-static must be installed");
    let (d, n) = image(
        dir,
        "amd64",
        &[("bin/busybox", &bb, 0o755)],
        &[("bin/sh", "busybox")],
    );
    write_index(dir, "application/vnd.oci.image.manifest.v1+json", &d, n);
}

/// An image index (tag `v1`) for linux/amd64 (busybox) and linux/arm64 (a marker file only:
/// nothing arm64 can run here, it is there to be selected). Push it with `--all`.
pub fn two_platform_layout(dir: &Path) {
    let bb = std::fs::read("/bin/busybox").expect("busybox-static must be installed");
    let (amd, amd_n) = image(
        dir,
        "amd64",
        &[("bin/busybox", &bb, 0o755), ("arch", b"amd64", 0o644)],
        &[("bin/sh", "busybox")],
    );
    let (arm, arm_n) = image(dir, "arm64", &[("arch", b"arm64", 0o644)], &[]);
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd.to_string(), "size": amd_n, "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.to_string(), "size": arm_n, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
    ]}))
    .unwrap();
    let idx = put(dir, &index);
    write_index(
        dir,
        "application/vnd.oci.image.index.v1+json",
        &idx,
        index.len(),
    );
}

/// Copy the layout's `v1` into a registry with skopeo (plain HTTP).
pub fn push(layout: &Path, dest: &str) {
    push_as(layout, dest, None)
}

/// As [`push`], with `user:password` credentials.
pub fn push_as(layout: &Path, dest: &str, creds: Option<&str>) {
    push_with(
        layout,
        dest,
        &creds
            .map(|c| format!("--dest-creds={c}"))
            .into_iter()
            .collect::<Vec<_>>(),
    )
}

/// As [`push`], with extra skopeo flags (`--all` for an index, `--format v2s2` for Docker
/// media types).
pub fn push_with(layout: &Path, dest: &str, extra: &[String]) {
    let st = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .args(extra)
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}"))
        .stdout(Stdio::null())
        .status()
        .expect("skopeo must be installed (apt-get install skopeo)");
    assert!(st.success(), "skopeo copy to {dest} failed");
}

/// A loopback HTTP proxy in front of a registry that answers the first `fail_first` requests
/// with 500 and relays the rest: a registry having a bad moment.
pub struct FlakyProxy {
    pub port: u16,
    pub served_errors: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Every request seen, as "METHOD path".
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FlakyProxy {
    pub fn start(upstream: u16, fail_first: usize) -> FlakyProxy {
        Self::start_with(upstream, fail_first, None)
    }

    /// Relays responses 16 KiB at a time with a pause in between: a slow link, so a test can
    /// kill a client in the middle of a download.
    pub fn slow(upstream: u16, pause: std::time::Duration) -> FlakyProxy {
        Self::start_with(upstream, 0, Some(pause))
    }

    /// A plain relay (no errors) listening on `ip`, to see which requests arrive at an
    /// address that is not loopback.
    pub fn relay_on(ip: std::net::IpAddr, upstream: u16) -> FlakyProxy {
        Self::start_at(ip, upstream, 0, None)
    }

    fn start_with(
        upstream: u16,
        fail_first: usize,
        pause: Option<std::time::Duration>,
    ) -> FlakyProxy {
        Self::start_at([127, 0, 0, 1].into(), upstream, fail_first, pause)
    }

    fn start_at(
        ip: std::net::IpAddr,
        upstream: u16,
        fail_first: usize,
        pause: Option<std::time::Duration>,
    ) -> FlakyProxy {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = errors.clone();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { continue };
                let counter = counter.clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    // Read one request head.
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut b) {
                            Ok(1) => head.push(b[0]),
                            _ => return,
                        }
                        // A TLS handshake (clients try HTTPS first on loopback): answer as Go's
                        // plain-HTTP server does, so the client moves on to plain HTTP.
                        if head == [0x16] {
                            let _ = client.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
                            return;
                        }
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    seen.lock().unwrap().push(
                        line.rsplit_once(' ')
                            .map_or(line.clone(), |(l, _)| l.to_string()),
                    );
                    if counter.load(Ordering::SeqCst) < fail_first {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let _ = client.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }
                    let Ok(mut up) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                        return;
                    };
                    // One request per connection, so every request passes through the code above.
                    let head = [&head[..head.len() - 2], b"Connection: close\r\n\r\n"].concat();
                    if up.write_all(&head).is_err() {
                        return;
                    }
                    let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
                    let t = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut c2, &mut u2);
                        let _ = u2.shutdown(std::net::Shutdown::Write);
                    });
                    match pause {
                        None => {
                            let _ = std::io::copy(&mut up, &mut client);
                        }
                        Some(p) => {
                            let mut buf = vec![0u8; 16 << 10];
                            while let Ok(n) = up.read(&mut buf) {
                                if n == 0 || client.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                                std::thread::sleep(p);
                            }
                        }
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    let _ = t.join();
                });
            }
        });
        FlakyProxy {
            port,
            served_errors: errors,
            requests,
        }
    }
}

/// An image (tag `v1`) of `layers` gzip layers, each one file of `bytes` incompressible bytes
/// (so a slow proxy makes their downloads overlap). With `wrong_diff_id = Some(i)`, the
/// config claims a wrong diff ID for layer `i`: the registry serves it, a pull must refuse it.
pub fn layered_layout(dir: &Path, layers: usize, bytes: usize, wrong_diff_id: Option<usize>) {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..layers {
        let data: Vec<u8> = (0..bytes)
            .map(|_| {
                // xorshift: cheap bytes gzip cannot shrink.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_path(format!("layer{i}.bin")).unwrap();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let d = put(dir, &gz);
        descriptors.push(
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": d.to_string(), "size": gz.len()}),
        );
        let diff = if wrong_diff_id == Some(i) {
            Digest::sha256_of(b"not this layer")
        } else {
            Digest::sha256_of(&tar)
        };
        diff_ids.push(diff.to_string());
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap();
    let config_d = put(dir, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d.to_string(), "size": config.len()},
        "layers": descriptors
    }))
    .unwrap();
    let d = put(dir, &manifest);
    write_index(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        &d,
        manifest.len(),
    );
}

/// Removes a test's own default bridge and the rules Berth made for it in its nftables
/// table (the rules of other tests' bridges stay).
pub fn remove_test_bridge(bridge: &str) {
    let _ = Command::new("ip").args(["link", "del", bridge]).output();
    let Ok(o) = Command::new("nft")
        .args(["-a", "list", "table", "ip", "berth"])
        .output()
    else {
        return;
    };
    let mut chain = String::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let l = line.trim();
        if let Some(c) = l.strip_prefix("chain ") {
            // `chain NAME { # handle N`
            chain = c.split_whitespace().next().unwrap_or("").to_string();
        } else if l.contains(&format!("\"{bridge}\""))
            || l.contains(&format!("\"berth-net:{bridge}\""))
        {
            if let Some(h) = l.rsplit_once("# handle ").map(|(_, h)| h.to_string()) {
                let _ = Command::new("nft")
                    .args(["delete", "rule", "ip", "berth", &chain, "handle", &h])
                    .output();
            }
        }
    }
    let _ = Command::new("nft")
        .args([
            "delete",
            "element",
            "ip",
            "berth",
            "bridges",
            &format!("{{ \"{bridge}\" }}"),
        ])
        .output();
}
