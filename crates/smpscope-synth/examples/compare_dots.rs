//! Prints measured against true values for the dots of one scene, to study biases:
//! `cargo run --release -p smpscope-synth --example compare_dots -- SEED [WxH]` (a random
//! scene) or `-- default` (the default spec).

use smpscope_synth::evaluate::params_for;
use smpscope_synth::{SceneSpec, encode, render};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spec = match args.get(1).map(String::as_str) {
        Some("default") | None => SceneSpec::default(),
        Some(seed) => smpscope_synth::evaluate::random_scene(seed.parse().expect("a seed"), (24.0, 18.0), 2000),
    };
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    let a = smpscope::analyze_bytes(&photo.bytes, "scene", &params_for(&scene.truth)).expect("analysis");
    let t = &scene.truth;
    println!(
        "px/mm {:.1} blur_px {:.2} diameter {:.0} spread {:.0} ampl {:.2} fade {:.2}",
        t.px_per_mm,
        t.camera_blur_px,
        t.conditions.diameter_um,
        t.conditions.spread_um,
        t.conditions.amplitude,
        t.conditions.fade
    );
    println!(
        "{:>7} {:>7} | {:>6} {:>6} | {:>5} {:>5} | {:>5} {:>5} | {:>7} {:>7} | {:>5} {:>5} {:>5} | dE",
        "x", "y", "D_t", "D_m", "s_t", "s_m", "pk_t", "pk_m", "ink_t", "ink_m", "L_t", "L_m", "ecc"
    );
    let (mut n, mut sd, mut ss, mut si) = (0, 0.0, 0.0, 0.0);
    for d in &a.dots {
        let Some(td) =
            t.dots.iter().min_by(|p, q| ((p.x - d.x).hypot(p.y - d.y)).total_cmp(&(q.x - d.x).hypot(q.y - d.y)))
        else {
            continue;
        };
        if (td.x - d.x).hypot(td.y - d.y) > 2.0 {
            continue;
        }
        n += 1;
        sd += d.diameter_um.unwrap() - td.diameter_um;
        ss += d.spread_um.unwrap() - td.spread_um;
        si += d.ink.unwrap() / td.ink - 1.0;
        if n <= 25 {
            println!(
                "{:7.1} {:7.1} | {:6.1} {:6.1} | {:5.1} {:5.1} | {:5.3} {:5.3} | {:7.5} {:7.5} | {:5.1} {:5.1} {:5.2} | {:.2}",
                td.x,
                td.y,
                td.diameter_um,
                d.diameter_um.unwrap(),
                td.spread_um,
                d.spread_um.unwrap(),
                td.peak_od,
                d.peak_od,
                td.ink,
                d.ink.unwrap(),
                td.lab[0],
                d.lab[0],
                d.eccentricity,
                smpscope::colour::delta_e_2000(td.lab, d.lab)
            );
        }
    }
    println!(
        "n {n}: mean bias diameter {:.1} um, spread {:.1} um, ink {:.1} %",
        sd / n as f64,
        ss / n as f64,
        100.0 * si / n as f64
    );
}
