//! Per-process cost of what the kernel does every pass: features, linear models, forests.
//!
//! Model shape for the forest numbers: 32 trees of depth 8 per target, all four targets; the
//! `_default` benchmarks use the committed trained model (`default/model.bin`, whatever shape
//! `make model` gave it).
//!
//! `linear/all_targets` and `forest/*` prepare the feature vector once ([`Lanes`]) and share it,
//! as `ModelRef::predict_all` does; `linear/one_target` clamps on its own.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: on a
//! machine shared with other work (kernel builds, say), wall time would mostly measure waiting.

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use procperf_model::adapt::Scores;
use procperf_model::blend::{publish_all, Blend};
use procperf_model::blob::parse;
use procperf_model::features::compute;
use procperf_model::forecast::Forecast;
use procperf_model::forest::Lanes;
use procperf_model::group::Share;
use procperf_model::history::{History, HISTORY_LEN};
use procperf_model::linear::LinearRef;
use procperf_model::sample::RawSample;
use procperf_model::schema::{Target, N_FEATURES, N_TARGETS};
use procperf_model::synth::{busy_history, random_features, random_model, Rng};
use procperf_model::target::{current_levels, outcome_levels, window_levels};

fn bench(c: &mut Criterion<ThreadCpu>) {
    let history = busy_history(42);
    let bytes = random_model(42, 32, 8)
        .quantize()
        .unwrap()
        .to_checked_bytes()
        .unwrap();
    let model = parse(&bytes).unwrap();
    let mut rng = Rng(3);
    // Several feature vectors so the forest walks take different paths.
    let rows: Vec<_> = (0..64).map(|_| random_features(&mut rng)).collect();
    let levels = current_levels(&history.window().unwrap());

    c.bench_function("features/compute", |b| {
        b.iter(|| compute(black_box(&history)))
    });

    let mut i = 0;
    let linear_models = Target::ALL.map(|t| model.target(0, t).map(|m| m.linear));
    c.bench_function("linear/one_target", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            linear_models[0].map(|m| m.predict_delta(black_box(&rows[i])))
        })
    });
    let all_linear = linear_models.map(Option::unwrap);
    c.bench_function("linear/all_targets", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            let lanes = Lanes::new(black_box(&rows[i]));
            LinearRef::predict_many(&all_linear, &lanes)
        })
    });
    // Not an evaluator: the floor under any scalar linear scheme. 4 × 58 multiply-adds with
    // 64-bit products that may wrap (less exact than `predict_many`'s 128-bit sums), on the same
    // feature rows. SSE2 has no 64-bit multiply, so the host build stays scalar here as well.
    let w64: [[i64; N_FEATURES]; 4] = Target::ALL.map(|t| {
        let mut w = [0i64; N_FEATURES];
        for (w, v) in w
            .iter_mut()
            .zip(model.target(0, t).unwrap().linear.weights())
        {
            *w = v;
        }
        w
    });
    c.bench_function("linear/floor_232_i64_products", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            let x = black_box(&rows[i]);
            let mut acc = [0i64; 4];
            for (j, &x) in x.iter().enumerate() {
                for (a, w) in acc.iter_mut().zip(black_box(&w64)) {
                    *a = a.wrapping_add(w[j].wrapping_mul(i64::from(x)));
                }
            }
            acc
        })
    });
    c.bench_function("forest/all_targets_32x8", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            let lanes = Lanes::new(black_box(&rows[i]));
            Target::ALL.map(|t| model.target(0, t).map(|m| m.forest.predict_lanes(&lanes)))
        })
    });
    let default = parse(include_bytes!("../default/model.bin")).unwrap();
    c.bench_function("forest/all_targets_default", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            let lanes = Lanes::new(black_box(&rows[i]));
            Target::ALL.map(|t| default.target(0, t).map(|m| m.forest.predict_lanes(&lanes)))
        })
    });
    let default_linear = Target::ALL.map(|t| default.target(0, t).unwrap().linear);
    c.bench_function("linear/all_targets_default", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            let lanes = Lanes::new(black_box(&rows[i]));
            // What predict_all does when some models are constant.
            default_linear.map(|m| m.predict_lanes(&lanes))
        })
    });
    c.bench_function("predict/history_all_targets", |b| {
        b.iter(|| model.predict_history(0, black_box(&history)))
    });
    let past = window_levels(&history.window().unwrap());
    let bases = [model.base_levels(0, &past), model.base_levels(1, &past)];
    c.bench_function("predict/all_targets_all_horizons_given_features", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            model.predict_horizons(black_box(&rows[i]), &bases)
        })
    });
    c.bench_function("predict/all_targets_given_features", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            model.predict_all(0, black_box(&rows[i]), &levels)
        })
    });
    // The published forecasts of all four targets from a prediction, as the sampler runs it for
    // every predicted process every pass (outcome levels from the window included).
    let window = history.window().unwrap();
    let pred = model.predict_history(0, &history).unwrap();
    let mut blends = [Blend::new(); N_TARGETS];
    c.bench_function("blend/publish_all_targets", |b| {
        b.iter(|| {
            let outcome = outcome_levels(black_box(&window));
            let mut published = pred;
            publish_all(
                &mut blends,
                &outcome,
                &levels,
                black_box(&levels),
                &mut published,
            );
            published
        })
    });
    // A sleeping process's whole pass (push of an idle sample, then the forecast update on the
    // still path), the update most of a host's processes get every pass: once its blend records
    // have settled, its republish is skipped. Under a random model, then under the committed one,
    // whose forests forecast a sleeper's levels as they are.
    let sample = RawSample {
        interval_ns: 1_000_000_000,
        rss_anon_kib: 2048,
        age_ms: 60_000,
        ..Default::default()
    };
    for (name, m) in [
        ("forecast/still_pass", &model),
        ("forecast/still_pass_default", &default),
    ] {
        let mut idle = (History::new(), Forecast::new(), Scores::default());
        for _ in 0..4 * HISTORY_LEN {
            idle.0.push(&sample);
            idle.1.update(&idle.0, m, &mut idle.2);
        }
        c.bench_function(name, |b| {
            b.iter(|| {
                let (h, f, scores) = &mut idle;
                h.push(black_box(&sample));
                f.update(h, m, scores)
            })
        });
    }
    // A process added to its groups' totals as the pass does: its share computed once, added to
    // its cgroup's and its command name's, with a published forecast at every horizon.
    let (mut h, mut f, mut scores) = (History::new(), Forecast::new(), Scores::default());
    for _ in 0..4 * HISTORY_LEN {
        h.push(&sample);
        f.update(&h, &default, &mut scores);
    }
    let mut totals = [procperf_model::group::Totals::default(); 2];
    c.bench_function("group/add_process", |b| {
        b.iter(|| {
            let share = Share::of(black_box(&sample), f.published(), 0);
            for t in totals.iter_mut() {
                t.add_share(&share);
            }
        })
    });
    c.bench_function("blob/parse_32x8", |b| {
        b.iter(|| parse(black_box(&bytes)).is_ok())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpu)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);

/// CPU time of the calling thread, ns.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NsFormatter
    }
}

/// Prints CPU nanoseconds with the usual ns / µs / ms scaling.
struct NsFormatter;

impl ValueFormatter for NsFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e3, "µs"),
            _ => (1e6, "ms"),
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        values.iter_mut().for_each(|v| *v = 1e9 / *v);
        "elem/s"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
