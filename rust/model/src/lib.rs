//! procperf's shared core, compiled both into the kernel module (by Kbuild, through `#[path]`
//! modules, with no cargo and no external crates) and into the trainer (by cargo).
#![no_std]

#[cfg(feature = "std")]
extern crate std;

pub mod sample;
