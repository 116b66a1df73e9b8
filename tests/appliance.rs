//! `pyfreeze cpython build --static-extensions` (3.11 and 3.13, patched): the stdlib's
//! extension modules are built into the interpreter and their C libraries linked statically,
//! so that `bin/python3.X` alone, with the C library files `ldd` names, runs in an empty root
//! (`chroot`, as root) and imports and uses ssl, hashlib, sqlite3, ctypes, decimal, asyncio, ...
//! (`tests/support/appliance.py`); and PyPI packages frozen next to the stdlib (`--spec`) keep
//! their `importlib.metadata`.
//!
//! Builds are cached under `$PYFREEZE_TEST_CACHE` (default `~/.cache/pyfreeze`), in build trees
//! of their own (`build/cpython-X.Y.Z-static`), installed in `test-install/X.Y-patched-static`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use pyfreeze_gen::PythonVersion;
use pyfreeze_tests::{
    assert_metadata_agrees, metadata_report, metadata_site_spec, pyfreeze_bin, run, run_ok,
    MetadataExpectations,
};

/// The shared objects a program may need from the C library itself (glibc): nothing else.
const C_LIBRARY: &[&str] = &[
    "linux-vdso.so.1",
    "ld-linux-x86-64.so.2",
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "libutil.so.1",
    "librt.so.1",
];

/// What the appliance script prints, one line per module it used (`tests/support/appliance.py`).
const SCRIPT: &str = include_str!("support/appliance.py");

fn cache() -> PathBuf {
    match std::env::var_os("PYFREEZE_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME or PYFREEZE_TEST_CACHE"))
            .join(".cache/pyfreeze"),
    }
}

/// Builds (or brings up to date) CPython `minor` patched with `--static-extensions`, once per
/// test process; one build at a time (make uses both cores).
fn install(minor: &'static str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<&str, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(prefix) = built.get(minor) {
        return prefix.clone();
    }
    let prefix = cache()
        .join("test-install")
        .join(format!("{minor}-patched-static"));
    let mut cmd = Command::new(pyfreeze_bin());
    cmd.args([
        "cpython",
        "build",
        "--static-extensions",
        "--version",
        minor,
    ])
    .arg("--prefix")
    .arg(&prefix)
    .arg("--cache")
    .arg(cache())
    .arg("--spec")
    .arg(metadata_site_spec(minor_number(minor), &prefix));
    if let Some(v) = PythonVersion::parse(minor).and_then(|v| v.debian_pinned) {
        cmd.args(["--debian-version", v]);
    }
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "pyfreeze cpython build --static-extensions {minor} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    built.insert(minor, prefix.clone());
    prefix
}

fn python(minor: &str, prefix: &Path) -> PathBuf {
    prefix.join(format!("bin/python{minor}"))
}

/// `X` of `3.X`.
fn minor_number(minor: &str) -> u32 {
    minor
        .strip_prefix("3.")
        .and_then(|m| m.parse().ok())
        .expect("3.X")
}

/// The distribution's use case: packages frozen next to the stdlib (`cpython build --spec`,
/// here attrs and pyflakes from PyPI) keep `importlib.metadata`, their files nowhere on disk:
/// the interpreter sees what pyenv's sees with the installed folder on `sys.path`.
fn frozen_distributions_keep_their_metadata(minor: &'static str) {
    let prefix = install(minor);
    let n = minor_number(minor);
    let site = metadata_site_spec(n, &prefix)
        .parent()
        .unwrap()
        .join("site");
    let mut plain = Command::new(pyfreeze_tests::python(n));
    plain.args(["-I", "-S"]);
    let from_files = metadata_report(plain, &[&site]);
    let mut frozen = Command::new(python(minor, &prefix));
    frozen.arg("-I");
    let frozen = metadata_report(frozen, &[]);
    let attr_file = format!(
        "{}/lib/python{minor}/site-packages/attr/__init__.py",
        prefix.display()
    );
    assert!(!Path::new(&attr_file).exists(), "{attr_file} is on disk");
    let expect = MetadataExpectations {
        minor: n,
        dist_class: "PyfreezeDistribution",
        loader: "FrozenExtLoader",
        attr_file: &attr_file,
    };
    assert_metadata_agrees(&frozen, &from_files, &expect);
}

/// `ldd`'s lines: the name and, when it names one, the file.
fn ldd(exe: &Path) -> Vec<(String, Option<PathBuf>)> {
    let out = run_ok(Command::new("ldd").arg(exe));
    out.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.split(" (0x").next()?;
            Some(match line.split_once(" => ") {
                Some((name, path)) => (name.to_string(), Some(PathBuf::from(path))),
                None if line.starts_with('/') => {
                    let name = Path::new(line).file_name()?.to_string_lossy().into_owned();
                    (name, Some(PathBuf::from(line)))
                }
                None => (line.to_string(), None),
            })
        })
        .collect()
}

fn builtin_module_names(python: &Path) -> Vec<String> {
    run_ok(Command::new(python).args(["-I", "-c", "import sys; print(*sys.builtin_module_names)"]))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// The interpreter needs only the C library's shared objects; the stdlib extension modules are
/// built in, and `lib-dynload` holds only the ones declared to stay out.
fn built_in_and_linked_statically(minor: &'static str) {
    let prefix = install(minor);
    let py = python(minor, &prefix);
    let libs = ldd(&py);
    let foreign: Vec<&String> = libs
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !C_LIBRARY.contains(&name.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "{minor}: {} needs shared objects other than the C library's: {foreign:?}\n{libs:#?}",
        py.display()
    );
    assert!(libs.iter().any(|(name, _)| name == "libc.so.6"), "{libs:?}");

    let builtins = builtin_module_names(&py);
    for module in [
        "_ssl",
        "_hashlib",
        "_sqlite3",
        "_ctypes",
        "_decimal",
        "_json",
        "zlib",
        "_lzma",
        "_bz2",
        "_socket",
        "select",
        "_asyncio",
        "_uuid",
        "_datetime",
        "unicodedata",
        "pyexpat",
        "_csv",
        "_curses",
        "_dbm",
        "_gdbm",
        "math",
        "array",
        "_multiprocessing",
    ] {
        assert!(
            builtins.iter().any(|b| b == module),
            "{minor}: {module} is not built in: {builtins:?}"
        );
    }
    // What is left in lib-dynload is what the declaration leaves out, nothing else.
    let dynload = prefix.join(format!("lib/python{minor}/lib-dynload"));
    for entry in std::fs::read_dir(&dynload).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let module = file.split('.').next().unwrap_or_default().to_string();
        assert!(
            pyfreeze_gen::static_modules::exclusion(minor, &module).is_some(),
            "{minor}: {} is a shared object but is not declared to stay out of libpython",
            entry.path().display()
        );
        assert!(
            !builtins.contains(&module),
            "{minor}: {module} both built in and in lib-dynload"
        );
    }
    let record =
        std::fs::read_to_string(prefix.join(format!("lib/python{minor}/pyfreeze-build.txt")))
            .unwrap();
    assert!(
        record.contains("extension modules built in") && record.contains("built in: "),
        "{record}"
    );
}

/// Copies `exe` to `ROOT/bin/` and each file `ldd` names to the same path under ROOT.
fn empty_root(exe: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(exe, bin.join(exe.file_name().unwrap())).unwrap();
    for (_, path) in ldd(exe) {
        let Some(path) = path else { continue };
        let to = root.path().join(path.strip_prefix("/").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&path, &to).unwrap();
    }
    root
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn runs_alone_in_an_empty_root(minor: &'static str) {
    assert!(
        run_ok(Command::new("id").arg("-u")).trim() == "0",
        "this test runs the interpreter under chroot, which needs root (CI runs as root)"
    );
    let prefix = install(minor);
    let root = empty_root(&python(minor, &prefix));
    let held = files(root.path());
    assert!(
        held.iter()
            .all(|f| f.starts_with("bin/python") || f.contains(".so")),
        "{held:?}"
    );
    let out = run(Command::new("chroot")
        .arg(root.path())
        .arg(format!("/bin/python{minor}"))
        .args(["-I", "-c", SCRIPT])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir(root.path()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context =
        format!("{minor}, files in the root: {held:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok "))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    let ran = [
        "built-in",
        "ssl",
        "hashlib",
        "sqlite3",
        "ctypes",
        "decimal",
        "json",
        "zlib",
        "socket",
        "uuid",
        "datetime",
        "unicodedata",
        "xml.etree.ElementTree",
        "csv",
    ];
    for what in ran {
        assert!(printed.contains(&what), "{what} did not run: {context}");
    }
    // No time zone database in the root and no tzdata frozen: zoneinfo says so.
    assert!(
        stdout.contains("zoneinfo: no time zone data: ZoneInfoNotFoundError"),
        "{context}"
    );
    // The deliberate error: a traceback through frozen json with its source lines, and
    // nothing before it (no getpath warning about a missing prefix or lib-dynload).
    assert_eq!(out.status.code(), Some(1), "{context}");
    assert!(
        stderr.starts_with("Traceback (most recent call last):\n"),
        "{context}"
    );
    let frame = stderr
        .find("/json/decoder.py\", line ")
        .unwrap_or_else(|| panic!("no json/decoder.py frame: {context}"));
    let next_line = stderr[frame..].lines().nth(1).unwrap_or("");
    assert!(
        next_line.trim_start().starts_with("obj, end = "),
        "no source line after the frame: {context}"
    );
    assert!(
        stderr.trim_end().ends_with("json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        "{context}"
    );
}

macro_rules! per_version {
    ($($module:ident => $minor:literal),*) => {$(
        mod $module {
            #[test]
            fn built_in_and_linked_statically() {
                super::built_in_and_linked_statically($minor);
            }
            #[test]
            fn runs_alone_in_an_empty_root() {
                super::runs_alone_in_an_empty_root($minor);
            }
            #[test]
            fn frozen_distributions_keep_their_metadata() {
                super::frozen_distributions_keep_their_metadata($minor);
            }
        }
    )*};
}

per_version!(v3_11 => "3.11", v3_13 => "3.13");
