//! Any bytes as a `predictions.csv`, what `procperf top` reads from the module or a recording:
//! parsing returns passes or an error that names the file, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = procperf_cli::pass::parse(data, "fuzz.csv") {
        let msg = format!("{e:#}");
        assert!(
            msg.contains("fuzz.csv"),
            "an error that does not name the file: {msg}"
        );
    }
});
