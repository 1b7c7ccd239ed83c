//! docker-compose (Debian's 1.29) and the Python Docker SDK (python3-docker) against
//! `berth serve`.

mod common;
use common::*;
use std::io::{Read, Write};
use std::process::Command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn compose(s: &Server, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("docker-compose")
        .current_dir(dir)
        .env("DOCKER_HOST", s.host())
        .env("DOCKER_CONFIG", s.dir.path().join("docker-config"))
        .args(["-p", "proj"])
        .args(args)
        .output()
        .expect("docker-compose is needed (apt-get install docker-compose)")
}

fn compose_ok(s: &Server, dir: &std::path::Path, args: &[&str]) -> String {
    let o = compose(s, dir, args);
    assert!(
        o.status.success(),
        "docker-compose {args:?}: {}{}\nserver log:\n{}",
        stdout(&o),
        stderr(&o),
        s.log()
    );
    stdout(&o)
}

#[test]
fn compose_up_ps_exec_logs_down() {
    let s = Server::start();
    let dir = s.dir.path().join("app");
    std::fs::create_dir(&dir).unwrap();
    let port = free_port();
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!(
            r#"version: "3"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && echo hello-from-web > /www/index.html && echo web-started && httpd -f -p 80 -h /www'
    stop_grace_period: 1s
    ports:
      - "{port}:80"
    volumes:
      - data:/data
    networks: [appnet]
  client:
    image: busybox
    command: sleep 1000
    stop_grace_period: 1s
    depends_on: [web]
    environment:
      GREETING: hi
    networks: [appnet]
volumes:
  data:
networks:
  appnet:
"#
        ),
    )
    .unwrap();
    compose_ok(&s, &dir, &["up", "-d"]);
    let ps = compose_ok(&s, &dir, &["ps"]);
    assert!(
        ps.contains("proj_web_1") && ps.contains("proj_client_1"),
        "{ps}"
    );
    assert_eq!(ps.matches(" Up ").count(), 2, "{ps}");
    // One service reaches the other by name, with its environment.
    let out = compose_ok(
        &s,
        &dir,
        &[
            "exec",
            "-T",
            "client",
            "sh",
            "-c",
            "echo $GREETING; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 80",
        ],
    );
    assert!(out.starts_with("hi\n"), "{out}");
    assert!(out.contains("hello-from-web"), "{out}");
    // The published port, from the host.
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            let _ = c.read_to_string(&mut body);
            if body.contains("hello-from-web") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(body.contains("hello-from-web"), "{body}");
    let logs = compose_ok(&s, &dir, &["logs", "web"]);
    assert!(logs.contains("web-started"), "{logs}");
    compose_ok(&s, &dir, &["down", "-v"]);
    assert_eq!(s.ok(&["ps", "-aq"]), "");
    assert!(!s
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("proj"));
    assert!(!s
        .ok(&["volume", "ls", "--format", "{{.Name}}"])
        .contains("proj"));
}

#[test]
fn python_docker_sdk() {
    let s = Server::start();
    let script = r#"
import docker, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = []
ct = c.containers.run("busybox", ["sh", "-c", "echo out"], detach=True, name="sdk1")
out.append(ct.wait()["StatusCode"])
out.append(ct.logs().decode().strip())
ct.remove()
ct = c.containers.run("busybox", "sleep 1000", detach=True)
r = ct.exec_run(["sh", "-c", "echo exec-out; exit 4"])
out.append((r.exit_code, r.output.decode().strip()))
ct.remove(force=True)
out.append(c.containers.run("busybox", "echo fg", remove=True).decode().strip())
n = c.networks.create("sdknet")
out.append(n.name in [x.name for x in c.networks.list()])
n.remove()
v = c.volumes.create("sdkvol")
out.append([x.name for x in c.volumes.list()])
v.remove()
out.append(sorted(t for i in c.images.list() for t in i.tags))
out.append(len(c.containers.list(all=True)))
print(repr(out))
"#;
    let o = Command::new("python3")
        .args(["-c", script, &s.host()])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}\nserver log:\n{}",
        stdout(&o),
        stderr(&o),
        s.log()
    );
    assert_eq!(
        stdout(&o).trim(),
        "[0, 'out', (4, 'exec-out'), 'fg', True, ['sdkvol'], ['busybox:latest'], 0]"
    );
}
