//! OCI device cgroup rules, normalized once for the v1 files and the v2 eBPF program.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use crate::error::{Error, Result};

/// Access bits, same values as the kernel's BPF_DEVCG_ACC_*.
pub(crate) const ACC_MKNOD: u8 = 1;
pub(crate) const ACC_READ: u8 = 2;
pub(crate) const ACC_WRITE: u8 = 4;
pub(crate) const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    All,
    Char,
    Block,
}

/// One rule: `major`/`minor` None = wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

impl Rule {
    /// Line for devices.allow / devices.deny, e.g. "c 1:3 rwm", "b *:* m", "a *:* rwm".
    pub(crate) fn v1_line(&self) -> String {
        let t = match self.kind {
            Kind::All => 'a',
            Kind::Char => 'c',
            Kind::Block => 'b',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut acc = String::with_capacity(3);
        if self.access & ACC_READ != 0 {
            acc.push('r');
        }
        if self.access & ACC_WRITE != 0 {
            acc.push('w');
        }
        if self.access & ACC_MKNOD != 0 {
            acc.push('m');
        }
        format!("{t} {}:{} {acc}", num(self.major), num(self.minor))
    }
}

/// Normalize OCI rules, keeping their order. Type 'u' counts as 'c'; 'p' (FIFO) rules are
/// dropped since the device cgroup never checks FIFOs. A missing/empty access means "rwm".
pub(crate) fn rules(list: &[LinuxDeviceCgroup]) -> Result<Vec<Rule>> {
    let mut out = Vec::with_capacity(list.len());
    for d in list {
        let kind = match d.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => Kind::All,
            LinuxDeviceType::C | LinuxDeviceType::U => Kind::Char,
            LinuxDeviceType::B => Kind::Block,
            LinuxDeviceType::P => continue,
        };
        let access = match d.access().as_deref() {
            None | Some("") => ACC_ALL,
            Some(a) => {
                let mut bits = 0;
                for c in a.chars() {
                    bits |= match c {
                        'r' => ACC_READ,
                        'w' => ACC_WRITE,
                        'm' => ACC_MKNOD,
                        _ => {
                            return Err(Error::invalid(
                                "device access",
                                a,
                                "only r, w and m are allowed",
                            ))
                        }
                    };
                }
                bits
            }
        };
        out.push(Rule {
            allow: d.allow(),
            kind,
            major: number(d.major(), "device major")?,
            minor: number(d.minor(), "device minor")?,
            access,
        });
    }
    Ok(out)
}

fn number(n: Option<i64>, what: &'static str) -> Result<Option<u32>> {
    match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None), // -1 is the wildcard, as in runc
        Some(n) if n > i32::MAX as i64 => Err(Error::invalid(what, n, "out of range")),
        Some(n) => Ok(Some(n as u32)),
    }
}

/// The device rules every container gets (mknod of anything; null, zero, full, random,
/// urandom, tty, console pts, ptmx). Not /dev/net/tun, which runc 1.1 still allowed: a
/// tunnel device lets the container add interfaces to its network, so like Podman (and
/// runc 1.2) it needs an explicit `--device`. The runtime appends these to the spec's rules.
pub fn default_allowed_devices() -> Vec<LinuxDeviceCgroup> {
    let rule = |t: LinuxDeviceType, major: Option<i64>, minor: Option<i64>, access: &str| {
        let mut d = LinuxDeviceCgroup::default();
        d.set_allow(true);
        d.set_typ(Some(t));
        d.set_major(major);
        d.set_minor(minor);
        d.set_access(Some(access.to_string()));
        d
    };
    use LinuxDeviceType::{B, C};
    vec![
        rule(C, None, None, "m"),
        rule(B, None, None, "m"),
        rule(C, Some(1), Some(3), "rwm"),
        rule(C, Some(1), Some(8), "rwm"),
        rule(C, Some(1), Some(7), "rwm"),
        rule(C, Some(5), Some(0), "rwm"),
        rule(C, Some(1), Some(5), "rwm"),
        rule(C, Some(1), Some(9), "rwm"),
        rule(C, Some(136), None, "rwm"),
        rule(C, Some(5), Some(2), "rwm"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(
        allow: bool,
        t: Option<LinuxDeviceType>,
        ma: Option<i64>,
        mi: Option<i64>,
        acc: Option<&str>,
    ) -> LinuxDeviceCgroup {
        let mut d = LinuxDeviceCgroup::default();
        d.set_allow(allow);
        d.set_typ(t);
        d.set_major(ma);
        d.set_minor(mi);
        d.set_access(acc.map(str::to_string));
        d
    }

    #[test]
    fn v1_lines_use_star_for_wildcards() {
        let r = rules(&[
            dev(false, None, None, None, Some("rwm")),
            dev(
                true,
                Some(LinuxDeviceType::C),
                Some(1),
                Some(3),
                Some("rwm"),
            ),
            dev(true, Some(LinuxDeviceType::B), Some(8), None, Some("r")),
            dev(true, Some(LinuxDeviceType::U), Some(-1), Some(4), None),
            dev(true, Some(LinuxDeviceType::P), Some(1), Some(1), None),
        ])
        .unwrap();
        let lines: Vec<String> = r.iter().map(Rule::v1_line).collect();
        assert_eq!(
            lines,
            vec!["a *:* rwm", "c 1:3 rwm", "b 8:* r", "c *:4 rwm"]
        );
        assert!(!r[0].allow && r[1].allow);
    }

    #[test]
    fn bad_access_is_rejected() {
        assert!(rules(&[dev(true, None, None, None, Some("rx"))]).is_err());
    }

    #[test]
    fn default_devices_include_dev_null() {
        let r = rules(&default_allowed_devices()).unwrap();
        assert!(r.iter().any(|r| r.v1_line() == "c 1:3 rwm"));
        assert!(
            !r.iter().any(|r| r.v1_line().starts_with("c 10:200")),
            "/dev/net/tun must not be allowed by default"
        );
    }
}
