//! planted
fn planted() {
    let x = 1;
}
