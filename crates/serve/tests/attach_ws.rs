//! `attach/ws`: a container's stdio over a WebSocket, with a WebSocket client of our own
//! (no packaged client speaks it over a unix socket).

mod common;
use common::*;
use std::os::unix::net::UnixStream;
use tungstenite::Message;

fn connect(s: &Server, path: &str) -> tungstenite::WebSocket<UnixStream> {
    let sock = UnixStream::connect(s.socket()).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let (ws, resp) = tungstenite::client(format!("ws://localhost{path}"), sock).unwrap();
    assert_eq!(resp.status(), 101);
    ws
}

/// Messages until `done` says the output so far is enough, or the connection ends: (the
/// output, how many messages were text).
fn read_until(
    ws: &mut tungstenite::WebSocket<UnixStream>,
    done: impl Fn(&str) -> bool,
) -> (String, usize) {
    let (mut out, mut texts) = (String::new(), 0);
    while !done(&out) {
        match ws.read() {
            Ok(Message::Binary(b)) => out.push_str(&String::from_utf8_lossy(&b)),
            Ok(Message::Text(t)) => {
                texts += 1;
                out.push_str(&t);
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    (out, texts)
}

/// Every message until the server closes.
fn read_all(ws: &mut tungstenite::WebSocket<UnixStream>) -> (String, usize) {
    read_until(ws, |_| false)
}

#[test]
fn stdio_over_a_websocket_until_the_container_exits() {
    let s = Server::start();
    s.ok(&[
        "run",
        "-d",
        "-i",
        "--name",
        "ws",
        "busybox",
        "sh",
        "-c",
        "while read l; do echo got:$l; echo err:$l >&2; done; echo bye; exit 3",
    ]);
    let mut ws = connect(
        &s,
        "/v1.45/containers/ws/attach/ws?stream=1&stdin=1&stdout=1&stderr=1",
    );
    ws.send(Message::text("hello\n")).unwrap();
    ws.send(Message::binary(b"again\n".to_vec())).unwrap();
    let wanted = ["got:hello\n", "err:hello\n", "got:again\n", "err:again\n"];
    let (out, texts) = read_until(&mut ws, |o| wanted.iter().all(|w| o.contains(w)));
    for want in wanted {
        assert!(out.contains(want), "{want:?} in {out:?}");
    }
    assert_eq!(texts, 0, "API 1.42 and later get binary messages");
    // Closing the socket ends the container's input (a close ends both directions, so its
    // last words are for its log).
    ws.close(None).unwrap();
    let _ = read_all(&mut ws);
    assert_eq!(s.ok(&["wait", "ws"]), "3\n");
    assert!(s.ok(&["logs", "ws"]).contains("bye\n"));
    s.ok(&["rm", "ws"]);
}

#[test]
fn older_api_versions_get_text_and_a_stopped_container_is_refused() {
    let s = Server::start();
    s.ok(&[
        "run",
        "-d",
        "-i",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "read x; echo hi",
    ]);
    let mut ws = connect(
        &s,
        "/v1.41/containers/talker/attach/ws?stream=1&stdin=1&stdout=1",
    );
    ws.send(Message::text("go\n")).unwrap();
    let (out, texts) = read_all(&mut ws);
    assert_eq!(out, "hi\n");
    assert_eq!(texts, 1, "before 1.42, text messages as dockerd");
    s.ok(&["wait", "talker"]);
    // Not running: Docker's conflict, before any upgrade.
    let raw = s.raw(
        b"GET /containers/talker/attach/ws?stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\n\
          Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert!(raw.starts_with("HTTP/1.1 409"), "{raw}");
    // Not a WebSocket request: a client error.
    let raw =
        s.raw(b"GET /containers/talker/attach/ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
}
