//! `pyfreeze bench`: how fast the stdlib imports when frozen by pyfreeze, next to every other
//! way CPython can import it, measured on one machine in one run.
//!
//! Configurations (see docs/benchmarks.md): the stock interpreter (PathFinder over warm `.pyc`,
//! CPython's own frozen modules on and off), a stored zip of `.pyc`, `examples/embed-c` (the
//! whole stdlib in pyfreeze's table, stock static libpython), pyfreeze's patched CPython and the
//! same source unpatched (when given), and two floors (unmarshal only, exec only). Workloads:
//! start-up of an empty script, and importing the whole pure stdlib (with a per-module
//! breakdown). Configurations run alternately, round by round; every configuration proves how
//! it served the modules (loader per module) or the bench fails.
//!
//! The Python half, `bench/harness.py`, runs inside each interpreter.
//!
//! The rooms, in the order [`run`] goes through them: `args` (flags, rounds), `setup` (the
//! stock interpreter, the builds compared), `workload` (the module list, the floors' plan),
//! `config` (the configurations and the rules they are verified by), `verify`, `measure`,
//! `instructions` (`--instructions`: callgrind's counts), then `report` (terminal, JSON),
//! `chart` (SVG, from the JSON) and `pyperf` (pyperf's files, from the JSON). The
//! statistics, per-round ratios included, are in `stats`.

mod app;
mod args;
mod chart;
mod config;
mod harness;
mod instructions;
mod measure;
mod pyperf;
mod report;
mod setup;
mod stats;
mod svg;
mod system;
mod verify;
mod workload;

use std::time::Instant;

pub use args::BenchArgs;

/// Entry point of `pyfreeze bench`.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    if let Some(json) = &args.chart_from {
        let written = chart::chart_from_file(json, &args.out)?;
        eprintln!("pyfreeze bench: wrote {}", shown(&written));
        return Ok(());
    }
    let python = args.python.as_deref().expect("clap requires --python");
    let started = Instant::now();
    let settings = args::Settings::from_args(args)?;
    if args.instructions {
        instructions::check_valgrind()?;
    }
    let command_line = args::command_line();
    let load_at_start = system::loadavg();

    let stock = setup::probe_stock(python)?;
    let places = setup::Places::from_args(args, &stock)?;
    eprintln!(
        "pyfreeze bench: CPython {} ({})",
        stock.version,
        stock.python.display()
    );
    let work = harness::Work::new()?;
    let app = app::prepare(args, &stock, &places.cache)?;
    if let Some(app) = &app {
        work.app_startup(&app.root, &app.modules)?;
    }
    let workload = workload::select(&stock, &work, app.as_ref())?;
    let embed = setup::build_embed(&stock, &places.repo, &places.cache, app.as_ref(), false)?;
    let pack = setup::build_embed(&stock, &places.repo, &places.cache, app.as_ref(), true)?;
    let zip = setup::build_zip_prefix(&stock, &places.cache, &work)?;
    let configs = config::configurations(
        &stock,
        &zip,
        &embed,
        &pack,
        places.patched.as_deref(),
        places.plain.as_deref(),
        app.as_ref().map(|a| a.root.as_path()),
    );
    let plan = workload::plan(&stock, &work, app.as_ref())?;

    let probes = verify::probe_all(&configs, &stock, &workload.list, &work, app.as_ref())?;
    if places.patched.is_none() {
        setup::hint_patched_builds(&stock);
    }

    let wait = measure::Wait {
        load: args.wait_load,
        max_secs: args.wait_max,
    };
    let imports = measure::Imports {
        list: &workload.list,
        plan: &plan,
        app: app.as_ref(),
    };
    let measured = measure::measure(&configs, &settings, &imports, &work, &wait, load_at_start)?;
    let counts = if args.instructions {
        Some(instructions::count_all(&configs, &work)?)
    } else {
        None
    };

    let ctx = report::Context {
        command_line,
        stock: &stock,
        settings,
        workload: &workload,
        plan: &plan,
        configs: &configs,
        probes: &probes,
        measured: &measured,
        embed_manifest: &embed.manifest,
        zip: &zip.zip,
        pack: pack.pack.as_deref(),
        top: args.top,
        app: app.as_ref(),
        instructions: counts.as_ref(),
    };
    let written = report::write_all(&ctx, &args.out)?;
    for w in &measured.warnings {
        eprintln!("pyfreeze bench: warning: {w}");
    }
    eprintln!(
        "pyfreeze bench: wrote {} in {:.0}s",
        shown(&written),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The files a run wrote, as the last message names them.
fn shown(written: &[std::path::PathBuf]) -> String {
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
