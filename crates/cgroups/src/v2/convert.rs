//! Conversions of OCI (cgroup v1 flavoured) values to cgroup v2 values, as runc does.

use crate::error::{Error, Result};

/// cpu.shares (2..=262144) -> cpu.weight (1..=10000): `1 + ((shares - 2) * 9999) / 262142`.
/// 0 means "unset" and stays 0.
pub fn cpu_shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// blkio.weight (10..=1000) -> io.weight (1..=10000): `1 + (weight - 10) * 9999 / 990`.
/// 0 means "unset" and stays 0.
pub fn blkio_weight_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    let w = u64::from(weight).clamp(10, 1000);
    1 + (w - 10) * 9999 / 990
}

/// OCI memory.swap is memory+swap; memory.swap.max is swap only (runc's
/// ConvertMemorySwapToCgroupV2Value). 0 = unset, -1 = unlimited.
pub fn memory_swap_to_v2(swap: i64, memory: i64) -> Result<i64> {
    // memory unlimited and swap not given: both unlimited, as with cgroup v1.
    if memory == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if memory == 0 || memory == -1 {
        return Err(Error::invalid(
            "memory.swap",
            swap,
            "a swap limit needs a memory limit",
        ));
    }
    if memory < 0 {
        return Err(Error::invalid("memory.limit", memory, "negative"));
    }
    if swap < memory {
        return Err(Error::invalid(
            "memory.swap",
            swap,
            format!("memory+swap limit must be >= memory limit {memory}"),
        ));
    }
    Ok(swap - memory)
}

/// 0 -> None (unset), -1 -> "max", n -> "n".
pub(crate) fn num_to_str(v: i64) -> Option<String> {
    match v {
        0 => None,
        -1 => Some("max".to_string()),
        n => Some(n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_to_weight_matches_runc() {
        assert_eq!(cpu_shares_to_weight(0), 0);
        assert_eq!(cpu_shares_to_weight(2), 1);
        assert_eq!(cpu_shares_to_weight(1024), 39);
        assert_eq!(cpu_shares_to_weight(262_144), 10_000);
        assert_eq!(
            cpu_shares_to_weight(1),
            1,
            "below the v1 minimum is clamped"
        );
    }

    #[test]
    fn blkio_weight_to_io_weight_matches_runc() {
        assert_eq!(blkio_weight_to_io_weight(0), 0);
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
    }

    #[test]
    fn swap_conversion() {
        assert_eq!(memory_swap_to_v2(0, -1).unwrap(), -1);
        assert_eq!(memory_swap_to_v2(-1, 100).unwrap(), -1);
        assert_eq!(memory_swap_to_v2(0, 100).unwrap(), 0);
        assert_eq!(memory_swap_to_v2(300, 100).unwrap(), 200);
        assert_eq!(memory_swap_to_v2(100, 100).unwrap(), 0);
        assert!(memory_swap_to_v2(50, 100).is_err());
        assert!(memory_swap_to_v2(50, 0).is_err());
        assert!(memory_swap_to_v2(50, -1).is_err());
    }

    #[test]
    fn num_to_str_values() {
        assert_eq!(num_to_str(0), None);
        assert_eq!(num_to_str(-1).as_deref(), Some("max"));
        assert_eq!(num_to_str(42).as_deref(), Some("42"));
    }
}
