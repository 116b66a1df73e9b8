//! The bench's output: tables on the terminal, a JSON file and an SVG chart, all from the
//! same numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::stats::{self, Samples, Summary};
use super::svg;
use super::{Config, Floor, Measured, Plan, Probe, Rss, Selected, Settings};

/// The JSON format version.
pub const FORMAT: u32 = 1;

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

pub struct Context<'a> {
    pub command_line: String,
    pub stock_version: String,
    pub stock_python: PathBuf,
    pub minor: String,
    pub settings: Settings,
    pub selection: &'a [Selected],
    pub list: &'a [String],
    pub excluded: &'a BTreeMap<String, String>,
    pub plan: &'a Plan,
    pub configs: &'a [Config],
    pub probes: &'a BTreeMap<&'static str, Probe>,
    pub startup: &'a Measured,
    /// Start-up of `plain` and `patched` with `site` imported (`-I -B`), when both are given.
    pub startup_site: Option<&'a Measured>,
    pub imports: &'a Measured,
    pub embed_manifest: &'a Path,
    pub zip: &'a Path,
    pub stock_stdlib: &'a Path,
    pub cache_tag: Option<String>,
    pub machine: Machine,
    pub warnings: &'a [String],
    pub top: usize,
}

const REFERENCE: &str = "pathfinder";

fn summaries(m: &Measured) -> BTreeMap<&'static str, Summary> {
    let reference = m.samples.get(REFERENCE);
    m.samples
        .iter()
        .filter_map(|(id, s)| Some((*id, stats::summarize(s, reference)?)))
        .collect()
}

fn ratio_to(m: &Measured, id: &str, other: &str) -> Option<f64> {
    stats::ratio_of_rounds(m.samples.get(id)?, m.samples.get(other)?)
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
    frozen: Option<Frozen>,
}

#[derive(Debug, Default, Clone)]
struct Frozen {
    modules: u64,
    bytecode: u64,
    source: u64,
    data: u64,
}

impl Frozen {
    fn total(&self) -> u64 {
        self.bytecode + self.source + self.data
    }
}

fn manifest_totals(path: &Path) -> Option<Frozen> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let t = &v["totals"];
    Some(Frozen {
        modules: t["modules"].as_u64()?,
        bytecode: t["code_bytes"].as_u64()?,
        source: t["source_bytes"].as_u64()?,
        data: t["resource_bytes"].as_u64()?,
    })
}

/// `.py` and `.pyc` bytes of the selection, under `stdlib` (the stock one or a prefix's).
fn stdlib_files(ctx: &Context, stdlib: &Path) -> (u64, u64) {
    let Some(tag) = &ctx.cache_tag else {
        return (0, 0);
    };
    let (mut py, mut pyc) = (0, 0);
    for m in ctx.selection {
        let Ok(rel) = m.origin.strip_prefix(ctx.stock_stdlib) else {
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
            .get(cfg.id)
            .and_then(|p| p.libpython.first())
            .map(|l| size_of(Path::new(l))),
        ..Sizes::default()
    };
    match cfg.id {
        "pathfinder" | "frozen-off" => {
            let (py, pyc) = stdlib_files(ctx, ctx.stock_stdlib);
            (s.stdlib_py, s.stdlib_pyc) = (Some(py), Some(pyc));
        }
        "plain" => {
            let prefix = cfg.program.parent().and_then(Path::parent);
            if let Some(prefix) = prefix {
                let lib = prefix.join(format!("lib/python{}", ctx.minor));
                let (py, pyc) = stdlib_files(ctx, &lib);
                (s.stdlib_py, s.stdlib_pyc) = (Some(py), Some(pyc));
            }
        }
        "zipimport" => s.zip = Some(size_of(ctx.zip)),
        "embed" => s.frozen = manifest_totals(ctx.embed_manifest),
        _ => {}
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
        "configuration", "median", "min–max", "× pathfinder"
    );
    for cfg in ctx.configs {
        if cfg.floor.is_some() && !floors {
            continue;
        }
        let Some(s) = sums.get(cfg.id) else { continue };
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

/// Median ms per list entry and configuration, entries sorted by the reference, costliest first.
fn breakdown(ctx: &Context) -> Vec<(String, BTreeMap<&'static str, f64>)> {
    let mut rows: Vec<(String, BTreeMap<&'static str, f64>)> = ctx
        .list
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let per: BTreeMap<&'static str, f64> = ctx
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
        let key = |r: &(String, BTreeMap<&str, f64>)| r.1.get(REFERENCE).copied().unwrap_or(0.0);
        key(b).total_cmp(&key(a)).then_with(|| a.0.cmp(&b.0))
    });
    rows
}

fn terminal(ctx: &Context) -> String {
    let mut out = String::new();
    let m = &ctx.machine;
    let _ = writeln!(out, "pyfreeze bench: CPython {}", ctx.stock_version);
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
    let _ = writeln!(
        out,
        "modules: {} selected by `pyfreeze list --stdlib`; {} excluded ({} side effects, {} fail in the stock interpreter, {} namespace); {} imported by every configuration, loading {} modules ({} pure, {} of bytecode)",
        ctx.selection.len(),
        ctx.excluded.len(),
        ctx.excluded.values().filter(|r| r.starts_with("side effect")).count(),
        ctx.excluded.values().filter(|r| r.starts_with("fails")).count(),
        ctx.excluded.values().filter(|r| r.starts_with("namespace")).count(),
        ctx.list.len(),
        ctx.plan.modules,
        ctx.plan.pure,
        mb(ctx.plan.bytecode_bytes)
    );
    let _ = writeln!(out, "configurations:");
    for cfg in ctx.configs {
        let detail = match ctx.probes.get(cfg.id) {
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
        "\nstart-up: wall time of the process running an empty script, {} rounds × {} runs",
        s.startup_rounds, s.startup_repeats
    );
    workload_table(&mut out, ctx, ctx.startup, false);
    if let Some(m) = ctx.startup_site {
        let _ = writeln!(
            out,
            "\nstart-up with site (`-I -B`, what `python -I -c pass` does), {} rounds × {} runs",
            s.startup_rounds, s.startup_repeats
        );
        workload_table(&mut out, ctx, m, false);
    }
    let _ = writeln!(
        out,
        "\nimport the stdlib: {} modules in one process, time of the import loop, {} rounds × {} runs",
        ctx.list.len(),
        s.rounds,
        s.repeats
    );
    workload_table(&mut out, ctx, ctx.imports, true);

    let rows = breakdown(ctx);
    let ids: Vec<&'static str> = ctx.configs.iter().map(|c| c.id).collect();
    let _ = writeln!(
        out,
        "\nwhere the time goes: the {} list entries that take longest under pathfinder (median ms; an entry counts the modules it imports first)",
        ctx.top.min(rows.len())
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
        "\nsize and memory (stdlib files: the selection's .pyc + .py; frozen: bytecode + source + package data; RSS in MB: total (anonymous + file-backed))"
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
        let files = match (sz.stdlib_pyc, sz.stdlib_py, sz.zip) {
            (Some(pyc), Some(py), _) => format!("{} (+{} .py)", mb(pyc), mb(py)),
            (_, _, Some(zip)) => format!("{} zip", mb(zip)),
            _ => "none".into(),
        };
        let frozen = sz.frozen.as_ref().map_or("–".into(), |f| {
            format!(
                "{} = {} + {} + {}",
                mb(f.total()),
                mb(f.bytecode),
                mb(f.source),
                mb(f.data)
            )
        });
        let p = ctx.probes.get(cfg.id);
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
    out
}

fn workload_json(ctx: &Context, m: &Measured) -> Value {
    let sums = summaries(m);
    let mut results = serde_json::Map::new();
    for cfg in ctx.configs {
        let (Some(s), Some(samples)) = (sums.get(cfg.id), m.samples.get(cfg.id)) else {
            continue;
        };
        let mut r = json!({
            "median_ms": round3(s.median),
            "min_ms": round3(s.min),
            "max_ms": round3(s.max),
            "ratio_to_pathfinder": s.ratio.map(round3),
            "rounds_ms": rounds_json(samples),
        });
        if let Some(other) = cfg.also_against {
            r[format!("ratio_to_{other}")] = json!(ratio_to(m, cfg.id, other).map(round3));
        }
        results.insert(cfg.id.to_string(), r);
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
    let m = &ctx.machine;
    let configs: Vec<Value> = ctx
        .configs
        .iter()
        .map(|cfg| {
            let p = ctx.probes.get(cfg.id);
            let sz = sizes(ctx, cfg);
            json!({
                "id": cfg.id,
                "label": cfg.label,
                "description": cfg.what,
                "command": cfg.shown_command(),
                "floor": cfg.floor.map(|f| match f { Floor::Unmarshal => "unmarshal", Floor::Exec => "exec" }),
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
                    "frozen": sz.frozen.as_ref().map(|f| json!({
                        "modules": f.modules,
                        "bytecode_bytes": f.bytecode,
                        "source_bytes": f.source,
                        "data_bytes": f.data,
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
                "median_ms": per.into_iter().map(|(k, v)| (k.to_string(), json!(round3(v)))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    json!({
        "format": FORMAT,
        "tool": format!("pyfreeze {}", env!("CARGO_PKG_VERSION")),
        "command": ctx.command_line,
        "python": {
            "version": ctx.stock_version,
            "minor": ctx.minor,
            "path": ctx.stock_python.display().to_string(),
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
            "reference": REFERENCE,
        },
        "modules": {
            "selected": ctx.selection.len(),
            "excluded": ctx.excluded.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<_>>(),
            "listed": ctx.list.len(),
            "list": ctx.list,
            "loaded_by_the_loop": ctx.plan.modules,
            "pure_loaded_by_the_loop": ctx.plan.pure,
            "bytecode_bytes": ctx.plan.bytecode_bytes,
        },
        "configurations": configs,
        "workloads": {
            "startup": {
                "what": "wall time of the whole process running an empty script as __main__",
                "results": workload_json(ctx, ctx.startup),
            },
            "imports": {
                "what": "time of the loop importing every listed module, measured inside the process",
                "results": workload_json(ctx, ctx.imports),
            },
            "startup_site": ctx.startup_site.map(|m| json!({
                "what": "the start-up workload for plain and patched with site imported (-I -B)",
                "results": workload_json(ctx, m),
            })),
        },
        "breakdown": breakdown,
        "warnings": ctx.warnings,
    })
}

/// The colour of a configuration's bars.
pub fn color(id: &str) -> &'static str {
    match id {
        "pathfinder" => "#7f7f7f",
        "frozen-off" => "#b3b3b3",
        "zipimport" => "#b07aa1",
        "embed" => "#4e79a7",
        "plain" => "#c9b28f",
        "patched" => "#59a14f",
        "unmarshal" => "#edc948",
        "exec" => "#f5dd9b",
        _ => "#888888",
    }
}

/// The chart, from the JSON alone (so that the same numbers always give the same SVG, and a
/// recorded run can be drawn again): start-up and imports, one bar per configuration.
pub fn chart(j: &Value) -> Result<svg::Chart, String> {
    let bad = |what: &str| format!("not a pyfreeze bench result: no {what}");
    let configs = j["configurations"]
        .as_array()
        .ok_or_else(|| bad("configurations"))?;
    let list = j["modules"]["listed"]
        .as_u64()
        .ok_or_else(|| bad("modules"))?;
    let loaded = j["modules"]["loaded_by_the_loop"].as_u64().unwrap_or(0);
    let panel = |id: &str, title: String| -> Result<svg::Panel, String> {
        let results = &j["workloads"][id]["results"];
        let mut bars = Vec::new();
        for c in configs {
            let cid = c["id"].as_str().ok_or_else(|| bad("configuration id"))?;
            let r = &results[cid];
            if r.is_null() {
                continue;
            }
            let num = |key: &str| {
                r[key]
                    .as_f64()
                    .ok_or_else(|| bad(&format!("{key} of {cid}")))
            };
            bars.push(svg::Bar {
                id: cid.into(),
                label: c["label"].as_str().unwrap_or(cid).into(),
                median: num("median_ms")?,
                min: num("min_ms")?,
                max: num("max_ms")?,
                ratio: r["ratio_to_pathfinder"].as_f64(),
                color: color(cid).into(),
                dashed: !c["floor"].is_null(),
            });
        }
        Ok(svg::Panel {
            id: id.into(),
            title,
            unit: "ms".into(),
            bars,
        })
    };
    let m = &j["machine"];
    let load = |key: &str| {
        m[key].as_array().map_or("unknown".into(), |l| {
            l.iter()
                .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let s = &j["settings"];
    Ok(svg::Chart {
        title: format!(
            "pyfreeze bench: CPython {}, {} CPUs",
            j["python"]["version"].as_str().ok_or_else(|| bad("python"))?,
            m["cpus"].as_u64().unwrap_or(0)
        ),
        notes: vec![
            "bar: median of rounds; line: min–max of single runs (▸: beyond the axis)".into(),
            format!(
                "×: median of per-round ratios to PathFinder; {} start-up and {} import rounds, configurations alternating",
                s["startup_rounds"].as_u64().unwrap_or(0),
                s["rounds"].as_u64().unwrap_or(0)
            ),
            format!(
                "load average when measuring started {}, at the end {}; other processes used {} CPUs",
                load("load_before_measuring"),
                load("load_after_measuring"),
                m["other_processes_cpus"]
                    .as_f64()
                    .map_or("?".into(), |o| format!("{o:.2}"))
            ),
        ],
        panels: vec![
            panel("startup", "start-up: the whole process, empty script".into())?,
            panel(
                "imports",
                format!(
                    "import the pure stdlib: {list} modules listed, {loaded} loaded, in one process"
                ),
            )?,
        ],
    })
}

/// `pyfreeze-bench-X.Y.svg` next to nothing else: the chart of a recorded JSON result.
pub fn chart_from_file(json: &Path, out: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(json)
        .map_err(|e| format!("cannot read {}: {e}", json.display()))?;
    let j: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    let minor = j["python"]["minor"]
        .as_str()
        .ok_or_else(|| format!("{}: not a pyfreeze bench result", json.display()))?;
    let chart = chart(&j).map_err(|e| format!("{}: {e}", json.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let path = out.join(format!("pyfreeze-bench-{minor}.svg"));
    std::fs::write(&path, svg::render(&chart))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Prints the tables and writes the JSON and SVG into `out`; returns their paths.
pub fn write_all(ctx: &Context, out: &Path) -> Result<Vec<PathBuf>, String> {
    print!("{}", terminal(ctx));
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let stem = format!("pyfreeze-bench-{}", ctx.minor);
    let json_path = out.join(format!("{stem}.json"));
    let svg_path = out.join(format!("{stem}.svg"));
    let j = to_json(ctx);
    let text = serde_json::to_string_pretty(&j).expect("serializable") + "\n";
    std::fs::write(&json_path, text)
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    std::fs::write(&svg_path, svg::render(&chart(&j)?))
        .map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;
    Ok(vec![json_path, svg_path])
}
