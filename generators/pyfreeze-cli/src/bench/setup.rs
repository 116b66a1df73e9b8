//! The bench's set-up: the stock interpreter (probed), the CPython builds given with
//! `--patched`/`--plain`, `examples/embed-c` built against the stock interpreter, and the
//! private prefix whose stdlib is a zip. Everything it builds goes into the cache folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use pyfreeze_gen::versions::supported_list;
use pyfreeze_gen::{pyenv, Interpreter, PythonVersion};

use super::app::App;
use super::args::BenchArgs;
use super::harness::{run_harness, stock_args, tail, write, Work};
use super::system;

/// The stock interpreter under test.
pub struct Stock {
    pub python: PathBuf,
    pub interp: Interpreter,
    /// X.Y.Z
    pub version: String,
    /// X.Y
    pub minor: String,
    pub dynload: PathBuf,
}

/// pyenv's root: what `pyenv root` says, else `$PYENV_ROOT`, else `~/.pyenv`.
fn pyenv_root() -> PathBuf {
    pyfreeze_gen::pyenv::root(std::env::var_os("PYENV_ROOT"), std::env::var_os("HOME"))
        .unwrap_or_else(|| home().join(".pyenv"))
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// `3.11` → pyenv's newest `3.11.N`; anything else is a path or command.
fn resolve_python(given: &str) -> Result<PathBuf, String> {
    let is_minor = given.split('.').count() == 2
        && given
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !is_minor {
        return Ok(PathBuf::from(given));
    }
    let version = PythonVersion::parse(given).ok_or_else(|| {
        format!(
            "--python {given}: pyfreeze supports CPython {}; pass one of them, or the path of a python",
            supported_list()
        )
    })?;
    let root = pyenv_root();
    pyenv::newest_interpreter(&root, version).ok_or_else(|| {
        format!(
            "no CPython {given} under {}/versions; install it with `pyenv install {given}` or pass --python /path/to/python{given}",
            root.display()
        )
    })
}

/// Finds (`--python X.Y|PATH`) and probes the stock interpreter; it must have its
/// extension-module folder, which the zip prefix and embed-c's `sys.path` reuse.
pub fn probe_stock(given: &str) -> Result<Stock, String> {
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

/// The embed-c example built against the stock interpreter.
pub struct Embed {
    pub binary: PathBuf,
    pub manifest: PathBuf,
    /// The `pack` variant: the stdlib (and the app) as a pack the program adds from C.
    pub pack: Option<PathBuf>,
}

fn default_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds embed-c for `stock` into the cache; with `--app`, into a folder of its own, with the
/// app's folder frozen too (a second root, whole). With `pack`, the variant of the `pack`
/// configuration: a table of embed-c's own app only (and the runtime), and the stdlib (with
/// the app) written by `pyfreeze pack` beside it.
pub fn build_embed(
    stock: &Stock,
    repo: &Path,
    cache: &Path,
    app: Option<&App>,
    pack: bool,
) -> Result<Embed, String> {
    let example = repo.join("examples/embed-c");
    if !example.join("Makefile").is_file() {
        return Err(format!(
            "no examples/embed-c/Makefile under {}: run from a pyfreeze checkout or pass --repo DIR",
            repo.display()
        ));
    }
    let name = format!(
        "embed-c-{}{}{}",
        stock.version,
        if app.is_some() { "-app" } else { "" },
        if pack { "-pack" } else { "" }
    );
    let build = cache.join(&name);
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let log_path = cache.join(format!("{name}.log"));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    let started = Instant::now();
    eprintln!(
        "pyfreeze bench: building examples/embed-c for {} into {} (log: {})",
        stock.version,
        build.display(),
        log_path.display()
    );
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&example)
        .arg(format!("-j{}", system::cpus()))
        .arg(format!("PYTHON={}", stock.python.display()))
        .arg(format!("PYTHON_VERSION={}", stock.minor))
        .arg(format!("BUILD={}", build.display()));
    if let Some(app) = app.filter(|_| !pack) {
        make.arg(format!(
            "PYFREEZE_FLAGS=--quiet --root {}",
            app.root.display()
        ));
    }
    if pack {
        std::fs::create_dir_all(&build).map_err(|e| format!("{}: {e}", build.display()))?;
        let spec = build.join("pyfreeze.toml");
        let text = format!(
            "# The bench's pack configuration: embed-c's own app only; the stdlib is a pack.\n\
             origin_map = [\"app=/embed-c/app\"]\n[[root]]\npath = {:?}\ninclude = [\"mygame\"]\n",
            example.join("app").display().to_string()
        );
        pyfreeze_gen::write_if_changed(&spec, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", spec.display()))?;
        make.arg(format!("PYFREEZE_SPEC={}", spec.display()));
    }
    let status = make
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
    let pack = if pack {
        let file = build.join("stdlib.pyfz");
        let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        cmd.args(["pack", "-q", "--stdlib", "--python"])
            .arg(&stock.python)
            .arg("--origin-map")
            .arg(format!("{}=/embed-c/app", example.join("app").display()));
        if let Some(app) = app {
            cmd.arg("--root").arg(&app.root);
        }
        let out = cmd
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pyfreeze pack: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pyfreeze pack of the stdlib failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Some(file)
    } else {
        None
    };
    Ok(Embed {
        binary: build.join("embed-c"),
        manifest: build.join("frozen/manifest.json"),
        pack,
    })
}

/// A private prefix whose stdlib is `lib/pythonXY.zip`: a copy of the stock executable (its
/// libpython is found through its absolute RUNPATH), `lib/pythonX.Y/os.py` (empty: getpath's
/// landmark; `os` itself is frozen) and `lib-dynload` (a link to the stock one). sys.path is
/// then [the zip, lib/pythonX.Y, lib-dynload]: every pure module comes from the zip.
pub struct ZipPrefix {
    pub python: PathBuf,
    pub zip: PathBuf,
}

pub fn build_zip_prefix(stock: &Stock, cache: &Path, work: &Work) -> Result<ZipPrefix, String> {
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
        None,
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

/// The CPython builds given with `--patched`/`--plain` (each checked to hold a `pythonX.Y`),
/// and the folders the bench builds into and from.
pub struct Places {
    pub patched: Option<PathBuf>,
    pub plain: Option<PathBuf>,
    pub cache: PathBuf,
    pub repo: PathBuf,
}

impl Places {
    pub fn from_args(args: &BenchArgs, stock: &Stock) -> Result<Places, String> {
        let build = |prefix: &Option<PathBuf>, flag: &str| {
            prefix
                .as_ref()
                .map(|p| prefix_python(p, &stock.minor, flag).map(|_| p.clone()))
                .transpose()
        };
        Ok(Places {
            patched: build(&args.patched, "--patched")?,
            plain: build(&args.plain, "--plain")?,
            cache: args
                .cache
                .clone()
                .unwrap_or_else(|| home().join(".cache/pyfreeze/bench")),
            repo: args.repo.clone().unwrap_or_else(default_repo),
        })
    }
}

/// Says how to add the patched CPython and its unpatched comparator to the comparison.
pub fn hint_patched_builds(stock: &Stock) {
    let debian = stock
        .interp
        .version
        .debian_pinned
        .map_or(String::new(), |v| format!(" --debian-version {v}"));
    eprintln!(
        "pyfreeze bench: hint: to include pyfreeze's patched CPython, build it and the same source unpatched (3-5 minutes each) and pass --patched/--plain:\n  \
         pyfreeze cpython build --version {m}{debian} --prefix PATCHED --cache ~/.cache/pyfreeze\n  \
         pyfreeze cpython build --version {m}{debian} --plain --prefix PLAIN --cache ~/.cache/pyfreeze",
        m = stock.minor
    );
}
