//! The named scenarios, one file each.

pub mod standard;
