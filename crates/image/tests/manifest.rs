//! Manifest parsing by media type and platform selection from an index.

use berth_image::manifest::{
    parse, select, Manifest, Platform, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX,
};
use serde_json::json;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

fn image(media: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D1, "size": 10},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 20}]
    }))
    .unwrap()
}

fn index(media: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D1, "size": 1, "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2, "size": 1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D3, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}}
        ]
    }))
    .unwrap()
}

#[test]
fn oci_and_docker_manifests_and_indexes_are_recognized() {
    for (ct, body) in [
        (None, image("application/vnd.oci.image.manifest.v1+json")),
        (Some(DOCKER_MANIFEST), image(DOCKER_MANIFEST)),
    ] {
        match parse(ct, &body).unwrap() {
            Manifest::Image(m) => assert_eq!(m.layers()[0].digest().to_string(), D2),
            _ => panic!("not an image manifest"),
        }
    }
    for (ct, body) in [
        (Some(OCI_INDEX), index(OCI_INDEX)),
        (
            Some("application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"),
            index(DOCKER_LIST),
        ),
    ] {
        assert!(matches!(parse(ct, &body).unwrap(), Manifest::Index(_)));
    }
}

#[test]
fn bad_manifests_get_clear_errors() {
    let e = parse(None, b"<html>oops</html>").unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
    let e = parse(Some("application/x-strange"), &image(DOCKER_MANIFEST))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown manifest media type \"application/x-strange\""),
        "{e}"
    );
    let e = parse(
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        b"{}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("schema 1"), "{e}");
}

#[test]
fn platform_is_selected_from_an_index() {
    let Manifest::Index(idx) = parse(Some(OCI_INDEX), &index(OCI_INDEX)).unwrap() else {
        panic!()
    };
    let pick = |p: &str| select(&idx, &p.parse().unwrap()).map(|d| d.digest().to_string());
    assert_eq!(pick("linux/amd64").unwrap(), D3);
    assert_eq!(pick("linux/x86_64").unwrap(), D3);
    assert_eq!(pick("linux/arm64").unwrap(), D2);
    assert_eq!(pick("linux/aarch64/v8").unwrap(), D2);
    assert_eq!(pick("linux/arm/v7").unwrap(), D1);
    let e = pick("linux/s390x").unwrap_err().to_string();
    assert!(
        e.contains("linux/s390x") && e.contains("linux/arm64") && e.contains("linux/amd64"),
        "{e}"
    );
    let host = match std::env::consts::ARCH {
        "x86_64" => Some(D3),
        "aarch64" => Some(D2),
        _ => None,
    };
    if let Some(want) = host {
        assert_eq!(
            select(&idx, &Platform::host())
                .unwrap()
                .digest()
                .to_string(),
            want
        );
    }
}

#[test]
fn platform_strings_are_validated() {
    for bad in [
        "linux",
        "linux/",
        "/amd64",
        "linux/amd64/v1/x",
        "linux/am d64",
    ] {
        assert!(bad.parse::<Platform>().is_err(), "{bad} accepted");
    }
    assert_eq!(
        "Linux/AMD64".parse::<Platform>().unwrap().to_string(),
        "linux/amd64"
    );
}
