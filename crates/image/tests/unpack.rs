//! Layer unpack on a real filesystem (run as root: devices, ownership, trusted xattrs).

use berth_image::unpack::{unpack, unpack_new, Options};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use tar::{EntryType, Header};

fn header(path: &str, typ: EntryType, size: u64, mode: u32) -> Header {
    let mut h = Header::new_gnu();
    // Raw name bytes: the tar crate's setters refuse `..`, and hostile tests need them.
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_entry_type(typ);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_000_000_000);
    h
}

fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, typ: EntryType, link: Option<&str>, data: &[u8]) {
    let mut h = header(
        path,
        typ,
        data.len() as u64,
        if typ == EntryType::Directory {
            0o755
        } else {
            0o644
        },
    );
    if let Some(l) = link {
        let ln = &mut h.as_old_mut().linkname;
        ln.fill(0);
        ln[..l.len()].copy_from_slice(l.as_bytes());
    }
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn layer(f: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    f(&mut b);
    b.into_inner().unwrap()
}

fn xattr(p: &Path, key: &str) -> Option<Vec<u8>> {
    let cp = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let ck = std::ffi::CString::new(key).unwrap();
    let mut buf = [0u8; 256];
    // SAFETY: lgetxattr into a buffer we own, with its length.
    let n =
        unsafe { libc::lgetxattr(cp.as_ptr(), ck.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

#[test]
fn files_links_devices_and_metadata_are_kept() {
    let data = layer(|b| {
        let mut h = header("etc", EntryType::Directory, 0, 0o750);
        h.set_uid(1000);
        h.set_gid(1001);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
        let mut h = header("etc/conf", EntryType::Regular, 5, 0o640);
        h.set_mtime(1_234_567_890);
        h.set_cksum();
        b.append(&h, &b"hello"[..]).unwrap();
        add(b, "etc/rel-link", EntryType::Symlink, Some("conf"), b"");
        add(
            b,
            "etc/abs-link",
            EntryType::Symlink,
            Some("/etc/conf"),
            b"",
        );
        add(b, "etc/hard", EntryType::Link, Some("etc/conf"), b"");
        add(b, "fifo", EntryType::Fifo, None, b"");
        let mut h = header("null", EntryType::Char, 0, 0o666);
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
        b.append_pax_extensions([("SCHILY.xattr.user.berth", &b"yes"[..])])
            .unwrap();
        add(b, "with-xattr", EntryType::Regular, None, b"x");
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let st = unpack_new(&data[..], &root, &Options::default()).unwrap();
    assert_eq!(st.entries, 8);
    let m = std::fs::metadata(root.join("etc")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o750, 1000, 1001));
    let m = std::fs::metadata(root.join("etc/conf")).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.mtime(), m.nlink()),
        (0o640, 1_234_567_890, 2)
    );
    assert_eq!(std::fs::read(root.join("etc/hard")).unwrap(), b"hello");
    assert_eq!(
        std::fs::read_link(root.join("etc/rel-link")).unwrap(),
        Path::new("conf")
    );
    assert_eq!(
        std::fs::read_link(root.join("etc/abs-link")).unwrap(),
        Path::new("/etc/conf")
    );
    assert!(std::fs::symlink_metadata(root.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let n = std::fs::metadata(root.join("null")).unwrap();
    assert!(n.file_type().is_char_device());
    assert_eq!(n.rdev(), libc::makedev(1, 3));
    assert_eq!(
        xattr(&root.join("with-xattr"), "user.berth").as_deref(),
        Some(&b"yes"[..])
    );
}

#[test]
fn whiteouts_become_overlayfs_whiteouts_and_opaque_dirs() {
    let data = layer(|b| {
        add(b, "etc/.wh.issue.net", EntryType::Regular, None, b"");
        add(
            b,
            "usr/share/doc/.wh..wh..opq",
            EntryType::Regular,
            None,
            b"",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    unpack_new(&data[..], &root, &Options::default()).unwrap();
    let w = std::fs::symlink_metadata(root.join("etc/issue.net")).unwrap();
    assert!(
        w.file_type().is_char_device() && w.rdev() == 0,
        "not an overlay whiteout"
    );
    assert!(!root.join("etc/.wh.issue.net").exists());
    assert_eq!(
        xattr(&root.join("usr/share/doc"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert!(!root.join("usr/share/doc/.wh..wh..opq").exists());
}

#[test]
fn gzip_layers_are_decompressed() {
    let data = layer(|b| add(b, "a", EntryType::Regular, None, b"gz"));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &data).unwrap();
    let gz = enc.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    unpack_new(&gz[..], &root, &Options::default()).unwrap();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"gz");
}

#[test]
fn zstd_layers_are_decompressed() {
    let data = layer(|b| add(b, "z", EntryType::Regular, None, b"zstd"));
    let z = zstd::encode_all(&data[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    unpack_new(&z[..], &root, &Options::default()).unwrap();
    assert_eq!(std::fs::read(root.join("z")).unwrap(), b"zstd");
}

/// A hostile layer is refused with a clear error, and the snapshot is gone.
fn refused(data: &[u8], opts: &Options, why: &str) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let e = unpack_new(data, &root, opts)
        .expect_err("hostile layer accepted")
        .to_string();
    assert!(e.contains("hostile layer") && e.contains(why), "{e}");
    assert!(!root.exists(), "half-made snapshot left behind");
}

#[test]
fn dotdot_path_is_refused() {
    let outside = std::env::temp_dir().join(format!("berth-dotdot-{}", std::process::id()));
    refused(
        &layer(|b| {
            add(
                b,
                &format!("../../../../../../..{}", outside.display()),
                EntryType::Regular,
                None,
                b"x",
            )
        }),
        &Options::default(),
        "'..'",
    );
    assert!(!outside.exists());
}

#[test]
fn absolute_path_is_refused() {
    refused(
        &layer(|b| add(b, "/tmp/berth-absolute", EntryType::Regular, None, b"x")),
        &Options::default(),
        "absolute path",
    );
    assert!(!Path::new("/tmp/berth-absolute").exists());
}

#[test]
fn write_through_a_symlink_made_by_an_earlier_entry_is_refused() {
    let target = tempfile::tempdir().unwrap();
    let t = target.path().to_str().unwrap().to_string();
    refused(
        &layer(|b| {
            add(b, "esc", EntryType::Symlink, Some(&t), b"");
            add(b, "esc/planted", EntryType::Regular, None, b"x");
        }),
        &Options::default(),
        "esc",
    );
    refused(
        &layer(|b| {
            add(b, "up", EntryType::Symlink, Some("../../../../../.."), b"");
            add(b, "up/tmp/planted", EntryType::Regular, None, b"x");
        }),
        &Options::default(),
        "up",
    );
    assert!(!target.path().join("planted").exists());
}

#[test]
fn write_through_a_symlink_from_an_earlier_layer_is_refused() {
    let target = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let first = layer(|b| {
        add(
            b,
            "esc",
            EntryType::Symlink,
            Some(target.path().to_str().unwrap()),
            b"",
        )
    });
    unpack_new(&first[..], &root, &Options::default()).unwrap();
    let second = layer(|b| add(b, "esc/planted", EntryType::Regular, None, b"x"));
    let e = unpack(&second[..], &root, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("hostile layer"), "{e}");
    assert!(!target.path().join("planted").exists());
}

#[test]
fn hard_link_outside_the_layer_is_refused() {
    refused(
        &layer(|b| add(b, "h", EntryType::Link, Some("../../../../etc/passwd"), b"")),
        &Options::default(),
        "'..'",
    );
    refused(
        &layer(|b| {
            add(b, "etcl", EntryType::Symlink, Some("/etc"), b"");
            add(b, "h", EntryType::Link, Some("etcl/passwd"), b"");
        }),
        &Options::default(),
        "etcl",
    );
}

#[test]
fn layer_over_the_size_limit_is_refused() {
    let data = layer(|b| {
        add(b, "a", EntryType::Regular, None, &[0u8; 600]);
        add(b, "b", EntryType::Regular, None, &[0u8; 600]);
    });
    refused(&data, &Options { max_bytes: 1000 }, "limit of 1000 bytes");
}

#[test]
fn write_through_a_directory_replaced_by_a_symlink_is_refused() {
    // The unpacker remembers directories it has resolved; an entry that replaces one with a
    // symlink must make it forget them.
    let target = tempfile::tempdir().unwrap();
    let t = target.path().to_str().unwrap().to_string();
    refused(
        &layer(|b| {
            add(b, "d/", EntryType::Directory, None, b"");
            add(b, "d/first", EntryType::Regular, None, b"x");
            add(b, "d", EntryType::Symlink, Some(&t), b"");
            add(b, "d/planted", EntryType::Regular, None, b"x");
        }),
        &Options::default(),
        "d",
    );
    assert!(!target.path().join("planted").exists());
}

#[test]
fn a_later_entry_replaces_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let data = layer(|b| {
        add(b, "a/", EntryType::Directory, None, b"");
        add(b, "a/f", EntryType::Regular, None, b"old");
        add(b, "a/f", EntryType::Regular, None, b"new");
        add(b, "a/l", EntryType::Symlink, Some("f"), b"");
        add(b, "a/l", EntryType::Symlink, Some("g"), b"");
        add(b, "b", EntryType::Regular, None, b"file first");
        add(b, "b/", EntryType::Directory, None, b"");
        add(b, "b/inside", EntryType::Regular, None, b"then a dir");
    });
    unpack_new(&data[..], &root, &Options::default()).unwrap();
    assert_eq!(std::fs::read(root.join("a/f")).unwrap(), b"new");
    assert_eq!(
        std::fs::read_link(root.join("a/l")).unwrap(),
        Path::new("g")
    );
    assert_eq!(std::fs::read(root.join("b/inside")).unwrap(), b"then a dir");
}

#[test]
fn parents_without_entries_are_made_and_a_later_directory_entry_sets_its_own_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let data = layer(|b| {
        add(b, "usr/local/bin/tool", EntryType::Regular, None, b"x");
        add(b, "./opt/app", EntryType::Regular, None, b"y");
        add(b, "top", EntryType::Regular, None, b"z");
        // The directory entry after its file, as some archivers write them.
        let mut h = header("usr/local/", EntryType::Directory, 0, 0o750);
        h.set_uid(7);
        h.set_gid(8);
        h.set_mtime(1000);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    });
    unpack_new(&data[..], &root, &Options::default()).unwrap();
    for (d, want) in [
        ("usr", (0o755, 0, 0)),
        ("usr/local", (0o750, 7, 8)),
        ("usr/local/bin", (0o755, 0, 0)),
        ("opt", (0o755, 0, 0)),
    ] {
        let m = std::fs::metadata(root.join(d)).unwrap();
        assert!(m.is_dir(), "{d}");
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), want, "{d}");
    }
    assert_eq!(
        std::fs::metadata(root.join("usr/local")).unwrap().mtime(),
        1000
    );
    assert_eq!(
        std::fs::read(root.join("usr/local/bin/tool")).unwrap(),
        b"x"
    );
    assert_eq!(std::fs::read(root.join("opt/app")).unwrap(), b"y");
    assert_eq!(std::fs::read(root.join("top")).unwrap(), b"z");
}

#[test]
fn a_gnu_sparse_file_is_unpacked_with_its_holes_as_zeros() {
    // The tar crate writes a file with holes (a linker's output often has some) as a GNU
    // sparse entry; it used to be skipped, and the file was missing from the image.
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("sparse");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut w = std::fs::File::create(&f).unwrap();
        w.write_all(b"head").unwrap();
        w.seek(SeekFrom::Start(1 << 20)).unwrap();
        w.write_all(b"middle").unwrap();
        w.set_len(3 << 20).unwrap();
    }
    let mut b = tar::Builder::new(Vec::new());
    b.append_path_with_name(&f, "bin/tool").unwrap();
    let data = b.into_inner().unwrap();
    assert_eq!(
        data[156], b'S',
        "the tar crate did not write a sparse entry"
    );
    assert!(data.len() < 1 << 20, "holes were stored");

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    let st = unpack_new(&data[..], &root, &Options::default()).unwrap();
    assert_eq!((st.entries, st.bytes), (1, 3 << 20));
    let got = std::fs::read(root.join("bin/tool")).unwrap();
    let mut want = vec![0u8; 3 << 20];
    want[..4].copy_from_slice(b"head");
    want[1 << 20..(1 << 20) + 6].copy_from_slice(b"middle");
    assert!(got == want, "content differs");
    let m = std::fs::metadata(root.join("bin/tool")).unwrap();
    assert_eq!(
        m.mode() & 0o7777,
        std::fs::metadata(&f).unwrap().mode() & 0o7777
    );

    // Its real size counts against the limit, not the bytes the archive holds.
    let e = unpack_new(
        &data[..],
        &dir.path().join("small"),
        &Options { max_bytes: 1 << 20 },
    )
    .expect_err("over the limit");
    assert!(e.to_string().contains("limit"), "{e}");
}

#[test]
fn unknown_entry_types_are_refused_and_a_pax_global_header_makes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    // `git archive` starts with a pax global header.
    let data = layer(|b| {
        add(b, "pax_global_header", EntryType::XGlobalHeader, None, b"");
        add(
            b,
            "PaxHeaders/x/ignored",
            EntryType::XGlobalHeader,
            None,
            b"",
        );
        add(b, "f", EntryType::Regular, None, b"x");
    });
    unpack_new(&data[..], &root, &Options::default()).unwrap();
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"]);

    // A GNU volume label: skipping it silently is how files went missing; refuse instead.
    let data = layer(|b| {
        add(b, "f", EntryType::Regular, None, b"x");
        add(b, "label", EntryType::new(b'V'), None, b"");
    });
    let root = dir.path().join("snap2");
    let e = unpack_new(&data[..], &root, &Options::default())
        .expect_err("unknown type accepted")
        .to_string();
    assert!(e.contains("label") && e.contains("type 'V'"), "{e}");
    assert!(!root.exists(), "half-made snapshot left behind");
}
