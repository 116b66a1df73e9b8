//! The patched CPythons (3.11 and 3.13): `pyfreeze cpython build` from Debian's source
//! tarball, then checks against the installed interpreter (every pure stdlib module served from
//! the extended table, the stdlib folder emptied, no stdlib file touched, `-X frozen_ext=off`,
//! deep-frozen code, packs on `sys.path`, CPython's own test suite), compared with an unpatched build of the same
//! source (`--plain`).
//!
//! Builds are cached (and rebuilt incrementally) under `$PYFREEZE_TEST_CACHE`, default
//! `~/.cache/pyfreeze`; a fresh machine builds all four from scratch (a few minutes each).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use pyfreeze_gen::PythonVersion;
use pyfreeze_tests::{
    assert_frozen_report, assert_pack_app_report, copy_tree, first_difference, pyfreeze_bin, repo,
    run, run_ok, snapshot, write_tree, FrozenExpectations,
};
use serde_json::Value;

/// One CPython version under test.
struct Target {
    minor: &'static str,
    /// CPython tests that fail by design once the stdlib is frozen: `ci/regrtest-expected-X.Y.txt`
    /// (one test id a line, then its reason), which `ci/regrtest.sh` reads too.
    expected_failures: &'static str,
    /// Whether the series serves deep-frozen code (static code objects) for the table.
    deep_frozen: bool,
    /// Whether sub-interpreters unmarshal instead (3.13: static code is the main
    /// interpreter's), so that the deep-freezing build keeps the marshalled code.
    deep_main_only: bool,
}

const V3_11: Target = Target {
    minor: "3.11",
    expected_failures: include_str!("../ci/regrtest-expected-3.11.txt"),
    deep_frozen: true,
    deep_main_only: false,
};

const V3_13: Target = Target {
    minor: "3.13",
    expected_failures: include_str!("../ci/regrtest-expected-3.13.txt"),
    deep_frozen: true,
    deep_main_only: true,
};

/// The ids of `expected_failures`; every one must come with its reason.
fn expected_failures(t: &Target) -> BTreeSet<&'static str> {
    t.expected_failures
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(' ').unwrap_or((l, ""));
            assert!(
                !reason.trim().is_empty(),
                "ci/regrtest-expected-{}.txt: {id} has no reason",
                t.minor
            );
            id
        })
        .collect()
}

/// CPython's own test modules that exercise imports, frozen modules, source and tracebacks:
/// the patched build must pass every test of them that the unpatched build passes.
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
    "test_builtin",
    "test_pyclbr",
    "test_getpath",
];

/// `CPYTHON_TESTS` and the modules only some versions have: `imp` (gone in 3.12), whose
/// `find_module` must give the file of a module that `test.support` asked to load unfrozen.
fn cpython_tests(t: &Target) -> Vec<&'static str> {
    let mut tests = CPYTHON_TESTS.to_vec();
    if t.minor == "3.11" {
        tests.push("test_imp");
    }
    tests
}

const ISSUE_IMPORTS: &str =
    "import asyncio, json, email.mime.text, logging.handlers, sqlite3, decimal";

fn cache() -> PathBuf {
    pyfreeze_tests::test_cache()
}

/// Builds (or brings up to date) and installs CPython, once per test process and version.
/// Builds run one at a time: the machine has two cores and make uses both.
fn install(t: &Target, plain: bool) -> PathBuf {
    install_flavour(t, plain, false)
}

/// `install`, or with `static_extensions` the `--static-extensions` build (the prefix
/// `X.Y-patched-static` that tests/appliance.rs builds too).
fn install_flavour(t: &Target, plain: bool, static_extensions: bool) -> PathBuf {
    static BUILT: Mutex<BTreeMap<(&str, bool, bool), PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(prefix) = built.get(&(t.minor, plain, static_extensions)) {
        return prefix.clone();
    }
    let flavour = format!(
        "{}{}",
        if plain { "plain" } else { "patched" },
        if static_extensions { "-static" } else { "" }
    );
    let prefix = cache()
        .join("test-install")
        .join(format!("{}-{flavour}", t.minor));
    let mut cmd = pyfreeze_tests::cpython_build(t.minor, &prefix);
    if plain {
        cmd.arg("--plain");
    }
    if static_extensions {
        cmd.arg("--static-extensions");
        if !plain {
            // As tests/appliance.rs builds it (the same build tree and prefix).
            let minor = t.minor.strip_prefix("3.").unwrap().parse().unwrap();
            cmd.arg("--spec")
                .arg(pyfreeze_tests::metadata_site_spec(minor, &prefix));
        }
    }
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "pyfreeze cpython build {} ({flavour}) failed:\n{}",
        t.minor,
        String::from_utf8_lossy(&out.stderr)
    );
    built.insert((t.minor, plain, static_extensions), prefix.clone());
    prefix
}

/// The row of `versions.rs` (the Debian sources of the series among its facts).
fn version(t: &Target) -> &'static PythonVersion {
    PythonVersion::parse(t.minor).expect("a supported version")
}

fn python(t: &Target, prefix: &Path) -> PathBuf {
    prefix.join(format!("bin/python{}", t.minor))
}

fn stdlib_of(t: &Target, prefix: &Path) -> String {
    prefix
        .join(format!("lib/python{}", t.minor))
        .to_string_lossy()
        .into_owned()
}

fn check_report(python: &Path) -> Value {
    let empty = tempfile::tempdir().unwrap();
    let out = run_ok(
        Command::new(python)
            .arg("-I")
            .arg(repo().join("tests/support/check_frozen.py"))
            .current_dir(empty.path()),
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("bad report ({e}): {out}"))
}

/// Every module of the table imports where the unpatched build imports it, from the table, and
/// the importlib features work. `stdlib` is where origins point.
fn assert_all_frozen(t: &Target, report: &Value, plain: &Path, stdlib: &str) {
    let label = format!("{} (patched)", t.minor);
    assert_frozen_report(
        report,
        &FrozenExpectations {
            label: &label,
            loader: "FrozenExtLoader",
            stdlib,
            other_origins: &[],
            reference_python: &python(t, plain),
            not_in_reference: &[],
            reference_path: &[],
            cpython_frozen_first: false,
        },
    );
}

fn every_pure_stdlib_module_is_served_from_the_extended_table(t: &Target) {
    let (patched, plain) = (install(t, false), install(t, true));
    let report = check_report(&python(t, &patched));
    assert_all_frozen(t, &report, &plain, &stdlib_of(t, &patched));
    // `make install` byte-compiles the stdlib as it does unpatched: it runs compileall with the
    // build's extension modules (a deep-frozen 3.11 linked them -no-pie, which failed, from a
    // fresh tree).
    let pyc = format!("__pycache__/os.cpython-{}.pyc", t.minor.replace('.', ""));
    for prefix in [&patched, &plain] {
        let path = Path::new(&stdlib_of(t, prefix)).join(&pyc);
        assert!(path.exists(), "{}: no {}", t.minor, path.display());
    }
    let record =
        std::fs::read_to_string(Path::new(&stdlib_of(t, &patched)).join("pyfreeze-build.txt"))
            .unwrap();
    assert!(
        record.starts_with(&format!("CPython {}.", t.minor)),
        "{record}"
    );
    assert!(
        record.contains(&format!("with the {} series", t.minor)),
        "{record}"
    );
}

/// A copy of the patched install whose lib/python3.X keeps only lib-dynload and site-packages.
fn emptied_copy(t: &Target, patched: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(patched, tmp.path());
    let lib = Path::new(&stdlib_of(t, tmp.path())).to_path_buf();
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

/// Also proves, on 3.13, that the default excepthook needs no C patch: it prints through the
/// traceback module, which asks the loader.
fn works_with_the_stdlib_folder_emptied(t: &Target) {
    let (patched, plain) = (install(t, false), install(t, true));
    let copy = emptied_copy(t, &patched);
    let py = python(t, copy.path());
    let out = run(Command::new(&py).args(["-I", "-c", "pass"]));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_ok(Command::new(&py).args(["-I", "-c", ISSUE_IMPORTS]));
    // Origins are the configured install paths, recorded at build time.
    let report = check_report(&py);
    assert_all_frozen(t, &report, &plain, &stdlib_of(t, &patched));

    let out = run(Command::new(&py).args(["-I", "-c", "import json\njson.loads('{')"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let decoder = format!("File \"{}/json/decoder.py\", line ", stdlib_of(t, &patched));
    let frame = err
        .find(&decoder)
        .unwrap_or_else(|| panic!("no json/decoder.py frame:\n{err}"));
    let next_line = err[frame..].lines().nth(1).unwrap_or("");
    assert!(
        next_line.trim_start().starts_with("obj, end = "),
        "{}: no source line after the frame:\n{err}",
        t.minor
    );
}

fn no_stdlib_file_is_touched_at_startup_or_by_imports(t: &Target) {
    let copy = emptied_copy(t, &install(t, false));
    let py = python(t, copy.path());
    let stdlib = stdlib_of(t, copy.path());
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
            "{}: `-c {code}` touched stdlib files:\n{}",
            t.minor,
            touched.join("\n")
        );
        assert!(
            trace.lines().count() > 10,
            "strace recorded nothing: {trace}"
        );
    }
}

/// CPython's main asks the path hooks about the script it runs (a zip file or a folder can be
/// run): the pack hook reads the first bytes of a file that is not a pack, without importing
/// the runtime, for a script as for a file on `sys.path`; a file with the signature goes to the
/// runtime, which checks the rest (this one is truncated: a warning, and it serves nothing).
fn only_a_pack_imports_the_runtime(t: &Target) {
    let py = python(t, &install(t, false));
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("script.py");
    let not_a_pack = tmp.path().join("notes.txt");
    let signed = tmp.path().join("truncated.pyfz");
    std::fs::write(&not_a_pack, "PYFZ, but not quite\n").unwrap();
    let mut head = pyfreeze_gen::schema::PACK_MAGIC.to_vec();
    head.extend_from_slice(b"and nothing else");
    std::fs::write(&signed, head).unwrap();
    std::fs::write(
        &script,
        "import sys, warnings\n\
         print('_pyfreeze_runtime' in sys.modules)\n\
         for entry in sys.argv[1:]:\n    \
             sys.path.insert(0, entry)\n    \
             with warnings.catch_warnings(record=True) as caught:\n        \
                 warnings.simplefilter('always')\n        \
                 try:\n            \
                     import no_such_module\n        \
                 except ImportError:\n            \
                     pass\n    \
             finder = sys.path_importer_cache[entry]\n    \
             print('_pyfreeze_runtime' in sys.modules, type(finder).__name__,\n          \
                   [str(w.message).endswith('its modules are not importable') for w in caught])\n",
    )
    .unwrap();
    let said = run_ok(
        Command::new(&py)
            .arg("-I")
            .arg(&script)
            .arg(&not_a_pack)
            .arg(&signed),
    );
    assert_eq!(
        said.lines().collect::<Vec<_>>(),
        ["False", "False NoneType []", "True _BadPackFinder [True]"],
        "{}",
        t.minor
    );
}

fn frozen_ext_off_lets_files_on_disk_win(t: &Target) {
    let py = python(t, &install(t, false));
    let code = "import json; print(type(json.__spec__.loader).__name__, json.__file__)";
    let on = run_ok(Command::new(&py).args(["-I", "-c", code]));
    assert!(on.starts_with("FrozenExtLoader "), "{on}");
    let code = "import json; print(type(json.__loader__).__name__)";
    let off = run_ok(Command::new(&py).args(["-I", "-X", "frozen_ext=off", "-c", code]));
    assert_eq!(off.trim(), "SourceFileLoader");
    // The table follows -X frozen_modules as CPython's own frozen modules do, unless
    // -X frozen_ext says otherwise; the last -X frozen_ext wins.
    let loader = |args: &[&str]| {
        run_ok(Command::new(&py).arg("-I").args(args).args(["-c", code]))
            .trim()
            .to_string()
    };
    let table = loader(&[]);
    assert_eq!(table, "FrozenExtLoader");
    assert_eq!(loader(&["-X", "frozen_modules=off"]), "SourceFileLoader");
    assert_eq!(
        loader(&["-X", "frozen_modules=off", "-X", "frozen_ext=on"]),
        table
    );
    assert_eq!(
        loader(&["-X", "frozen_ext=on", "-X", "frozen_ext=off"]),
        "SourceFileLoader"
    );
    assert_eq!(loader(&["-X", "frozen_modules=on"]), table);
}

/// `--source TARBALL` builds from a pristine tarball given by path (here the Debian `.orig`
/// tarball of the build, as python.org's): the tree prepared from it is reused, and the install
/// is staged with `--destdir`, so the shared prefix stays as it is. One version: the option
/// does not depend on it, and the staged install costs a minute of CI.
#[test]
fn builds_from_a_tarball_given_by_path() {
    let t = &V3_13;
    let prefix = install(t, false);
    let record_of = |root: &Path| {
        std::fs::read_to_string(root.join(format!("lib/python{}/pyfreeze-build.txt", t.minor)))
            .unwrap()
    };
    let record = record_of(&prefix);
    let name = record
        .lines()
        .find_map(|l| l.strip_prefix("source: "))
        .unwrap_or_else(|| panic!("no source in {record}"));
    let tarball = cache().join("sources").join(name);
    let staged = tempfile::tempdir().unwrap();
    let out = run(
        pyfreeze_tests::cpython_build_of_any_source(t.minor, &prefix)
            .arg("--source")
            .arg(&tarball)
            .arg("--destdir")
            .arg(staged.path()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("reusing the prepared tree"), "{err}");
    let root = staged.path().join(prefix.strip_prefix("/").unwrap());
    assert!(record_of(&root).contains(&format!("source: {name}\n")));
    let code = "import json, sys; print(type(json.__loader__).__name__, sys.prefix)";
    let said = run_ok(Command::new(python(t, &root)).args(["-I", "-c", code]));
    assert_eq!(said.trim(), format!("FrozenExtLoader {}", root.display()));
    assert_eq!(record_of(&prefix), record);
}

/// Where the series supports it, a table module's code is a static (deep-frozen) object: the
/// same object at every call, with the origin as co_filename, and the interpreter is linked
/// without PIE (the objects' pointers would otherwise be relocated at every start). Elsewhere
/// every call unmarshals a new code object.
fn table_code_is_deep_frozen_where_supported(t: &Target) {
    let patched = install(t, false);
    let py = python(t, &patched);
    // A deep-frozen build's table holds no marshalled code (generated --no-bytecode): the
    // row has no data; unless sub-interpreters need it (3.13).
    let code = "import _imp, json\n\
                a = _imp.get_frozen_object('json'); b = _imp.get_frozen_object('json')\n\
                data = _imp.find_frozen('json', withdata=True)[0]\n\
                print(a is b, a.co_filename == json.__file__, json.loads('[1, 2]') == [1, 2],\n\
                \x20     data is not None and len(data) > 0)";
    let out = run_ok(Command::new(&py).args(["-I", "-c", code]));
    let deep = if t.deep_frozen { "True" } else { "False" };
    let keeps_code = !t.deep_frozen || t.deep_main_only;
    let marshalled = if keeps_code { "True" } else { "False" };
    assert_eq!(
        out.trim(),
        format!("{deep} True True {marshalled}"),
        "{}",
        t.minor
    );
    if t.deep_main_only {
        // CPython's bootstrap modules (unmarshalled at every start otherwise) are static too;
        // -X no_debug_ranges unmarshals (static line tables keep their columns).
        let code = "import _imp\n\
                    f = _imp.get_frozen_object\n\
                    print(f('_frozen_importlib') is f('_frozen_importlib'), f('json') is f('json'),\n\
                    \x20     f('zipimport').co_filename)";
        let out = run_ok(Command::new(&py).args(["-I", "-c", code]));
        assert_eq!(out.trim(), "True True <frozen zipimport>", "{}", t.minor);
        let out = run_ok(Command::new(&py).args(["-I", "-X", "no_debug_ranges", "-c", code]));
        assert_eq!(out.trim(), "False False <frozen zipimport>", "{}", t.minor);
        // Sub-interpreters, isolated (their own GIL, run while the main one holds static code)
        // or legacy, unmarshal their own, the bootstrap modules' too.
        let code = "import _interpreters, json\n\
                    sub = 'import json, email.mime.text, _imp\\n' \\\n\
                    \x20     'f = _imp.get_frozen_object\\n' \\\n\
                    \x20     'assert f(\"json\") is not f(\"json\")\\n' \\\n\
                    \x20     'assert f(\"_frozen_importlib\") is not f(\"_frozen_importlib\")\\n' \\\n\
                    \x20     'assert json.loads(json.dumps([1])) == [1]'\n\
                    for config in ('isolated', 'legacy'):\n\
                    \x20   i = _interpreters.create(config)\n\
                    \x20   print(config, _interpreters.run_string(i, sub), json.dumps([2]))\n\
                    \x20   _interpreters.destroy(i)";
        let out = run_ok(Command::new(&py).args(["-I", "-c", code]));
        assert_eq!(
            out.trim(),
            "isolated None [2]\nlegacy None [2]",
            "{}",
            t.minor
        );
    }
    // ELF e_type, at offset 16: 2 = ET_EXEC (not position-independent), 3 = ET_DYN.
    let elf = std::fs::read(&py).unwrap();
    let e_type = u16::from_le_bytes([elf[16], elf[17]]);
    if t.deep_frozen {
        assert_eq!(
            e_type,
            2,
            "{}: python is position-independent",
            py.display()
        );
    }
    // The install's size report: the table's bytes by package, the deep-frozen objects in
    // place of the marshalled code where the series deep-freezes.
    let tsv =
        std::fs::read_to_string(patched.join(format!("lib/python{}/pyfreeze-sizes.tsv", t.minor)))
            .unwrap();
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        ["PACKAGE", "MODULES", "BYTECODE", "SOURCE", "DATA", "DEEP", "TOTAL"]
    );
    let numbers =
        |row: &[&str]| -> Vec<usize> { row[1..].iter().map(|n| n.parse().unwrap()).collect() };
    let total = numbers(rows.last().unwrap());
    let mut sum = vec![0; total.len()];
    for row in &rows[1..rows.len() - 1] {
        for (s, n) in sum.iter_mut().zip(numbers(row)) {
            *s += n;
        }
    }
    assert_eq!(sum, total, "{tsv}");
    let json = rows.iter().find(|r| r[0] == "json").expect("json's row");
    assert!(numbers(json)[0] >= 4, "{tsv}");
    let (code, deep) = (total[1], total[4]);
    assert_eq!(code > 5_000_000, keeps_code, "{}: {tsv}", t.minor);
    assert_eq!(code == 0, !keeps_code, "{}: {tsv}", t.minor);
    assert_eq!(deep > 10_000_000, t.deep_frozen, "{}: {tsv}", t.minor);
    assert_eq!(deep == 0, !t.deep_frozen, "{}: {tsv}", t.minor);
    // Every name of every table module's code is interned, as CPython's compiler leaves it.
    let out = run_ok(
        Command::new(&py)
            .arg("-I")
            .arg(repo().join("tests/support/check_interned.py")),
    );
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("checked ") && first.ends_with(" bad 0"),
        "{}: {out}",
        t.minor
    );
    let checked: usize = first.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        checked > 100_000,
        "{}: only {checked} names checked",
        t.minor
    );
    // Every table module's code holds the constants that compiling its source gives (set
    // constants are frozensets, not the tuples CPython's deepfreeze.py writes).
    let out = Command::new(&py)
        .arg("-I")
        .arg(repo().join("tests/support/check_consts.py"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let first = said.lines().next().unwrap_or_default();
    assert!(
        out.status.success() && first.ends_with(" bad 0"),
        "{}: {said}{}",
        t.minor,
        String::from_utf8_lossy(&out.stderr)
    );
    let compared: usize = first.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        compared > 500,
        "{}: only {compared} modules compared",
        t.minor
    );
    // Where the table keeps the marshalled code beside the static objects (3.13), the code
    // served is, object for object, what unmarshalling gives (marshal.dumps of both equal:
    // instructions, tables, local kinds, constants, interned strings).
    if keeps_code && t.deep_frozen {
        let out = run_ok(
            Command::new(&py)
                .arg("-I")
                .arg(repo().join("tests/support/check_marshal.py")),
        );
        let first = out.lines().next().unwrap_or_default();
        assert!(first.ends_with(" bad 0"), "{}: {out}", t.minor);
        let compared: usize = first.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(
            compared > 500,
            "{}: only {compared} modules compared",
            t.minor
        );
    }
    // Sub-interpreters share the static code objects (interned once, finalised with the main
    // interpreter), or (3.13) unmarshal the module's code at every call: importing in two of
    // them, then in the main one, must work.
    let shared = if t.deep_frozen && !t.deep_main_only {
        "True"
    } else {
        "False"
    };
    let code = format!(
        "import _testcapi, json\n\
         sub = 'import json, email.mime.text, decimal, _imp\\n' \\\n\
         \x20     'a = _imp.get_frozen_object(\"json\")\\n' \\\n\
         \x20     'assert (a is _imp.get_frozen_object(\"json\")) is {shared}'\n\
         for _ in range(2):\n\
         \x20   assert _testcapi.run_in_subinterp(sub) == 0\n\
         print(json.dumps({{'a': [1]}}))"
    );
    let out = run_ok(Command::new(&py).args(["-I", "-c", &code]));
    assert_eq!(out.trim(), r#"{"a": [1]}"#);
    // Initialising and finalising three times in one process (an embedder's program linked
    // with the installed static libpython): each interpreter interns the static objects again,
    // and follows its own -X frozen_ext (off in the second round only).
    let dir = tempfile::tempdir().unwrap();
    let config = patched.join(format!("bin/python{}-config", t.minor));
    let flags = |args: &[&str]| pyfreeze_tests::python_config(&config, args);
    let exe = dir.path().join("reinit");
    run_ok(
        Command::new("gcc")
            .arg(repo().join("tests/support/reinit.c"))
            .args(flags(&["--cflags"]))
            .arg("-o")
            .arg(&exe)
            .args(flags(&["--ldflags", "--embed"]))
            .args(["-no-pie", "-rdynamic"]),
    );
    let out = run_ok(Command::new(&exe).current_dir(dir.path()));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "round 1 3.0 __init__.py FrozenExtLoader",
            "round 2 3.0 __init__.py SourceFileLoader",
            "round 3 3.0 __init__.py FrozenExtLoader"
        ],
        "{}",
        t.minor
    );
}

/// The patched `FrozenImporter` (`_bootstrap.py`) and pyfreeze's runtime (`_make_spec`, what a
/// stock libpython gets) build a table module's spec in parallel code: both must give the same
/// spec, field by field, for a module and a package.
fn bootstrap_and_runtime_make_the_same_spec(t: &Target) {
    let py = python(t, &install(t, false));
    let code = r#"
import _imp, sys
from importlib.machinery import FrozenImporter
import _pyfreeze_runtime
runtime = _pyfreeze_runtime.attach_cpython()
FIELDS = ("name", "loader", "origin", "loader_state", "submodule_search_locations",
          "has_location", "cached", "parent")
bad = []
for name in sys.argv[1:]:
    ours = FrozenImporter.find_spec(name)
    theirs = runtime._make_spec(name, *_imp._frozen_ext_find(name))
    for field in FIELDS:
        a, b = getattr(ours, field), getattr(theirs, field)
        if field == "loader_state":
            a, b = vars(a), vars(b)
        if a != b:
            bad.append(f"{name}.{field}: {a!r} != {b!r}")
    if ours != theirs:
        bad.append(f"{name}: {ours!r} != {theirs!r}")
    kind = "package" if ours.submodule_search_locations else "module"
    print(name, kind, ours.loader_state.origin == ours.origin)
print("\n".join(bad) or "agree")
"#;
    let out = run_ok(Command::new(&py).args(["-I", "-c", code, "json", "json.decoder"]));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["json package True", "json.decoder module True", "agree"],
        "{}",
        t.minor
    );
}

/// `FAIL:`/`ERROR:` test ids of a verbose `python -m test` run, and how many tests ran.
fn suite_failures(t: &Target, python: &Path) -> (BTreeSet<String>, usize) {
    let cwd = tempfile::tempdir().unwrap();
    let out = run(Command::new(python)
        .args(["-m", "test", "-v", "-j2", "--timeout", "900"])
        .args(cpython_tests(t))
        .current_dir(cwd.path()));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut failures = BTreeSet::new();
    let mut ran = 0;
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("FAIL: ")
            .or_else(|| line.strip_prefix("ERROR: "))
        {
            // "test_x (module.Class.test_x)", possibly with a subtest suffix.
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

fn cpython_test_suite_has_no_failure_the_unpatched_build_lacks(t: &Target) {
    suite_has_no_failure_the_unpatched_build_lacks(t, false);
}

/// The same selection on the `--static-extensions` builds (patched against unpatched), so that
/// building the extension modules in breaks nothing the shared objects did.
fn cpython_test_suite_with_static_extensions_has_no_new_failure(t: &Target) {
    suite_has_no_failure_the_unpatched_build_lacks(t, true);
}

fn suite_has_no_failure_the_unpatched_build_lacks(t: &Target, static_extensions: bool) {
    let patched = install_flavour(t, false, static_extensions);
    let plain = install_flavour(t, true, static_extensions);
    let (plain_failures, plain_ran) = suite_failures(t, &python(t, &plain));
    let (patched_failures, patched_ran) = suite_failures(t, &python(t, &patched));
    assert!(
        plain_ran > 1500 && patched_ran > 1500,
        "too few tests ran: {plain_ran}, {patched_ran}"
    );
    let expected = expected_failures(t);
    let new: Vec<&String> = patched_failures
        .iter()
        .filter(|id| !plain_failures.contains(*id) && !expected.contains(id.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "{}{}: failures only in the patched build: {new:#?}",
        t.minor,
        if static_extensions {
            " --static-extensions"
        } else {
            ""
        }
    );
}

/// runpy's hint for `-m name.py`: printed for a module (`tokenize.py`); for a package
/// (`asyncio.py`) neither build hints, as in stock CPython. (CPython's
/// `test_hint_when_triying_to_import_a_py_file` gets its hint only from an `asyncio.py` in the
/// current folder shadowing the stdlib package; frozen modules win, so that test is in
/// `ci/regrtest-expected-X.Y.txt`.)
fn dash_m_hint_as_in_the_unpatched_build(t: &Target) {
    let (patched, plain) = (install(t, false), install(t, true));
    let empty = tempfile::tempdir().unwrap();
    let stderr = |prefix: &Path, module: &str| {
        let out = run(Command::new(python(t, prefix))
            .args(["-I", "-m", module])
            .current_dir(empty.path()));
        assert!(!out.status.success(), "{} -m {module} succeeded", t.minor);
        String::from_utf8_lossy(&out.stderr).replace(&*prefix.to_string_lossy(), "PREFIX")
    };
    let hint = stderr(&patched, "tokenize.py");
    assert!(
        hint.contains("Try using 'tokenize' instead of 'tokenize.py' as the module name"),
        "{} (patched): {hint}",
        t.minor
    );
    for module in ["tokenize.py", "asyncio.py", "json.tool.py", "email.mime.py"] {
        assert_eq!(
            stderr(&patched, module),
            stderr(&plain, module),
            "{}: -m {module}",
            t.minor
        );
    }
}

/// A pack (`pyfreeze pack`) on `sys.path` in the patched build serves its modules as the
/// stock runtime does (the checks of tests/embed.rs: origins, source, tracebacks, resources,
/// `iter_modules`, metadata), an uncaught exception shows its source lines, and a bad pack is
/// a warning naming it and the reason, never a crash.
fn a_pack_on_sys_path_serves_its_modules(t: &Target) {
    let py = python(t, &install(t, false));
    let dir = tempfile::tempdir().unwrap();
    pyfreeze_tests::write_pack_app(dir.path(), &py);
    let app = dir.path().join("app");
    let pack = dir.path().join("app.pyfz");
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["pack", "-q", "--python"])
            .arg(&py)
            .arg("--root")
            .arg(&app)
            .arg("--origin-map")
            .arg(format!("{}=/packs/app", app.display()))
            .arg(&pack),
    );
    let label = format!("{} (patched)", t.minor);
    let out = run_ok(
        Command::new(&py)
            .arg("-I")
            .arg(repo().join("tests/support/check_pack.py"))
            .arg("path")
            .arg(&pack),
    );
    let report: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{label}: bad report ({e}): {out}"));
    assert_pack_app_report(&report, &label);
    assert_eq!(report["finder"], "_PackFinder", "{label}");
    assert_eq!(
        report["iter_top"],
        serde_json::json!(["packapp", "packns"]),
        "{label}"
    );

    // The default excepthook (3.11's prints in C) shows the pack's source lines.
    let crash = |pack: &Path| {
        run(Command::new(&py).args([
            "-I",
            "-c",
            &format!("import sys\nsys.path.insert(0, {pack:?})\nimport packapp\npackapp.boom()"),
        ]))
    };
    let out = crash(&pack);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(1)
            && stderr.contains(
                "File \"/packs/app/packapp/__init__.py\", line 9, in boom\n    raise ValueError(\"boom in the pack\")"
            ),
        "{label}: {stderr}"
    );

    // Sub-interpreters open packs too (3.13's isolated ones have GILs of their own; the
    // registry of packs is the process's).
    if t.minor == "3.13" {
        let sub = format!(
            "import sys, inspect\n\
             sys.path.insert(0, {pack:?})\n\
             import packapp.sub\n\
             assert type(packapp.__loader__).__name__ == 'PyfreezeLoader'\n\
             assert inspect.getsource(packapp.sub) == 'X = 42\\n'\n"
        );
        let code = format!(
            "import _interpreters, sys\n\
             for kind in ('isolated', 'legacy'):\n\
             \x20   i = _interpreters.create(kind)\n\
             \x20   print(kind, _interpreters.run_string(i, {sub:?}))\n\
             \x20   _interpreters.destroy(i)\n\
             sys.path.insert(0, {pack:?})\n\
             import packapp.sub\n\
             print('main', packapp.sub.X)"
        );
        let out = run_ok(Command::new(&py).args(["-I", "-c", &code]));
        assert_eq!(out, "isolated None\nlegacy None\nmain 42\n", "{label}");
    }

    // A bad pack (truncated, or for another CPython's bytecode): a RuntimeWarning naming it and
    // why, then the module is not found (zipimport does not get to take the zip file among
    // its data for the pack).
    let bytes = std::fs::read(&pack).unwrap();
    let truncated = dir.path().join("truncated.pyfz");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1]).unwrap();
    let mut other = bytes.clone();
    other[16..18].copy_from_slice(&3000u16.to_le_bytes()); // the header's bytecode_magic
    let other_pack = dir.path().join("other.pyfz");
    std::fs::write(&other_pack, &other).unwrap();
    for (bad, reason) in [
        (&truncated, "truncated: "),
        (&other_pack, "its bytecode is for another CPython"),
    ] {
        let out = crash(bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code() == Some(1)
                && stderr.contains(&format!(
                    "RuntimeWarning: pyfreeze: pack {}: {reason}",
                    bad.display()
                ))
                && stderr.contains("its modules are not importable")
                && stderr.contains("ModuleNotFoundError: No module named 'packapp'"),
            "{label}: {stderr}"
        );
    }
}

/// A pack of the stdlib beside the stdlib, named as the zip file (`lib/python3X.pyfz`), is
/// first on `sys.path`; with the stdlib folder emptied and the table (and CPython's own frozen
/// modules) turned off with `-X frozen_modules=off`, every module of the pack is served from
/// it — the checks of the linked table. (Made with the unpatched build: a patched one leaves
/// out of a pack what its libpython's table carries.)
fn a_stdlib_pack_beside_the_stdlib_serves_every_module(t: &Target) {
    let (patched, plain) = (install(t, false), install(t, true));
    let copy = emptied_copy(t, &patched);
    let pack = copy
        .path()
        .join(format!("lib/python{}.pyfz", t.minor.replace('.', "")));
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["pack", "-q", "--stdlib", "--python"])
            .arg(python(t, &plain))
            .arg(&pack),
    );
    let py = python(t, copy.path());
    let label = format!("{} (patched, stdlib pack)", t.minor);
    let out = run(Command::new(&py).args([
        "-I",
        "-X",
        "frozen_modules=off",
        "-c",
        "import sys, encodings\nprint(sys.path[0], type(encodings.__loader__).__name__)",
    ]));
    assert_eq!(
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned()
        ),
        (
            format!("{} PyfreezeLoader\n", pack.display()),
            String::new()
        ),
        "{label}"
    );
    let empty = tempfile::tempdir().unwrap();
    let out = run_ok(
        Command::new(&py)
            .args(["-I", "-X", "frozen_modules=off"])
            .arg(repo().join("tests/support/check_frozen.py"))
            .arg("--pack")
            .arg(&pack)
            .current_dir(empty.path()),
    );
    let report: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{label}: bad report ({e}): {out}"));
    assert_frozen_report(
        &report,
        &FrozenExpectations {
            label: &label,
            loader: "PyfreezeLoader",
            stdlib: &stdlib_of(t, &plain),
            other_origins: &[],
            reference_python: &python(t, &plain),
            not_in_reference: &[],
            reference_path: &[],
            cpython_frozen_first: false,
        },
    );
}

/// The build tree `pyfreeze cpython build` made an install from
/// (`CACHE/build/cpython-X.Y.Z{flavour}/Python-X.Y.Z`), its version read from the install's
/// record.
fn build_tree(t: &Target, prefix: &Path, flavour: &str) -> PathBuf {
    let record =
        std::fs::read_to_string(prefix.join(format!("lib/python{}/pyfreeze-build.txt", t.minor)))
            .unwrap();
    let upstream = record
        .strip_prefix("CPython ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no version in {record}"));
    cache()
        .join("build")
        .join(format!("cpython-{upstream}{flavour}"))
        .join(format!("Python-{upstream}"))
}

/// What make would run in `tree` to compile `object` were `source` changed.
fn compile_command(tree: &Path, source: &str, object: &str) -> String {
    run_ok(
        Command::new("make")
            .args(["-n", "-W", source, object])
            .current_dir(tree),
    )
}

/// A `--static-extensions` build compiles getpath.o alone with PYFREEZE_STATIC_EXTENSIONS, and
/// the interpreter's core with the very commands of the build without it, which a compiler
/// cache (`--ccache`) then shares. Neither install's sysconfig names ccache or the macro: they
/// are the build's, not what extension modules built later are compiled with.
fn static_build_compiles_the_core_as_the_shared_build(t: &Target) {
    let shared = install(t, false);
    let built_in = install_flavour(t, false, true);
    let shared_tree = build_tree(t, &shared, "");
    let static_tree = build_tree(t, &built_in, "-static");
    for (tree, defined) in [(&shared_tree, false), (&static_tree, true)] {
        let getpath = compile_command(tree, "Modules/getpath.c", "Modules/getpath.o");
        assert!(getpath.contains("Modules/getpath.c"), "{getpath}");
        assert_eq!(
            getpath.contains("-DPYFREEZE_STATIC_EXTENSIONS=1"),
            defined,
            "{}: {getpath}",
            tree.display()
        );
    }
    for source in ["Objects/object.c", "Python/ceval.c", "Python/import.c"] {
        let object = source.replace(".c", ".o");
        let command = compile_command(&shared_tree, source, &object);
        assert!(
            command.contains(source) && !command.contains("PYFREEZE_STATIC"),
            "{command}"
        );
        assert_eq!(
            command,
            compile_command(&static_tree, source, &object),
            "{source}"
        );
    }
    let code = "import sysconfig as s\nfor k in 'CC', 'LDSHARED', 'CONFIG_ARGS', 'PY_CFLAGS_NODIST': print(s.get_config_var(k))";
    for prefix in [&shared, &built_in] {
        let vars = run_ok(Command::new(python(t, prefix)).args(["-I", "-c", code]));
        assert!(
            vars.starts_with("gcc") && !vars.contains("ccache") && !vars.contains("PYFREEZE"),
            "{}: {vars}",
            prefix.display()
        );
    }
}

macro_rules! per_version {
    ($($module:ident => $target:ident),*) => {$(
        mod $module {
            #[test]
            fn static_build_compiles_the_core_as_the_shared_build() {
                super::static_build_compiles_the_core_as_the_shared_build(&super::$target);
            }
            #[test]
            fn every_pure_stdlib_module_is_served_from_the_extended_table() {
                super::every_pure_stdlib_module_is_served_from_the_extended_table(&super::$target);
            }
            #[test]
            fn works_with_the_stdlib_folder_emptied() {
                super::works_with_the_stdlib_folder_emptied(&super::$target);
            }
            #[test]
            fn no_stdlib_file_is_touched_at_startup_or_by_imports() {
                super::no_stdlib_file_is_touched_at_startup_or_by_imports(&super::$target);
            }
            #[test]
            fn only_a_pack_imports_the_runtime() {
                super::only_a_pack_imports_the_runtime(&super::$target);
            }
            #[test]
            fn frozen_ext_off_lets_files_on_disk_win() {
                super::frozen_ext_off_lets_files_on_disk_win(&super::$target);
            }
            #[test]
            fn table_code_is_deep_frozen_where_supported() {
                super::table_code_is_deep_frozen_where_supported(&super::$target);
            }
            #[test]
            fn bootstrap_and_runtime_make_the_same_spec() {
                super::bootstrap_and_runtime_make_the_same_spec(&super::$target);
            }
            #[test]
            fn a_pack_on_sys_path_serves_its_modules() {
                super::a_pack_on_sys_path_serves_its_modules(&super::$target);
            }
            #[test]
            fn a_stdlib_pack_beside_the_stdlib_serves_every_module() {
                super::a_stdlib_pack_beside_the_stdlib_serves_every_module(&super::$target);
            }
            #[test]
            fn dash_m_hint_as_in_the_unpatched_build() {
                super::dash_m_hint_as_in_the_unpatched_build(&super::$target);
            }
            #[test]
            fn cpython_test_suite_has_no_failure_the_unpatched_build_lacks() {
                super::cpython_test_suite_has_no_failure_the_unpatched_build_lacks(&super::$target);
            }
            // Needs the unpatched --static-extensions builds too: two more CPython builds,
            // which a cold CI cannot afford in its hour (docs/ci.md); run with --ignored.
            #[test]
            #[ignore = "builds the unpatched --static-extensions CPythons; docs/ci.md"]
            fn cpython_test_suite_with_static_extensions_has_no_new_failure() {
                super::cpython_test_suite_with_static_extensions_has_no_new_failure(&super::$target);
            }
        }
    )*};
}

per_version!(v3_11 => V3_11, v3_13 => V3_13);

fn extract(minor: &str, debian: &str, into: &Path) -> PathBuf {
    let tarball = run_ok(
        Command::new(pyfreeze_bin())
            .args([
                "cpython",
                "fetch",
                "--version",
                minor,
                "--debian-version",
                debian,
                "--cache",
            ])
            .arg(cache()),
    );
    run_ok(
        Command::new("tar")
            .arg("xf")
            .arg(tarball.trim())
            .arg("-C")
            .arg(into),
    );
    let upstream = debian.split('-').next().unwrap();
    into.join(format!("Python-{upstream}"))
}

#[test]
fn every_series_applies_strictly_to_each_of_its_tarballs() {
    let sources = pyfreeze_gen::versions::SUPPORTED
        .iter()
        .flat_map(|v| v.debian_sources.iter().map(move |d| (v.name(), *d)));
    for (minor, debian) in sources {
        let tmp = tempfile::tempdir().unwrap();
        let tree = extract(&minor, debian, tmp.path());
        let out = run(Command::new(pyfreeze_bin())
            .args(["cpython", "patch", "--check"])
            .arg(&tree));
        assert!(
            out.status.success(),
            "{debian}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A tree is patched whatever repository holds it: inside a checkout with uncommitted changes,
/// named by a relative path (as the default cache, `.pyfreeze-cache`, names it), only the
/// tree's own state counts.
#[test]
fn a_tree_inside_a_dirty_checkout_patches() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path();
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .current_dir(checkout),
        )
    };
    git(&["init", "-q"]);
    std::fs::write(checkout.join("notes.txt"), "one\n").unwrap();
    git(&["add", "notes.txt"]);
    git(&["commit", "-q", "-m", "notes"]);
    std::fs::write(checkout.join("notes.txt"), "two\n").unwrap();
    let cache = checkout.join(".pyfreeze-cache");
    std::fs::create_dir(&cache).unwrap();
    let tree = extract("3.11", "3.11.2-6+deb12u8", &cache);
    let check = || {
        run(Command::new(pyfreeze_bin())
            .args(["cpython", "patch", "--check"])
            .arg(tree.strip_prefix(checkout).unwrap())
            .current_dir(checkout))
    };
    let out = check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The tree's own uncommitted changes are still refused (its files owned by the tarball's
    // owners when extracted as root).
    let in_tree = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(["-c", "safe.directory=*"]) // the tarball's owners
                .args(args)
                .current_dir(&tree),
        )
    };
    in_tree(&["init", "-q"]);
    in_tree(&["add", "README.rst"]);
    in_tree(&["commit", "-q", "-m", "readme"]);
    std::fs::write(tree.join("README.rst"), "changed\n").unwrap();
    let out = check();
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("has uncommitted changes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The deep-freeze step (`Tools/pyfreeze/deepfreeze.py`, run here on its own over 3.11's
/// source, whose `deepfreeze.py` it drives) reads the code from the generator's code file,
/// writes one C file per module and the table, redoes only what changed, and leaves no file
/// for a module dropped from the table, nor any with `--none`.
#[test]
fn deep_freezing_follows_the_table_and_removes_what_it_no_longer_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = extract("3.11", "3.11.2-6+deb12u8", tmp.path());
    let python = pyfreeze_tests::python(11);
    let app = tmp.path().join("app");
    write_tree(
        &app,
        &[
            // Named as the step's own files (deep/strings.c, deep/table.c), and holding
            // the text of the step's symbols in a string and a global.
            (
                "strings.py",
                b"NAME = 'alpha'\nconst_str_x = 'const_str_y'\n",
            ),
            ("table.py", b"T = 1\n"),
            (
                "beta.py",
                b"B = b'\\x00\\x01data'\ndef f(x):\n    try:\n        return (x, 1.5, 'beta', B)\n    \
                  except KeyError:\n        return None\n",
            ),
            ("pkg/__init__.py", b"from .beta import *\n"),
            ("pkg/beta.py", b"X = 10 ** 30\nNAME = 'pkg'\n"),
        ],
    );
    let out = tmp.path().join("out");
    let freeze = || {
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["freeze", "--quiet", "--no-runtime", "--python"])
                .arg(&python)
                .arg("--root")
                .arg(&app)
                .arg("--out")
                .arg(&out),
        )
    };
    let deepfreeze = |extra: &[&str]| {
        run_ok(
            Command::new(&python)
                .args(["-E", "-S"])
                .arg(repo().join("build-support/cpython-deepfreeze.py"))
                .arg(&src)
                .arg(&out)
                .args(extra),
        )
    };
    let deep = |out: &Path| -> BTreeMap<String, Vec<u8>> { snapshot(&out.join("deep")) };
    let names = |files: &BTreeMap<String, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();

    freeze();
    assert_eq!(deepfreeze(&[]).trim(), "deepfreeze: 5 of 5 modules");
    let first = deep(&out);
    assert_eq!(
        names(&first),
        [
            "modules/beta.c",
            "modules/pkg.beta.c",
            "modules/pkg.c",
            "modules/strings.c",
            "modules/table.c",
            "strings.c",
            "table.c"
        ]
    );
    let table = String::from_utf8_lossy(&first["table.c"]).into_owned();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for m in manifest["modules"].as_array().unwrap() {
        let (name, symbol) = (m["name"].as_str().unwrap(), m["symbol"].as_str().unwrap());
        assert!(
            table.contains(&format!("{{\"{name}\", {symbol}_deep}},")),
            "{name}: {table}"
        );
        let file = String::from_utf8_lossy(&first[&format!("modules/{name}.c")]).into_owned();
        let made_from = format!(
            " code {} stem {symbol} */",
            m["code_sha256"].as_str().unwrap()
        );
        assert!(file.lines().next().unwrap().ends_with(&made_from), "{name}");
    }

    // The layout (3.11 writes the reference count of every object it uses): only the tables
    // a code object points at (line, exception) are kept apart from the pages that execution
    // writes to; the bytes constant, the strings and the tuples are not.
    let beta = String::from_utf8_lossy(&first["modules/beta.c"]).into_owned();
    let placed = sections(&beta);
    let cold: Vec<&str> = placed
        .iter()
        .filter(|(section, _)| section.as_deref() == Some(".data.pyfreeze_cold"))
        .map(|(_, name)| name.rsplit('_').next().unwrap())
        .collect();
    assert_eq!(
        cold,
        ["linetable", "exceptiontable", "linetable"],
        "{placed:?}"
    );
    assert!(
        placed
            .iter()
            .any(|(section, name)| section.is_none() && name.ends_with("_consts_0")),
        "the bytes constant stays with its code: {placed:?}"
    );

    // Identifier-like strings are shared: one object per text in strings.c (external, in the
    // interned section), which each module that has the text declares and lists.
    let strings = String::from_utf8_lossy(&first["strings.c"]).into_owned();
    let defined = sections(&strings);
    assert!(
        defined.iter().all(|(section, name)| {
            section.as_deref() == Some(".data.pyfreeze_interned")
                && name.starts_with("pyfreeze_str_")
        }),
        "{defined:?}"
    );
    assert!(
        !strings.contains("static __attribute__"),
        "external: {strings}"
    );
    let texts: BTreeSet<&str> = defined
        .iter()
        .map(|(_, name)| name.strip_prefix("pyfreeze_str_").unwrap())
        .collect();
    assert_eq!(texts.len(), defined.len(), "each text once: {defined:?}");
    assert!(texts.contains("NAME") && texts.contains("alpha") && texts.contains("KeyError"));
    // Text that reads like the step's symbols stays text: a literal is never renamed.
    assert!(texts.contains("const_str_x") && texts.contains("const_str_y"));
    for text in ["const_str_x", "const_str_y"] {
        assert!(
            strings.contains(&format!("._data = \"{text}\",")),
            "{text}: {strings}"
        );
    }
    assert!(!strings.contains("\"pyfreeze_str_"), "{strings}");
    for module in ["modules/strings.c", "modules/pkg.beta.c"] {
        let c = String::from_utf8_lossy(&first[module]).into_owned();
        assert!(
            c.contains("\npyfreeze_str_NAME;\n"),
            "{module} declares NAME: {c}"
        );
        // No string of its own left, by definition or by reference.
        assert!(
            !c.contains("\nconst_str_") && !c.contains("&const_str_"),
            "{module}: {c}"
        );
        let listed = c.lines().nth(1).unwrap();
        assert!(
            listed.starts_with("/* shared strings: ") && listed.contains(" NAME"),
            "{listed}"
        );
    }

    // Nothing changed: nothing is redone or rewritten.
    assert_eq!(deepfreeze(&[]).trim(), "");
    assert_eq!(deep(&out), first);

    // A module dropped from the table loses its file and its row; the others stay as they were.
    std::fs::remove_file(app.join("strings.py")).unwrap();
    freeze();
    assert_eq!(deepfreeze(&[]).trim(), "");
    let second = deep(&out);
    assert_eq!(
        names(&second),
        [
            "modules/beta.c",
            "modules/pkg.beta.c",
            "modules/pkg.c",
            "modules/table.c",
            "strings.c",
            "table.c"
        ]
    );
    assert!(!String::from_utf8_lossy(&second["table.c"]).contains("\"strings\""));
    assert_eq!(second["modules/beta.c"], first["modules/beta.c"]);
    // The shared strings follow: `alpha` is gone, `NAME` stays for pkg.beta.
    let strings = String::from_utf8_lossy(&second["strings.c"]).into_owned();
    assert!(!strings.contains("pyfreeze_str_alpha ="), "{strings}");
    assert!(strings.contains("\npyfreeze_str_NAME = {"), "{strings}");

    // --none: only an empty table.
    deepfreeze(&["--none"]);
    let none = deep(&out);
    assert_eq!(names(&none), ["strings.c", "table.c"]);
    assert!(!String::from_utf8_lossy(&none["strings.c"]).contains("pyfreeze_str_"));
    assert!(String::from_utf8_lossy(&none["table.c"])
        .contains("_PyImport_FrozenExtDeepTable[] = {\n    {0, 0},\n};"));
}

/// (section, name) of each object the deep-freeze step wrote into `c` (`static
/// [__attribute__((section("S")))]`, or the attribute alone for an external object, then
/// `struct {...}` then `NAME =`), in order.
fn sections(c: &str) -> Vec<(Option<String>, String)> {
    let mut placed = Vec::new();
    let mut section = None;
    let mut in_object = false;
    for line in c.lines() {
        let rest = line
            .strip_prefix("static")
            .or_else(|| line.strip_prefix("__attribute__").map(|_| line));
        if let Some(rest) = rest {
            section = rest
                .split_once("section(\"")
                .map(|(_, s)| s.split('"').next().unwrap().to_string());
            in_object = rest.is_empty() || section.is_some();
        } else if in_object && !line.starts_with(' ') && line.ends_with(" = {") {
            placed.push((section.take(), line.trim_end_matches(" = {").to_string()));
            in_object = false;
        }
    }
    placed
}

/// 3.13's code-object writer takes each code object's local variable table from the marshalled
/// bytes, as `_PyCode_New()` gets it: the compiler's `CO_FAST_HIDDEN` for a comprehension
/// removed as unreachable (no instruction left to infer it from), and two entries for a name
/// that is both a cell and a free variable (CPython's deepfreeze.py rebuilds the table from
/// `co_varnames`, `co_cellvars` and `co_freevars`, and loses both). The same module runs from
/// the deep-frozen table of the appliance build (tests/appliance.rs).
#[test]
fn deep_freezing_3_13_keeps_the_compilers_local_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    let src = extract("3.13", version(&V3_13).debian_sources[0], tmp.path());
    let python = pyfreeze_tests::python(13);
    let app = tmp.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::copy(
        repo().join("tests/support/deep_cases/pyfreeze_deep_cases.py"),
        app.join("cases.py"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["freeze", "--quiet", "--no-runtime", "--python"])
            .arg(&python)
            .arg("--root")
            .arg(&app)
            .arg("--out")
            .arg(&out),
    );
    let said = run_ok(
        Command::new(&python)
            .args(["-E", "-S"])
            .arg(repo().join("build-support/cpython-deepfreeze.py"))
            .arg(&src)
            .arg(&out),
    );
    assert_eq!(said.trim(), "deepfreeze: 1 of 1 modules");
    let c = std::fs::read_to_string(out.join("deep/modules/cases.c")).unwrap();
    // The code objects' kinds, by the C expression of each code object's table.
    let kinds = |code: &str| -> String {
        let field = format!("{code} = {{");
        let body = &c[c.find(&field).unwrap_or_else(|| panic!("{code} in {c}"))..];
        let line = body
            .lines()
            .find(|l| l.contains(".co_localspluskinds = "))
            .unwrap();
        line.split(" = ")
            .nth(1)
            .unwrap()
            .trim_end_matches(',')
            .to_string()
    };
    let bytes_of = |expr: &str| -> String {
        if let Some(n) = expr
            .strip_prefix("(PyObject *)&_Py_SINGLETON(bytes_characters[")
            .and_then(|s| s.strip_suffix("])"))
        {
            return format!("{:02x}", n.parse::<u8>().unwrap());
        }
        let name = expr
            .trim_start_matches("& ")
            .trim_end_matches(".ob_base.ob_base");
        let body = &c[c.find(&format!("{name} = {{")).unwrap()..];
        let sval = body.lines().find(|l| l.contains(".ob_sval = ")).unwrap();
        let lit = sval.split(" = ").nth(1).unwrap().trim_end_matches(',');
        let lit = &lit[1..lit.len() - 1];
        let mut hex = String::new();
        let mut rest = lit;
        while !rest.is_empty() {
            if let Some(h) = rest.strip_prefix("\\x") {
                hex += &h[..2];
                rest = &h[2..];
            } else {
                hex += &format!("{:02x}", rest.as_bytes()[0]);
                rest = &rest[1..];
            }
        }
        hex
    };
    let symbol = |suffix: &str| -> String {
        let at = c
            .find(&format!("_toplevel{suffix} = {{"))
            .unwrap_or_else(|| panic!("_toplevel{suffix} in {c}"));
        let start = c[..at].rfind('\n').unwrap() + 1;
        c[start..at + "_toplevel".len() + suffix.len()].to_string()
    };
    // The module: `x` of the unreachable comprehension, CO_FAST_LOCAL | CO_FAST_HIDDEN.
    assert_eq!(bytes_of(&kinds(&symbol(""))), "30");
    // X's body inside Outer.method: a cell and a free variable both named __class__.
    let x = c
        .lines()
        .filter(|l| l.ends_with(" = {") && l.contains("_toplevel_consts_"))
        .map(|l| l.trim_end_matches(" = {").to_string())
        .find(|name| {
            let body = &c[c.find(&format!("{name} = {{")).unwrap()..];
            body.lines()
                .take(40)
                .any(|l| l.contains("_PyVarObject_HEAD_INIT(&PyCode_Type"))
                && body
                    .lines()
                    .take(40)
                    .any(|l| l.contains(".co_nlocalsplus = 2,"))
                && body
                    .lines()
                    .take(40)
                    .any(|l| l.contains(".co_ncellvars = 1,"))
                && body
                    .lines()
                    .take(40)
                    .any(|l| l.contains(".co_nfreevars = 1,"))
        })
        .unwrap_or_else(|| panic!("no code object with one cell and one free variable: {c}"));
    assert_eq!(bytes_of(&kinds(&x)), "4080");
}

#[test]
fn patch_is_strict_and_leaves_bad_trees_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = extract("3.11", version(&V3_11).debian_sources[0], tmp.path());
    let patch = |args: &[&str]| {
        run(Command::new(pyfreeze_bin())
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
    let before = snapshot(&tree);
    let out = patch(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0001-extended-frozen-table.patch") && err.contains("Python/import.c"),
        "{err}"
    );
    assert!(first_difference(&before, &snapshot(&tree)).is_none());

    // Pristine: --check changes nothing, then it applies, then it refuses to apply twice.
    std::fs::write(&import_c, &original).unwrap();
    let pristine = snapshot(&tree);
    assert!(patch(&["--check"]).status.success());
    assert!(first_difference(&pristine, &snapshot(&tree)).is_none());
    assert!(patch(&[]).status.success());
    assert!(tree.join("Include/internal/pycore_frozen_ext.h").exists());
    let again = patch(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already patched"));
}

#[test]
fn the_patch_header_is_the_generators_schema() {
    // The patch series carry the table structs verbatim; they must stay what the generator
    // emits (one declaration in schema.rs).
    for minor in ["3.11", "3.13"] {
        let patch = std::fs::read_to_string(repo().join(format!(
            "cpython-patches/{minor}/0001-extended-frozen-table.patch"
        )))
        .unwrap();
        let added: String = patch
            .lines()
            .skip_while(|l| !l.starts_with("+++ b/Include/internal/pycore_frozen_ext.h"))
            .skip(2)
            .take_while(|l| l.starts_with('+'))
            .map(|l| format!("{}\n", &l[1..]))
            .collect();
        for decl in [
            pyfreeze_gen::schema::c_flag_defines(),
            pyfreeze_gen::schema::MODULE.c_declaration(),
            pyfreeze_gen::schema::RESOURCE.c_declaration(),
            pyfreeze_gen::schema::DISTRIBUTION.c_declaration(),
            pyfreeze_gen::schema::DIST_FILE.c_declaration(),
        ] {
            assert!(
                added.contains(&decl),
                "{minor}: the header in 0001 does not contain\n{decl}"
            );
        }
    }
    // The pack signature, which the patched importlib reads before importing the runtime, and
    // the runtime itself: Python literals of schema.rs's bytes.
    let literal: String = pyfreeze_gen::schema::PACK_MAGIC
        .iter()
        .map(|&b| match b {
            b'\r' => "\\r".to_string(),
            b'\n' => "\\n".to_string(),
            0x20..=0x7e if b != b'\\' && b != b'\'' => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect();
    for (file, quote) in [
        ("cpython-patches/3.11/0009-packs-on-sys-path.patch", '\''),
        ("cpython-patches/3.13/0006-packs-on-sys-path.patch", '\''),
        ("generators/pyfreeze-gen/runtime/_pyfreeze_runtime.py", '"'),
    ] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        let expected = format!("b{quote}{literal}{quote}");
        assert!(text.contains(&expected), "{file} does not hold {expected}");
    }
}

#[test]
fn flag_bits_are_named_not_numbered_in_the_patches_and_the_runtime() {
    // The values live in schema.rs; C uses the header's PYFREEZE_* and Python code gets them
    // from the table (_imp.PYFREEZE_*, _pyfreeze.PACKAGE), so a bare `flags & 2` is a copy.
    let mut texts = vec![(
        "_pyfreeze_runtime.py".to_string(),
        std::fs::read_to_string(
            repo().join("generators/pyfreeze-gen/runtime/_pyfreeze_runtime.py"),
        )
        .unwrap(),
    )];
    for minor in ["3.11", "3.13"] {
        let dir = repo().join("cpython-patches").join(minor);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let added: String = text
                .lines()
                .filter(|l| l.starts_with('+'))
                .map(|l| format!("{l}\n"))
                .collect();
            texts.push((
                format!("{minor}/{}", entry.file_name().to_string_lossy()),
                added,
            ));
        }
    }
    for (name, text) in texts {
        for line in text.lines() {
            let bare = line.split("flags & ").skip(1).any(|rest| {
                rest.trim_start_matches('(')
                    .starts_with(|c: char| c.is_ascii_digit())
            });
            assert!(!bare, "{name}: a flag bit by number: {line}");
        }
    }
}
