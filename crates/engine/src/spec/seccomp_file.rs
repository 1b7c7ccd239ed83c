//! `--security-opt seccomp=FILE`: a profile in docker's JSON format (or plain OCI
//! `linux.seccomp`) turned into the OCI form for this machine and container, as docker
//! does: `archMap` narrowed to this architecture, rules kept only when their `includes`
//! (capabilities, architectures, minimum kernel) hold and their `excludes` do not.

use crate::{Error, Result};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Docker's architecture names (`includes.arches`) for this machine.
fn native_arches() -> &'static [&'static str] {
    if cfg!(target_arch = "x86_64") {
        &["amd64", "x86_64"]
    } else if cfg!(target_arch = "aarch64") {
        &["arm64", "aarch64"]
    } else if cfg!(target_arch = "riscv64") {
        &["riscv64"]
    } else if cfg!(target_arch = "s390x") {
        &["s390x"]
    } else {
        &[]
    }
}

fn kernel_version() -> (u32, u32) {
    let r = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    version(&r)
}

fn version(s: &str) -> (u32, u32) {
    let mut it = s
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Does a rule's `includes`/`excludes` select it for a container with `caps`?
fn selected(rule: &Value, caps: &[String]) -> bool {
    let arches = native_arches();
    let inc = &rule["includes"];
    let exc = &rule["excludes"];
    let inc_caps = strings(&inc["caps"]);
    if !inc_caps.iter().all(|c| caps.iter().any(|x| x == c)) {
        return false;
    }
    let inc_arches = strings(&inc["arches"]);
    if !inc_arches.is_empty() && !inc_arches.iter().any(|a| arches.contains(a)) {
        return false;
    }
    if let Some(min) = inc["minKernel"].as_str() {
        if kernel_version() < version(min) {
            return false;
        }
    }
    if strings(&exc["caps"])
        .iter()
        .any(|c| caps.iter().any(|x| x == c))
    {
        return false;
    }
    if strings(&exc["arches"]).iter().any(|a| arches.contains(a)) {
        return false;
    }
    true
}

/// Converts a profile (already parsed JSON) for a container with capabilities `caps`.
pub fn convert(profile: &Value, caps: &[String]) -> Result<Value> {
    let bad = |why: &str| Error::InvalidArgument(format!("seccomp profile: {why}"));
    let obj = profile
        .as_object()
        .ok_or_else(|| bad("not a JSON object"))?;
    let default_action = obj
        .get("defaultAction")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("defaultAction is missing"))?;
    let mut out = Map::new();
    out.insert("defaultAction".into(), json!(default_action));
    for k in [
        "defaultErrnoRet",
        "flags",
        "listenerPath",
        "listenerMetadata",
    ] {
        if let Some(v) = obj.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let native = super::seccomp::architectures();
    let mut arches: Vec<String> = strings(obj.get("architectures").unwrap_or(&Value::Null))
        .into_iter()
        .map(String::from)
        .collect();
    for m in obj
        .get("archMap")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let a = m["architecture"].as_str().unwrap_or_default();
        if native.first() == Some(&a) {
            arches.push(a.to_string());
            arches.extend(
                strings(&m["subArchitectures"])
                    .into_iter()
                    .map(String::from),
            );
        }
    }
    if !arches.is_empty() {
        out.insert("architectures".into(), json!(arches));
    }
    let mut syscalls = Vec::new();
    for rule in obj
        .get("syscalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !selected(rule, caps) {
            continue;
        }
        let mut names: Vec<&str> = strings(&rule["names"]);
        if let Some(n) = rule["name"].as_str() {
            names.push(n);
        }
        if names.is_empty() {
            continue;
        }
        let action = rule["action"]
            .as_str()
            .ok_or_else(|| bad("a syscall rule has no action"))?;
        let mut r = json!({"names": names, "action": action});
        for k in ["errnoRet", "args"] {
            if let Some(v) = rule.get(k).filter(|v| !v.is_null()) {
                r[k] = v.clone();
            }
        }
        syscalls.push(r);
    }
    out.insert("syscalls".into(), json!(syscalls));
    Ok(Value::Object(out))
}

/// Reads and converts a profile file.
pub fn load(path: &Path, caps: &[String]) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read seccomp profile", path, e))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::InvalidArgument(format!("seccomp profile {}: {e}", path.display())))?;
    convert(&v, caps)
}

/// A profile given as its JSON text (the Engine API's `seccomp=<json>`).
pub fn load_inline(json: &str, caps: &[String]) -> Result<Value> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| Error::InvalidArgument(format!("decoding seccomp profile failed: {e}")))?;
    convert(&v, caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_format_rules_are_selected_by_caps_arch_and_kernel() {
        let p = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "archMap": [
                {"architecture": super::super::seccomp::architectures()[0], "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_PPC64LE", "subArchitectures": []}
            ],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
                {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                {"names": ["s390_pci_mmio_read"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"name": "getpid", "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
            ]
        });
        let plain = convert(&p, &[]).unwrap();
        let names: Vec<String> = plain["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r["names"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(names, vec!["read", "write", "ptrace", "clone", "getpid"]);
        assert_eq!(plain["syscalls"][3]["errnoRet"], json!(38));
        assert!(plain["syscalls"][0].get("comment").is_none());
        assert_eq!(plain["architectures"].as_array().unwrap().len(), 2);
        let admin = convert(&p, &["CAP_SYS_ADMIN".into()]).unwrap();
        let s = admin["syscalls"].to_string();
        assert!(s.contains("mount") && !s.contains("clone"));
        assert!(convert(&json!({"syscalls": []}), &[]).is_err());
        // Parsed by oci-spec and accepted by the runtime's validator.
        let oci: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(plain).unwrap();
        berth_seccomp::validate(&oci).unwrap();
    }
}
