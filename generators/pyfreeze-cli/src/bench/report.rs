//! The bench's output: tables on the terminal, a JSON file and an SVG chart, all from the
//! same numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::app::App;
use super::args::Settings;
use super::chart::chart;
use super::config::{Config, ConfigId};
use super::instructions::Counts;
use super::measure::{Measured, Measurements};
use super::setup::Stock;
use super::stats::{self, Samples, Summary};
use super::svg;
use super::system;
use super::verify::{Probe, Rss};
use super::workload::{Plan, Workload};

/// The JSON format version.
pub const FORMAT: u32 = 1;

/// What the report is made of.
pub struct Context<'a> {
    pub command_line: String,
    pub stock: &'a Stock,
    pub settings: Settings,
    pub workload: &'a Workload,
    pub plan: &'a Plan,
    pub configs: &'a [Config],
    pub probes: &'a BTreeMap<ConfigId, Probe>,
    pub measured: &'a Measurements,
    pub embed_manifest: &'a Path,
    pub zip: &'a Path,
    /// The pack configuration's stdlib pack.
    pub pack: Option<&'a Path>,
    pub top: usize,
    /// The program of `--app`, when it is the workload.
    pub app: Option<&'a App>,
    /// `--instructions`: each configuration's counts.
    pub instructions: Option<&'a BTreeMap<ConfigId, Counts>>,
}

/// `count` of `id` against that of `reference`.
fn instructions_ratio(
    counts: &BTreeMap<ConfigId, Counts>,
    count: fn(&Counts) -> u64,
    id: ConfigId,
    reference: ConfigId,
) -> Option<f64> {
    let of_reference = count(counts.get(&reference)?);
    let this = count(counts.get(&id)?);
    (of_reference > 0).then(|| this as f64 / of_reference as f64)
}

/// The `--instructions` table, in the configurations' order (`ids`).
fn instructions_table(out: &mut String, ids: &[ConfigId], counts: &BTreeMap<ConfigId, Counts>) {
    let _ = writeln!(
        out,
        "\ninstructions (valgrind's callgrind, one run each; the kernel's work is not counted):"
    );
    let _ = writeln!(
        out,
        "  {:<11} {:>14} {:>12} {:>16} {:>12}",
        "", "start-up", "× pathfinder", "imports", "× pathfinder"
    );
    for &id in ids.iter().filter(|id| counts.contains_key(id)) {
        let c = &counts[&id];
        let ratio = |f: fn(&Counts) -> u64| shown_ratio(counts, f, id, ConfigId::REFERENCE);
        let _ = writeln!(
            out,
            "  {:<11} {:>14} {:>12} {:>16} {:>12}",
            id,
            c.startup,
            ratio(|c| c.startup),
            c.imports,
            ratio(|c| c.imports)
        );
    }
    if counts.contains_key(&ConfigId::Patched) && counts.contains_key(&ConfigId::Plain) {
        let against_plain =
            |f: fn(&Counts) -> u64| shown_ratio(counts, f, ConfigId::Patched, ConfigId::Plain);
        let _ = writeln!(
            out,
            "  patched ÷ plain: start-up {}, imports {}",
            against_plain(|c| c.startup),
            against_plain(|c| c.imports)
        );
    }
}

fn shown_ratio(
    counts: &BTreeMap<ConfigId, Counts>,
    count: fn(&Counts) -> u64,
    id: ConfigId,
    reference: ConfigId,
) -> String {
    instructions_ratio(counts, count, id, reference).map_or("?".into(), |r| format!("{r:.2}"))
}

fn instructions_json(counts: &BTreeMap<ConfigId, Counts>) -> Value {
    let key = ConfigId::REFERENCE.ratio_key();
    let results: serde_json::Map<String, Value> = counts
        .iter()
        .map(|(&id, c)| {
            let ratio = |f: fn(&Counts) -> u64| {
                json!(instructions_ratio(counts, f, id, ConfigId::REFERENCE).map(round3))
            };
            let mut r = json!({"startup": c.startup, "imports": c.imports});
            r[format!("startup_{key}")] = ratio(|c| c.startup);
            r[format!("imports_{key}")] = ratio(|c| c.imports);
            (id.as_str().to_string(), r)
        })
        .collect();
    json!({
        "tool": "valgrind --tool=callgrind",
        "what": "instructions of one run each: the start-up workload's whole process, and the import loop (a run importing the list less a run importing nothing)",
        "results": results,
    })
}

/// Each configuration's summary, with its ratio to the reference.
fn summaries(m: &Measured) -> BTreeMap<ConfigId, Summary> {
    let reference = m.samples.get(&ConfigId::REFERENCE);
    m.samples
        .iter()
        .filter_map(|(id, s)| Some((*id, stats::summarize(s, reference)?)))
        .collect()
}

/// `id`'s ratio to another configuration than the reference (patched / plain).
fn ratio_to(m: &Measured, id: ConfigId, other: ConfigId) -> Option<f64> {
    stats::ratio_of_rounds(m.samples.get(&id)?, m.samples.get(&other)?)
}

/// Bytes of a file, 0 when missing.
fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Sizes on disk and in the binary.
#[derive(Debug, Default, Clone)]
struct Sizes {
    executable: u64,
    libpython: Option<u64>,
    stdlib_pyc: Option<u64>,
    stdlib_py: Option<u64>,
    zip: Option<u64>,
    pack: Option<u64>,
    frozen: Option<Frozen>,
}

#[derive(Debug, Default, Clone)]
struct Frozen {
    modules: u64,
    bytecode: u64,
    source: u64,
    data: u64,
    /// Deep-frozen code objects (a patched build's, from its `pyfreeze-sizes.tsv`).
    deep: u64,
}

impl Frozen {
    fn total(&self) -> u64 {
        self.bytecode + self.source + self.data + self.deep
    }
}

/// The totals of a patched install's `lib/pythonX.Y/pyfreeze-sizes.tsv` (written by
/// `pyfreeze cpython build`; absent from installs older than it).
fn install_totals(prefix: &Path, minor: &str) -> Option<Frozen> {
    let tsv = std::fs::read_to_string(prefix.join(format!("lib/python{minor}/pyfreeze-sizes.tsv")))
        .ok()?;
    let t = crate::sizes::read_totals(&tsv)?;
    Some(Frozen {
        modules: t.modules as u64,
        bytecode: t.code as u64,
        source: t.source as u64,
        data: t.data as u64,
        deep: t.deep as u64,
    })
}

fn manifest_totals(path: &Path) -> Option<Frozen> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let t = &v["totals"];
    Some(Frozen {
        modules: t["modules"].as_u64()?,
        bytecode: t["code_bytes"].as_u64()?,
        // As stored (compressed or not); older manifests only have the decoded size.
        source: t["source_stored_bytes"]
            .as_u64()
            .or_else(|| t["source_bytes"].as_u64())?,
        data: t["resource_bytes"].as_u64()?,
        deep: 0,
    })
}

/// `.py` and `.pyc` bytes of the selection, under `stdlib` (the stock one or a prefix's).
fn stdlib_files(ctx: &Context, stdlib: &Path) -> (u64, u64) {
    let Some(tag) = &ctx.stock.interp.info.cache_tag else {
        return (0, 0);
    };
    let (mut py, mut pyc) = (0, 0);
    for m in &ctx.workload.selection {
        let Ok(rel) = m.origin.strip_prefix(&ctx.stock.interp.info.stdlib) else {
            continue;
        };
        let origin = stdlib.join(rel);
        py += size_of(&origin);
        if let (Some(dir), Some(stem)) = (origin.parent(), origin.file_stem()) {
            pyc += size_of(
                &dir.join("__pycache__")
                    .join(format!("{}.{tag}.pyc", stem.to_string_lossy())),
            );
        }
    }
    (py, pyc)
}

fn sizes(ctx: &Context, cfg: &Config) -> Sizes {
    let mut s = Sizes {
        executable: size_of(&cfg.program),
        libpython: ctx
            .probes
            .get(&cfg.id)
            .and_then(|p| p.libpython.first())
            .map(|l| size_of(Path::new(l))),
        ..Sizes::default()
    };
    match cfg.id {
        ConfigId::PathFinder | ConfigId::FrozenOff => {
            let (py, pyc) = stdlib_files(ctx, &ctx.stock.interp.info.stdlib);
            (s.stdlib_py, s.stdlib_pyc) = (Some(py), Some(pyc));
        }
        ConfigId::Plain => {
            let prefix = cfg.program.parent().and_then(Path::parent);
            if let Some(prefix) = prefix {
                let lib = prefix.join(format!("lib/python{}", ctx.stock.minor));
                let (py, pyc) = stdlib_files(ctx, &lib);
                (s.stdlib_py, s.stdlib_pyc) = (Some(py), Some(pyc));
            }
        }
        ConfigId::ZipImport => s.zip = Some(size_of(ctx.zip)),
        ConfigId::Embed => s.frozen = manifest_totals(ctx.embed_manifest),
        ConfigId::Pack => s.pack = ctx.pack.map(size_of),
        // The patched build's stdlib is in its binary, as its install's size report says.
        ConfigId::Patched => {
            let prefix = cfg.program.parent().and_then(Path::parent);
            s.frozen = prefix.and_then(|p| install_totals(p, &ctx.stock.minor));
        }
        // The floors read nothing.
        ConfigId::Unmarshal | ConfigId::Exec => {}
    }
    s
}

fn mb(bytes: u64) -> String {
    if bytes < 100_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

fn fmt_load(l: Option<[f64; 3]>) -> String {
    l.map_or_else(
        || "unknown".into(),
        |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]),
    )
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn workload_table(out: &mut String, ctx: &Context, m: &Measured, floors: bool) {
    let sums = summaries(m);
    let _ = writeln!(
        out,
        "  {:<38} {:>9}  {:>17}  {:>11}",
        "configuration",
        "median",
        "min–max",
        format!("× {}", ConfigId::REFERENCE)
    );
    for cfg in ctx.configs {
        if cfg.floor.is_some() && !floors {
            continue;
        }
        let Some(s) = sums.get(&cfg.id) else {
            continue;
        };
        let _ = writeln!(
            out,
            "  {:<38} {:>6} ms  {:>14} ms  {:>11}",
            cfg.label,
            ms(s.median),
            format!("{}–{}", ms(s.min), ms(s.max)),
            s.ratio.map_or("–".into(), |r| format!("{r:.2}"))
        );
    }
    for cfg in ctx.configs {
        if let Some(other) = cfg.also_against {
            if let Some(r) = ratio_to(m, cfg.id, other) {
                let _ = writeln!(out, "  {} / {other}: {r:.2}", cfg.id);
            }
        }
    }
}

/// What one start-up run used on average: CPU time as the kernel splits it into user and
/// system time (sampled at each clock tick, so only the mean of many runs means anything; their
/// sum is the process's measured run time) and page faults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePerRun {
    pub user_ms: f64,
    pub system_ms: f64,
    pub faults: f64,
    pub major_faults: f64,
}

pub fn usage_per_run(m: &Measured, id: ConfigId) -> Option<UsagePerRun> {
    let (sum, runs) = m.usage.get(&id)?;
    if *runs == 0 {
        return None;
    }
    let n = f64::from(*runs);
    let tick_ms = 1e3 / system::clock_ticks() as f64;
    Some(UsagePerRun {
        user_ms: sum.user_ticks as f64 * tick_ms / n,
        system_ms: sum.system_ticks as f64 * tick_ms / n,
        faults: (sum.minor_faults + sum.major_faults) as f64 / n,
        major_faults: sum.major_faults as f64 / n,
    })
}

/// The start-up runs' CPU time and page faults, per run, under a start-up table.
fn usage_table(out: &mut String, ctx: &Context, m: &Measured) {
    if m.usage.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  per run, the mean of all runs: CPU time (user + system, as the kernel splits it) and page faults"
    );
    for cfg in ctx.configs {
        let Some(u) = usage_per_run(m, cfg.id) else {
            continue;
        };
        let _ = writeln!(
            out,
            "  {:<38} {:>6} ms + {:>6} ms  {:>7.0} faults{}",
            cfg.label,
            ms(u.user_ms),
            ms(u.system_ms),
            u.faults,
            if u.major_faults >= 0.5 {
                format!(" ({:.0} reading from disk)", u.major_faults)
            } else {
                String::new()
            }
        );
    }
}

/// Median ms per list entry and configuration, entries sorted by the reference, costliest first.
fn breakdown(ctx: &Context) -> Vec<(String, BTreeMap<ConfigId, f64>)> {
    let mut rows: Vec<(String, BTreeMap<ConfigId, f64>)> = ctx
        .workload
        .list
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let per: BTreeMap<ConfigId, f64> = ctx
                .measured
                .imports
                .entries
                .iter()
                .filter_map(|(id, runs)| {
                    let values: Vec<f64> = runs.iter().map(|r| r[i] as f64 / 1e6).collect();
                    Some((*id, stats::median(&values)?))
                })
                .collect();
            (name.clone(), per)
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &(String, BTreeMap<ConfigId, f64>)| {
            r.1.get(&ConfigId::REFERENCE).copied().unwrap_or(0.0)
        };
        key(b).total_cmp(&key(a)).then_with(|| a.0.cmp(&b.0))
    });
    rows
}

fn terminal(ctx: &Context) -> String {
    let mut out = String::new();
    let m = &ctx.measured.machine;
    let _ = writeln!(out, "pyfreeze bench: CPython {}", ctx.stock.version);
    let _ = writeln!(out, "command: {}", ctx.command_line);
    let _ = writeln!(
        out,
        "machine: {} CPUs{}{}; load average at start {}, when measuring started {}, at the end {}; other processes used {} CPUs while measuring ({:.0}s)",
        m.cpus,
        m.cpu_model.as_ref().map_or(String::new(), |c| format!(", {c}")),
        m.kernel.as_ref().map_or(String::new(), |k| format!(", {k}")),
        fmt_load(m.load_at_start),
        fmt_load(m.load_before),
        fmt_load(m.load_after),
        m.others_cpus.map_or("?".into(), |o| format!("{o:.2}")),
        m.measure_secs
    );
    if let Some(app) = ctx.app {
        let _ = writeln!(
            out,
            "app: {} ({} modules, copied to {}); the workloads import {}, loading {} modules ({} pure, {} of bytecode)",
            app.given.display(),
            app.selection.len(),
            app.root.display(),
            app.modules.join(", "),
            ctx.plan.modules,
            ctx.plan.pure,
            mb(ctx.plan.bytecode_bytes)
        );
    } else {
        let _ = writeln!(
        out,
        "modules: {} selected by `pyfreeze list --stdlib`; {} excluded ({} side effects, {} fail in the stock interpreter, {} namespace); {} imported by every configuration, loading {} modules ({} pure, {} of bytecode)",
        ctx.workload.selection.len(),
        ctx.workload.excluded.len(),
        ctx.workload.excluded.values().filter(|r| r.starts_with("side effect")).count(),
        ctx.workload.excluded.values().filter(|r| r.starts_with("fails")).count(),
        ctx.workload.excluded.values().filter(|r| r.starts_with("namespace")).count(),
        ctx.workload.list.len(),
        ctx.plan.modules,
        ctx.plan.pure,
        mb(ctx.plan.bytecode_bytes)
    );
    }
    let _ = writeln!(out, "configurations:");
    for cfg in ctx.configs {
        let detail = match ctx.probes.get(&cfg.id) {
            Some(p) => format!(
                "CPython {}, {}; served: {}",
                p.version,
                p.linking(),
                p.kinds
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "under the stock interpreter".into(),
        };
        let _ = writeln!(out, "  {:<11} {}: {}", cfg.id, cfg.label, cfg.what);
        let _ = writeln!(out, "  {:<11} `{}`; {detail}", "", cfg.shown_command());
    }
    let s = &ctx.settings;
    let _ = writeln!(
        out,
        "\nstart-up: wall time of the process {}, {} rounds × {} runs",
        if ctx.app.is_some() {
            "starting and importing the app"
        } else {
            "running an empty script"
        },
        s.startup_rounds,
        s.startup_repeats
    );
    workload_table(&mut out, ctx, &ctx.measured.startup, false);
    usage_table(&mut out, ctx, &ctx.measured.startup);
    if let Some(m) = ctx.measured.startup_site.as_ref() {
        let _ = writeln!(
            out,
            "\nstart-up with site (`-I -B`, what `python -I -c pass` does), {} rounds × {} runs",
            s.startup_rounds, s.startup_repeats
        );
        workload_table(&mut out, ctx, m, false);
        usage_table(&mut out, ctx, m);
    }
    let _ = writeln!(
        out,
        "\nimport the {}: {} modules in one process, time of the import loop, {} rounds × {} runs",
        if ctx.app.is_some() { "app" } else { "stdlib" },
        ctx.workload.list.len(),
        s.rounds,
        s.repeats
    );
    workload_table(&mut out, ctx, &ctx.measured.imports, true);

    let rows = breakdown(ctx);
    let ids: Vec<ConfigId> = ctx.configs.iter().map(|c| c.id).collect();
    let _ = writeln!(
        out,
        "\nwhere the time goes: the {} list entries that take longest under {} (median ms; an entry counts the modules it imports first)",
        ctx.top.min(rows.len()),
        ConfigId::REFERENCE
    );
    let mut header = format!("  {:<28}", "entry");
    for id in &ids {
        let _ = write!(header, " {id:>10}");
    }
    let _ = writeln!(out, "{header}");
    for (name, per) in rows.iter().take(ctx.top) {
        let mut line = format!("  {name:<28}");
        for id in &ids {
            let _ = write!(
                line,
                " {:>10}",
                per.get(id).map_or("–".into(), |v| format!("{v:.2}"))
            );
        }
        let _ = writeln!(out, "{line}");
    }

    let _ = writeln!(
        out,
        "\nsize and memory (stdlib files: the selection's .pyc + .py; frozen: bytecode + source + package data (+ deep-frozen code objects); RSS in MB: total (anonymous + file-backed))"
    );
    let _ = writeln!(
        out,
        "  {:<11} {:>11} {:>11} {:>24} {:>30} {:>19} {:>19}",
        "",
        "executable",
        "libpython",
        "stdlib files read",
        "frozen in the binary",
        "RSS at start-up",
        "RSS after imports"
    );
    for cfg in ctx.configs.iter().filter(|c| c.floor.is_none()) {
        let sz = sizes(ctx, cfg);
        let files = match (sz.stdlib_pyc, sz.stdlib_py, sz.zip, sz.pack) {
            (Some(pyc), Some(py), _, _) => format!("{} (+{} .py)", mb(pyc), mb(py)),
            (_, _, Some(zip), _) => format!("{} zip", mb(zip)),
            (_, _, _, Some(pack)) => format!("{} pack", mb(pack)),
            _ => "none".into(),
        };
        let frozen = sz.frozen.as_ref().map_or("–".into(), |f| {
            let deep = if f.deep > 0 {
                format!(" + {} deep", mb(f.deep))
            } else {
                String::new()
            };
            format!(
                "{} = {} + {} + {}{deep}",
                mb(f.total()),
                mb(f.bytecode),
                mb(f.source),
                mb(f.data)
            )
        });
        let p = ctx.probes.get(&cfg.id);
        let rss = |r: Option<&Rss>| match r {
            Some(Rss {
                total: Some(t),
                anon: Some(a),
                file: Some(f),
            }) => format!(
                "{:.1} ({:.1}+{:.1})",
                *t as f64 / 1e3,
                *a as f64 / 1e3,
                *f as f64 / 1e3
            ),
            Some(Rss { total: Some(t), .. }) => format!("{:.1}", *t as f64 / 1e3),
            _ => "?".into(),
        };
        let _ = writeln!(
            out,
            "  {:<11} {:>11} {:>11} {:>24} {:>30} {:>19} {:>19}",
            cfg.id,
            mb(sz.executable),
            sz.libpython.map_or("static".into(), mb),
            files,
            frozen,
            rss(p.map(|p| &p.rss_startup)),
            rss(p.map(|p| &p.rss_imports)),
        );
    }
    if let Some(counts) = ctx.instructions {
        let ids: Vec<ConfigId> = ctx.configs.iter().map(|c| c.id).collect();
        instructions_table(&mut out, &ids, counts);
    }
    out
}

fn workload_json(ctx: &Context, m: &Measured) -> Value {
    let sums = summaries(m);
    let mut results = serde_json::Map::new();
    for cfg in ctx.configs {
        let (Some(s), Some(samples)) = (sums.get(&cfg.id), m.samples.get(&cfg.id)) else {
            continue;
        };
        let mut r = json!({
            "median_ms": round3(s.median),
            "min_ms": round3(s.min),
            "max_ms": round3(s.max),
            "rounds_ms": rounds_json(samples),
        });
        r[ConfigId::REFERENCE.ratio_key()] = json!(s.ratio.map(round3));
        if let Some(other) = cfg.also_against {
            r[other.ratio_key()] = json!(ratio_to(m, cfg.id, other).map(round3));
        }
        if let Some(u) = usage_per_run(m, cfg.id) {
            r["cpu_user_ms"] = json!(round3(u.user_ms));
            r["cpu_system_ms"] = json!(round3(u.system_ms));
            r["page_faults"] = json!(round3(u.faults));
            r["major_faults"] = json!(round3(u.major_faults));
        }
        results.insert(cfg.id.as_str().to_string(), r);
    }
    Value::Object(results)
}

fn rss_json(r: &Rss) -> Value {
    json!({"total": r.total, "anon": r.anon, "file": r.file})
}

fn rounds_json(s: &Samples) -> Value {
    json!(s
        .rounds
        .iter()
        .map(|r| r.iter().map(|v| round3(*v)).collect::<Vec<_>>())
        .collect::<Vec<_>>())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn to_json(ctx: &Context) -> Value {
    let m = &ctx.measured.machine;
    let configs: Vec<Value> = ctx
        .configs
        .iter()
        .map(|cfg| {
            let p = ctx.probes.get(&cfg.id);
            let sz = sizes(ctx, cfg);
            json!({
                "id": cfg.id.as_str(),
                "label": cfg.label,
                "description": cfg.what,
                "command": cfg.shown_command(),
                "floor": cfg.floor.map(|f| f.as_str()),
                "verified": true,
                "version": p.map(|p| p.version.clone()),
                "executable": p.map(|p| p.executable.clone()),
                "linking": p.map(Probe::linking),
                "sys_path": p.map(|p| p.sys_path.clone()),
                "modules_by_loader": p.map(|p| json!(p.kinds)),
                "modules_at_startup": p.map(|p| p.startup_modules),
                "modules_loaded_by_the_loop": p.map(|p| p.loaded_by_loop),
                "rss_startup_kb": p.map(|p| rss_json(&p.rss_startup)),
                "rss_after_imports_kb": p.map(|p| rss_json(&p.rss_imports)),
                "size": if cfg.floor.is_some() { Value::Null } else { json!({
                    "executable_bytes": sz.executable,
                    "libpython_bytes": sz.libpython,
                    "stdlib_pyc_bytes": sz.stdlib_pyc,
                    "stdlib_py_bytes": sz.stdlib_py,
                    "zip_bytes": sz.zip,
                    "pack_bytes": sz.pack,
                    "frozen": sz.frozen.as_ref().map(|f| json!({
                        "modules": f.modules,
                        "bytecode_bytes": f.bytecode,
                        "source_bytes": f.source,
                        "data_bytes": f.data,
                        "deep_frozen_bytes": f.deep,
                        "total_bytes": f.total(),
                    })),
                })},
            })
        })
        .collect();
    let breakdown: Vec<Value> = breakdown(ctx)
        .into_iter()
        .map(|(name, per)| {
            json!({
                "entry": name,
                "median_ms": per.into_iter().map(|(k, v)| (k.as_str().to_string(), json!(round3(v)))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    json!({
        "format": FORMAT,
        "tool": format!("pyfreeze {}", env!("CARGO_PKG_VERSION")),
        "command": ctx.command_line,
        "python": {
            "version": ctx.stock.version,
            "minor": ctx.stock.minor,
            "path": ctx.stock.python.display().to_string(),
        },
        "machine": {
            "cpus": m.cpus,
            "cpu_model": m.cpu_model,
            "kernel": m.kernel,
            "load_at_start": m.load_at_start,
            "load_before_measuring": m.load_before,
            "load_after_measuring": m.load_after,
            "other_processes_cpus": m.others_cpus.map(round3),
            "measuring_seconds": round3(m.measure_secs),
        },
        "settings": {
            "rounds": ctx.settings.rounds,
            "repeats": ctx.settings.repeats,
            "startup_rounds": ctx.settings.startup_rounds,
            "startup_repeats": ctx.settings.startup_repeats,
            "reference": ConfigId::REFERENCE.as_str(),
        },
        "modules": {
            "selected": ctx.workload.selection.len(),
            "excluded": ctx.workload.excluded.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<_>>(),
            "listed": ctx.workload.list.len(),
            "list": ctx.workload.list,
            "loaded_by_the_loop": ctx.plan.modules,
            "pure_loaded_by_the_loop": ctx.plan.pure,
            "bytecode_bytes": ctx.plan.bytecode_bytes,
        },
        "configurations": configs,
        "app": ctx.app.map(|a| json!({
            "root": a.given,
            "copy": a.root,
            "modules": a.modules,
            "modules_in_root": a.selection.len(),
        })),
        "workloads": {
            "startup": {
                "what": if ctx.app.is_some() {
                    "wall time of the whole process running a script that imports the app's modules"
                } else {
                    "wall time of the whole process running an empty script as __main__"
                },
                "results": workload_json(ctx, &ctx.measured.startup),
            },
            "imports": {
                "what": if ctx.app.is_some() {
                    "time of the loop importing the app's modules, measured inside the process"
                } else {
                    "time of the loop importing every listed module, measured inside the process"
                },
                "results": workload_json(ctx, &ctx.measured.imports),
            },
            "startup_site": ctx.measured.startup_site.as_ref().map(|m| json!({
                "what": "the start-up workload for plain and patched with site imported (-I -B)",
                "results": workload_json(ctx, m),
            })),
        },
        "instructions": ctx.instructions.map(instructions_json),
        "breakdown": breakdown,
        "warnings": ctx.measured.warnings,
    })
}

/// The name of a result's files: `pyfreeze-bench-X.Y`, or `pyfreeze-bench-X.Y-app` for a run
/// of `--app`, so that it does not replace the stdlib's.
pub fn stem(minor: &str, app: bool) -> String {
    format!("pyfreeze-bench-{minor}{}", if app { "-app" } else { "" })
}

/// Prints the tables and writes the JSON, the SVG and the pyperf files into `out`; returns
/// their paths.
pub fn write_all(ctx: &Context, out: &Path) -> Result<Vec<PathBuf>, String> {
    print!("{}", terminal(ctx));
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let stem = stem(&ctx.stock.minor, ctx.app.is_some());
    let json_path = out.join(format!("{stem}.json"));
    let svg_path = out.join(format!("{stem}.svg"));
    let j = to_json(ctx);
    let text = serde_json::to_string_pretty(&j).expect("serializable") + "\n";
    std::fs::write(&json_path, text)
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    std::fs::write(&svg_path, svg::render(&chart(&j)?))
        .map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;
    let pyperf = super::pyperf::write(&j, &super::pyperf::folder(out, &stem))?;
    Ok(vec![json_path, svg_path, pyperf])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{instructions_json, instructions_table, ConfigId, Counts};

    #[test]
    fn instruction_counts_are_shown_against_pathfinder_and_patched_against_plain() {
        let counts = BTreeMap::from([
            (
                ConfigId::PathFinder,
                Counts {
                    startup: 40,
                    imports: 1000,
                },
            ),
            (
                ConfigId::Embed,
                Counts {
                    startup: 38,
                    imports: 900,
                },
            ),
            (
                ConfigId::Plain,
                Counts {
                    startup: 36,
                    imports: 960,
                },
            ),
            (
                ConfigId::Patched,
                Counts {
                    startup: 27,
                    imports: 720,
                },
            ),
        ]);
        let ids = [
            ConfigId::PathFinder,
            ConfigId::FrozenOff, // not counted: left out
            ConfigId::Embed,
            ConfigId::Plain,
            ConfigId::Patched,
        ];
        let mut out = String::new();
        instructions_table(&mut out, &ids, &counts);
        let rows: Vec<Vec<&str>> = out
            .lines()
            .skip(3)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [
                vec!["pathfinder", "40", "1.00", "1000", "1.00"],
                vec!["embed", "38", "0.95", "900", "0.90"],
                vec!["plain", "36", "0.90", "960", "0.96"],
                vec!["patched", "27", "0.68", "720", "0.72"],
                vec!["patched", "÷", "plain:", "start-up", "0.75,", "imports", "0.75"],
            ],
            "{out}"
        );
        let j = instructions_json(&counts);
        assert_eq!(j["results"]["embed"]["imports"], 900);
        assert_eq!(j["results"]["embed"]["imports_ratio_to_pathfinder"], 0.9);
        assert_eq!(
            j["results"]["patched"]["startup_ratio_to_pathfinder"],
            0.675
        );
        assert!(j["results"]["frozen-off"].is_null());
    }
}
