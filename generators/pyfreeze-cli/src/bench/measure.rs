//! Measurement: the start-up and import workloads, every configuration running alternately
//! round by round (stats::rotated), each measured import run verified again; and what the
//! machine did meanwhile (load, other processes' CPU), so that noisy numbers say so.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::app::App;
use super::args::Settings;
use super::config::{self, Config, ConfigId, Floor};
use super::harness::{command, run_harness, tail, Work};
use super::stats::{self, Samples};
use super::system;
use super::verify::check_import_run;
use super::workload::Plan;

/// Everything measured, and the conditions it was measured in.
pub struct Measurements {
    pub startup: Measured,
    /// Start-up of `plain` and `patched` with `site` imported (`-I -B`), when both are given.
    pub startup_site: Option<Measured>,
    pub imports: Measured,
    pub machine: Machine,
    /// Why the numbers may be noisy.
    pub warnings: Vec<String>,
}

/// The machine, and how busy it was.
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: Option<String>,
    pub kernel: Option<String>,
    /// When the bench started, when measuring started, when it ended.
    pub load_at_start: Option<[f64; 3]>,
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
    /// CPUs other processes kept busy while measuring.
    pub others_cpus: Option<f64>,
    pub measure_secs: f64,
}

/// When to start measuring: `--wait-load` and `--wait-max`.
pub struct Wait {
    pub load: Option<f64>,
    pub max_secs: u64,
}

/// What the import workload imports, and how its runs are verified.
pub struct Imports<'a> {
    /// The module list, in import order.
    pub list: &'a [String],
    /// What the floors replay.
    pub plan: &'a Plan,
    /// The program of `--app`, whose modules follow their own rule.
    pub app: Option<&'a App>,
}

/// Measures both workloads (start-up also with `site` for plain and patched), after waiting
/// for the load average to drop if asked. `load_at_start`: when the bench started.
pub fn measure(
    configs: &[Config],
    settings: &Settings,
    imports: &Imports<'_>,
    work: &Work,
    wait: &Wait,
    load_at_start: Option<[f64; 3]>,
) -> Result<Measurements, String> {
    let mut warnings = Vec::new();
    if let Some(max) = wait.load {
        warnings.extend(wait_for_load(max, wait.max_secs));
    }
    let load_before = system::loadavg();
    let cpu_before = system::CpuTimes::now();
    let measure_started = Instant::now();
    let real: Vec<&Config> = configs.iter().filter(|c| c.floor.is_none()).collect();
    let all: Vec<&Config> = configs.iter().collect();
    let startup = measure_startup(&real, settings, work)?;
    let site_configs = config::with_site(configs);
    let startup_site = if site_configs.is_empty() {
        None
    } else {
        let refs: Vec<&Config> = site_configs.iter().collect();
        Some(measure_startup(&refs, settings, work)?)
    };
    let imports = measure_imports(&all, settings, imports, work)?;
    let measure_secs = measure_started.elapsed().as_secs_f64();
    let load_after = system::loadavg();
    let others = cpu_before
        .zip(system::CpuTimes::now())
        .and_then(|(a, b)| a.others_between(&b, system::cpus()));
    let high_load = 0.3 * system::cpus() as f64;
    if let Some(l) = load_before.filter(|l| l[0] > high_load) {
        warnings.push(format!(
            "the 1-minute load average was {:.2} when measuring started (> {high_load:.1} on {} CPUs): numbers may be noisy",
            l[0],
            system::cpus()
        ));
    }
    if let Some(o) = others.filter(|o| *o > 0.25) {
        warnings.push(format!(
            "other processes kept {o:.2} CPUs busy on average while measuring: numbers may be noisy"
        ));
    }
    Ok(Measurements {
        startup,
        startup_site,
        imports,
        machine: Machine {
            cpus: system::cpus(),
            cpu_model: system::cpu_model(),
            kernel: system::kernel(),
            load_at_start,
            load_before,
            load_after,
            others_cpus: others,
            measure_secs,
        },
        warnings,
    })
}

/// The measurements of one workload.
#[derive(Debug, Default)]
pub struct Measured {
    /// Config id → samples in ms.
    pub samples: BTreeMap<ConfigId, Samples>,
    /// Config id → per-entry samples in ns (import workload only).
    pub entries: BTreeMap<ConfigId, Vec<Vec<u64>>>,
    /// Config id → what its measured runs used together, and how many runs (start-up only:
    /// the whole process is the run).
    pub usage: BTreeMap<ConfigId, (system::ChildUsage, u32)>,
}

struct Progress {
    tty: bool,
    label: &'static str,
    last: Option<Instant>,
}

impl Progress {
    fn new(label: &'static str) -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            label,
            last: None,
        }
    }
    fn round(&mut self, done: usize, total: usize) {
        if self.tty {
            eprint!("\rpyfreeze bench: {}: round {done}/{total}", self.label);
            if done == total {
                eprintln!();
            }
        } else if done == total
            || self
                .last
                .is_none_or(|t| t.elapsed() > Duration::from_secs(15))
        {
            self.last = Some(Instant::now());
            eprintln!("pyfreeze bench: {}: round {done}/{total}", self.label);
        }
    }
}

/// Start-up: wall time of the whole process running an empty script (`--app`: a script
/// importing the app's modules).
fn measure_startup(
    configs: &[&Config],
    settings: &Settings,
    work: &Work,
) -> Result<Measured, String> {
    let run = |cfg: &Config| -> Result<(f64, Option<system::ChildUsage>), String> {
        let mut cmd = command(&cfg.program, &work.cwd);
        let script = work.startup_script_for(cfg);
        cmd.args(&cfg.pre_args)
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let before = system::ChildUsage::now();
        let t = Instant::now();
        let status = cmd
            .status()
            .map_err(|e| format!("{}: cannot run {}: {e}", cfg.id, cfg.program.display()))?;
        let elapsed = t.elapsed();
        let used = before
            .zip(system::ChildUsage::now())
            .map(|(a, b)| a.until(&b));
        if !status.success() {
            let out = cmd.stderr(Stdio::piped()).output().ok();
            return Err(format!(
                "{}: start-up run failed ({status}): {}",
                cfg.id,
                out.map(|o| tail(&String::from_utf8_lossy(&o.stderr), 20))
                    .unwrap_or_default()
            ));
        }
        Ok((elapsed.as_secs_f64() * 1e3, used))
    };
    for cfg in configs {
        run(cfg)?; // warm-up
    }
    let mut m = Measured::default();
    let mut progress = Progress::new("start-up");
    for round in 0..settings.startup_rounds {
        for cfg in stats::rotated(configs, round) {
            for _ in 0..settings.startup_repeats {
                let (ms, used) = run(cfg)?;
                m.samples.entry(cfg.id).or_default().push(round, ms);
                if let Some(used) = used {
                    let (sum, runs) = m.usage.entry(cfg.id).or_default();
                    sum.add(&used);
                    *runs += 1;
                }
            }
        }
        progress.round(round + 1, settings.startup_rounds);
    }
    Ok(m)
}

fn import_run(cfg: &Config, work: &Work) -> Result<Value, String> {
    let (mode, args): (&str, Vec<&Path>) = match cfg.floor {
        None => ("import", vec![&work.list]),
        Some(Floor::Unmarshal) => ("unmarshal", vec![&work.plan_tsv, &work.plan_bin]),
        Some(Floor::Exec) => ("exec", vec![&work.list, &work.plan_tsv, &work.plan_bin]),
    };
    run_harness(
        cfg.id.as_str(),
        &cfg.program,
        &cfg.pre_args,
        cfg.path.as_deref(),
        work,
        mode,
        &args,
    )
}

/// Importing the stdlib: time measured inside the process, around the import loop.
fn measure_imports(
    configs: &[&Config],
    settings: &Settings,
    what: &Imports<'_>,
    work: &Work,
) -> Result<Measured, String> {
    let Imports { list, plan, app } = *what;
    for cfg in configs.iter().filter(|c| c.floor.is_some()) {
        check_import_run(cfg, &import_run(cfg, work)?, list, plan, app)?; // warm-up, verified
    }
    let mut m = Measured::default();
    let mut progress = Progress::new("imports");
    for round in 0..settings.rounds {
        for cfg in stats::rotated(configs, round) {
            for _ in 0..settings.repeats {
                let v = import_run(cfg, work)?;
                let (total, entries) = check_import_run(cfg, &v, list, plan, app)?;
                m.samples
                    .entry(cfg.id)
                    .or_default()
                    .push(round, total as f64 / 1e6);
                m.entries.entry(cfg.id).or_default().push(entries);
            }
        }
        progress.round(round + 1, settings.rounds);
    }
    Ok(m)
}

/// Waits (bounded) until the 1-minute load average drops below `max`.
fn wait_for_load(max: f64, wait_max: u64) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(wait_max);
    let mut said = false;
    loop {
        let load = system::loadavg()?[0];
        if load < max {
            if said {
                eprintln!("pyfreeze bench: load average {load:.2}, measuring");
            }
            return None;
        }
        if Instant::now() >= deadline {
            return Some(format!(
                "the load average was still {load:.2} (>= {max}) after waiting {wait_max}s; measured anyway"
            ));
        }
        if !said {
            eprintln!("pyfreeze bench: load average {load:.2}, waiting until it is below {max} (at most {wait_max}s)");
            said = true;
        }
        std::thread::sleep(Duration::from_secs(10));
    }
}
