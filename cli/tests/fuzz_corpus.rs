//! The fuzz corpus of the predictions.csv parser (fuzz/corpus/parse_predictions_csv: the seeds,
//! and any input a fuzzing run found worth keeping), replayed as regression inputs: passes, or an
//! error naming the file.

use std::{fs, path::Path};

#[test]
fn predictions_corpus_parses_or_names_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/parse_predictions_csv");
    let mut ok = 0;
    for entry in fs::read_dir(&dir).expect("fuzz/corpus/parse_predictions_csv") {
        let input = fs::read(entry.expect("corpus entry").path()).expect("corpus file");
        match procperf_cli::pass::parse(&input[..], "corpus.csv") {
            Ok(_) => ok += 1,
            Err(e) => assert!(format!("{e:#}").contains("corpus.csv"), "{e:#}"),
        }
    }
    assert!(ok >= 1, "the committed seed no longer parses");
}
