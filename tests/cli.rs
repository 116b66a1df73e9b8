//! The `pyfreeze` command: bad input fails clearly and changes nothing; output is
//! reproducible and rewritten only where it changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pyfreeze_tests::{
    copy_tree, first_difference, pyfreeze_bin, python, run, run_ok, snapshot, write_tree, APP,
};

fn freeze(args: &[&str], cwd: &Path) -> Output {
    run(Command::new(pyfreeze_bin())
        .arg("freeze")
        .args(args)
        .current_dir(cwd))
}

fn py311() -> String {
    python(11).to_string_lossy().into_owned()
}

/// A temp folder with the app and a good output folder made from it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), APP);
        let f = Fixture { dir };
        let out = f.freeze(&[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        f
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    fn freeze(&self, extra: &[&str]) -> Output {
        let py = py311();
        let mut args = vec![
            "--python",
            py.as_str(),
            "--root",
            "app",
            "--out",
            "out",
            "-q",
        ];
        args.extend_from_slice(extra);
        freeze(&args, self.path())
    }

    /// Runs a failing freeze and checks the message and that `out/` did not change.
    fn fails(&self, extra: &[&str], expect: &[&str]) -> String {
        let before = snapshot(&self.out());
        let out = self.freeze(extra);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "expected failure, got success: {stderr}"
        );
        assert_eq!(out.status.code(), Some(1));
        for e in expect {
            assert!(stderr.contains(e), "stderr lacks {e:?}:\n{stderr}");
        }
        let after = snapshot(&self.out());
        assert!(
            first_difference(&before, &after).is_none(),
            "output changed: {:?}",
            first_difference(&before, &after)
        );
        stderr
    }
}

#[test]
fn syntax_errors_are_all_reported_with_positions() {
    let f = Fixture::new();
    write_tree(
        f.path(),
        &[
            ("app/game/broken.py", b"def f(:\n    pass\n"),
            ("app/game/also.py", b"x = 1\n  y = 2\n"),
        ],
    );
    let err = f.fails(
        &[],
        &[
            "2 file(s) do not compile",
            "app/game/also.py:2:2: unexpected indent",
            "app/game/broken.py:1:7: invalid syntax",
        ],
    );
    // Sorted by path: also.py before broken.py.
    assert!(
        err.find("also.py").unwrap() < err.find("broken.py").unwrap(),
        "{err}"
    );
}

#[test]
fn non_utf8_source_without_cookie_names_the_fix() {
    let f = Fixture::new();
    write_tree(f.path(), &[("app/game/latin.py", b"NAME = 'caf\xe9'\n")]);
    f.fails(&[], &["app/game/latin.py:1:", "utf-8", "PEP 263"]);
}

#[test]
fn module_clashes_are_errors() {
    let f = Fixture::new();
    write_tree(f.path(), &[("app/tool/__init__.py", b"")]);
    f.fails(
        &[],
        &[
            "module `tool` is defined twice",
            "app/tool.py",
            "app/tool/__init__.py",
        ],
    );
    let g = Fixture::new();
    write_tree(g.path(), &[("other/game/__init__.py", b"")]);
    g.fails(
        &["--root", "other"],
        &["module `game` is found in two roots"],
    );
}

#[test]
fn module_names_that_give_one_c_symbol_are_errors_naming_both() {
    let f = Fixture::new();
    // Both sanitise to `m____` and share the 32 bits of hash a C symbol keeps.
    let (a, b) = ("m\u{e0}\u{f8}\u{e4}\u{f1}", "m\u{e1}\u{fe}\u{e5}\u{e5}");
    let (a_py, b_py) = (format!("app/{a}.py"), format!("app/{b}.py"));
    write_tree(f.path(), &[(&a_py, b"x = 1\n"), (&b_py, b"x = 2\n")]);
    f.fails(
        &[],
        &[
            &a_py,
            &b_py,
            "both become the C symbol",
            "rename one of them",
        ],
    );
}

#[test]
fn invalid_names_and_unmatched_includes_are_errors() {
    let f = Fixture::new();
    write_tree(f.path(), &[("app/my game/__init__.py", b"")]);
    f.fails(
        &[],
        &[
            "`my game` is not a valid module name",
            "--exclude 'my game/__init__.py'",
        ],
    );
    let g = Fixture::new();
    g.fails(
        &["--include", "gaem.**"],
        &["include pattern `gaem.**` matches no module"],
    );
    // A file an `import` statement cannot name is not frozen as `game.my-helper`.
    let h = Fixture::new();
    write_tree(h.path(), &[("app/game/my-helper.py", b"")]);
    h.fails(
        &[],
        &[
            "`game.my-helper` is not a valid module name (an `import` statement cannot name it",
            "rename it to `my_helper.py`, or exclude it with `--exclude 'game/my-helper.py'` \
             (or include it by name, `--include 'game.my-helper'`",
        ],
    );
    // Named by an include, it is frozen, for `importlib.import_module` (as CPython's build
    // freezes its `_sysconfigdata_*-linux-gnu`).
    let out = h.freeze(&[
        "--include",
        "game",
        "--include",
        "game.my-helper",
        "--include",
        "tool",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An exclude that drops nothing is most likely misspelt.
    let e = Fixture::new();
    e.fails(
        &["--exclude", "game.tset"],
        &[
            "exclude pattern `game.tset` matches nothing under",
            "or drop it",
        ],
    );
}

#[test]
fn an_exclude_refining_several_roots_needs_to_match_in_one() {
    let f = Fixture::new();
    write_tree(f.path(), &[("tools/build.py", b"")]);
    let out = f.freeze(&["--root", "tools", "--exclude", "build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_interpreter_and_version_mismatch() {
    let f = Fixture::new();
    let before = snapshot(&f.out());
    let out = freeze(
        &[
            "--python",
            "/nonexistent/python3.11",
            "--root",
            "app",
            "--out",
            "out",
        ],
        f.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("/nonexistent/python3.11")
            && err.contains("cannot run it")
            && err.contains("hint: pass the path"),
        "{err}"
    );
    let py13 = python(13);
    let out = freeze(
        &[
            "--python",
            py13.to_str().unwrap(),
            "--target-version",
            "3.11",
            "--root",
            "app",
            "--out",
            "out",
        ],
        f.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("is CPython 3.13.") && err.contains("the spec asks for 3.11"),
        "{err}"
    );
    assert!(first_difference(&before, &snapshot(&f.out())).is_none());
}

#[test]
fn spec_errors_name_the_file() {
    let f = Fixture::new();
    write_tree(f.path(), &[("bad.toml", b"stdlb = true\n")]);
    f.fails(&["--spec", "bad.toml"], &["bad.toml", "stdlb"]);
}

#[test]
fn refuses_a_folder_it_did_not_make() {
    let f = Fixture::new();
    write_tree(f.path(), &[("precious/notes.txt", b"keep me")]);
    let py = py311();
    let out = freeze(
        &["--python", &py, "--root", "app", "--out", "precious"],
        f.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pyfreeze output folder"));
    assert_eq!(snapshot(&f.path().join("precious")).len(), 1);
}

#[test]
fn unchanged_inputs_write_nothing_and_a_change_rewrites_only_its_files() {
    let f = Fixture::new();
    let first = snapshot(&f.out());
    let out = f.freeze(&[]);
    assert!(out.status.success());
    assert_eq!(snapshot(&f.out()), first);
    write_tree(
        f.path(),
        &[(
            "app/game/engine.py",
            b"def tick(n):\n    return n + 2  # faster\n",
        )],
    );
    let py = py311();
    let out = run(Command::new(pyfreeze_bin())
        .args(["freeze", "--python", &py, "--root", "app", "--out", "out"])
        .current_dir(f.path()));
    assert!(out.status.success());
    let second = snapshot(&f.out());
    let changed: Vec<&str> = second
        .keys()
        .filter(|k| first.get(*k) != second.get(*k))
        .map(String::as_str)
        .collect();
    // The module's file, the table (its source size changed), the code file and the manifest;
    // the stock table only if the bytecode size changed.
    for must in [
        "code.bin",
        "manifest.json",
        "modules/game.engine.c",
        "pyfreeze_table.c",
    ] {
        assert!(changed.contains(&must), "{must} not rewritten: {changed:?}");
    }
    assert!(
        changed
            .iter()
            .all(|c| c.starts_with("modules/game.engine") || !c.starts_with("modules/")),
        "{changed:?}"
    );
    assert!(changed.len() <= 5, "{changed:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(": {} written,", changed.len())),
        "{err}"
    );
}

#[test]
fn output_is_identical_from_two_checkout_paths_with_an_origin_map() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("deeper/checkout/b");
    for dir in [&a, &b] {
        write_tree(dir, APP);
        write_tree(
            dir,
            &[(
                "pyfreeze.toml",
                format!("python = {:?}\norigin_map = [\".=/src\"]\nout = \"out\"\n[[root]]\npath = \"app\"\n", py311()).as_bytes(),
            )],
        );
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["freeze", "-q", "--spec", "pyfreeze.toml"])
                .current_dir(dir),
        );
    }
    let (sa, sb) = (snapshot(&a.join("out")), snapshot(&b.join("out")));
    assert!(
        first_difference(&sa, &sb).is_none(),
        "{:?}",
        first_difference(&sa, &sb)
    );
    let manifest = String::from_utf8(sa["manifest.json"].clone()).unwrap();
    assert!(
        manifest.contains("\"origin\": \"/src/app/game/engine.py\""),
        "{manifest}"
    );
    // And the same from a spec given by a relative path from elsewhere.
    let c = tmp.path().join("c");
    copy_tree(&a, &c);
    std::fs::remove_dir_all(c.join("out")).unwrap();
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["freeze", "-q", "--spec", "c/pyfreeze.toml"])
            .current_dir(tmp.path()),
    );
    assert!(first_difference(&sa, &snapshot(&c.join("out"))).is_none());
}

#[test]
fn stdlib_freeze_is_deterministic_across_worker_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let py = py311();
    for (jobs, out) in [("1", "one"), ("2", "two")] {
        run_ok(
            Command::new(pyfreeze_bin())
                .args([
                    "freeze", "-q", "--stdlib", "--python", &py, "-j", jobs, "--out", out,
                ])
                .current_dir(tmp.path()),
        );
    }
    let (one, two) = (
        snapshot(&tmp.path().join("one")),
        snapshot(&tmp.path().join("two")),
    );
    assert!(one.len() > 600, "{} files", one.len());
    assert!(
        first_difference(&one, &two).is_none(),
        "{:?}",
        first_difference(&one, &two)
    );
}

#[test]
fn list_prints_the_selection_without_writing() {
    let f = Fixture::new();
    let py = py311();
    let out = run_ok(
        Command::new(pyfreeze_bin())
            .args([
                "list",
                "--python",
                &py,
                "--root",
                "app",
                "--exclude",
                "tool",
                "--no-runtime",
            ])
            .current_dir(f.path()),
    );
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let names: Vec<_> = rows.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        names,
        [
            ("game", "package"),
            ("game.engine", "module"),
            ("game/assets/level.txt", "data")
        ]
    );
    assert_eq!(
        Path::new(rows[2][2]),
        f.path()
            .canonicalize()
            .unwrap()
            .join("app/game/assets/level.txt")
    );
}

#[test]
fn depfile_lists_inputs_and_folders() {
    let f = Fixture::new();
    let out = f.freeze(&["--depfile", "out/deps.mk", "--depfile-target", "out/.stamp"]);
    assert!(out.status.success());
    let dep = std::fs::read_to_string(f.out().join("deps.mk")).unwrap();
    assert!(dep.starts_with("out/.stamp:"), "{dep}");
    for input in [
        "app/game/engine.py",
        "app/game/assets/level.txt",
        "app/game/assets \\",
        "app/tool.py",
    ] {
        assert!(dep.contains(input), "{input} missing from\n{dep}");
    }
}

/// `pyfreeze spec` prints the effective spec; with every option given as a flag (its
/// declared example) on top of a spec file, what it prints reads back as the same spec the
/// library resolves from the same sources: flags ↔ TOML ↔ `Spec`.
#[test]
fn every_option_round_trips_from_flags_through_the_printed_spec() {
    use pyfreeze_gen::spec::OPTIONS;
    use pyfreeze_gen::{Source, Spec, SpecBuilder};
    let dir = tempfile::tempdir().unwrap();
    let file_text = "stdlib_exclude = [\"email\"]\njobs = 7\n[[root]]\npath = \"lib\"\n";
    std::fs::write(dir.path().join("pyfreeze.toml"), file_text).unwrap();
    let mut args = vec!["spec".to_string(), "--spec".into(), "pyfreeze.toml".into()];
    let mut flags = SpecBuilder::with_source(Source::Flags, dir.path());
    for o in OPTIONS {
        args.push(format!("--{}", o.flag));
        if o.switch_sets.is_none() {
            args.push(o.example.to_string());
        }
        flags.set_text(o.field, o.example).unwrap();
    }
    let printed = run_ok(
        Command::new(pyfreeze_bin())
            .args(&args)
            .current_dir(dir.path()),
    );
    let file = SpecBuilder::from_toml(
        file_text,
        dir.path(),
        Source::File(dir.path().join("pyfreeze.toml")),
    )
    .unwrap();
    let expected = Spec::from_layers(&[&file, &flags]).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let again = Spec::from_toml(&printed, elsewhere.path(), "printed").unwrap();
    assert_eq!(again, expected, "{printed}");
    // Lists add up (the file's exclusion stays), single values of the flags win.
    let example = |field| OPTIONS.iter().find(|o| o.field == field).unwrap().example;
    assert_eq!(again.stdlib_exclude(), ["email", example("stdlib_exclude")]);
    assert_eq!(again.jobs().to_string(), example("jobs"));
    assert_ne!(example("jobs"), "7");
    assert_eq!(again.roots().len(), 2);
}

#[test]
fn a_bad_flag_value_names_the_flag_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(pyfreeze_bin())
        .args(["spec", "--stdlib", "--optimize", "3"])
        .current_dir(dir.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("command line: `--optimize` is 3, out of range (0, 1 or 2)"),
        "{err}"
    );
}

/// Every pyenv interpreter pyfreeze does not support (2.7, 3.8, 3.9, ... whichever are
/// installed; the machine has at least 3.8): named with its version, not a worker's
/// `SyntaxError`.
#[test]
fn an_unsupported_interpreter_is_named_with_its_version() {
    let root = pyfreeze_gen::pyenv::root(std::env::var_os("PYENV_ROOT"), std::env::var_os("HOME"))
        .expect("pyenv's root");
    let mut tried = Vec::new();
    for entry in std::fs::read_dir(root.join("versions")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let mut parts = name.split('.').map(|p| p.parse::<u8>());
        let (Some(Ok(major)), Some(Ok(minor)), Some(Ok(_))) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if pyfreeze_gen::PythonVersion::find(major, minor).is_some() {
            continue;
        }
        let python = root.join(format!("versions/{name}/bin/python{major}.{minor}"));
        let dir = tempfile::tempdir().unwrap();
        let out = freeze(
            &[
                "--python",
                python.to_str().unwrap(),
                "--root",
                ".",
                "--out",
                "out",
            ],
            dir.path(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(&format!(
                "is CPython {name}, which pyfreeze does not support (supported: 3.10, 3.11, 3.12, 3.13, 3.14, 3.15)"
            )),
            "{err}"
        );
        assert!(!err.contains("SyntaxError"), "{err}");
        assert!(!dir.path().join("out").exists());
        tried.push(name);
    }
    assert!(
        !tried.is_empty(),
        "pyenv has no unsupported interpreter (3.8 is expected)"
    );
}

/// Tables for 3.13 compiled against 3.11's headers: one error naming both versions and the
/// fix, not a cascade of layout assertions.
#[test]
fn tables_compiled_against_another_versions_headers_name_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("app/tally.py", b"X = 1\n")]);
    let py313 = python(13);
    let out = freeze(
        &[
            "--python",
            py313.to_str().unwrap(),
            "--root",
            "app",
            "--out",
            "out",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let include = run_ok(Command::new(python(11)).args([
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['include'])",
    ]));
    let out = run(Command::new("gcc")
        .args(["-c", "-o", "/dev/null", "-Iout"])
        .arg(format!("-I{}", include.trim()))
        .arg("out/pyfreeze_runtime.c")
        .current_dir(dir.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("pyfreeze: the tables are for CPython 3.13, but Python.h is CPython 3.11."),
        "{err}"
    );
    assert!(
        err.contains("regenerate the tables with the interpreter"),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

/// A partial stdlib that misses a module the app imports fails the freeze, naming the file,
/// the line, the module and the fix; a guarded optional import only warns; a module the
/// selection has, a built-in one, an extension module, the app's own or one under
/// `if TYPE_CHECKING:` pass; the check is off with the whole stdlib or `--no-check-imports`.
#[test]
fn a_partial_stdlib_missing_an_app_import_is_an_error() {
    let f = Fixture::new();
    write_tree(
        f.path(),
        &[(
            "app/game/paths.py",
            b"import json, sys, _csv\nfrom game import engine\n\ndef home():\n    import pathlib\n    return pathlib.Path.home()\n\ntry:\n    import tomllib\nexcept ImportError:\n    tomllib = None\nTYPE_CHECKING = False\nif TYPE_CHECKING:\n    import zipfile\n",
        )],
    );
    let partial = ["--stdlib", "--stdlib-include", "json"];
    let out = f.freeze(&partial);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let paths = f.path().join("app/game/paths.py");
    assert_eq!(
        stderr,
        format!(
            "error: 1 import(s) of stdlib modules that are not frozen (the program would stop with \
             `No module named ...`):\n  {}:5: imports `pathlib`, a stdlib module of CPython 3.11 \
             that `stdlib_include` does not select\n  hint: add them to the stdlib: stdlib_include \
             = [\"pathlib\"] in the spec (`--stdlib-include`, `Build::stdlib_include`), or compute \
             the whole list by running the app under `pyfreeze trace`; `check_imports = false` \
             turns this check off\n",
            paths.display()
        )
    );

    let out = f.freeze(&[&partial[..], &["--stdlib-include", "pathlib"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "pyfreeze: warning: {}:9: optional import of `tomllib` (inside try/except \
             ImportError) fails: it is a stdlib module of CPython 3.11 that `stdlib_include` does \
             not select; add it if the program should use it\n",
            paths.display()
        )
    );

    for ok in [
        &["--stdlib"][..],
        &[&partial[..], &["--no-check-imports"]].concat(),
    ] {
        let out = f.freeze(ok);
        assert!(
            out.status.success(),
            "{ok:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A selected submodule brings its package (the `__init__` only), as game-embed's
/// `encodings/utf_8.py` needs `encodings`, in the stdlib and in the app's roots alike.
#[test]
fn a_selected_submodule_brings_its_parent_packages() {
    let f = Fixture::new();
    let py = py311();
    let out = run(Command::new(pyfreeze_bin())
        .args(["list", "--python", &py, "--no-runtime", "--root", "app"])
        .args(["--include", "game.engine", "--stdlib", "--stdlib-include"])
        .arg("encodings/utf_8.py")
        .current_dir(f.path()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let names: Vec<_> = stdout
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        names,
        vec![
            "encodings package",
            "encodings.utf_8 module",
            "game package",
            "game.engine module"
        ]
    );
    assert!(
        stderr.contains(
            "pyfreeze: note: also freezing the package(s) encodings, game (their __init__ only): \
             selected submodules are imported through them"
        ),
        "{stderr}"
    );
}

/// `cpython build` for a version without a patch series, or one pyfreeze does not know, is
/// refused before anything is fetched, with what to do instead.
#[test]
fn cpython_build_refuses_versions_without_a_series_and_names_the_alternative() {
    let prefix = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let build = |version: &str| {
        let out = run(Command::new(pyfreeze_bin())
            .args(["cpython", "build", "--version", version, "--prefix"])
            .arg(prefix.path().join("p"))
            .arg("--cache")
            .arg(cache.path()));
        assert_eq!(out.status.code(), Some(1), "{version}");
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    };
    assert_eq!(
        build("3.14"),
        "error: pyfreeze has no patch series for CPython 3.14 (series exist for 3.11, 3.13), so \
         it cannot build a patched 3.14; use the stock-libpython mode: `pyfreeze freeze` with \
         pyfreeze.mk or pyfreeze-build, linking python3.14's own libpython (docs/versions.md)"
    );
    assert_eq!(
        build("3.16"),
        "error: --version 3.16: not a supported CPython version (supported: 3.10, 3.11, 3.12, \
         3.13, 3.14, 3.15)"
    );
    assert!(!prefix.path().join("p").exists());
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

/// `cpython build --ccache` without ccache to run says what to install, before anything is
/// fetched or built.
#[test]
fn cpython_build_ccache_needs_ccache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = run(Command::new(pyfreeze_bin())
        .args([
            "cpython",
            "build",
            "--ccache",
            "--version",
            "3.11",
            "--prefix",
        ])
        .arg(dir.path().join("p"))
        .arg("--cache")
        .arg(&cache)
        .env("PATH", dir.path()));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: --ccache: cannot run ccache (")
            && err.contains("hint: install it (Debian: apt-get install ccache)"),
        "{err}"
    );
    assert!(!cache.exists() && !dir.path().join("p").exists());
}

/// `cpython build --source` takes a pristine tarball by path: one that is not a CPython
/// source tarball, or holds another version, is refused before anything is extracted or
/// built, with the fix.
#[test]
fn cpython_build_source_refuses_what_is_not_the_versions_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let build = |tarball: &Path| {
        let out = run(Command::new(pyfreeze_bin())
            .args(["cpython", "build", "--version", "3.11", "--prefix"])
            .arg(dir.path().join("p"))
            .arg("--cache")
            .arg(&cache)
            .arg("--source")
            .arg(tarball));
        assert_eq!(out.status.code(), Some(1), "{}", tarball.display());
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    };
    let missing = dir.path().join("Python-3.11.9.tar.xz");
    assert_eq!(
        build(&missing),
        format!("error: --source {}: no such file", missing.display())
    );
    let not_tar = dir.path().join("notes.txt");
    std::fs::write(&not_tar, "hello\n").unwrap();
    let err = build(&not_tar);
    assert!(
        err.starts_with(&format!(
            "error: --source {}: not a CPython source tarball",
            not_tar.display()
        )) && err.contains("hint: pass the pristine tarball from python.org"),
        "{err}"
    );
    // A tarball of 3.13 asked to build 3.11.
    write_tree(
        &dir.path().join("src"),
        &[("Python-3.13.1/Include/patchlevel.h", b"\n")],
    );
    let other = dir.path().join("Python-3.13.1.tar.gz");
    run_ok(
        Command::new("tar")
            .arg("-czf")
            .arg(&other)
            .arg("-C")
            .arg(dir.path().join("src"))
            .arg("Python-3.13.1"),
    );
    assert_eq!(
        build(&other),
        format!(
            "error: --source {} holds CPython 3.13.1, not 3.11\n  hint: pass --version 3.13",
            other.display()
        )
    );
    assert!(!cache.exists() && !dir.path().join("p").exists());
}

/// `pyfreeze list --sizes`: the bytes the manifest of the same freeze records, summed by
/// top-level package, largest first, with a header and a total; no source without it.
#[test]
fn list_sizes_sums_the_manifests_bytes_by_package() {
    let f = Fixture::new();
    let py = py311();
    let list = |extra: &[&str]| {
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["list", "--sizes", "--python", &py, "--root", "app"])
                .args(extra)
                .current_dir(f.path()),
        )
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.out().join("manifest.json")).unwrap()).unwrap();
    let top = |name: &str| name.split('.').next().unwrap().to_string();
    // package -> [modules, bytecode, source, data]
    let mut expected: std::collections::BTreeMap<String, [u64; 4]> = Default::default();
    for m in manifest["modules"].as_array().unwrap() {
        let row = expected
            .entry(top(m["name"].as_str().unwrap()))
            .or_default();
        row[0] += 1;
        row[1] += m["code_size"].as_u64().unwrap();
        // As stored: compressed or not, present whenever the source is.
        let stored = m["source_stored_size"].as_u64();
        assert_eq!(stored.is_some(), m["source_size"].is_u64(), "{m}");
        row[2] += stored.unwrap_or(0);
    }
    for r in manifest["resources"].as_array().unwrap() {
        expected
            .entry(top(r["package"].as_str().unwrap()))
            .or_default()[3] += r["size"].as_u64().unwrap();
    }
    assert!(
        expected.len() >= 2 && expected.values().any(|r| r[3] > 0),
        "{expected:?}"
    );

    let text = list(&[]);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("PACKAGE\tMODULES\tBYTECODE\tSOURCE\tDATA\tTOTAL")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let (last, rows) = rows.split_last().unwrap();
    let number = |s: &str| s.parse::<u64>().unwrap();
    let mut got = std::collections::BTreeMap::new();
    for r in rows {
        let n: Vec<u64> = r[1..].iter().map(|s| number(s)).collect();
        assert_eq!(n[4], n[1] + n[2] + n[3], "{r:?}");
        got.insert(r[0].to_string(), [n[0], n[1], n[2], n[3]]);
    }
    assert_eq!(got, expected, "{text}");
    let totals: Vec<u64> = rows.iter().map(|r| number(r[5])).collect();
    assert!(
        totals.windows(2).all(|w| w[0] >= w[1]),
        "not largest first:\n{text}"
    );
    assert_eq!(last[0], "<total>");
    let sum = |i: usize| rows.iter().map(|r| number(r[i])).sum::<u64>();
    for (i, cell) in last.iter().enumerate().skip(1) {
        assert_eq!(number(cell), sum(i), "column {i}:\n{text}");
    }

    // Without embedded source, the source column is zero and the rest unchanged.
    let text = list(&["--no-source"]);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[3], "0", "{text}");
        if let Some(e) = expected.get(cols[0]) {
            assert_eq!(number(cols[2]), e[1], "{text}");
        }
    }
}

/// `pyfreeze pack` writes the selection as one file, byte-identical from two checkouts (with an
/// origin map) and rewritten only when its bytes change; `pyfreeze inspect` lists it, with the
/// bytecode `freeze` gives; a damaged pack is an error naming it and the reason, and a spec
/// without bytecode writes no pack.
#[test]
fn packs_are_reproducible_and_inspect_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("deeper/b"));
    let spec = format!(
        "python = {:?}\norigin_map = [\".=/src\"]\nout = \"out\"\n[[root]]\npath = \"app\"\n",
        py311()
    );
    for dir in [&a, &b] {
        write_tree(dir, APP);
        write_tree(dir, &[("pyfreeze.toml", spec.as_bytes())]);
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["pack", "-q", "--spec", "pyfreeze.toml", "app.pyfz"])
                .current_dir(dir),
        );
    }
    let pack = std::fs::read(a.join("app.pyfz")).unwrap();
    assert_eq!(pack, std::fs::read(b.join("app.pyfz")).unwrap());
    assert_eq!(&pack[..8], b"PYFZ\r\n\x1a\n");
    let mtime = || {
        std::fs::metadata(a.join("app.pyfz"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = mtime();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let said = run(Command::new(pyfreeze_bin())
        .args(["pack", "--spec", "pyfreeze.toml", "app.pyfz"])
        .current_dir(&a));
    assert!(String::from_utf8_lossy(&said.stderr).contains("unchanged"));
    assert_eq!(mtime(), before, "an unchanged pack is not rewritten");

    let listing = run_ok(
        Command::new(pyfreeze_bin())
            .args(["inspect", "--verify", "app.pyfz"])
            .current_dir(&a),
    );
    let lines: Vec<&str> = listing.lines().collect();
    assert!(
        lines[0].starts_with("# pack app.pyfz: CPython 3.11."),
        "{listing}"
    );
    assert!(
        lines[0].contains(", 3 modules, 0 distributions,"),
        "{listing}"
    );
    // The same bytecode as the table `freeze` writes.
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["freeze", "-q", "--spec", "pyfreeze.toml"])
            .current_dir(&a),
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("out/manifest.json")).unwrap()).unwrap();
    let mut expected = vec!["NAME\tKIND\tBYTECODE\tSOURCE\tDATA\tORIGIN".to_string()];
    // (The pack leaves out the runtime module: the program reading it links the runtime.)
    for m in manifest["modules"].as_array().unwrap() {
        if m["name"] == "_pyfreeze_runtime" {
            continue;
        }
        let data = if m["name"] == "game" { 8 } else { 0 };
        expected.push(format!(
            "{}\t{}\t{}\t{}\t{data}\t{}",
            m["name"].as_str().unwrap(),
            m["kind"].as_str().unwrap(),
            m["code_size"],
            m["source_stored_size"],
            m["origin"].as_str().unwrap()
        ));
    }
    assert_eq!(lines[1..lines.len() - 1], expected, "{listing}");
    assert!(listing.contains("game/engine.py"), "{listing}");

    // `--from`: the pack of what the output folder holds is the pack of the same spec; a
    // folder whose C files no longer match its manifest is an error naming the file.
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["pack", "-q", "--from", "out", "from.pyfz"])
            .current_dir(&a),
    );
    assert_eq!(std::fs::read(a.join("from.pyfz")).unwrap(), pack);
    let engine = manifest["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "game.engine")
        .expect("game.engine in the manifest");
    let c_file = a.join("out").join(engine["c_file"].as_str().unwrap());
    let c = std::fs::read_to_string(&c_file).unwrap();
    let tampered = c.replacen("tick", "tack", 1);
    assert_ne!(c, tampered, "{c}");
    std::fs::write(&c_file, tampered).unwrap();
    let out = run(Command::new(pyfreeze_bin())
        .args(["pack", "--from", "out", "tampered.pyfz"])
        .current_dir(&a));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains(&format!(
                "module game.engine: its source in {}",
                engine["c_file"].as_str().unwrap()
            ))
            && !a.join("tampered.pyfz").exists(),
        "{err}"
    );

    // Damaged: truncated, or one byte of a module's code changed.
    std::fs::write(a.join("cut.pyfz"), &pack[..pack.len() - 3]).unwrap();
    let out = run(Command::new(pyfreeze_bin())
        .args(["inspect", "cut.pyfz"])
        .current_dir(&a));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("cut.pyfz: truncated:"),
        "{err}"
    );
    let mut changed = pack.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0x20;
    std::fs::write(a.join("changed.pyfz"), &changed).unwrap();
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["inspect", "changed.pyfz"])
            .current_dir(&a),
    );
    let out = run(Command::new(pyfreeze_bin())
        .args(["inspect", "--verify", "changed.pyfz"])
        .current_dir(&a));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("changed.pyfz: checksum mismatch"),
        "{err}"
    );

    // No bytecode, no pack.
    let out = run(Command::new(pyfreeze_bin())
        .args([
            "pack",
            "--spec",
            "pyfreeze.toml",
            "--no-bytecode",
            "none.pyfz",
        ])
        .current_dir(&a));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("embed_bytecode"),
        "{err}"
    );
    assert!(!a.join("none.pyfz").exists());
}
