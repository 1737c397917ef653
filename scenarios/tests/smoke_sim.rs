use alarmsim_scenarios::{scenario, variant};

#[test]
fn standard_first_seeds() {
    let spec = scenario("standard").unwrap();
    let reference = variant("reference").unwrap();
    for seed in 0..20 {
        let r = alarmsim_sim::run_seed(&spec, reference.clone(), seed);
        if let Some(t) = r.failure_text(60) {
            println!("{t}");
        } else {
            println!("seed {seed}: ok, {} events, {} trace, sim {} ms", r.events, r.trace.len(), r.sim_ms);
        }
    }
}
