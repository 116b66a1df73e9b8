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

use pyfreeze_tests::{
    assert_metadata_agrees, copy_tree, cpython_build, example_cargo, example_target_dir,
    metadata_report, metadata_site_spec, repo, run, run_ok, MetadataExpectations,
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
    pyfreeze_tests::test_cache()
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
    let mut cmd = cpython_build(minor, &prefix);
    cmd.arg("--static-extensions")
        .arg("--spec")
        .arg(metadata_site_spec(minor_number(minor), &prefix));
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
    // The frozen packages' code (attrs, pyflakes, tests/support/deep_cases) runs as compiled:
    // where the table keeps the marshalled code beside deep-frozen code (3.13), the code served
    // is, object for object, what unmarshalling gives.
    let py = python(minor, &prefix);
    let out = run_ok(Command::new(&py).args([
        "-I",
        "-c",
        "import pyfreeze_deep_cases as m, _imp\n\
         f = _imp.get_frozen_object\n\
         assert f('pyfreeze_deep_cases') is f('pyfreeze_deep_cases'), 'not deep-frozen'\n\
         m.check()",
    ]));
    assert_eq!(out.trim(), "deep cases ok");
    if n >= 13 {
        let out = run_ok(
            Command::new(&py)
                .arg("-I")
                .arg(repo().join("tests/support/check_marshal.py")),
        );
        let first = out.lines().next().unwrap_or_default();
        assert!(first.ends_with(" bad 0"), "{minor}: {out}");
    }
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

/// Whether `exe` is linked at a fixed address (ELF `ET_EXEC`, not `-pie`).
fn fixed_address(exe: &Path) -> bool {
    let header = std::fs::read(exe).unwrap();
    assert_eq!(&header[..4], b"\x7fELF", "{}", exe.display());
    u16::from_le_bytes([header[16], header[17]]) == 2
}

/// A program linking the install's static libpython is linked as its interpreter is: at a
/// fixed address (`-no-pie`) when the interpreter is (3.11's deep-frozen table: else some
/// 670,000 load-time relocations), position-independent otherwise.
fn linked_as_the_interpreter(exe: &Path, python: &Path) {
    assert_eq!(
        fixed_address(exe),
        fixed_address(python),
        "{} (fixed address: {}) is not linked as {} (fixed address: {})",
        exe.display(),
        fixed_address(exe),
        python.display(),
        fixed_address(python)
    );
}

/// `ldd` of `exe` names the C library's objects and nothing else (but `also`).
fn needs_only_the_c_library(exe: &Path, also: &[&str]) {
    let libs = ldd(exe);
    let foreign: Vec<&String> = libs
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !C_LIBRARY.contains(&name.as_str()) && !also.contains(&name.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "{} needs shared objects other than the C library's: {foreign:?}\n{libs:#?}",
        exe.display()
    );
    assert!(libs.iter().any(|(name, _)| name == "libc.so.6"), "{libs:?}");
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
    needs_only_the_c_library(&py, &[]);

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

/// A program alone in an empty root: its path inside, the files the root holds, the root.
struct Alone {
    inside: String,
    held: Vec<String>,
    root: tempfile::TempDir,
}

impl Alone {
    /// `exe` copied into an empty root with the C library files `ldd` names, and nothing else:
    /// `ldd` must name only the C library's own objects (and `also`).
    fn new(exe: &Path, also: &[&str]) -> Alone {
        assert!(
            run_ok(Command::new("id").arg("-u")).trim() == "0",
            "this test runs programs under chroot, which needs root (CI runs as root)"
        );
        needs_only_the_c_library(exe, also);
        let root = empty_root(exe);
        let name = exe.file_name().unwrap().to_string_lossy().into_owned();
        let held = files(root.path());
        assert!(
            held.iter()
                .all(|f| *f == format!("bin/{name}") || f.contains(".so")),
            "{held:?}"
        );
        Alone {
            inside: format!("/bin/{name}"),
            held,
            root,
        }
    }

    /// Runs the program in the root with `args`, with an empty environment but `PATH`.
    fn run(&self, args: &[&str]) -> std::process::Output {
        run(Command::new("chroot")
            .arg(self.root.path())
            .arg(&self.inside)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir(self.root.path()))
    }
}

/// Runs `tests/support/appliance.py` through `args` (the program's way of running code: `-c`,
/// `--exec`) alone in an empty root: every module it uses ran, and its deliberate error printed
/// a traceback through frozen json with the source lines, after `before_traceback` and nothing
/// else (no getpath warning about a missing prefix or lib-dynload).
fn check_appliance_script(
    what: &str,
    (exe, also): (&Path, &[&str]),
    args: &[&str],
    before_traceback: &str,
) {
    let alone = Alone::new(exe, also);
    let mut argv = args.to_vec();
    argv.push(SCRIPT);
    let out = alone.run(&argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = format!(
        "{what}, files in the root: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        alone.held
    );
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
    assert_eq!(out.status.code(), Some(1), "{context}");
    assert!(
        stderr.starts_with(&format!(
            "{before_traceback}Traceback (most recent call last):\n"
        )),
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

fn runs_alone_in_an_empty_root(minor: &'static str) {
    let prefix = install(minor);
    check_appliance_script(
        &format!("python{minor}"),
        (&python(minor, &prefix), &[]),
        &["-I", "-c"],
        "",
    );
}

/// The modules a build froze: the stems of `OUT/modules/*.c`, sorted.
fn frozen_modules(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join("modules"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".c").map(String::from)
        })
        .collect();
    names.sort();
    names
}

/// Run by the embed-c appliance: a module, its distribution metadata and its package data from
/// each table, libpython's (the install's `--spec` froze attrs beside the stdlib; served by the
/// patched `FrozenImporter`) and the program's (the stock runtime's `PyfreezeImporter`).
const TWO_TABLES: &str = r#"
import importlib.metadata, importlib.resources, json
import attrs, mygame
print("libpython", type(json.__loader__).__name__, type(attrs.__loader__).__name__,
      importlib.metadata.version("attrs"),
      importlib.resources.files("attrs").joinpath("py.typed").is_file())
print("program", type(mygame.__loader__).__name__, mygame.__file__,
      importlib.resources.files("mygame").joinpath("data/levels.txt").read_text().split()[0])
print(*sorted(d.metadata["Name"] for d in importlib.metadata.distributions()))
"#;

/// examples/embed-c linked against the `--static-extensions` install (pyfreeze.mk, its
/// Makefile unchanged but for `PYTHON`): one executable that needs nothing but the C library.
/// Its table holds only the app and the stock runtime, since the install's libpython carries
/// the stdlib (and the build-tree archives its built-in modules need are installed beside it).
fn embed_c_appliance(minor: &'static str) {
    let prefix = install(minor);
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("examples/embed-c"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("build"));
    run_ok(
        Command::new("make")
            .arg("-j2")
            .arg(format!("PYTHON_VERSION={minor}"))
            .arg(format!("PYTHON={}", python(minor, &prefix).display()))
            .arg(format!("REPO={}", repo().display()))
            .current_dir(dir.path()),
    );
    let build = dir.path().join(format!("build/{minor}"));
    assert_eq!(
        frozen_modules(&build.join("frozen")),
        [
            "_pyfreeze_app_runtime",
            "mygame",
            "mygame.__main__",
            "mygame.engine"
        ],
        "the stdlib is frozen again although the install's libpython carries it"
    );
    let exe = build.join("embed-c");
    linked_as_the_interpreter(&exe, &python(minor, &prefix));
    check_appliance_script(&format!("embed-c {minor}"), (&exe, &[]), &["-c"], "");

    // Both tables in one program, each with its runtime's state.
    let alone = Alone::new(&exe, &[]);
    let out = alone.run(&["-c", TWO_TABLES]);
    assert!(out.status.success(), "{out:?}");
    let first_level =
        std::fs::read_to_string(repo().join("examples/embed-c/app/mygame/data/levels.txt"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
    let attrs = pyfreeze_tests::METADATA_WHEELS
        .iter()
        .find_map(|w| w.strip_prefix("attrs=="))
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "libpython FrozenExtLoader FrozenExtLoader {attrs} True\n\
             program PyfreezeLoader /embed-c/app/mygame/__init__.py {first_level}\n\
             attrs pyflakes\n"
        )
    );

    // The app itself, and its error: the traceback shows the app's frozen source.
    let out = alone.run(&[]);
    assert!(out.status.success(), "{out:?}");
    let out = alone.run(&["--crash"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("File \"/embed-c/app/mygame/"), "{stderr}");
}

/// examples/game-embed built by Cargo (pyfreeze-build) against the `--static-extensions`
/// install (`PYFREEZE_PYTHON`): the same one-executable check, the game's own modes, and its
/// table holding only the game's scripts and the runtime.
fn game_embed_appliance(minor: &'static str) {
    static ONE_BUILD: Mutex<()> = Mutex::new(());
    let prefix = install(minor);
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("game-embed");
    {
        // One build at a time: both versions build into the same target folder.
        let _guard = ONE_BUILD.lock().unwrap_or_else(|e| e.into_inner());
        let mut cargo = example_cargo(&repo());
        cargo
            .args(["build", "-p", "game-embed"])
            .env("PYFREEZE_PYTHON", python(minor, &prefix));
        run_ok(&mut cargo);
        std::fs::copy(example_target_dir().join("debug/game-embed"), &exe).unwrap();
    }
    linked_as_the_interpreter(&exe, &python(minor, &prefix));
    check_appliance_script(
        &format!("game-embed {minor}"),
        (&exe, &[]),
        &["--exec"],
        "game-embed: a script raised an exception:\n",
    );

    let alone = Alone::new(&exe, &[]);
    let out = alone.run(&["--list-scripts"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        list.contains("3 game modules, 1 other modules (stdlib and runtime)"),
        "the stdlib is frozen again although the install's libpython carries it:\n{list}"
    );
    let out = alone.run(&[]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("level 'Meadow': 3 entities (hero, slime, bird)\ntick 1: "),
        "{out:?}"
    );
    let out = alone.run(&["--crash"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("    blast = 10 // (self.fuse - tick)\n"),
        "no frozen source line in the traceback:\n{stderr}"
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
            #[test]
            fn embed_c_appliance() {
                super::embed_c_appliance($minor);
            }
            #[test]
            fn game_embed_appliance() {
                super::game_embed_appliance($minor);
            }
        }
    )*};
}

per_version!(v3_11 => "3.11", v3_13 => "3.13");
