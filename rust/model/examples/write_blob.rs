//! Writes a synthetic (untrained, pseudo-random) but valid model blob, for loading tests of the
//! kernel module and for fuzz seeds.
//!
//! Usage: `cargo run -p procperf-model --features std --example write_blob -- OUT [SEED TREES DEPTH]`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        return Err("usage: write_blob OUT [SEED TREES DEPTH]".into());
    };
    let num = |i: usize, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (seed, trees, depth) = (num(1, 1)?, num(2, 32)? as usize, num(3, 8)? as usize);
    let model = procperf_model::synth::random_model(seed, trees, depth);
    let bytes = model.quantize()?.to_checked_bytes()?;
    std::fs::write(out, &bytes)?;
    eprintln!(
        "wrote {out}: {} bytes, {trees} trees of depth {depth} per target",
        bytes.len()
    );
    Ok(())
}
