//! Any bytes as a samples CSV, the trainer's input (the module's `samples` stream or `trainer
//! collect`): parsing returns rows or an error that names the file, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = trainer::data::parse_samples(data, "fuzz.csv") {
        let msg = format!("{e:#}");
        assert!(
            msg.contains("fuzz.csv"),
            "an error that does not name the file: {msg}"
        );
    }
});
