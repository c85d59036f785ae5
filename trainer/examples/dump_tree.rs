use procperf_model::schema::{FEATURE_NAMES, N_FEATURES};
use trainer::forest::{fit, ForestParams, Matrix, Tree};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut rdr = csv::Reader::from_path(&args[1]).unwrap();
    let h: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let fc: Vec<usize> = FEATURE_NAMES.iter().map(|n| col(n)).collect();
    let tc = col(&args[2]);
    let (mut x, mut y) = (vec![], vec![]);
    for r in rdr.records() { let r = r.unwrap(); x.extend(fc.iter().map(|&c| r[c].parse::<i32>().unwrap())); y.push(r[tc].parse::<f64>().unwrap()); }
    let p = ForestParams { n_estimators: 1, bootstrap: false, ..Default::default() };
    let (f, _) = fit(Matrix::new(&x, N_FEATURES), &y, &p);
    fn show(t: &Tree, i: usize, d: usize) {
        let n = &t.nodes[i];
        match n.feature { None => println!("{}leaf {:.1}", "  ".repeat(d), n.value),
            Some(ft) => { println!("{}{} <= {} (mean {:.1})", "  ".repeat(d), FEATURE_NAMES[ft as usize], n.threshold, n.value);
                if d < 2 { show(t, n.left as usize, d + 1); show(t, n.right as usize, d + 1); } } }
    }
    show(&f.trees[0], 0, 0);
}
