//! Who the container process runs as: groups, gid, uid, umask, and its five capability sets.

use crate::error::{Error, Result, SysContext};
use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities, User};
use std::str::FromStr;

fn convert(set: &Option<Capabilities>) -> CapsHashSet {
    let mut out = CapsHashSet::new();
    for c in set.iter().flatten() {
        // oci-spec displays "SYS_ADMIN"; the caps crate parses "CAP_SYS_ADMIN". Capabilities this
        // build of `caps` does not know are skipped, as runc does for unknown ones.
        if let Ok(k) = Capability::from_str(&format!("CAP_{c}")) {
            out.insert(k);
        }
    }
    out
}

/// Drop the bounding set first: that needs CAP_SETPCAP, which the later steps may remove.
pub fn drop_bounding(c: &LinuxCapabilities) -> Result<()> {
    let keep = convert(c.bounding());
    for cap in caps::all() {
        if !keep.contains(&cap) {
            match caps::drop(None, CapSet::Bounding, cap) {
                Ok(()) => {}
                // A capability newer than the running kernel is simply absent.
                Err(_) if !caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) => {}
                Err(e) => return Err(Error::Child(format!("drop bounding capability {cap}: {e}"))),
            }
        }
    }
    Ok(())
}

/// Switch to the process user, keeping capabilities across the uid change.
pub fn set_user(u: &User, userns_setgroups_allowed: bool) -> Result<()> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    if userns_setgroups_allowed {
        let gids: Vec<Gid> = u
            .additional_gids()
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|g| Gid::from_raw(*g))
            .collect();
        setgroups(&gids).ctx(|| format!("setgroups {:?}", u.additional_gids()))?;
    }
    let g = Gid::from_raw(u.gid());
    setresgid(g, g, g).ctx(|| format!("setgid {}", u.gid()))?;
    let id = Uid::from_raw(u.uid());
    setresuid(id, id, id).ctx(|| format!("setuid {}", u.uid()))?;
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    if let Some(m) = u.umask() {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(m));
    }
    Ok(())
}

pub fn set_caps(c: &LinuxCapabilities) -> Result<()> {
    let set = |which: CapSet, v: &CapsHashSet, name: &str| {
        caps::set(None, which, v).map_err(|e| Error::Child(format!("set {name} capabilities: {e}")))
    };
    let permitted = convert(c.permitted());
    let effective = convert(c.effective());
    let inheritable = convert(c.inheritable());
    // Order matters to capset(2): inheritable while CAP_SETPCAP is still effective, then
    // effective down to its target, then permitted (effective must stay a subset).
    set(CapSet::Inheritable, &inheritable, "inheritable")?;
    set(CapSet::Effective, &effective, "effective")?;
    set(CapSet::Permitted, &permitted, "permitted")?;
    caps::clear(None, CapSet::Ambient).ok();
    for cap in convert(c.ambient()) {
        // Ambient needs the cap in permitted and inheritable; like runc, a failure is not fatal.
        let _ = caps::raise(None, CapSet::Ambient, cap);
    }
    Ok(())
}

/// Whether [`drop_bounding`] and [`set_caps`] will succeed, checked before the init reports
/// Ready: they run after `start`, where a failure could only end the container with an
/// error on its stderr. capset(2)'s rules, against the sets this process holds now.
pub fn check_caps(c: &LinuxCapabilities) -> Result<()> {
    let read = |which: CapSet| {
        caps::read(None, which).map_err(|e| Error::Child(format!("read capabilities: {e}")))
    };
    let (have_p, have_i, have_b) = (
        read(CapSet::Permitted)?,
        read(CapSet::Inheritable)?,
        read(CapSet::Bounding)?,
    );
    let names = |s: &mut dyn Iterator<Item = &Capability>| {
        let mut v: Vec<String> = s.map(|c| c.to_string()).collect();
        v.sort();
        v.join(", ")
    };
    let fail = |what: String| Err(Error::Child(format!("apply capabilities: {what}")));
    let permitted = convert(c.permitted());
    let bounding = convert(c.bounding());
    let missing: Vec<_> = permitted.difference(&have_p).collect();
    if !missing.is_empty() {
        return fail(format!(
            "{} requested but not held by the runtime (the host does not grant it)",
            names(&mut missing.into_iter())
        ));
    }
    let effective = convert(c.effective());
    let extra: Vec<_> = effective.difference(&permitted).collect();
    if !extra.is_empty() {
        return fail(format!(
            "{} in the effective set but not in the permitted set",
            names(&mut extra.into_iter())
        ));
    }
    // The new inheritable set must come from the old inheritable set plus what is both
    // permitted now and left in the bounding set.
    let extra: Vec<_> = convert(c.inheritable())
        .into_iter()
        .filter(|cap| {
            let grantable = have_p.contains(cap) && bounding.contains(cap) && have_b.contains(cap);
            !(have_i.contains(cap) || grantable)
        })
        .collect();
    if !extra.is_empty() {
        return fail(format!(
            "{} in the inheritable set but not in both the bounding set and the runtime's permitted set",
            names(&mut extra.iter())
        ));
    }
    let to_drop = have_b.iter().any(|cap| !bounding.contains(cap));
    if to_drop && !caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false)
    {
        return fail("dropping from the bounding set needs CAP_SETPCAP".into());
    }
    Ok(())
}
