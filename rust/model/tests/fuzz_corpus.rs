//! The fuzz corpus of the settings parser (fuzz/corpus/parse_setting: the seeds, and any input a
//! fuzzing run found worth keeping), replayed as regression inputs.

use procperf_model::setting::parse_decimal_u32;
use std::{fs, path::Path};

#[test]
fn setting_corpus_parses_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/parse_setting");
    let mut parsed = 0;
    for entry in fs::read_dir(&dir).expect("fuzz/corpus/parse_setting") {
        let input = fs::read(entry.expect("corpus entry").path()).expect("corpus file");
        parsed += usize::from(parse_decimal_u32(&input).is_some());
    }
    // The committed seeds are valid settings.
    assert!(parsed >= 3, "only {parsed} corpus inputs parsed");
}
