//! Image references, parsed and normalized as Docker does (distribution/reference grammar):
//! `[domain/]path[:tag][@digest]`, where the first component is a domain only if it holds a
//! `.` or a `:` or is `localhost`; Docker Hub names get `docker.io` and, when single-component,
//! `library/`; no tag and no digest means `latest`.

use crate::digest::Digest;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const NAME_MAX: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The repository path on its registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }
    /// `domain/path`, the repository's full name.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }
    /// The short form Docker prints: `busybox:latest`, `team/app:1`, `host:5000/app:1`.
    pub fn familiar(&self) -> String {
        let name = if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix("library/")
                .filter(|p| !p.contains('/'))
                .unwrap_or(&self.path)
                .to_string()
        } else {
            self.name()
        };
        self.with_suffix(name)
    }

    fn with_suffix(&self, mut s: String) -> String {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(self.name()))
    }
}

fn bad(reference: &str, why: &'static str) -> Error {
    Error::InvalidReference {
        reference: reference.to_string(),
        why,
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// A host name or IPv4 address with an optional port, or a bracketed IPv6 address.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                if v6.is_empty()
                    || !v6
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
                {
                    return false;
                }
                ("x", tail.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reference> {
        if s.is_empty() {
            return Err(bad(s, "empty"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(d.parse::<Digest>().map_err(|_| bad(s, "invalid digest"))?),
            ),
            None => (s, None),
        };
        // A ':' after the last '/' starts the tag (a ':' before it belongs to host:port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].find(':') {
            Some(i) => {
                let t = &rest[last_slash + i + 1..];
                if !valid_tag(t) {
                    return Err(bad(s, "invalid tag"));
                }
                (&rest[..last_slash + i], Some(t.to_string()))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(bad(s, "missing repository name"));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, p))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, p.to_string())
            }
            _ => (DEFAULT_DOMAIN, name.to_string()),
        };
        let domain = if domain == LEGACY_DEFAULT_DOMAIN {
            DEFAULT_DOMAIN
        } else {
            domain
        };
        if !valid_domain(domain) {
            return Err(bad(s, "invalid registry host"));
        }
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad(s, "repository name must be lowercase"));
        }
        if !path.split('/').all(valid_component) {
            return Err(bad(s, "invalid repository name"));
        }
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if domain.len() + 1 + path.len() > NAME_MAX {
            return Err(bad(s, "repository name longer than 255 characters"));
        }
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        Ok(Reference {
            domain: domain.to_string(),
            path,
            tag,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn normalizes_like_docker() {
        let cases = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            (
                "library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            ("team/app", "docker.io/team/app:latest", "team/app:latest"),
            (
                "index.docker.io/team/app:v1",
                "docker.io/team/app:v1",
                "team/app:v1",
            ),
            (
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
            ),
            (
                "localhost:5000/a/b/c:t",
                "localhost:5000/a/b/c:t",
                "localhost:5000/a/b/c:t",
            ),
            (
                "127.0.0.1:5000/busybox",
                "127.0.0.1:5000/busybox:latest",
                "127.0.0.1:5000/busybox:latest",
            ),
            (
                "quay.io/org/img:1.0-rc.1",
                "quay.io/org/img:1.0-rc.1",
                "quay.io/org/img:1.0-rc.1",
            ),
            (
                "a__b/c-----d/e.f_g",
                "docker.io/a__b/c-----d/e.f_g:latest",
                "a__b/c-----d/e.f_g:latest",
            ),
        ];
        for (input, full, familiar) in cases {
            let r: Reference = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
        }
    }

    #[test]
    fn digests_with_and_without_tags() {
        let r: Reference = format!("busybox@{D}").parse().unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest().unwrap().to_string(), D);
        assert_eq!(r.to_string(), format!("docker.io/library/busybox@{D}"));
        let r: Reference = format!("host:5000/x:1@{D}").parse().unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.tag()),
            ("host:5000", "x", Some("1"))
        );
    }

    #[test]
    fn invalid_references_are_refused_with_a_reason() {
        for (input, why) in [
            ("", "empty"),
            ("Busybox", "lowercase"),
            ("busybox:", "tag"),
            ("busybox:-x", "tag"),
            ("bad..name", "repository name"),
            ("-lead", "repository name"),
            ("a//b", "repository name"),
            ("busybox@sha256:abc", "digest"),
            ("host:port/x", "host"),
            ("a:b:c", "tag"),
        ] {
            let e = input.parse::<Reference>().expect_err(input).to_string();
            assert!(e.contains(why), "{input}: {e}");
            assert!(e.contains("invalid reference format"), "{e}");
        }
        let long = format!("{}/x", "a".repeat(260));
        assert!(long.parse::<Reference>().is_err());
    }
}
