//! Shared helpers of the pyfreeze test suites: finding interpreters and the CLI, running
//! commands, snapshotting folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small app: a package with a module and a data file, and a top-level module.
pub const APP: &[(&str, &[u8])] = &[
    ("app/game/__init__.py", b"from game import engine\n"),
    ("app/game/engine.py", b"def tick(n):\n    return n + 1\n"),
    ("app/game/assets/level.txt", b"level 1\n"),
    ("app/tool.py", b"import game\n"),
];

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `pyfreeze` binary (debug), built once per test process with the cargo running the tests:
/// Cargo does not build another package's binaries for an integration test.
pub fn pyfreeze_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            run_ok(
                Command::new(cargo)
                    .args(["build", "--quiet", "-p", "pyfreeze-cli", "--manifest-path"])
                    .arg(repo().join("Cargo.toml")),
            );
            let exe = std::env::current_exe().unwrap();
            let bin = exe
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join(format!("pyfreeze{}", std::env::consts::EXE_SUFFIX));
            assert!(
                bin.exists(),
                "cargo build did not produce {}",
                bin.display()
            );
            bin
        })
        .clone()
}

/// The target folder of the example and fixture crates the tests build with Cargo:
/// `PYFREEZE_TEST_TARGET_DIR`, else the checkout's `target/build-support-tests`.
pub fn example_target_dir() -> PathBuf {
    match std::env::var_os("PYFREEZE_TEST_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo().join("target/build-support-tests"),
    }
}

/// `cargo` in `dir` building into [`example_target_dir`], with a clean environment: no
/// PYFREEZE_ variable (nor `CC`) of the caller leaks in.
pub fn example_cargo(dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", example_target_dir())
        .env_remove("PYFREEZE_PYTHON")
        .env_remove("PYFREEZE_PYTHON_CONFIG_FILE")
        .env_remove("CC");
    cmd
}

/// The test cache: `PYFREEZE_TEST_CACHE`, else `~/.cache/pyfreeze`.
pub fn test_cache() -> PathBuf {
    match std::env::var_os("PYFREEZE_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME or PYFREEZE_TEST_CACHE"))
            .join(".cache/pyfreeze"),
    }
}

/// `pyfreeze cpython build --version MINOR --prefix PREFIX` in the test cache (the Debian
/// source the version pins), compiling through ccache with its files in the test cache
/// (`ccache/`): the unpatched, patched and `--static-extensions` builds of a version share
/// their common objects, so a new machine compiles most of CPython once per version.
pub fn cpython_build(minor: &str, prefix: &Path) -> Command {
    let mut cmd = cpython_build_of_any_source(minor, prefix);
    let version = pyfreeze_gen::PythonVersion::parse(minor).expect("a supported version");
    if let Some(debian) = version.debian_pinned {
        cmd.args(["--debian-version", debian]);
    }
    cmd
}

/// [`cpython_build`] without the pinned Debian source (for `--source`).
pub fn cpython_build_of_any_source(minor: &str, prefix: &Path) -> Command {
    let cache = test_cache();
    let mut cmd = Command::new(pyfreeze_bin());
    cmd.args([
        "cpython",
        "build",
        "--ccache",
        "--version",
        minor,
        "--prefix",
    ])
    .arg(prefix)
    .arg("--cache")
    .arg(&cache)
    .env("CCACHE_DIR", cache.join("ccache"));
    cmd
}

/// Wheels of real PyPI distributions, each `name==version`, from the test cache's `wheels/`;
/// a missing one is downloaded into it with `python -m pip download` (so a warm machine needs
/// no network), which picks the wheel for `python`'s own platform and ABI. A wheel with
/// extension modules is taken from the cache only when it is built for `python`'s minor
/// (`cp311`); names compare as pip normalises them (`MarkupSafe` is `markupsafe`).
pub fn pypi_wheels(python: &Path, requirements: &[&str]) -> Vec<PathBuf> {
    let dir = test_cache().join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let minor = std::sync::OnceLock::new();
    let fits = |file: &str| {
        // NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl
        let tags: Vec<&str> = file.trim_end_matches(".whl").rsplitn(4, '-').collect();
        match tags.as_slice() {
            [_platform, "none", _python, _] => true,
            [_platform, _abi, python_tag, _] => {
                let minor = minor.get_or_init(|| {
                    run_ok(Command::new(python).args([
                        "-I",
                        "-c",
                        "import sys; print(sys.version_info[1])",
                    ]))
                    .trim()
                    .to_string()
                });
                python_tag.split('.').any(|t| t == format!("cp3{minor}"))
            }
            _ => false,
        }
    };
    let cached = |name: &str, version: &str| {
        let prefix = format!("{}-{version}-", name.replace(['-', '.'], "_")).to_lowercase();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files.into_iter().find(|p| {
            let file = p.file_name().unwrap().to_string_lossy().to_lowercase();
            file.starts_with(&prefix) && file.ends_with(".whl") && fits(&file)
        })
    };
    requirements
        .iter()
        .map(|req| {
            let (name, version) = req.split_once("==").expect("name==version");
            if let Some(wheel) = cached(name, version) {
                return wheel;
            }
            run_ok(
                Command::new(python)
                    .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
                    .arg("--dest")
                    .arg(&dir)
                    .arg(req),
            );
            cached(name, version).unwrap_or_else(|| panic!("pip download {req} saved no wheel"))
        })
        .collect()
}

/// `pip install --target DIR` of the cached wheels of `requirements` (see [`pypi_wheels`]),
/// offline and without dependencies, with `python`'s own pip.
pub fn pip_install_target(python: &Path, dir: &Path, requirements: &[&str]) {
    let wheels = pypi_wheels(python, requirements);
    run_ok(
        Command::new(python)
            .args(["-m", "pip", "install", "--no-deps", "--no-index", "-q"])
            .arg("--target")
            .arg(dir)
            .args(&wheels),
    );
}

/// Runs the check script `tests/support/SCRIPT` with `cmd` (the script's path and `args` are
/// added) from an empty folder, and returns the JSON object it prints.
pub fn script_report<A: AsRef<std::ffi::OsStr>>(
    mut cmd: Command,
    script: &str,
    args: &[A],
) -> serde_json::Value {
    let empty = tempfile::tempdir().unwrap();
    let copy = empty.path().join(script);
    std::fs::copy(repo().join("tests/support").join(script), &copy).unwrap();
    let out = run(cmd.arg(&copy).args(args).current_dir(empty.path()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("bad report ({e}): {stdout}"))
}

/// A copy of `examples/embed-c` in `dir` with the top-level `origin_map` of its spec replaced
/// by `origin_map` and `more` appended to the spec, built with `make` for `3.minor`. Returns
/// the program.
pub fn build_embed_c_with(minor: u32, dir: &Path, origin_map: &str, more: &str) -> PathBuf {
    copy_tree(&repo().join("examples/embed-c"), dir);
    let _ = std::fs::remove_dir_all(dir.join("build"));
    let spec = dir.join("pyfreeze.toml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "origin_map = [\"app=/embed-c/app\"]",
        &format!("origin_map = {origin_map}"),
    );
    std::fs::write(&spec, format!("{text}\n{more}")).unwrap();
    run_ok(&mut make_example(dir, minor));
    dir.join(format!("build/3.{minor}/embed-c"))
}

/// Source distributions (`.tar.gz`) of real PyPI projects, each `name==version`, from the test
/// cache's `sdists/`; a missing one is downloaded into it with `python -m pip download` (which
/// prepares its metadata with the project's build backend, so the first download installs
/// that backend in pip's isolated build folder). The tests take their own test suites from
/// them.
pub fn pypi_sdists(python: &Path, requirements: &[&str]) -> Vec<PathBuf> {
    let dir = test_cache().join("sdists");
    std::fs::create_dir_all(&dir).unwrap();
    requirements
        .iter()
        .map(|req| {
            let (name, version) = req.split_once("==").expect("name==version");
            let file = dir.join(format!(
                "{}-{version}.tar.gz",
                name.to_ascii_lowercase().replace('-', "_")
            ));
            if !file.exists() {
                run_ok(
                    Command::new(python)
                        .args(["-m", "pip", "download", "--no-deps", "--no-binary=:all:"])
                        .arg("--dest")
                        .arg(&dir)
                        .arg(req),
                );
            }
            assert!(
                file.exists(),
                "pip download {req} saved no {}",
                file.display()
            );
            file
        })
        .collect()
}

/// `make -j2` of an example copied to `dir` (`examples/embed-c`, `examples/frozen-python`),
/// with pyenv's `3.minor` and this checkout's generator; more arguments may be added.
pub fn make_example(dir: &Path, minor: u32) -> Command {
    let mut make = Command::new("make");
    make.arg("-j2")
        .arg(format!("PYTHON_VERSION=3.{minor}"))
        .arg(format!("PYTHON={}", python(minor).display()))
        .arg(format!("REPO={}", repo().display()))
        .current_dir(dir);
    make
}

/// The pyenv interpreter `3.minor` (newest patch level, by `pyfreeze_gen::pyenv`'s rule). The
/// test suite needs pyenv's 3.10-3.13; a missing one is a set-up error, not a reason to skip.
pub fn python(minor: u32) -> PathBuf {
    let root = pyfreeze_gen::pyenv::root(std::env::var_os("PYENV_ROOT"), std::env::var_os("HOME"))
        .expect("pyenv's root: set PYENV_ROOT or HOME, or put pyenv on PATH");
    let version = u8::try_from(minor)
        .ok()
        .and_then(|m| pyfreeze_gen::PythonVersion::find(3, m))
        .unwrap_or_else(|| panic!("pyfreeze does not support CPython 3.{minor}"));
    pyfreeze_gen::pyenv::newest_interpreter(&root, version).unwrap_or_else(|| {
        panic!(
            "no CPython 3.{minor} under {}/versions: install it with `pyenv install 3.{minor}` (see README)",
            root.display()
        )
    })
}

/// The interpreters listed (paths, `:`-separated) in `PYFREEZE_TEST_PYTHONS`, each with its
/// minor version (`X` of `3.X`, asked of the interpreter): the system's own CPythons that
/// `ci/test.sh` passes to the `--ignored` tests.
pub fn listed_pythons() -> Vec<(PathBuf, u32)> {
    let list = std::env::var("PYFREEZE_TEST_PYTHONS")
        .expect("set PYFREEZE_TEST_PYTHONS to interpreter paths separated by ':'");
    list.split(':')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let python = PathBuf::from(p);
            let minor = run_ok(Command::new(&python).args([
                "-I",
                "-c",
                "import sys; print(sys.version_info[1])",
            ]))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{p}: no version: {e}"));
            (python, minor)
        })
        .collect()
}

/// Runs a command, returning its output; panics (with the command) if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The flags that `pythonX.Y-config` (`config`, a path) prints for `args`, split into words.
pub fn python_config(config: &Path, args: &[&str]) -> Vec<String> {
    run_ok(Command::new(config).args(args))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Every file under `dir` with its bytes, by `/`-separated relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.path().is_dir() {
                walk(&e.path(), &child, out);
            } else {
                out.insert(child, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Writes `files` (relative path → contents) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Names the first difference between two snapshots, or None when equal.
pub fn first_difference(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
) -> Option<String> {
    for (k, v) in a {
        match b.get(k) {
            None => return Some(format!("{k} only in the first")),
            Some(w) if w != v => return Some(format!("{k} differs")),
            _ => {}
        }
    }
    b.keys()
        .find(|k| !a.contains_key(*k))
        .map(|k| format!("{k} only in the second"))
}

/// What a frozen interpreter must show in the report of `tests/support/check_frozen.py`.
pub struct FrozenExpectations<'a> {
    /// For messages: `3.11 (stock)`, `3.13 (patched)`.
    pub label: &'a str,
    /// Class of table modules' loaders (one instance per module): `PyfreezeLoader` or
    /// `FrozenExtLoader`.
    pub loader: &'a str,
    /// Where stdlib origins point.
    pub stdlib: &'a str,
    /// Other allowed origin prefixes (an app's).
    pub other_origins: &'a [&'a str],
    /// An interpreter that imports the same modules from files: a module may fail frozen only
    /// where it fails there too.
    pub reference_python: &'a Path,
    /// Table modules the reference cannot know (an app's), skipped in the comparison.
    pub not_in_reference: &'a [&'a str],
    /// Folders the reference puts first on `sys.path` (where the frozen packages were
    /// installed), so that it imports their modules too.
    pub reference_path: &'a [&'a Path],
    /// CPython's own frozen modules (`os`, `site`...) come before the table (a pack on
    /// `sys.path` with a stock libpython, as they come before the stdlib folder): skipped.
    pub cpython_frozen_first: bool,
}

/// CPython always serves its bootstrap trio from its own table: `importlib/__init__.py`
/// aliases `importlib._bootstrap(_external)` to it, and `zipimport`'s `__file__` follows
/// `sys._stdlib_dir`.
const BOOTSTRAP: &[&str] = &[
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "zipimport",
];

/// Asserts that every table module imports wherever the reference imports it, from the table,
/// that nothing came from a source file, and that the importlib features work.
pub fn assert_frozen_report(report: &serde_json::Value, e: &FrozenExpectations<'_>) {
    let label = e.label;
    // A check that reports [how many modules it looked at, what it found wrong]: over 400
    // modules, nothing wrong.
    let nothing_wrong = |check: &str, what: &str| {
        let found = &report["checks"][check];
        assert!(found[0].as_u64().unwrap() > 400, "{label}: {check} {found}");
        assert_eq!(found[1], serde_json::json!([]), "{label}: {what}");
    };
    // Every embedded source that has a file on disk (the stdlib's) reads back as the file's
    // bytes through the table's accessor, compressed in the table or not.
    nothing_wrong("sources_unlike_files", "sources unlike their files");
    // `__cached__` and `spec.cached` are importlib's value from the origin, whether the
    // table's fast path computed them or importlib (with a cache prefix, without a tag).
    nothing_wrong("cached_unlike_importlib", "__cached__ unlike importlib's");
    let imports = report["imports"]
        .as_object()
        .expect("imports in the report");
    assert!(
        imports.len() > 400,
        "{label}: only {} modules in the table",
        imports.len()
    );
    let names: Vec<&String> = imports
        .keys()
        .filter(|n| {
            *n != "_pyfreeze_runtime" && !e.not_in_reference.iter().any(|p| n.starts_with(p))
        })
        .collect();
    let mut reference = Command::new(e.reference_python);
    reference
        .args(["-I", "-S"])
        .arg(repo().join("tests/support/import_all.py"));
    for dir in e.reference_path {
        reference.arg("--path").arg(dir);
    }
    let out = run_ok(reference.args(&names));
    let reference_errors: BTreeMap<String, String> =
        serde_json::from_str(&out).expect("import_all.py output");
    // Served by CPython's own frozen table where `cpython_frozen_first` allows it (3.13's
    // `collections.abc` is `_collections_abc`, one of them).
    let cpython_frozen = |name: &str| {
        let result = &imports[name];
        e.cpython_frozen_first
            && result["loader"] == "FrozenImporter class"
            && report["cpython_frozen"]
                .as_array()
                .is_some_and(|names| names.iter().any(|n| *n == result["spec_name"]))
    };
    let mut problems = Vec::new();
    for (name, result) in imports {
        if let Some(err) = result.get("error") {
            if !reference_errors.contains_key(name) {
                problems.push(format!(
                    "{name}: fails frozen ({err}) but imports from files"
                ));
            }
            continue;
        }
        if BOOTSTRAP.contains(&name.as_str()) {
            continue;
        }
        if cpython_frozen(name) {
            continue;
        }
        if result["loader"] != e.loader {
            problems.push(format!("{name}: loader {}", result["loader"]));
        }
        // A loader instance of its own, like a SourceFileLoader's (a callable one trips code
        // that walks a namespace taking callables for functions).
        if result["callable"] != false || result["spec_loader"] != true {
            problems.push(format!(
                "{name}: callable loader {}, __loader__ is __spec__.loader {}",
                result["callable"], result["spec_loader"]
            ));
        }
        if result["loader_name"] != true {
            problems.push(format!("{name}: loader.name is not the module's name"));
        }
        if !result["file"].is_null() && result["loader_path"] != result["file"] {
            problems.push(format!(
                "{name}: loader.path {} but __file__ {}",
                result["loader_path"], result["file"]
            ));
        }
        let file = result["file"].as_str().unwrap_or("");
        let ok_file = result["file"].is_null()
            || name == "_pyfreeze_runtime"
            || file.starts_with(e.stdlib)
            || e.other_origins.iter().any(|p| file.starts_with(p));
        if !ok_file {
            problems.push(format!("{name}: __file__ {file}"));
        }
        // pyclbr, pydoc and IDLE's class browser ask the loader for the file.
        if result["filename"] != result["file"] {
            problems.push(format!(
                "{name}: get_filename() {} but __file__ {}",
                result["filename"], result["file"]
            ));
        }
    }
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    assert_eq!(
        report["from_disk"],
        serde_json::json!([]),
        "{label}: modules loaded from source files"
    );
    assert_eq!(
        report["opened_py"],
        serde_json::json!([]),
        "{label}: .py/.pyc files opened by imports"
    );

    let stdlib = e.stdlib;
    let c = &report["checks"];
    assert_eq!(
        c["json_file"],
        format!("{stdlib}/json/__init__.py"),
        "{label}"
    );
    assert_eq!(
        c["json_path"],
        serde_json::json!([format!("{stdlib}/json")]),
        "{label}"
    );
    assert_eq!(
        c["json_spec_origin"],
        format!("{stdlib}/json/__init__.py"),
        "{label}"
    );
    assert!(
        c["getsource_dumps"]
            .as_str()
            .unwrap_or("")
            .starts_with("def dumps("),
        "{label}: {}",
        c["getsource_dumps"]
    );
    assert_eq!(
        c["json_source_head"],
        "r\"\"\"JSON (JavaScript Object Notation) <https://json.org> is a subset of",
        "{label}"
    );
    let frames = c["traceback_frames"].as_array().expect("traceback frames");
    assert!(
        frames
            .iter()
            .any(|f| f[0] == format!("{stdlib}/json/decoder.py")),
        "{label}: {frames:?}"
    );
    for f in frames {
        assert!(
            !f[1].as_str().unwrap_or("").is_empty(),
            "{label}: frame without source line: {f}"
        );
    }
    // A failed import shows the caller and the module, none of the importer's frames.
    for (check, file, line) in [
        (
            "import_error_frames",
            "asyncio/windows_utils.py",
            "raise ImportError('win32 only')",
        ),
        (
            "import_warning_frames",
            match report["version"][1].as_u64() {
                Some(10) => "imp.py",
                Some(15) => "profile.py",
                _ => "sre_compile.py",
            },
            "warnings.warn(",
        ),
    ] {
        let frames = c[check].as_array().expect(check);
        assert_eq!(frames.len(), 2, "{label}: {check}: {frames:?}");
        assert_eq!(frames[0][1], "__import__(name)", "{label}: {check}");
        assert_eq!(frames[1][0], format!("{stdlib}/{file}"), "{label}: {check}");
        let shown = frames[1][1].as_str().unwrap_or("");
        assert!(shown.starts_with(line), "{label}: {check}: {shown:?}");
    }
    // __import__('string\0') must not find `string` (the tables compare C strings).
    assert_eq!(
        c["nul_names"],
        serde_json::json!({
            "string": ["ModuleNotFoundError", false],
            "json": ["ModuleNotFoundError", false],
            "json.decoder": ["ModuleNotFoundError", false],
        }),
        "{label}: __import__ of a table module's name with a NUL appended"
    );
    assert!(
        c["email_data"]
            .as_array()
            .unwrap()
            .contains(&"architecture.rst".into()),
        "{label}: {}",
        c["email_data"]
    );
    assert_eq!(
        c["email_rst_head"], ":mod:`email` Package Architecture",
        "{label}"
    );
    // What the same interpreter lists from the files (3.14 added json/__main__.py).
    let from_files = run_ok(Command::new(e.reference_python).args([
        "-I",
        "-c",
        "import json, pkgutil; print(*sorted(m.name for m in pkgutil.iter_modules(json.__path__)))",
    ]));
    assert!(from_files.contains("decoder"), "{label}: {from_files}");
    assert_eq!(
        c["iter_json"],
        serde_json::json!(from_files.split_whitespace().collect::<Vec<_>>()),
        "{label}"
    );
    assert!(
        c["walk_email_mime"]
            .as_array()
            .unwrap()
            .contains(&"email.mime.text".into()),
        "{label}"
    );
    // Loaders are importlib.abc.Loaders with InspectLoader's and ExecutionLoader's methods
    // (CPython's own bootstrap modules keep FrozenImporter, which lacks get_filename).
    for check in ["not_abc_loaders", "loaders_lacking"] {
        let names: Vec<&serde_json::Value> = c[check]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| {
                let n = n.as_str().unwrap_or("");
                !BOOTSTRAP.contains(&n) && !cpython_frozen(n)
            })
            .collect();
        assert!(names.is_empty(), "{label}: {check}: {names:?}");
    }
    assert_eq!(
        c["email_reader"],
        serde_json::json!(["_ResourceReader", true]),
        "{label}: a TraversableResources"
    );
    // [same module, equal loader, __loader__ is __spec__.loader, reloaded without __loader__
    // gets a loader with the same path, namespace kept]
    assert_eq!(
        c["reload"],
        serde_json::json!([true, true, true, true, true]),
        "{label}: importlib.reload()"
    );
}

/// The real PyPI distributions of the `importlib.metadata` checks: attrs reads its own version
/// through `importlib.metadata`, pyflakes' console script is an entry point.
pub const METADATA_WHEELS: &[&str] = &["attrs==25.3.0", "pyflakes==3.2.0"];

/// Runs `tests/support/check_metadata.py` with `cmd` (the script path and `args` are added)
/// in an empty folder and returns its report.
pub fn metadata_report(cmd: Command, args: &[&Path]) -> serde_json::Value {
    script_report(cmd, "check_metadata.py", args)
}

/// What a frozen run of `check_metadata.py` must show besides agreeing with the run from files.
pub struct MetadataExpectations<'a> {
    pub minor: u32,
    /// The class of `importlib.metadata.distribution("attrs")`.
    pub dist_class: &'a str,
    /// The class of the table modules' loader.
    pub loader: &'a str,
    /// `attr.__file__`: the frozen origin.
    pub attr_file: &'a str,
}

/// `frozen` (the packages' files out of reach) gives what `from_files` gives, except where the
/// distributions are; and `from_files` gives what the files say, so that agreeing on nothing
/// cannot pass.
pub fn assert_metadata_agrees(
    frozen: &serde_json::Value,
    from_files: &serde_json::Value,
    e: &MetadataExpectations<'_>,
) {
    let label = format!("3.{}", e.minor);
    let (f, p) = (frozen.as_object().unwrap(), from_files.as_object().unwrap());
    for (key, value) in p {
        if ["dist_class", "init_located", "attr_file", "loader"].contains(&key.as_str()) {
            continue;
        }
        assert_eq!(
            f.get(key),
            Some(value),
            "{label}: {key} frozen and from files"
        );
    }
    assert_eq!(f.len(), p.len(), "{label}: {frozen} / {from_files}");
    assert_eq!(p["attr_version"], "25.3.0");
    assert_eq!(
        p["version"],
        serde_json::json!({"attrs": "25.3.0", "pyflakes": "3.2.0"})
    );
    assert_eq!(p["distributions"], serde_json::json!(["attrs", "pyflakes"]));
    // 3.10 reads only `top_level.txt`, which attrs' wheel lacks; 3.11+ infer from `files`.
    let packages = match e.minor {
        10 => serde_json::json!({"pyflakes": ["pyflakes"]}),
        _ => serde_json::json!({"attr": ["attrs"], "attrs": ["attrs"], "pyflakes": ["pyflakes"]}),
    };
    assert_eq!(p["packages_distributions"], packages, "{label}");
    assert_eq!(p["entry_point_target"], "pyflakes.api.main");
    assert_eq!(p["pyflakes_exit"], true);
    assert_eq!(p["pyflakes_said"], "SAMPLE:1:1: 'os' imported but unused\n");
    assert!(p["requires"]["attrs"].as_array().unwrap().len() > 5);
    assert!(p["files"]["pyflakes"]
        .as_array()
        .unwrap()
        .contains(&"pyflakes/api.py".into()));
    assert_eq!(p["dist_class"], "PathDistribution", "{label}");
    // Frozen: the table's distributions, whose files locate to the frozen origins.
    assert_eq!(f["dist_class"], e.dist_class, "{label}");
    assert_eq!(f["attr_file"], e.attr_file, "{label}");
    assert_eq!(f["init_located"], f["attr_file"], "{label}");
    assert_eq!(f["loader"], e.loader, "{label}");
    assert_eq!(p["init_exists"], true, "{label}");
    assert_eq!(p["init_head"], "# SPDX-License-Identifier: MIT", "{label}");
    assert_eq!(p["metadata_file_head"], "Metadata-Version: 2.1", "{label}");
}

/// A spec for `pyfreeze cpython build --spec` that adds [`METADATA_WHEELS`] (installed once
/// into `<test cache>/site-3.X`) to the extended table, with origins under `prefix`'s
/// site-packages, where `pip install` would have put them. Its file is written only when its
/// bytes change and the folder filled only once, so that make does not refreeze for nothing.
pub fn metadata_site_spec(minor: u32, prefix: &Path) -> PathBuf {
    let dir = test_cache().join(format!("site-3.{minor}"));
    let site = dir.join("site");
    let stamp = dir.join("installed.txt");
    let wanted = METADATA_WHEELS.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let _ = std::fs::remove_dir_all(&site);
        pip_install_target(&python(minor), &site, METADATA_WHEELS);
        std::fs::write(&stamp, &wanted).unwrap();
    }
    let spec = dir.join("pyfreeze.toml");
    let text = format!(
        "# The packages of tests/support/check_metadata.py, frozen next to the stdlib, and\n\
         # tests/support/deep_cases (code a deep-freezer must write as the compiler made it).\n\
         origin_map = [\"{}={}/lib/python3.{minor}/site-packages\"]\n\n\
         [[root]]\npath = \"site\"\ninclude = [\"attr\", \"attrs\", \"pyflakes\"]\n\n\
         [[root]]\npath = \"{}\"\ninclude = [\"pyfreeze_deep_cases\"]\n",
        site.display(),
        prefix.display(),
        repo().join("tests/support/deep_cases").display()
    );
    pyfreeze_gen::write_if_changed(&spec, text.as_bytes()).unwrap();
    spec
}

/// `packapp` for the pack tests: a package with a submodule and data, a namespace package and
/// a distribution's metadata.
pub const PACK_APP: &[(&str, &[u8])] = &[
    (
        "app/packapp/__init__.py",
        b"\"\"\"A package served from a pack.\"\"\"\n\n\ndef hello():\n    return \"hello from \" + __name__\n\n\ndef boom():\n    raise ValueError(\"boom in the pack\")\n",
    ),
    ("app/packapp/sub.py", b"X = 42\n"),
    ("app/packapp/data/levels.txt", b"level one\n"),
    ("app/packns/mod.py", b"Y = 1\n"),
    (
        "app/packapp-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: packapp\nVersion: 1.0\n",
    ),
    (
        "app/packapp-1.0.dist-info/RECORD",
        b"packapp/__init__.py,,\npackapp/sub.py,,\npackapp-1.0.dist-info/METADATA,,\n",
    ),
];

/// Writes `PACK_APP` into `dir`, with a zip file among `packapp`'s data (made by `python`)
/// whose own `packapp` says otherwise: a pack holding a zip file near its end must not be
/// taken for that zip by zipimport.
pub fn write_pack_app(dir: &Path, python: &Path) {
    write_tree(dir, PACK_APP);
    run_ok(Command::new(python).args([
        "-I",
        "-c",
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
         \x20   z.writestr('packapp/__init__.py', 'def hello():\\n    return \"from the zip\"\\n')\n\
         \x20   z.writestr('packapp/sub.py', 'X = 0\\n')",
    ]).arg(dir.join("app/packapp/data/inner.zip")));
}

/// What `tests/support/check_pack.py` reports for a pack of `PACK_APP` (origins under
/// /packs/app) served by a runtime: what the files give, through a `PyfreezeLoader`.
pub fn assert_pack_app_report(report: &serde_json::Value, label: &str) {
    let c = |key: &str| report[key].clone();
    assert_eq!(c("loader"), "PyfreezeLoader", "{label}");
    assert_eq!(c("file"), "/packs/app/packapp/__init__.py", "{label}");
    assert_eq!(c("path"), serde_json::json!(["/packs/app/packapp"]));
    assert_eq!(c("spec_origin"), c("file"));
    assert_eq!(c("has_location"), true);
    assert_eq!(c("hello"), "hello from packapp");
    assert_eq!(c("sub"), 42);
    assert_eq!(c("sub_file"), "/packs/app/packapp/sub.py");
    assert_eq!(c("getsource"), "X = 42\n");
    assert_eq!(
        c("get_source"),
        String::from_utf8_lossy(PACK_APP[0].1).into_owned(),
        "{label}"
    );
    assert_eq!(c("linecache"), "X = 42\n");
    let tb = c("traceback");
    assert!(
        tb.as_str().unwrap().contains(
            "File \"/packs/app/packapp/__init__.py\", line 9, in boom\n    raise ValueError(\"boom in the pack\")"
        ),
        "{label}: {tb}"
    );
    assert_eq!(c("levels"), "level one\n");
    assert_eq!(c("get_data"), "level one\n");
    assert_eq!(c("iter_packapp"), serde_json::json!(["sub"]));
    assert_eq!(
        c("namespace_path"),
        serde_json::json!(["/packs/app/packns"])
    );
    assert_eq!(c("namespace_mod"), 1);
    assert_eq!(c("version"), "1.0", "{label}");
    assert_eq!(
        c("dist_files"),
        serde_json::json!([
            "packapp-1.0.dist-info/METADATA",
            "packapp/__init__.py",
            "packapp/sub.py"
        ])
    );
}
