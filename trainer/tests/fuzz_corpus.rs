//! The fuzz corpus of the samples CSV parser (fuzz/corpus/parse_samples: the seeds, and any input
//! a fuzzing run found worth keeping), replayed as regression inputs: rows, or an error naming
//! the file.

use std::{fs, path::Path};

#[test]
fn samples_corpus_parses_or_names_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/parse_samples");
    let mut ok = 0;
    for entry in fs::read_dir(&dir).expect("fuzz/corpus/parse_samples") {
        let input = fs::read(entry.expect("corpus entry").path()).expect("corpus file");
        match trainer::data::parse_samples(&input[..], "corpus.csv") {
            Ok(_) => ok += 1,
            Err(e) => assert!(format!("{e:#}").contains("corpus.csv"), "{e:#}"),
        }
    }
    assert!(ok >= 1, "the committed seed no longer parses");
}
