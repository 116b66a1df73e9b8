//! `examples/frozen-python`: CPython's own `python` command (`Py_BytesMain`) over pyenv's
//! static libpython, with the pure stdlib and the PyPI packages of the example's
//! `requirements.txt` frozen in (wheels and sdists cached in the test cache), on 3.11 and 3.13:
//!
//! - it behaves as `python3.X` does: `-c`, `-m`, `-I`, a script, and `-m venv`, whose venv
//!   resolves `sys.prefix` and `sys.base_prefix` through `pyvenv.cfg` and takes a local wheel
//!   with pip; the installed package and a frozen one import side by side;
//! - every table module (stdlib and packages) imports from the table with a loader instance of
//!   its own (`tests/support/check_frozen.py`);
//! - the packages' own test suites (click: pytest; emoji: pytest; Markdown: unittest), run by
//!   the frozen python with the installed files gone, give the same results as the same suites
//!   run by `python3.X` over the installed files; every module of the package under test came
//!   from the table (`tests/support/run_suite.py`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{
    assert_frozen_report, copy_tree, make_example, pip_install_target, pypi_sdists, pypi_wheels,
    python, repo, run, run_ok, test_cache, FrozenExpectations,
};
use serde_json::Value;

/// Where the example's origin map puts the frozen packages' `__file__`.
const ORIGIN: &str = "/frozen-python/site";

/// What the suites run on besides the package under test, on disk (PYTHONPATH) for both runs:
/// pytest and its dependencies, and PyYAML, which Markdown's `tests/test_apis.py` imports (a
/// wheel built for each interpreter).
const HARNESS: &[&str] = &[
    "pytest==9.2.0",
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pyyaml==6.0.4",
];

/// A package whose own test suite runs against the frozen python.
struct Suite {
    package: &'static str,
    /// What to copy from its sdist: the tests and what they need (never the package).
    copy: &'static [&'static str],
    /// `python -m` these.
    runner: &'static [&'static str],
}

const PYTEST: &[&str] = &["pytest", "-p", "no:cacheprovider", "-rfE"];

/// click reads its own version through `importlib.metadata`; emoji reads its JSON data
/// through `importlib.resources`; Markdown loads its extensions by name through its own
/// `markdown.extensions` entry points.
const SUITES: &[Suite] = &[
    Suite {
        package: "click",
        copy: &["tests", "pyproject.toml"],
        runner: PYTEST,
    },
    Suite {
        package: "emoji",
        copy: &["tests", "utils", "pyproject.toml"],
        runner: PYTEST,
    },
    Suite {
        package: "markdown",
        copy: &["tests"],
        runner: &["unittest", "discover", "tests"],
    },
];

/// The example's `requirements.txt`, `name==version` lines: what it freezes.
fn requirements() -> Vec<String> {
    let text =
        std::fs::read_to_string(repo().join("examples/frozen-python/requirements.txt")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn requirement(package: &str) -> String {
    requirements()
        .into_iter()
        .find(|r| r.split_once("==").map(|(n, _)| n) == Some(package))
        .unwrap_or_else(|| panic!("examples/frozen-python/requirements.txt pins no {package}"))
}

/// A copy of the example built with make against pyenv's 3.X, `site/` installed by the
/// example's own rule from the cached wheels; then `site/` is moved away, out of reach.
struct Built {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    minor: u32,
}

impl Built {
    fn new(minor: u32) -> Built {
        let reqs = requirements();
        let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
        pypi_wheels(&python(minor), &reqs);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("frozen-python");
        copy_tree(&repo().join("examples/frozen-python"), &dir);
        for leftover in ["build", "site", "site.tmp"] {
            let _ = std::fs::remove_dir_all(dir.join(leftover));
        }
        let wheels = test_cache().join("wheels");
        run_ok(make_example(&dir, minor).arg(format!(
            "PIP_FLAGS=--no-index --find-links {}",
            wheels.display()
        )));
        std::fs::rename(dir.join("site"), dir.join("site.moved")).unwrap();
        Built {
            _tmp: tmp,
            dir,
            minor,
        }
    }

    fn python(&self) -> PathBuf {
        self.dir.join(format!("build/3.{}/python", self.minor))
    }

    /// The installed packages, moved out of the frozen python's reach.
    fn site(&self) -> PathBuf {
        self.dir.join("site.moved")
    }

    fn label(&self) -> String {
        format!("3.{} frozen python", self.minor)
    }
}

/// `python FLAGS -c CODE` in `cwd`; stdout.
fn py_c(python: &Path, flags: &[&str], code: &str, cwd: &Path) -> String {
    run_ok(
        Command::new(python)
            .args(flags)
            .arg("-c")
            .arg(code)
            .current_dir(cwd),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

/// `-c`, `-m`, `-I`, a script, as `python3.X` gives them.
fn command_line(b: &Built) {
    let label = b.label();
    let work = tempfile::tempdir().unwrap();
    let (frozen, plain) = (b.python(), python(b.minor));
    let facts = "import sys, json; print(json.dumps([sys.argv, sys.flags.isolated, \
                 sys.flags.no_site, sys.prefix, sys.base_prefix, sys.path[0], \
                 list(sys.version_info[:2])]))";
    for flags in [&[][..], &["-I"], &["-S"]] {
        let f = json(&py_c(&frozen, flags, facts, work.path()));
        let p = json(&py_c(&plain, flags, facts, work.path()));
        assert_eq!(f, p, "{label}: {flags:?}: frozen and python3.X");
    }
    // A script, with its arguments, and its folder first on sys.path.
    let script = work.path().join("script.py");
    std::fs::write(
        &script,
        "import sys, markdown\nprint(sys.argv[1:], sys.path[0] == __import__('os').path.dirname(__file__), markdown.__file__)\n",
    )
    .unwrap();
    let out = run_ok(Command::new(&frozen).arg(&script).args(["a", "b"]));
    assert_eq!(
        out.trim(),
        format!("['a', 'b'] True {ORIGIN}/markdown/__init__.py"),
        "{label}"
    );
    // -m: a frozen package's __main__ (Markdown's command line), and a stdlib one.
    let out = run(Command::new(&frozen)
        .args(["-m", "markdown"])
        .current_dir(work.path())
        .stdin(std::fs::File::open(write(work.path(), "in.md", "*frozen*\n")).unwrap()));
    assert!(out.status.success(), "{label}: -m markdown: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "<p><em>frozen</em></p>",
        "{label}"
    );
    let out =
        run_ok(Command::new(&frozen).args(["-I", "-m", "timeit", "-n", "1", "-r", "1", "pass"]));
    assert!(out.contains("1 loop"), "{label}: -m timeit: {out}");
    // An exit status, and an uncaught exception's traceback with source lines of a frozen
    // package (its origin exists nowhere: the table's source).
    let out = run(Command::new(&frozen).args(["-c", "import sys; sys.exit(3)"]));
    assert_eq!(out.status.code(), Some(3), "{label}");
    let out = run(Command::new(&frozen).args([
        "-c",
        "import markdown; markdown.Markdown(extensions=['no_such_extension'])",
    ]));
    assert_eq!(out.status.code(), Some(1), "{label}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{ORIGIN}/markdown/core.py\", line"))
            && stderr.contains("module = importlib.import_module(ext_name)")
            && stderr.contains("ModuleNotFoundError: No module named 'no_such_extension'"),
        "{label}: {stderr}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `python -m venv`: pyvenv.cfg's `home` is the frozen python's folder, getpath resolves the
/// prefixes, pip (from ensurepip, on disk) installs a local pure wheel, and that package and a
/// frozen one import side by side.
fn venv(b: &Built) {
    let label = b.label();
    let work = tempfile::tempdir().unwrap();
    let frozen = b.python();
    run_ok(
        Command::new(&frozen)
            .args(["-m", "venv", "env"])
            .current_dir(work.path()),
    );
    let env = work.path().join("env");
    let cfg = std::fs::read_to_string(env.join("pyvenv.cfg")).unwrap();
    assert!(
        cfg.lines()
            .any(|l| l == format!("home = {}", frozen.parent().unwrap().display())),
        "{label}: {cfg}"
    );
    let env_python = env.join("bin/python");
    let base_prefix = py_c(&frozen, &[], "import sys; print(sys.prefix)", work.path());
    let plain_prefix = py_c(
        &python(b.minor),
        &[],
        "import sys; print(sys.prefix)",
        work.path(),
    );
    assert_eq!(base_prefix, plain_prefix, "{label}: the libpython's prefix");
    let wheel = &pypi_wheels(&python(b.minor), &["iniconfig==2.3.1"])[0];
    run_ok(
        Command::new(&env_python)
            .args([
                "-m",
                "pip",
                "install",
                "--no-index",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
            ])
            .arg(wheel)
            .current_dir(work.path()),
    );
    let report = json(&py_c(
        &env_python,
        &[],
        "import sys, json, iniconfig, markdown, importlib.metadata as md\n\
         print(json.dumps({'prefix': sys.prefix, 'base_prefix': sys.base_prefix,\n\
           'executable': sys.executable, 'base_executable': sys._base_executable,\n\
           'installed': [iniconfig.__file__, type(iniconfig.__loader__).__name__, md.version('iniconfig')],\n\
           'frozen': [markdown.__file__, type(markdown.__loader__).__name__, md.version('markdown')],\n\
           'site_packages': [p for p in sys.path if p.endswith('site-packages')]}))",
        work.path(),
    ));
    let env_dir = env.display().to_string();
    let site_packages = format!("{env_dir}/lib/python3.{}/site-packages", b.minor);
    assert_eq!(report["prefix"], env_dir, "{label}: {report}");
    assert_eq!(
        report["base_prefix"],
        base_prefix.trim(),
        "{label}: {report}"
    );
    assert_eq!(report["executable"], format!("{env_dir}/bin/python"));
    assert_eq!(
        report["base_executable"],
        frozen.display().to_string(),
        "{label}"
    );
    assert_eq!(
        report["installed"],
        serde_json::json!([
            format!("{site_packages}/iniconfig/__init__.py"),
            "SourceFileLoader",
            "2.3.1"
        ]),
        "{label}"
    );
    let markdown_version = requirement("markdown");
    assert_eq!(
        report["frozen"],
        serde_json::json!([
            format!("{ORIGIN}/markdown/__init__.py"),
            "PyfreezeLoader",
            markdown_version.split_once("==").unwrap().1
        ]),
        "{label}"
    );
    assert_eq!(
        report["site_packages"],
        serde_json::json!([site_packages]),
        "{label}: only the venv's site-packages"
    );
}

/// Every table module, stdlib and packages, imports from the table (check_frozen.py).
fn every_table_module(b: &Built) {
    let empty = tempfile::tempdir().unwrap();
    let out = run(Command::new(b.python())
        .args(["-I", "-S"])
        .arg(repo().join("tests/support/check_frozen.py"))
        .current_dir(empty.path()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: check_frozen.py:\n{stdout}\n{}",
        b.label(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&stdout);
    let stdlib = run_ok(Command::new(python(b.minor)).args([
        "-I",
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
    ]));
    let packages: Vec<String> = requirements()
        .iter()
        .map(|r| r.split_once("==").unwrap().0.to_string())
        .collect();
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    for package in &packages {
        assert!(
            report["imports"]
                .as_object()
                .unwrap()
                .contains_key(*package),
            "{}: {package} is not in the table",
            b.label()
        );
    }
    let label = b.label();
    let origin = format!("{ORIGIN}/");
    assert_frozen_report(
        &report,
        &FrozenExpectations {
            label: &label,
            loader: "PyfreezeLoader",
            stdlib: stdlib.trim(),
            other_origins: &[&origin],
            reference_python: &python(b.minor),
            not_in_reference: &[],
            reference_path: &[&b.site()],
            cpython_frozen_first: false,
        },
    );
}

/// pyphen's hyphenation dictionaries: a data folder without Python files, which pyphen names
/// as a module (`importlib.resources.files("pyphen.dictionaries")`) and goes through by
/// `suffix`, sorted. Frozen, it imports as from files: an empty package without `__file__`.
fn data_folder_as_module(b: &Built) {
    let work = tempfile::tempdir().unwrap();
    let code = "import json, sys, pkgutil, pyphen\n\
                d = sys.modules['pyphen.dictionaries']\n\
                print(json.dumps([pyphen.Pyphen(lang='nl_NL').inserted('lettergrepen'),\n\
                  len(pyphen.LANGUAGES), sorted(pyphen.LANGUAGES)[:3],\n\
                  getattr(d, '__file__', None), d.__spec__.origin, [p.rpartition('/')[2] for p in d.__path__],\n\
                  [m.name for m in pkgutil.iter_modules(pyphen.__path__)]]))";
    let frozen = json(&py_c(&b.python(), &["-I"], code, work.path()));
    // (-I ignores PYTHONPATH: the installed folder goes on sys.path by hand)
    let plain = json(&py_c(
        &python(b.minor),
        &["-I"],
        &format!(
            "import sys; sys.path.insert(0, {:?})\n{code}",
            b.site().display().to_string()
        ),
        work.path(),
    ));
    assert_eq!(frozen, plain, "{}: frozen and from files", b.label());
    assert_eq!(plain[0], "let-ter-gre-pen");
    assert!(plain[1].as_u64().unwrap() > 50, "{plain}");
}

/// What a runner printed: its counts (pytest's summary line; unittest's `Ran N tests` and
/// status line) and the ids of the tests that failed or erred.
fn outcome(stdout: &str) -> (BTreeMap<String, u64>, Vec<String>) {
    let mut counts = BTreeMap::new();
    let mut failed = Vec::new();
    for line in stdout.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Ran ") {
            // unittest: "Ran 1141 tests in 1.668s"
            if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                counts.insert("ran".to_string(), n);
            }
        } else if line == "OK" || line.starts_with("OK (") || line.starts_with("FAILED (") {
            // unittest: "OK (skipped=65)", "FAILED (errors=1, skipped=65)"
            let inner = line
                .split_once('(')
                .map_or("", |(_, r)| r.trim_end_matches(')'));
            for part in inner.split(", ").filter(|p| !p.is_empty()) {
                let (k, v) = part.split_once('=').expect("key=count");
                counts.insert(k.to_string(), v.parse().unwrap());
            }
            counts.insert(line.split(' ').next().unwrap().to_string(), 1);
        } else if let Some(id) = ["FAILED ", "ERROR ", "FAIL: ", "ERROR: "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        {
            failed.push(id.split(" - ").next().unwrap().to_string());
        } else if let Some((head, tail)) = line.rsplit_once(" in ") {
            // pytest: "2434 passed, 24 skipped, 31000 deselected, 1 xfailed in 6.13s", over a
            // minute "102 passed in 62.30s (0:01:02)"
            let head = head.trim_start_matches('=').trim();
            let tail = tail.trim_end_matches('=').trim();
            let words: Vec<Option<(u64, &str)>> = head
                .split(", ")
                .map(|p| {
                    let (n, w) = p.split_once(' ')?;
                    Some((n.parse().ok()?, w))
                })
                .collect();
            let seconds = tail.split(' ').next().is_some_and(|t| t.ends_with('s'));
            if seconds && !words.is_empty() && words.iter().all(Option::is_some) {
                for (n, w) in words.into_iter().flatten() {
                    counts.insert(w.to_string(), n);
                }
            }
        }
    }
    failed.sort();
    (counts, failed)
}

/// The package's own test suite run by `python` (flags `-S`: pyenv's site-packages stay out
/// of both runs) in a copy of the sdist's tests; the runner's output and run_suite.py's report.
fn run_suite(
    python: &Path,
    suite: &Suite,
    tests: &Path,
    pythonpath: &[&Path],
) -> (String, Value, bool) {
    let report = tests.join("report.json");
    let _ = std::fs::remove_file(&report);
    let started = std::time::Instant::now();
    let out = run(Command::new(python)
        .arg("-S")
        .arg(repo().join("tests/support/run_suite.py"))
        .arg(&report)
        .arg(suite.package)
        .args(suite.runner)
        .env("PYTHONPATH", std::env::join_paths(pythonpath).unwrap())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(tests));
    eprintln!(
        "{}: {} suite with {}: {:.1} s",
        suite.package,
        suite.runner[0],
        python.display(),
        started.elapsed().as_secs_f64()
    );
    // unittest reports on stderr, pytest on stdout.
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&report)
        .map(|t| json(&t))
        .unwrap_or_else(|e| panic!("run_suite.py wrote no report ({e}):\n{text}"));
    (text, report, out.status.success())
}

fn package_suites(b: &Built) {
    let label = b.label();
    let work = tempfile::tempdir().unwrap();
    let harness = work.path().join("harness");
    pip_install_target(&python(b.minor), &harness, HARNESS);
    let site = b.site();
    for suite in SUITES {
        let package = suite.package;
        let sdist = &pypi_sdists(&python(b.minor), &[&requirement(package)])[0];
        let unpacked = work.path().join(format!("{package}-sdist"));
        std::fs::create_dir_all(&unpacked).unwrap();
        run_ok(
            Command::new("tar")
                .args(["xzf"])
                .arg(sdist)
                .args(["--strip-components=1", "-C"])
                .arg(&unpacked),
        );
        let tests = work.path().join(format!("{package}-tests"));
        for part in suite.copy {
            let from = unpacked.join(part);
            if from.is_dir() {
                copy_tree(&from, &tests.join(part));
            } else {
                std::fs::create_dir_all(&tests).unwrap();
                std::fs::copy(&from, tests.join(part)).unwrap();
            }
        }
        let (plain_out, plain_report, _) =
            run_suite(&python(b.minor), suite, &tests, &[&site, &harness]);
        let (frozen_out, frozen_report, _) = run_suite(&b.python(), suite, &tests, &[&harness]);
        let (plain, plain_failed) = outcome(&plain_out);
        let (frozen, frozen_failed) = outcome(&frozen_out);
        let ran = plain
            .get("passed")
            .or_else(|| plain.get("ran"))
            .copied()
            .unwrap_or(0);
        assert!(
            ran >= 50,
            "{label}: {package}'s suite ran {ran} tests from files:\n{plain_out}"
        );
        eprintln!("{label}: {package}: {frozen:?}, failed {frozen_failed:?}");
        assert_eq!(
            (&frozen, &frozen_failed),
            (&plain, &plain_failed),
            "{label}: {package}'s suite frozen (left) and from files (right):\n--- frozen\n{frozen_out}"
        );
        // Every module of the package came from the table, each with a loader of its own.
        let modules = frozen_report["modules"].as_object().unwrap();
        let from_files = plain_report["modules"].as_object().unwrap();
        assert!(!modules.is_empty(), "{label}: {package} not imported");
        assert_eq!(
            modules.keys().collect::<Vec<_>>(),
            from_files.keys().collect::<Vec<_>>(),
            "{label}: {package}'s modules imported frozen and from files"
        );
        for (name, m) in modules {
            assert_eq!(m["loader"], "PyfreezeLoader", "{label}: {name}: {m}");
            assert_eq!(m["callable"], false, "{label}: {name}: {m}");
            assert_eq!(m["filename"], m["file"], "{label}: {name}: {m}");
            let file = m["file"].as_str().unwrap_or("");
            assert!(
                file.starts_with(&format!("{ORIGIN}/{package}/")),
                "{label}: {name}: {m}"
            );
        }
        for (name, m) in from_files {
            assert_eq!(
                m["loader"], "SourceFileLoader",
                "{label}: {name} from files: {m}"
            );
        }
    }
}

/// The parser of the runners' output, on lines of both kinds (a failing test's message may
/// hold " in ", as a summary line does).
#[test]
fn outcome_reads_pytest_and_unittest() {
    let pytest = "tests/test_a.py ..F\n\
        FAILED tests/test_a.py::test_b - AssertionError: 'x' in 'y'\n\
        ERROR tests/test_c.py - ImportError: in module\n\
        1 failed, 2 passed, 1 error in 62.30s (0:01:02)\n";
    let (counts, failed) = outcome(pytest);
    assert_eq!(
        counts,
        BTreeMap::from([
            ("error".to_string(), 1),
            ("failed".to_string(), 1),
            ("passed".to_string(), 2)
        ])
    );
    assert_eq!(failed, ["tests/test_a.py::test_b", "tests/test_c.py"]);
    let unittest = "ERROR: test_apis (unittest.loader._FailedTest.test_apis)\n\
        ----------------------------------------------------------------------\n\
        Ran 1053 tests in 1.869s\n\nFAILED (errors=1, skipped=65)\n";
    let (counts, failed) = outcome(unittest);
    assert_eq!(
        counts,
        BTreeMap::from([
            ("FAILED".to_string(), 1),
            ("errors".to_string(), 1),
            ("ran".to_string(), 1053),
            ("skipped".to_string(), 65)
        ])
    );
    assert_eq!(
        failed,
        ["test_apis (unittest.loader._FailedTest.test_apis)"]
    );
}

fn check(minor: u32) {
    let b = Built::new(minor);
    command_line(&b);
    venv(&b);
    data_folder_as_module(&b);
    every_table_module(&b);
    package_suites(&b);
}

#[test]
fn frozen_python_3_11() {
    check(11);
}

#[test]
fn frozen_python_3_13() {
    check(13);
}
