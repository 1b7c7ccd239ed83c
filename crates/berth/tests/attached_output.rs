//! An attached `run` (and `start -a`) gives the container's stdout and stderr to the caller
//! byte for byte, each stream on its own and in order, whatever the bytes are (binary data
//! that is no UTF-8 included) and whatever the log driver (`none` included); with -i our
//! stdin reaches the container as exactly.

mod container_support;
use container_support::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// Sizes around the edges that matter: one byte, one more than a pipe holds, several MiB
/// (more than the monitor ever queues for a client).
const SIZES: [usize; 3] = [1, (64 << 10) + 1, 5 << 20];

/// `len` bytes that look random (xorshift; most sequences are not UTF-8), different per seed.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn data_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Says which bytes differ first, rather than printing megabytes.
fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    panic!(
        "{what}: {} bytes received, {} sent; first difference at {first:?}",
        got.len(),
        want.len()
    );
}

/// `berth ARGS` with `input` written to its stdin (from a thread, while its output is read).
fn berth_with_input(root: &Root, args: &[&str], input: Vec<u8>) -> Output {
    let mut child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // A container that ends early closes its stdin: the rest is not wanted.
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    o
}

#[test]
fn binary_stdout_of_an_attached_run_arrives_byte_for_byte() {
    let root = Root::new();
    let files = tempfile::tempdir().unwrap();
    for (i, size) in SIZES.into_iter().enumerate() {
        let data = random_bytes(size, i as u64 + 1);
        let f = data_file(files.path(), &format!("d{i}"), &data);
        let bind = format!("{}:/f:ro", f.display());
        let o = root.berth(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &bind,
            IMAGE,
            "cat",
            "/f",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_same(&o.stdout, &data, &format!("stdout of {size} bytes"));
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
    }
}

#[test]
fn stdout_and_stderr_stay_apart_and_exact_with_the_exit_status() {
    let root = Root::new();
    let files = tempfile::tempdir().unwrap();
    for (i, size) in SIZES.into_iter().enumerate() {
        let out = random_bytes(size, 10 + i as u64);
        let err = random_bytes(size + 7, 20 + i as u64);
        let a = data_file(files.path(), &format!("out{i}"), &out);
        let b = data_file(files.path(), &format!("err{i}"), &err);
        let (va, vb) = (
            format!("{}:/out:ro", a.display()),
            format!("{}:/err:ro", b.display()),
        );
        // Both streams written at once, interleaved in time.
        let o = root.berth(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &va,
            "-v",
            &vb,
            IMAGE,
            "sh",
            "-c",
            "cat /err >&2 & cat /out; wait; exit 3",
        ]);
        assert_eq!(o.status.code(), Some(3), "size {size}");
        assert_same(&o.stdout, &out, &format!("stdout of {size} bytes"));
        assert_same(&o.stderr, &err, &format!("stderr of {} bytes", size + 7));
    }
}

#[test]
fn run_i_passes_binary_stdin_through_exactly() {
    let root = Root::new();
    for (i, size) in SIZES.into_iter().enumerate() {
        let data = random_bytes(size, 30 + i as u64);
        let o = berth_with_input(
            &root,
            &["run", "--rm", "-i", "--network", "none", IMAGE, "cat"],
            data.clone(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_same(&o.stdout, &data, &format!("-i round trip of {size} bytes"));
    }
}

#[test]
fn log_driver_none_loses_nothing_of_an_attached_run() {
    let root = Root::new();
    let files = tempfile::tempdir().unwrap();
    let data = random_bytes(5 << 20, 40);
    let f = data_file(files.path(), "d", &data);
    let bind = format!("{}:/f:ro", f.display());
    let o = root.berth(&[
        "run",
        "--rm",
        "--log-driver",
        "none",
        "--network",
        "none",
        "-v",
        &bind,
        IMAGE,
        "sh",
        "-c",
        "cat /f; echo to-stderr >&2; exit 5",
    ]);
    assert_eq!(o.status.code(), Some(5));
    assert_same(&o.stdout, &data, "stdout with --log-driver none");
    assert_eq!(stderr(&o), "to-stderr\n");
    // A quick container's few bytes too (printed before berth could have attached).
    let o = root.berth(&[
        "run",
        "--rm",
        "--log-driver",
        "none",
        "--network",
        "none",
        IMAGE,
        "echo",
        "hi",
    ]);
    assert_eq!((o.status.code(), ok(&o).as_str()), (Some(0), "hi\n"));
    // And with -i.
    let input = random_bytes((64 << 10) + 1, 41);
    let o = berth_with_input(
        &root,
        &[
            "run",
            "--rm",
            "-i",
            "--log-driver",
            "none",
            "--network",
            "none",
            IMAGE,
            "cat",
        ],
        input.clone(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same(&o.stdout, &input, "-i with --log-driver none");
}

#[test]
fn start_a_gives_the_binary_output_of_a_created_container() {
    let root = Root::new();
    let files = tempfile::tempdir().unwrap();
    let data = random_bytes((64 << 10) + 1, 50);
    let f = data_file(files.path(), "d", &data);
    let bind = format!("{}:/f:ro", f.display());
    let id = root
        .ok(&[
            "create",
            "--network",
            "none",
            "-v",
            &bind,
            IMAGE,
            "sh",
            "-c",
            "cat /f; exit 2",
        ])
        .trim()
        .to_string();
    for round in 0..2 {
        let o = root.berth(&["start", "-a", &id]);
        assert_eq!(o.status.code(), Some(2), "round {round}: {}", stderr(&o));
        assert_same(&o.stdout, &data, &format!("start -a, round {round}"));
    }
    // The log keeps the output too (escaped as the json-file driver does).
    let logs = root.berth(&["logs", &id]);
    assert!(!logs.stdout.is_empty(), "nothing in the log");
}
