//! See docs/network-design.md (to be written).
