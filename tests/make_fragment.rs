//! build-support/pyfreeze.mk through real GNU make, in a fresh folder outside the repository,
//! the way docs/embedding-c.md tells a user to include it: the default `PYFREEZE` found on
//! `PATH`, a deleted frozen module or depfile, and a changed interpreter each rerun the freeze.

use std::path::Path;
use std::process::{Command, Output};

use pyfreeze_tests::{pyfreeze_bin, python, repo, run, write_tree};

const MAKEFILE: &str = "\
PYFREEZE_SPEC := pyfreeze.toml
PYFREEZE_OUT := build/frozen
PYFREEZE_OBJDIR := build/obj
include $(REPO)/build-support/pyfreeze.mk
all: $(PYFREEZE_LIB)
";

const SPEC: &str = "[[root]]\npath = \"app\"\n";

/// `make` in `dir` with pyfreeze on `PATH` (and not named by `PYFREEZE`).
fn make(dir: &Path, python: &Path) -> Output {
    let bin_dir = pyfreeze_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    run(Command::new("make")
        .arg("--no-print-directory")
        .arg(format!("REPO={}", repo().display()))
        .arg(format!("PYFREEZE_PYTHON={}", python.display()))
        .env("PATH", path)
        .env_remove("PYFREEZE")
        .current_dir(dir))
}

fn make_ok(dir: &Path, python: &Path) -> String {
    let out = make(dir, python);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "make failed:\n{text}");
    text
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read(dir.join("build/frozen/manifest.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn modules(dir: &Path) -> Vec<String> {
    manifest(dir)["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_fragment_reruns_the_freeze_for_every_change_that_matters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_tree(
        d,
        &[
            ("Makefile", MAKEFILE.as_bytes()),
            ("pyfreeze.toml", SPEC.as_bytes()),
            ("app/tally/__init__.py", b"from tally import extra\n"),
            ("app/tally/extra.py", b"X = 1\n"),
        ],
    );
    let py311 = python(11);
    // The default PYFREEZE, found on PATH.
    make_ok(d, &py311);
    assert!(modules(d).contains(&"tally.extra".to_string()));
    let again = make_ok(d, &py311);
    assert!(
        !again.contains("pyfreeze freeze"),
        "nothing changed, yet:\n{again}"
    );

    // A deleted frozen module: no "No rule to make target", and it leaves the table.
    std::fs::remove_file(d.join("app/tally/extra.py")).unwrap();
    make_ok(d, &py311);
    assert!(!modules(d).contains(&"tally.extra".to_string()));

    // A deleted depfile: the freeze runs again.
    std::fs::remove_file(d.join("build/frozen/deps.mk")).unwrap();
    let out = make_ok(d, &py311);
    assert!(out.contains("pyfreeze freeze"), "{out}");
    assert!(d.join("build/frozen/deps.mk").is_file());

    // Another interpreter: the tables are made again, for it.
    assert_eq!(manifest(d)["target"]["version"], "3.11");
    make_ok(d, &python(12));
    assert_eq!(manifest(d)["target"]["version"], "3.12");
}

#[test]
fn a_pyfreeze_that_is_not_on_path_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("Makefile", MAKEFILE.as_bytes()),
            ("pyfreeze.toml", SPEC.as_bytes()),
        ],
    );
    let out = run(Command::new("make")
        .arg(format!("REPO={}", repo().display()))
        .arg(format!("PYFREEZE_PYTHON={}", python(11).display()))
        .arg("PYFREEZE=no-such-pyfreeze")
        .current_dir(dir.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "PYFREEZE=no-such-pyfreeze is not on PATH; set PYFREEZE to the pyfreeze binary"
        ),
        "{err}"
    );
}

/// A Makefile that compiles every generated C file into one folder of objects, named by base
/// name, and combines them into one object (`cc -r`), in which no pyfreeze symbol may be
/// left undefined: a module and its package's data once made the same object name.
const FLAT_MAKEFILE: &str = "\
include build/frozen/sources.mk
OBJS := $(addprefix obj/,$(notdir $(PYFREEZE_GENERATED_C:.c=.o)))
vpath %.c $(sort $(dir $(addprefix build/frozen/,$(PYFREEZE_GENERATED_C))))
frozen.o: $(OBJS)
\t$(CC) -r -o $@ $^
obj/%.o: %.c | obj
\t$(CC) -c -I$(PYINC) -Ibuild/frozen -o $@ $<
obj:
\tmkdir -p $@
";

#[test]
fn the_generated_files_compile_into_one_folder_of_objects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_tree(
        d,
        &[
            ("Makefile", FLAT_MAKEFILE.as_bytes()),
            // A package with data, and modules named like the fixed files.
            ("app/tally/__init__.py", b"X = 1\n"),
            ("app/tally/levels.txt", b"1 2 3\n"),
            ("app/pyfreeze_table.py", b"Y = 2\n"),
        ],
    );
    let py = python(11);
    let out = run(Command::new(pyfreeze_bin())
        .args([
            "freeze",
            "--quiet",
            "--root",
            "app",
            "--out",
            "build/frozen",
            "--python",
        ])
        .arg(&py)
        .current_dir(d));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let include = run(Command::new(&py).args([
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['include'])",
    ]));
    let include = String::from_utf8(include.stdout).unwrap();
    let out = run(Command::new("make")
        .arg("--no-print-directory")
        .arg(format!("PYINC={}", include.trim()))
        .current_dir(d));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nm = run(Command::new("nm").args(["-u", "frozen.o"]).current_dir(d));
    let undefined = String::from_utf8(nm.stdout).unwrap();
    let ours: Vec<_> = undefined
        .lines()
        .filter(|l| l.contains("pyfreeze_"))
        .collect();
    assert!(ours.is_empty(), "undefined after flattening: {ours:?}");
    let objects = std::fs::read_dir(d.join("obj")).unwrap().count();
    assert_eq!(
        objects, 9,
        "table, stock table, runtime and its audit-hook half, source reader, 3 modules (with the \
         runtime's), 1 package's data"
    );
}

/// An interpreter whose development files lack a static libpython (`LIBPL` is an empty folder
/// here, through sysconfig data modules of the test's own), and then the shared one too
/// (`LIBDIR`): `auto` links the shared library, and says why it wanted it when there is none;
/// `static` names the missing archive and the fix; nothing runs.
#[test]
fn a_missing_static_libpython_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("Makefile", MAKEFILE.as_bytes()),
            ("pyfreeze.toml", SPEC.as_bytes()),
            ("app/tally.py", b"X = 1\n"),
        ],
    );
    let py = python(11);
    let query = |code: &str| pyfreeze_tests::run_ok(Command::new(&py).args(["-S", "-c", code]));
    let real = query("import sysconfig; print(sysconfig._get_sysconfigdata_name())");
    let empty = dir.path().join("no-libpython");
    let fake = dir.path().join("fake");
    std::fs::create_dir_all(&empty).unwrap();
    let module = |more: &str| {
        format!(
            "import importlib\nbuild_time_vars = dict(importlib.import_module({:?}).build_time_vars, LIBPL={:?}{more})\n",
            real.trim(),
            empty.display().to_string()
        )
    };
    let no_shared = format!(", LIBDIR={:?}", empty.display().to_string());
    write_tree(
        &fake,
        &[
            ("_sysconfigdata_no_static.py", module("").as_bytes()),
            (
                "_sysconfigdata_no_libpython.py",
                module(&no_shared).as_bytes(),
            ),
        ],
    );
    let make = |data: &str, link: &str| {
        run(Command::new("make")
            .arg("--no-print-directory")
            .arg(format!("REPO={}", repo().display()))
            .arg(format!("PYFREEZE_PYTHON={}", py.display()))
            .arg(format!("PYFREEZE={}", pyfreeze_bin().display()))
            .arg(format!("PYFREEZE_PY_LINK={link}"))
            .args([
                "--eval",
                "show-link: ; @echo $(PYFREEZE_PY_LDFLAGS)",
                "show-link",
            ])
            .env(
                "_PYTHON_SYSCONFIGDATA_NAME",
                format!("_sysconfigdata_{data}"),
            )
            .env("PYTHONPATH", &fake)
            .current_dir(dir.path()))
    };
    let failed = |data: &str, link: &str| {
        let out = make(data, link);
        assert!(!out.status.success(), "{data} {link}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let archive = empty.join("libpython3.11.a");
    let err = failed("no_static", "static");
    assert!(
        err.contains(&format!(
            "pyfreeze.mk: PYFREEZE_PY_LINK=static links {}, which does not exist; install the \
             interpreter's static library (Debian: libpythonX.Y-dev; pyenv builds it) or link the \
             shared one (PYFREEZE_PY_LINK=shared)",
            archive.display()
        )),
        "{err}"
    );
    let err = failed("no_libpython", "auto");
    assert!(
        err.contains(&format!(
            "pyfreeze.mk: PYFREEZE_PY_LINK=auto links {}/libpython3.11.so (there is no static one: \
             {}), which does not exist; install the interpreter's development files",
            empty.display(),
            archive.display()
        )),
        "{err}"
    );
    assert!(!dir.path().join("build").exists());
    // pyenv's CPython has a shared libpython too: auto links it.
    let out = make("no_static", "auto");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let libdir = query("import sysconfig; print(sysconfig.get_config_var('LIBDIR'))");
    assert!(
        shown
            .lines()
            .last()
            .unwrap_or("")
            .starts_with(&format!("-L{} -lpython3.11 ", libdir.trim())),
        "{shown}"
    );
}
