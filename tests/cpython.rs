//! The patched CPython 3.11: `pyfreeze cpython build` from Debian's source tarball, then the
//! checks of issue 3 against the installed interpreter, compared with an unpatched build of
//! the same source (`--plain`).
//!
//! Builds are cached (and rebuilt incrementally) under `$PYFREEZE_TEST_CACHE`, default
//! `~/.cache/pyfreeze`; a fresh machine builds both from scratch (a few minutes each).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pyfreeze_tests::{copy_tree, pyfreeze_bin, repo, run, run_ok};
use serde_json::Value;

const MINOR: &str = "3.11";

/// CPython tests that fail by design once the stdlib is frozen (see docs/cpython-build.md).
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    (
        "test.test_importlib.test_api.Frozen_ReloadTests.test_reload_missing_loader",
        "assumes `types` has a file loader with a .path",
    ),
    (
        "test.test_importlib.test_api.Source_ReloadTests.test_reload_missing_loader",
        "assumes `types` has a file loader with a .path",
    ),
    (
        "test.test_importlib.frozen.test_loader.Frozen_InspectLoaderTests.test_failure",
        "assumes `importlib` is not a frozen module",
    ),
    (
        "test.test_importlib.frozen.test_loader.Source_InspectLoaderTests.test_failure",
        "assumes `importlib` is not a frozen module",
    ),
    (
        "test.test_importlib.test_threaded_import.ThreadedImportTests.test_parallel_path_hooks",
        "assumes importing stdlib modules goes through sys.path_hooks",
    ),
    (
        "test.test_cmd_line.CmdLineTest.test_isolatedmode",
        "assumes a uuid.py next to the script shadows the stdlib; frozen modules win, as CPython's own do",
    ),
    (
        "test.test_cmd_line.CmdLineTest.test_xoption_frozen_modules",
        "assumes -X frozen_modules=off loads os from disk; the extended table has its own -X frozen_ext=off",
    ),
];

/// The stdlib test modules of issue 3.
const CPYTHON_TESTS: &[&str] = &[
    "test_importlib",
    "test_import",
    "test_frozen",
    "test_inspect",
    "test_traceback",
    "test_linecache",
    "test_pkgutil",
    "test_runpy",
    "test_site",
    "test_cmd_line",
    "test_embed",
    "test_zipimport",
    "test_ctypes",
];

fn cache() -> PathBuf {
    match std::env::var_os("PYFREEZE_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME or PYFREEZE_TEST_CACHE"))
            .join(".cache/pyfreeze"),
    }
}

/// Builds (or brings up to date) and installs CPython, once per test process.
fn install(plain: bool) -> &'static Path {
    static PATCHED: OnceLock<PathBuf> = OnceLock::new();
    static PLAIN: OnceLock<PathBuf> = OnceLock::new();
    let cell = if plain { &PLAIN } else { &PATCHED };
    cell.get_or_init(|| {
        let prefix = cache()
            .join("test-install")
            .join(if plain { "plain" } else { "patched" });
        let mut cmd = Command::new(pyfreeze_bin());
        cmd.args(["cpython", "build", "--version", MINOR, "--prefix"])
            .arg(&prefix)
            .arg("--cache")
            .arg(cache());
        if plain {
            cmd.arg("--plain");
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "pyfreeze cpython build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        prefix
    })
}

fn python(prefix: &Path) -> PathBuf {
    prefix.join(format!("bin/python{MINOR}"))
}

fn check_report(python: &Path, args: &[&str]) -> Value {
    let empty = tempfile::tempdir().unwrap();
    let out = run_ok(
        Command::new(python)
            .args(args)
            .arg(repo().join("tests/support/check_frozen.py"))
            .current_dir(empty.path()),
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("bad report ({e}): {out}"))
}

const ISSUE_IMPORTS: &str =
    "import asyncio, json, email.mime.text, logging.handlers, sqlite3, decimal";

/// Every module of the table imports where the unpatched build imports it, and from the table;
/// the importlib features work. `stdlib` is where origins point.
fn assert_all_frozen(report: &Value, plain: &Path, stdlib: &str) {
    let imports = report["imports"].as_object().unwrap();
    assert!(
        imports.len() > 500,
        "only {} modules in the table",
        imports.len()
    );
    let names: Vec<&String> = imports
        .keys()
        .filter(|n| *n != "_pyfreeze_runtime")
        .collect();
    let out = run_ok(
        Command::new(python(plain))
            .args(["-I", "-S"])
            .arg(repo().join("tests/support/import_all.py"))
            .args(&names),
    );
    let plain_errors: BTreeMap<String, String> = serde_json::from_str(&out).unwrap();
    let mut problems = Vec::new();
    for (name, result) in imports {
        if let Some(err) = result.get("error") {
            if !plain_errors.contains_key(name) {
                problems.push(format!(
                    "{name}: fails frozen ({err}) but imports unpatched"
                ));
            }
            continue;
        }
        // importlib/__init__.py aliases these two to CPython's bootstrap modules.
        let bootstrap_alias =
            name == "importlib._bootstrap" || name == "importlib._bootstrap_external";
        if result["loader"] != "FrozenImporter" {
            problems.push(format!("{name}: loader {}", result["loader"]));
        }
        let file = result["file"].as_str().unwrap_or("");
        if !bootstrap_alias
            && !result["file"].is_null()
            && !file.starts_with(stdlib)
            && name != "_pyfreeze_runtime"
        {
            problems.push(format!("{name}: __file__ {file}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        report["from_disk"],
        serde_json::json!([]),
        "modules loaded from source files"
    );
    assert_eq!(
        report["opened_py"],
        serde_json::json!([]),
        ".py/.pyc files opened by imports"
    );
    let c = &report["checks"];
    assert_eq!(c["json_file"], format!("{stdlib}/json/__init__.py"));
    assert_eq!(
        c["json_path"],
        serde_json::json!([format!("{stdlib}/json")])
    );
    assert_eq!(c["json_spec_origin"], format!("{stdlib}/json/__init__.py"));
    assert!(
        c["getsource_dumps"]
            .as_str()
            .unwrap()
            .starts_with("def dumps("),
        "{}",
        c["getsource_dumps"]
    );
    assert_eq!(
        c["json_source_head"],
        "r\"\"\"JSON (JavaScript Object Notation) <https://json.org> is a subset of"
    );
    for f in c["traceback_frames"].as_array().unwrap() {
        assert!(
            !f[1].as_str().unwrap_or("").is_empty(),
            "frame without source line: {f}"
        );
    }
    assert!(
        c["email_data"]
            .as_array()
            .unwrap()
            .contains(&"architecture.rst".into()),
        "{}",
        c["email_data"]
    );
    assert_eq!(c["email_rst_head"], ":mod:`email` Package Architecture");
    assert_eq!(
        c["iter_json"],
        serde_json::json!(["decoder", "encoder", "scanner", "tool"])
    );
    assert!(c["walk_email_mime"]
        .as_array()
        .unwrap()
        .contains(&"email.mime.text".into()));
}

fn stdlib_of(prefix: &Path) -> String {
    prefix
        .join(format!("lib/python{MINOR}"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_pure_stdlib_module_is_served_from_the_extended_table() {
    let (patched, plain) = (install(false), install(true));
    let report = check_report(&python(patched), &["-I"]);
    assert_all_frozen(&report, plain, &stdlib_of(patched));
    let record =
        std::fs::read_to_string(patched.join(format!("lib/python{MINOR}/pyfreeze-build.txt")))
            .unwrap();
    assert!(record.starts_with(&format!("CPython {MINOR}.")), "{record}");
}

/// A copy of the patched install whose lib/python3.11 keeps only lib-dynload and site-packages.
fn emptied_copy(patched: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(patched, tmp.path());
    let lib = tmp.path().join(format!("lib/python{MINOR}"));
    for entry in std::fs::read_dir(&lib).unwrap().flatten() {
        let name = entry.file_name();
        if name != "lib-dynload" && name != "site-packages" {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    tmp
}

#[test]
fn works_with_the_stdlib_folder_emptied() {
    let (patched, plain) = (install(false), install(true));
    let copy = emptied_copy(patched);
    let py = python(copy.path());
    let out = run(Command::new(&py).args(["-I", "-c", "pass"]));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_ok(Command::new(&py).args(["-I", "-c", ISSUE_IMPORTS]));
    // Origins are the configured install paths, recorded at build time.
    let report = check_report(&py, &["-I"]);
    assert_all_frozen(&report, plain, &stdlib_of(patched));

    // The default excepthook (C, on 3.11) prints source lines of frozen stdlib functions.
    let out = run(Command::new(&py).args(["-I", "-c", "import json\njson.loads('{')"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let decoder = format!("File \"{}/json/decoder.py\", line ", stdlib_of(patched));
    let frame = err
        .find(&decoder)
        .unwrap_or_else(|| panic!("no json/decoder.py frame:\n{err}"));
    let next_line = err[frame..].lines().nth(1).unwrap_or("");
    assert!(
        next_line.trim_start().starts_with("obj, end = "),
        "no source line after the frame:\n{err}"
    );
}

#[test]
fn no_stdlib_file_is_touched_at_startup_or_by_imports() {
    let copy = emptied_copy(install(false));
    let py = python(copy.path());
    let stdlib = stdlib_of(copy.path());
    for code in ["pass", ISSUE_IMPORTS] {
        let log = copy.path().join("strace.log");
        let out = run(Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=%file", "-o"])
            .arg(&log)
            .arg(&py)
            .args(["-I", "-c", code]));
        assert!(
            out.status.success(),
            "strace failed (is it installed? ci/setup-cpython-build.sh): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let trace = std::fs::read_to_string(&log).unwrap();
        let touched: Vec<&str> = trace
            .lines()
            .filter(|l| {
                l.contains(&stdlib)
                    && (l.contains(".py\"") || l.contains(".pyc\"") || l.contains("__pycache__"))
            })
            .collect();
        assert!(
            touched.is_empty(),
            "`-c {code}` touched stdlib files:\n{}",
            touched.join("\n")
        );
        assert!(
            trace.lines().count() > 10,
            "strace recorded nothing: {trace}"
        );
    }
}

#[test]
fn frozen_ext_off_lets_files_on_disk_win() {
    let py = python(install(false));
    let code = "import json; print(type(json.__loader__).__name__, json.__file__)";
    let on = run_ok(Command::new(&py).args(["-I", "-c", code]));
    assert!(on.starts_with("type "), "{on}"); // FrozenImporter is a class: its type is `type`
    let off = run_ok(Command::new(&py).args(["-I", "-X", "frozen_ext=off", "-c", code]));
    assert!(off.starts_with("SourceFileLoader "), "{off}");
    let frozen_modules_off =
        run_ok(Command::new(&py).args(["-I", "-X", "frozen_modules=off", "-c", code]));
    assert!(
        frozen_modules_off.starts_with("type "),
        "-X frozen_modules=off must not turn the table off: {frozen_modules_off}"
    );
}

/// `FAIL:`/`ERROR:` test ids of a verbose `python -m test` run, and how many tests ran.
fn suite_failures(python: &Path) -> (BTreeSet<String>, usize) {
    let out = run(Command::new(python)
        .args(["-m", "test", "-v", "-j2", "--timeout", "900"])
        .args(CPYTHON_TESTS)
        .current_dir(tempfile::tempdir().unwrap().path()));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut failures = BTreeSet::new();
    let mut ran = 0;
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("FAIL: ")
            .or_else(|| line.strip_prefix("ERROR: "))
        {
            // "test_x (module.Class.test_x)" or with a subtest suffix.
            if let Some(id) = rest.split('(').nth(1).and_then(|s| s.split(')').next()) {
                failures.insert(id.to_string());
            }
        }
        if let Some(n) = line.strip_prefix("Ran ").and_then(|s| s.split(' ').next()) {
            ran += n.parse::<usize>().unwrap_or(0);
        }
    }
    (failures, ran)
}

#[test]
fn cpython_test_suite_has_no_failure_the_unpatched_build_lacks() {
    let (patched, plain) = (install(false), install(true));
    let (plain_failures, plain_ran) = suite_failures(&python(plain));
    let (patched_failures, patched_ran) = suite_failures(&python(patched));
    assert!(
        plain_ran > 1500 && patched_ran > 1500,
        "too few tests ran: {plain_ran}, {patched_ran}"
    );
    let expected: BTreeSet<&str> = EXPECTED_FAILURES.iter().map(|(id, _)| *id).collect();
    let new: Vec<&String> = patched_failures
        .iter()
        .filter(|id| !plain_failures.contains(*id) && !expected.contains(id.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "failures only in the patched build: {new:#?}"
    );
}

#[test]
fn patch_is_strict_and_leaves_bad_trees_untouched() {
    install(false); // fetches the tarball
    let tarball = std::fs::read_dir(cache().join("sources"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.to_string_lossy().contains(&format!("python{MINOR}_"))
                && p.to_string_lossy().contains(".orig.tar")
        })
        .expect("the tarball fetched by `pyfreeze cpython build`");
    let tmp = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("tar")
            .arg("xf")
            .arg(&tarball)
            .arg("-C")
            .arg(tmp.path()),
    );
    let tree = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let pyfreeze = pyfreeze_bin();
    let patch = |args: &[&str]| {
        run(Command::new(&pyfreeze)
            .args(["cpython", "patch"])
            .args(args)
            .arg(&tree))
    };

    // A change inside a hunk's context: refused, naming the patch and file, tree untouched.
    let import_c = tree.join("Python/import.c");
    let original = std::fs::read_to_string(&import_c).unwrap();
    let modified = original.replacen("look_up_frozen(name);", "look_up_frozen((name));", 1);
    assert_ne!(original, modified);
    std::fs::write(&import_c, &modified).unwrap();
    let before = pyfreeze_tests::snapshot(&tree);
    let out = patch(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0001-extended-frozen-table.patch") && err.contains("Python/import.c"),
        "{err}"
    );
    assert!(pyfreeze_tests::first_difference(&before, &pyfreeze_tests::snapshot(&tree)).is_none());

    // Pristine: --check changes nothing, then it applies, then it refuses to apply twice.
    std::fs::write(&import_c, &original).unwrap();
    let pristine = pyfreeze_tests::snapshot(&tree);
    assert!(patch(&["--check"]).status.success());
    assert!(
        pyfreeze_tests::first_difference(&pristine, &pyfreeze_tests::snapshot(&tree)).is_none()
    );
    assert!(patch(&[]).status.success());
    assert!(tree.join("Include/internal/pycore_frozen_ext.h").exists());
    let again = patch(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already patched"));
}
