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

mod report;
mod stats;
mod svg;
mod system;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyfreeze_gen::{Interpreter, Kind, NoProgress, SpecBuilder};
use serde_json::Value;

use stats::Samples;

const HARNESS: &str = include_str!("bench/harness.py");

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The stock interpreter: X.Y (pyenv's newest X.Y.Z) or the path of a python.
    #[arg(long, value_name = "X.Y|PATH", required_unless_present = "chart_from")]
    python: Option<String>,
    /// Measure nothing: draw the chart of a recorded result (pyfreeze-bench-X.Y.json) into --out.
    #[arg(long = "chart-from", value_name = "JSON", conflicts_with = "python")]
    chart_from: Option<PathBuf>,
    /// A CPython built by `pyfreeze cpython build --prefix PREFIX` (adds `patched`).
    #[arg(long, value_name = "PREFIX")]
    patched: Option<PathBuf>,
    /// The same source built unpatched (`pyfreeze cpython build --plain`): adds `plain`, the
    /// fair comparator of `patched`.
    #[arg(long, value_name = "PREFIX")]
    plain: Option<PathBuf>,
    /// Folder for the results: pyfreeze-bench-X.Y.json and pyfreeze-bench-X.Y.svg.
    #[arg(long, short = 'o', default_value = ".", value_name = "DIR")]
    out: PathBuf,
    /// Build folder kept between runs (embed-c build, the zip); default ~/.cache/pyfreeze/bench.
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// The pyfreeze checkout whose examples/embed-c is built (default: the one this binary was
    /// built from).
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// A smoke run: 2 rounds of 1 run for the imports, 3 rounds of 2 for start-up.
    #[arg(long)]
    quick: bool,
    /// Rounds of the import workload (default 15).
    #[arg(long)]
    rounds: Option<usize>,
    /// Runs of each configuration per round, import workload (default 3).
    #[arg(long)]
    repeats: Option<usize>,
    /// Rounds of the start-up workload (default 20).
    #[arg(long = "startup-rounds")]
    startup_rounds: Option<usize>,
    /// Runs of each configuration per round, start-up workload (default 5).
    #[arg(long = "startup-repeats")]
    startup_repeats: Option<usize>,
    /// Before measuring, wait until the 1-minute load average is below LOAD.
    #[arg(long = "wait-load", value_name = "LOAD")]
    wait_load: Option<f64>,
    /// Longest wait for --wait-load, in seconds; measuring starts anyway after it (with a warning).
    #[arg(long = "wait-max", default_value_t = 1200, value_name = "SECONDS")]
    wait_max: u64,
    /// Rows of the per-module breakdown printed (the JSON has all).
    #[arg(long, default_value_t = 12)]
    top: usize,
}

/// How many rounds and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub rounds: usize,
    pub repeats: usize,
    pub startup_rounds: usize,
    pub startup_repeats: usize,
}

impl Settings {
    fn from_args(args: &BenchArgs) -> Result<Settings, String> {
        let (r, p, sr, sp) = if args.quick {
            (2, 1, 3, 2)
        } else {
            (15, 3, 20, 5)
        };
        let s = Settings {
            rounds: args.rounds.unwrap_or(r),
            repeats: args.repeats.unwrap_or(p),
            startup_rounds: args.startup_rounds.unwrap_or(sr),
            startup_repeats: args.startup_repeats.unwrap_or(sp),
        };
        if s.rounds == 0 || s.repeats == 0 || s.startup_rounds == 0 || s.startup_repeats == 0 {
            return Err(
                "--rounds, --repeats, --startup-rounds and --startup-repeats must be at least 1"
                    .into(),
            );
        }
        Ok(s)
    }
}

/// Which loader kinds (as `harness.py` names them) a configuration may serve modules with.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// For the listed modules the import loop loads.
    pub listed: &'static [&'static str],
    /// For the listed modules already loaded at start-up.
    pub startup: &'static [&'static str],
    /// Kinds no module at all may have.
    pub forbidden: &'static [&'static str],
    /// `(module, kind)`: allowed besides the above.
    pub exceptions: &'static [(&'static str, &'static str)],
    /// No module may be compiled from source while importing (the `.pyc` must be warm).
    pub warm_pyc: bool,
    /// No `.py`/`.pyc` file may be opened while importing.
    pub no_py_files: bool,
    /// Every listed module must be in the interpreter's frozen table (`_pyfreeze.modules()`
    /// or `_imp._frozen_ext_modules()`).
    pub in_table: bool,
}

/// What a floor measures instead of imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    Unmarshal,
    Exec,
}

/// One configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub id: &'static str,
    pub label: String,
    pub what: String,
    pub program: PathBuf,
    /// Arguments before the script (`-I -S -B`, or embed-c's `--run`).
    pub pre_args: Vec<String>,
    pub floor: Option<Floor>,
    pub rules: Rules,
    /// The reference its ratio is also given against (patched: plain).
    pub also_against: Option<&'static str>,
}

impl Config {
    fn shown_command(&self) -> String {
        let mut parts = vec![self.program.display().to_string()];
        parts.extend(self.pre_args.iter().cloned());
        parts.join(" ")
    }
}

/// The temporary folder of one bench run: the harness, the lists it reads, its result file.
struct Work {
    _dir: tempfile::TempDir,
    harness: PathBuf,
    startup_script: PathBuf,
    list: PathBuf,
    selection: PathBuf,
    /// Package data of the selection: `archive path<TAB>file` lines.
    data: PathBuf,
    plan_tsv: PathBuf,
    plan_bin: PathBuf,
    result: PathBuf,
    /// The empty current folder of every run.
    cwd: PathBuf,
}

impl Work {
    fn new() -> Result<Work, String> {
        let dir = tempfile::Builder::new()
            .prefix("pyfreeze-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let p = dir.path().to_path_buf();
        let w = Work {
            harness: p.join("harness.py"),
            startup_script: p.join("startup.py"),
            list: p.join("list.txt"),
            selection: p.join("selection.tsv"),
            data: p.join("data.tsv"),
            plan_tsv: p.join("plan.tsv"),
            plan_bin: p.join("plan.bin"),
            result: p.join("result.json"),
            cwd: p.join("cwd"),
            _dir: dir,
        };
        write(&w.harness, HARNESS.as_bytes())?;
        write(&w.startup_script, b"")?;
        std::fs::create_dir_all(&w.cwd).map_err(|e| format!("{}: {e}", w.cwd.display()))?;
        Ok(w)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A command with the caller's environment minus `PYTHON*` variables, run in an empty folder.
fn command(program: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PYTHON") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(cwd);
    cmd
}

/// Runs the harness in `mode` under `program pre_args` and returns its JSON result.
fn run_harness(
    who: &str,
    program: &Path,
    pre_args: &[String],
    work: &Work,
    mode: &str,
    args: &[&Path],
) -> Result<Value, String> {
    let _ = std::fs::remove_file(&work.result);
    let mut cmd = command(program, &work.cwd);
    cmd.args(pre_args)
        .arg(&work.harness)
        .arg(mode)
        .arg(&work.result)
        .args(args)
        .stdin(Stdio::null());
    let out = cmd
        .output()
        .map_err(|e| format!("{who}: cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{who}: the harness ({mode}) failed ({}):\n{}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 30)
        ));
    }
    let text = std::fs::read_to_string(&work.result).map_err(|e| {
        format!(
            "{who}: the harness ({mode}) wrote no result ({e}); stderr:\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 30)
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{who}: bad harness result ({e})"))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The stock interpreter under test.
struct Stock {
    python: PathBuf,
    interp: Interpreter,
    /// X.Y.Z
    version: String,
    /// X.Y
    minor: String,
    dynload: PathBuf,
}

fn pyenv_root() -> PathBuf {
    let out = Command::new("pyenv").arg("root").output();
    match out {
        Ok(o) if o.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string())
        }
        _ => match std::env::var_os("PYENV_ROOT") {
            Some(root) => PathBuf::from(root),
            None => home().join(".pyenv"),
        },
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// `3.11` → pyenv's newest `3.11.Z`; anything else is a path or command.
fn resolve_python(given: &str) -> Result<PathBuf, String> {
    let is_minor = given.split('.').count() == 2
        && given
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !is_minor {
        return Ok(PathBuf::from(given));
    }
    let root = pyenv_root();
    let prefix = format!("{given}.");
    let mut found: Vec<(u32, String)> = std::fs::read_dir(root.join("versions"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let patch = name.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                    Some((patch, name))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let (_, version) = found.pop().ok_or_else(|| {
        format!(
            "no CPython {given} under {}/versions; install it with `pyenv install {given}` or pass --python /path/to/python{given}",
            root.display()
        )
    })?;
    Ok(root
        .join("versions")
        .join(version)
        .join("bin")
        .join(format!("python{given}")))
}

fn probe_stock(given: &str) -> Result<Stock, String> {
    let python = resolve_python(given)?;
    let interp = Interpreter::probe(&python, None).map_err(|e| e.to_string())?;
    let [x, y, z] = interp.info.version;
    let dynload = interp
        .info
        .config
        .get("DESTSHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| interp.info.stdlib.join("lib-dynload"));
    if !dynload.is_dir() {
        return Err(format!(
            "{}: no extension-module folder at {}",
            python.display(),
            dynload.display()
        ));
    }
    Ok(Stock {
        python,
        version: format!("{x}.{y}.{z}"),
        minor: format!("{x}.{y}"),
        dynload,
        interp,
    })
}

/// One module of the stdlib selection.
#[derive(Debug, Clone)]
pub struct Selected {
    pub name: String,
    pub kind: &'static str,
    pub origin: PathBuf,
}

/// A package data file: its path in the zip, and the file.
type DataFile = (String, PathBuf);

/// The stdlib selection of `pyfreeze list --stdlib --python PY`, and its package data files
/// as `(archive path, file)` (the zip holds them, as the frozen table does).
fn select_stdlib(stock: &Stock) -> Result<(Vec<Selected>, Vec<DataFile>), String> {
    let spec = SpecBuilder::new()
        .python(&stock.python)
        .stdlib(true)
        .runtime(false)
        .package_data(true)
        .embed_source(false)
        .build()
        .map_err(|e| e.to_string())?;
    let generated = pyfreeze_gen::generate(&spec, &NoProgress).map_err(|e| e.to_string())?;
    let data = generated
        .resources
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r.package.replace('.', "/"), r.rel),
                r.path.clone(),
            )
        })
        .collect();
    let modules = generated
        .modules
        .into_iter()
        .filter_map(|m| {
            let kind = match m.kind {
                Kind::Module => "module",
                Kind::Package => "package",
                Kind::Namespace => "namespace",
            };
            Some(Selected {
                name: m.name,
                kind,
                origin: m.path?,
            })
        })
        .collect();
    Ok((modules, data))
}

/// Why a selected module is left out of the workload, before any import is tried.
pub fn side_effect_exclusion(name: &str) -> Option<&'static str> {
    match name {
        "antigravity" => Some("side effect: opens a web browser"),
        "this" => Some("side effect: prints the Zen of Python"),
        _ if name == "__main__" || name.ends_with(".__main__") => {
            Some("side effect: a package's command-line entry point")
        }
        _ => None,
    }
}

/// The module list: the selection minus side effects minus what fails in the stock
/// interpreter. Returns (list, excluded name → reason).
fn module_list(
    stock: &Stock,
    selection: &[Selected],
    work: &Work,
) -> Result<(Vec<String>, BTreeMap<String, String>), String> {
    let mut excluded = BTreeMap::new();
    let mut candidates = Vec::new();
    for m in selection {
        match side_effect_exclusion(&m.name) {
            Some(reason) => {
                excluded.insert(m.name.clone(), reason.to_string());
            }
            None if m.kind == "namespace" => {
                excluded.insert(
                    m.name.clone(),
                    "namespace package (no code to freeze)".to_string(),
                );
            }
            None => candidates.push(m.name.clone()),
        }
    }
    write(&work.list, (candidates.join("\n") + "\n").as_bytes())?;
    let check = run_harness(
        "module list",
        &stock.python,
        &stock_args(),
        work,
        "check",
        &[&work.list],
    )?;
    let errors = check["errors"].as_object().cloned().unwrap_or_default();
    for (name, err) in &errors {
        excluded.insert(
            name.clone(),
            format!(
                "fails in the stock interpreter: {}",
                err.as_str().unwrap_or("")
            ),
        );
    }
    let list: Vec<String> = candidates
        .into_iter()
        .filter(|n| !errors.contains_key(n))
        .collect();
    write(&work.list, (list.join("\n") + "\n").as_bytes())?;
    Ok((list, excluded))
}

fn stock_args() -> Vec<String> {
    ["-I", "-S", "-B"].map(String::from).to_vec()
}

/// The embed-c example built against the stock interpreter.
struct Embed {
    binary: PathBuf,
    manifest: PathBuf,
}

fn default_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn build_embed(stock: &Stock, repo: &Path, cache: &Path) -> Result<Embed, String> {
    let example = repo.join("examples/embed-c");
    if !example.join("Makefile").is_file() {
        return Err(format!(
            "no examples/embed-c/Makefile under {}: run from a pyfreeze checkout or pass --repo DIR",
            repo.display()
        ));
    }
    let build = cache.join(format!("embed-c-{}", stock.version));
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let log_path = cache.join(format!("embed-c-{}.log", stock.version));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    let started = Instant::now();
    eprintln!(
        "pyfreeze bench: building examples/embed-c for {} into {} (log: {})",
        stock.version,
        build.display(),
        log_path.display()
    );
    let status = Command::new("make")
        .arg("-C")
        .arg(&example)
        .arg(format!("-j{}", system::cpus()))
        .arg(format!("PYTHON={}", stock.python.display()))
        .arg(format!("PYTHON_VERSION={}", stock.minor))
        .arg(format!("BUILD={}", build.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .status()
        .map_err(|e| format!("cannot run make: {e}"))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!(
            "building examples/embed-c failed ({status}); the end of {}:\n{}",
            log_path.display(),
            tail(&text, 25)
        ));
    }
    eprintln!(
        "pyfreeze bench: embed-c ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(Embed {
        binary: build.join("embed-c"),
        manifest: build.join("frozen/manifest.json"),
    })
}

/// A private prefix whose stdlib is `lib/pythonXY.zip`: a copy of the stock executable (its
/// libpython is found through its absolute RUNPATH), `lib/pythonX.Y/os.py` (empty: getpath's
/// landmark; `os` itself is frozen) and `lib-dynload` (a link to the stock one). sys.path is
/// then [the zip, lib/pythonX.Y, lib-dynload]: every pure module comes from the zip.
struct ZipPrefix {
    python: PathBuf,
    zip: PathBuf,
}

fn build_zip_prefix(stock: &Stock, cache: &Path, work: &Work) -> Result<ZipPrefix, String> {
    let root = cache.join(format!("zip-{}", stock.version));
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| io(&root, e))?;
    }
    let lib = root.join(format!("lib/python{}", stock.minor));
    let bin = root.join("bin");
    for dir in [&lib, &bin] {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let python = bin.join(format!("python{}", stock.minor));
    std::fs::copy(&stock.python, &python).map_err(|e| io(&python, e))?;
    write(&lib.join("os.py"), b"")?;
    std::os::unix::fs::symlink(&stock.dynload, lib.join("lib-dynload")).map_err(|e| io(&lib, e))?;
    let zip = root.join(format!("lib/python{}.zip", stock.minor.replace('.', "")));
    run_harness(
        "zipimport",
        &stock.python,
        &stock_args(),
        work,
        "zip",
        &[&work.selection, &work.data, &zip],
    )?;
    Ok(ZipPrefix { python, zip })
}

/// A CPython installed by `pyfreeze cpython build`.
fn prefix_python(prefix: &Path, minor: &str, flag: &str) -> Result<PathBuf, String> {
    let python = prefix.join(format!("bin/python{minor}"));
    if !python.is_file() {
        return Err(format!(
            "{flag} {}: no {} (is it the --prefix of `pyfreeze cpython build --version {minor}`?)",
            prefix.display(),
            python.display()
        ));
    }
    Ok(python)
}

const STOCK_RULES: Rules = Rules {
    listed: &["source", "frozen"],
    startup: &["source", "frozen"],
    forbidden: &["sourceless", "zip", "pyfreeze", "frozen-ext", "memory"],
    exceptions: &[],
    warm_pyc: true,
    no_py_files: false,
    in_table: false,
};

/// The configurations, in report order.
fn configurations(
    stock: &Stock,
    zip: &ZipPrefix,
    embed: &Embed,
    patched: Option<&Path>,
    plain: Option<&Path>,
) -> Vec<Config> {
    let py = format!("python{}", stock.minor);
    let mut v = vec![
        Config {
            id: "pathfinder",
            label: "PathFinder, warm .pyc".into(),
            what: format!(
                "stock {py} {} (shared libpython), CPython's own frozen modules on (the default)",
                stock.version
            ),
            program: stock.python.clone(),
            pre_args: stock_args(),
            floor: None,
            rules: STOCK_RULES,
            also_against: None,
        },
        // (-X frozen_modules exists from 3.11 on; 3.10 freezes only importlib's bootstrap.)
        Config {
            id: "frozen-off",
            label: "PathFinder, -X frozen_modules=off".into(),
            what: format!("stock {py} with CPython's own frozen stdlib modules off"),
            program: stock.python.clone(),
            pre_args: ["-I", "-S", "-B", "-X", "frozen_modules=off"]
                .map(String::from)
                .to_vec(),
            floor: None,
            rules: Rules {
                listed: &["source"],
                startup: &["source"],
                // zipimport is one of the modules CPython always keeps frozen.
                exceptions: &[("zipimport", "frozen")],
                ..STOCK_RULES
            },
            also_against: None,
        },
        Config {
            id: "zipimport",
            label: "zipimport, stored zip of .pyc".into(),
            what: format!(
                "stock {py} binary in a prefix whose stdlib is {} (stored, .pyc only)",
                zip.zip.file_name().unwrap_or_default().to_string_lossy()
            ),
            program: zip.python.clone(),
            pre_args: stock_args(),
            floor: None,
            rules: Rules {
                listed: &["zip", "frozen"],
                startup: &["zip", "frozen"],
                forbidden: &["source", "sourceless", "pyfreeze", "frozen-ext", "memory"],
                exceptions: &[],
                warm_pyc: false,
                no_py_files: true,
                in_table: false,
            },
            also_against: None,
        },
        Config {
            id: "embed",
            label: "pyfreeze, stock libpython (embed-c)".into(),
            what: "examples/embed-c: stdlib in pyfreeze's table, stock static libpython, sys.path = [lib-dynload]".into(),
            program: embed.binary.clone(),
            pre_args: vec!["--run".into()],
            floor: None,
            rules: Rules {
                listed: &["pyfreeze"],
                startup: &["pyfreeze"],
                forbidden: &["source", "sourceless", "zip", "frozen-ext", "memory"],
                exceptions: &[],
                warm_pyc: false,
                no_py_files: true,
                in_table: true,
            },
            also_against: None,
        },
    ];
    if stock.interp.version.minor < 11 {
        v.retain(|c| c.id != "frozen-off");
    }
    if let Some(prefix) = plain {
        v.push(Config {
            id: "plain",
            label: "unpatched build, warm .pyc".into(),
            what: format!(
                "{} built by `pyfreeze cpython build --plain` (static libpython)",
                prefix.display()
            ),
            program: prefix.join(format!("bin/{py}")),
            pre_args: stock_args(),
            floor: None,
            rules: STOCK_RULES,
            also_against: None,
        });
    }
    if let Some(prefix) = patched {
        v.push(Config {
            id: "patched",
            label: "pyfreeze, patched CPython".into(),
            what: format!(
                "{} built by `pyfreeze cpython build`: stdlib in the extended frozen table",
                prefix.display()
            ),
            program: prefix.join(format!("bin/{py}")),
            pre_args: stock_args(),
            floor: None,
            rules: Rules {
                listed: &["frozen-ext"],
                startup: &["frozen-ext"],
                forbidden: &["source", "sourceless", "zip", "pyfreeze", "memory"],
                // CPython's bootstrap table (importlib._bootstrap*, zipimport) comes before the
                // extended table in the lookup: zipimport is CPython's own frozen copy.
                exceptions: &[("zipimport", "frozen")],
                warm_pyc: false,
                no_py_files: true,
                in_table: true,
            },
            also_against: plain.map(|_| "plain"),
        });
    }
    let floor_rules = Rules {
        listed: &["memory"],
        startup: &["source", "frozen"],
        forbidden: &["sourceless", "zip", "pyfreeze", "frozen-ext"],
        exceptions: &[],
        warm_pyc: false,
        no_py_files: false,
        in_table: false,
    };
    v.push(Config {
        id: "unmarshal",
        label: "floor: unmarshal only".into(),
        what: "marshal.loads of every loaded module's bytecode, already in memory".into(),
        program: stock.python.clone(),
        pre_args: stock_args(),
        floor: Some(Floor::Unmarshal),
        rules: floor_rules,
        also_against: None,
    });
    v.push(Config {
        id: "exec",
        label: "floor: exec only".into(),
        what: "module bodies executed from code objects already in memory".into(),
        program: stock.python.clone(),
        pre_args: stock_args(),
        floor: Some(Floor::Exec),
        rules: floor_rules,
        also_against: None,
    });
    v
}

/// A name → kind map from a harness result.
fn kind_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("?").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the loader of every module against the configuration's rules. `startup`: the kinds
/// at start-up (None when unknown: then the listed modules loaded at start-up are not told
/// apart, and must satisfy either rule). Returns the problems, one line each.
pub fn check_kinds(
    rules: &Rules,
    list: &[String],
    startup: Option<&BTreeMap<String, String>>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let allowed_for = |name: &str, kind: &str, set: &[&str]| {
        kind == "alias" || set.contains(&kind) || rules.exceptions.contains(&(name, kind))
    };
    for name in list {
        let Some(kind) = after.get(name) else {
            problems.push(format!("{name}: not in sys.modules after the import loop"));
            continue;
        };
        let at_startup = startup.map(|s| s.contains_key(name));
        let ok = match at_startup {
            Some(true) => allowed_for(name, kind, rules.startup),
            Some(false) => allowed_for(name, kind, rules.listed),
            None => allowed_for(name, kind, rules.listed) || allowed_for(name, kind, rules.startup),
        };
        if !ok {
            let expected = if at_startup == Some(true) {
                rules.startup
            } else {
                rules.listed
            };
            problems.push(format!(
                "{name}: served by `{kind}`, expected {}{}",
                expected.join(" or "),
                if at_startup == Some(true) {
                    " (loaded at start-up)"
                } else {
                    ""
                }
            ));
        }
    }
    for (name, kind) in after {
        if rules.forbidden.contains(&kind.as_str()) && !rules.exceptions.contains(&(name, kind)) {
            problems.push(format!(
                "{name}: served by `{kind}`, which this configuration must not use"
            ));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// Fails with a message naming the configuration and (a few of) the offending modules.
fn fail_if(cfg: &Config, what: &str, problems: &[String]) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 25;
    let mut text = format!(
        "configuration `{}` ({}) did not serve the modules the way it claims ({what}): {} problem(s)",
        cfg.id,
        cfg.label,
        problems.len()
    );
    for p in problems.iter().take(SHOWN) {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if problems.len() > SHOWN {
        text.push_str(&format!("\n  ... and {} more", problems.len() - SHOWN));
    }
    Err(text)
}

/// What the plan run found: the modules the import loop loads in the stock interpreter.
#[derive(Debug, Clone)]
pub struct Plan {
    pub modules: usize,
    pub pure: usize,
    pub bytecode_bytes: u64,
}

/// Facts a configuration reported about itself (probe run).
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub version: String,
    pub executable: String,
    pub libpython: Vec<String>,
    pub sys_path: Vec<String>,
    /// VmRSS, RssAnon, RssFile (kB) when the script starts and after the import loop.
    pub rss_startup: Rss,
    pub rss_imports: Rss,
    pub kinds: BTreeMap<String, usize>,
    pub startup_modules: usize,
    pub loaded_by_loop: usize,
}

/// Resident memory in kB, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    pub total: Option<u64>,
    pub anon: Option<u64>,
    pub file: Option<u64>,
}

impl Rss {
    fn from_json(v: &Value) -> Rss {
        Rss {
            total: v["VmRSS"].as_u64(),
            anon: v["RssAnon"].as_u64(),
            file: v["RssFile"].as_u64(),
        }
    }
}

impl Probe {
    pub fn linking(&self) -> String {
        match self.libpython.first() {
            Some(lib) => format!("shared libpython ({lib})"),
            None => "static libpython".into(),
        }
    }
}

fn count_kinds(kinds: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for k in kinds.values() {
        *counts.entry(k.clone()).or_insert(0) += 1;
    }
    counts
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the probe of a (non-floor) configuration and verifies it. Doubles as the warm-up run.
fn probe(cfg: &Config, stock: &Stock, list: &[String], work: &Work) -> Result<Probe, String> {
    let v = run_harness(
        cfg.id,
        &cfg.program,
        &cfg.pre_args,
        work,
        "probe",
        &[&work.list],
    )?;
    let startup = kind_map(&v["startup_kinds"]);
    let after = kind_map(&v["kinds"]);
    fail_if(
        cfg,
        "loader per module",
        &check_kinds(&cfg.rules, list, Some(&startup), &after),
    )?;
    let mut problems = Vec::new();
    let version = v["version"].as_str().unwrap_or("").to_string();
    let minor_of = |full: &str| full.split('.').take(2).collect::<Vec<_>>().join(".");
    if minor_of(&version) != stock.minor {
        problems.push(format!(
            "runs CPython {version}, not {} like the stock interpreter",
            stock.minor
        ));
    }
    if cfg.rules.warm_pyc {
        for file in strings(&v["compiled"]) {
            problems.push(format!(
                "{file}: compiled from source while importing (no valid .pyc next to it: run `python -m compileall` on the stdlib)"
            ));
        }
    }
    if cfg.rules.no_py_files {
        for file in strings(&v["opened"]) {
            problems.push(format!("{file}: opened while importing"));
        }
    }
    if cfg.rules.in_table {
        let table: std::collections::BTreeSet<String> = strings(&v["table"]).into_iter().collect();
        if table.is_empty() {
            problems.push(
                "no frozen table found (_pyfreeze.modules() / _imp._frozen_ext_modules())".into(),
            );
        } else {
            // An alias is another module under a second name (3.13.x's collections.abc is
            // _collections_abc, installed by collections): that module is the one checked.
            let missing = list
                .iter()
                .filter(|n| !table.contains(*n) && after.get(*n).is_none_or(|k| k != "alias"));
            for name in missing {
                problems.push(format!("{name}: not in the frozen table"));
            }
        }
    }
    let sys_path = strings(&v["path"]);
    if cfg.id == "zipimport" && !sys_path.first().is_some_and(|p| p.ends_with(".zip")) {
        problems.push(format!(
            "sys.path does not start with the zip: {sys_path:?}"
        ));
    }
    if cfg.id == "embed" && sys_path != [stock.dynload.display().to_string()] {
        problems.push(format!(
            "sys.path should be only {}: {sys_path:?}",
            stock.dynload.display()
        ));
    }
    fail_if(cfg, "probe", &problems)?;
    Ok(Probe {
        version,
        executable: v["executable"].as_str().unwrap_or("").to_string(),
        libpython: strings(&v["libpython"]),
        sys_path,
        rss_startup: Rss::from_json(&v["rss_startup_kb"]),
        rss_imports: Rss::from_json(&v["rss_imports_kb"]),
        kinds: count_kinds(&after),
        startup_modules: startup.len(),
        loaded_by_loop: strings(&v["new"]).len(),
    })
}

/// Verifies one measured run of the import workload (or a floor) and returns its total and
/// per-entry times in ns.
fn check_import_run(
    cfg: &Config,
    v: &Value,
    list: &[String],
    plan: &Plan,
) -> Result<(u64, Vec<u64>), String> {
    let total = v["total_ns"]
        .as_u64()
        .ok_or_else(|| format!("{}: no total_ns in the harness result", cfg.id))?;
    let mut entries: Vec<u64> = v["entry_ns"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_u64().unwrap_or(0)).collect())
        .unwrap_or_default();
    entries.resize(list.len(), 0);
    match cfg.floor {
        Some(Floor::Unmarshal) => {
            let n = v["unmarshalled"].as_u64().unwrap_or(0) as usize;
            if n != plan.pure {
                fail_if(
                    cfg,
                    "module count",
                    &[format!(
                        "unmarshalled {n} modules, the plan has {} pure modules",
                        plan.pure
                    )],
                )?;
            }
        }
        Some(Floor::Exec) => {
            let mut problems = check_kinds(&cfg.rules, list, None, &kind_map(&v["kinds"]));
            for name in strings(&v["not_executed"]) {
                problems.push(format!("{name}: in the plan but its body never ran"));
            }
            let executed = v["executed"].as_u64().unwrap_or(0) as usize;
            if executed != plan.pure {
                problems.push(format!(
                    "executed {executed} module bodies, the plan has {}",
                    plan.pure
                ));
            }
            fail_if(cfg, "module bodies executed", &problems)?;
        }
        None => {
            fail_if(
                cfg,
                "loader per module, measured run",
                &check_kinds(&cfg.rules, list, None, &kind_map(&v["kinds"])),
            )?;
        }
    }
    Ok((total, entries))
}

/// The measurements of one workload.
#[derive(Debug, Default)]
pub struct Measured {
    /// Config id → samples in ms.
    pub samples: BTreeMap<&'static str, Samples>,
    /// Config id → per-entry samples in ns (import workload only).
    pub entries: BTreeMap<&'static str, Vec<Vec<u64>>>,
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

/// Start-up: wall time of the whole process running an empty script.
fn measure_startup(
    configs: &[&Config],
    settings: &Settings,
    work: &Work,
) -> Result<Measured, String> {
    let run = |cfg: &Config| -> Result<f64, String> {
        let mut cmd = command(&cfg.program, &work.cwd);
        cmd.args(&cfg.pre_args)
            .arg(&work.startup_script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let t = Instant::now();
        let status = cmd
            .status()
            .map_err(|e| format!("{}: cannot run {}: {e}", cfg.id, cfg.program.display()))?;
        let elapsed = t.elapsed();
        if !status.success() {
            let out = cmd.stderr(Stdio::piped()).output().ok();
            return Err(format!(
                "{}: start-up run failed ({status}): {}",
                cfg.id,
                out.map(|o| tail(&String::from_utf8_lossy(&o.stderr), 20))
                    .unwrap_or_default()
            ));
        }
        Ok(elapsed.as_secs_f64() * 1e3)
    };
    for cfg in configs {
        run(cfg)?; // warm-up
    }
    let mut m = Measured::default();
    let mut progress = Progress::new("start-up");
    for round in 0..settings.startup_rounds {
        for cfg in stats::rotated(configs, round) {
            for _ in 0..settings.startup_repeats {
                let ms = run(cfg)?;
                m.samples.entry(cfg.id).or_default().push(round, ms);
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
    run_harness(cfg.id, &cfg.program, &cfg.pre_args, work, mode, &args)
}

/// Importing the stdlib: time measured inside the process, around the import loop.
fn measure_imports(
    configs: &[&Config],
    settings: &Settings,
    list: &[String],
    plan: &Plan,
    work: &Work,
) -> Result<Measured, String> {
    for cfg in configs.iter().filter(|c| c.floor.is_some()) {
        check_import_run(cfg, &import_run(cfg, work)?, list, plan)?; // warm-up, verified
    }
    let mut m = Measured::default();
    let mut progress = Progress::new("imports");
    for round in 0..settings.rounds {
        for cfg in stats::rotated(configs, round) {
            for _ in 0..settings.repeats {
                let v = import_run(cfg, work)?;
                let (total, entries) = check_import_run(cfg, &v, list, plan)?;
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

fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Entry point of `pyfreeze bench`.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    if let Some(json) = &args.chart_from {
        let svg = report::chart_from_file(json, &args.out)?;
        eprintln!("pyfreeze bench: wrote {}", svg.display());
        return Ok(());
    }
    let python = args.python.as_deref().expect("clap requires --python");
    let started = Instant::now();
    let settings = Settings::from_args(args)?;
    let command_line = std::env::args()
        .enumerate()
        .map(|(i, a)| if i == 0 { "pyfreeze".into() } else { quote(&a) })
        .collect::<Vec<_>>()
        .join(" ");
    let load_at_start = system::loadavg();
    let stock = probe_stock(python)?;
    let patched = args
        .patched
        .as_ref()
        .map(|p| prefix_python(p, &stock.minor, "--patched").map(|_| p.as_path()))
        .transpose()?;
    let plain = args
        .plain
        .as_ref()
        .map(|p| prefix_python(p, &stock.minor, "--plain").map(|_| p.as_path()))
        .transpose()?;
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(|| home().join(".cache/pyfreeze/bench"));
    let repo = args.repo.clone().unwrap_or_else(default_repo);
    eprintln!(
        "pyfreeze bench: CPython {} ({})",
        stock.version,
        stock.python.display()
    );
    let work = Work::new()?;

    let (selection, data) = select_stdlib(&stock)?;
    let selection_tsv: String = selection
        .iter()
        .map(|m| format!("{}\t{}\t{}\n", m.name, m.kind, m.origin.display()))
        .collect();
    write(&work.selection, selection_tsv.as_bytes())?;
    let data_tsv: String = data
        .iter()
        .map(|(arc, path)| format!("{arc}\t{}\n", path.display()))
        .collect();
    write(&work.data, data_tsv.as_bytes())?;
    let (list, excluded) = module_list(&stock, &selection, &work)?;
    eprintln!(
        "pyfreeze bench: {} modules selected by `pyfreeze list --stdlib`, {} excluded, {} imported by every configuration",
        selection.len(),
        excluded.len(),
        list.len()
    );

    let embed = build_embed(&stock, &repo, &cache)?;
    let zip = build_zip_prefix(&stock, &cache, &work)?;
    let configs = configurations(&stock, &zip, &embed, patched, plain);

    let planned = run_harness(
        "plan",
        &stock.python,
        &stock_args(),
        &work,
        "plan",
        &[&work.list, &work.plan_tsv, &work.plan_bin],
    )?;
    let plan = Plan {
        modules: planned["modules"].as_u64().unwrap_or(0) as usize,
        pure: planned["pure"].as_u64().unwrap_or(0) as usize,
        bytecode_bytes: planned["bytecode_bytes"].as_u64().unwrap_or(0),
    };
    if plan.pure == 0 {
        return Err("the plan run found no pure module loaded by the import loop".into());
    }

    let mut probes = BTreeMap::new();
    for cfg in configs.iter().filter(|c| c.floor.is_none()) {
        let p = probe(cfg, &stock, &list, &work)?;
        eprintln!(
            "pyfreeze bench: {:<11} verified: {} ({})",
            cfg.id,
            p.kinds
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            p.linking()
        );
        probes.insert(cfg.id, p);
    }
    if patched.is_none() {
        let debian = if stock.minor == "3.13" {
            " --debian-version 3.13.15-1"
        } else {
            ""
        };
        eprintln!(
            "pyfreeze bench: hint: to include pyfreeze's patched CPython, build it and the same source unpatched (3-5 minutes each) and pass --patched/--plain:\n  \
             pyfreeze cpython build --version {m}{debian} --prefix PATCHED --cache ~/.cache/pyfreeze\n  \
             pyfreeze cpython build --version {m}{debian} --plain --prefix PLAIN --cache ~/.cache/pyfreeze",
            m = stock.minor
        );
    }

    let mut warnings = Vec::new();
    if let Some(max) = args.wait_load {
        warnings.extend(wait_for_load(max, args.wait_max));
    }
    let load_before = system::loadavg();
    let cpu_before = system::CpuTimes::now();
    let measure_started = Instant::now();
    let real: Vec<&Config> = configs.iter().filter(|c| c.floor.is_none()).collect();
    let all: Vec<&Config> = configs.iter().collect();
    let startup = measure_startup(&real, &settings, &work)?;
    // The same for the two CPython builds with `site` imported, as `python -I -c pass` runs.
    let site_configs: Vec<Config> = configs
        .iter()
        .filter(|c| c.id == "plain" || c.id == "patched")
        .map(|c| Config {
            pre_args: c.pre_args.iter().filter(|a| *a != "-S").cloned().collect(),
            ..c.clone()
        })
        .collect();
    let startup_site = if site_configs.len() == 2 {
        let refs: Vec<&Config> = site_configs.iter().collect();
        Some(measure_startup(&refs, &settings, &work)?)
    } else {
        None
    };
    let imports = measure_imports(&all, &settings, &list, &plan, &work)?;
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

    let ctx = report::Context {
        command_line,
        stock_version: stock.version.clone(),
        stock_python: stock.python.clone(),
        minor: stock.minor.clone(),
        settings,
        selection: &selection,
        list: &list,
        excluded: &excluded,
        plan: &plan,
        configs: &configs,
        probes: &probes,
        startup: &startup,
        startup_site: startup_site.as_ref(),
        imports: &imports,
        embed_manifest: &embed.manifest,
        zip: &zip.zip,
        stock_stdlib: &stock.interp.info.stdlib,
        cache_tag: stock.interp.info.cache_tag.clone(),
        machine: report::Machine {
            cpus: system::cpus(),
            cpu_model: system::cpu_model(),
            kernel: system::kernel(),
            load_at_start,
            load_before,
            load_after,
            others_cpus: others,
            measure_secs,
        },
        warnings: &warnings,
        top: args.top,
    };
    let written = report::write_all(&ctx, &args.out)?;
    for w in &warnings {
        eprintln!("pyfreeze bench: warning: {w}");
    }
    eprintln!(
        "pyfreeze bench: wrote {} in {:.0}s",
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    const EMBED: Rules = Rules {
        listed: &["pyfreeze"],
        startup: &["pyfreeze"],
        forbidden: &["source", "sourceless", "zip"],
        exceptions: &[],
        warm_pyc: false,
        no_py_files: true,
        in_table: true,
    };

    #[test]
    fn kinds_that_match_pass() {
        let after = kinds(&[
            ("json", "pyfreeze"),
            ("codecs", "pyfreeze"),
            ("importlib._bootstrap", "alias"),
            ("_json", "extension"),
            ("sys", "builtin"),
        ]);
        let startup = kinds(&[("codecs", "pyfreeze"), ("sys", "builtin")]);
        let l = list(&["json", "codecs", "importlib._bootstrap"]);
        assert!(check_kinds(&EMBED, &l, Some(&startup), &after).is_empty());
        assert!(check_kinds(&EMBED, &l, None, &after).is_empty());
    }

    #[test]
    fn a_module_from_a_file_loader_is_named() {
        let after = kinds(&[
            ("json", "source"),
            ("json.decoder", "pyfreeze"),
            ("mod_outside_list", "sourceless"),
        ]);
        let problems = check_kinds(&EMBED, &list(&["json", "json.decoder"]), None, &after);
        assert_eq!(
            problems,
            [
                "json: served by `source`, expected pyfreeze",
                "json: served by `source`, which this configuration must not use",
                "mod_outside_list: served by `sourceless`, which this configuration must not use",
            ]
        );
    }

    #[test]
    fn missing_modules_and_startup_rules() {
        let rules = Rules {
            listed: &["memory"],
            startup: &["source", "frozen"],
            forbidden: &[],
            exceptions: &[("zipimport", "frozen")],
            warm_pyc: false,
            no_py_files: false,
            in_table: false,
        };
        let after = kinds(&[
            ("codecs", "frozen"),
            ("json", "frozen"),
            ("zipimport", "frozen"),
        ]);
        let startup = kinds(&[("codecs", "frozen")]);
        let problems = check_kinds(
            &rules,
            &list(&["codecs", "json", "zipimport", "gone"]),
            Some(&startup),
            &after,
        );
        assert_eq!(
            problems,
            [
                "gone: not in sys.modules after the import loop",
                "json: served by `frozen`, expected memory",
            ]
        );
        let problems = check_kinds(&rules, &list(&["codecs"]), Some(&kinds(&[])), &after);
        assert_eq!(problems, ["codecs: served by `frozen`, expected memory"]);
    }

    #[test]
    fn failures_name_the_configuration_and_modules() {
        let cfg = Config {
            id: "embed",
            label: "pyfreeze".into(),
            what: String::new(),
            program: PathBuf::from("/x"),
            pre_args: vec![],
            floor: None,
            rules: EMBED,
            also_against: None,
        };
        assert!(fail_if(&cfg, "x", &[]).is_ok());
        let many: Vec<String> = (0..30).map(|i| format!("m{i}: bad")).collect();
        let err = fail_if(&cfg, "loader per module", &many).unwrap_err();
        assert!(err.starts_with("configuration `embed` (pyfreeze) did not serve"));
        assert!(
            err.contains("\n  m0: bad") && err.contains("... and 5 more"),
            "{err}"
        );
    }

    #[test]
    fn side_effect_exclusions() {
        assert!(side_effect_exclusion("antigravity").is_some());
        assert!(side_effect_exclusion("this").is_some());
        assert!(side_effect_exclusion("asyncio.__main__").is_some());
        assert!(side_effect_exclusion("json").is_none());
        assert!(side_effect_exclusion("thisisfine").is_none());
    }

    #[test]
    fn quoting_of_the_command_line() {
        assert_eq!(quote("--python"), "--python");
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
