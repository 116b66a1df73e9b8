//! The Cargo build-support crate (`build-support/pyfreeze-build`) and the Rust example
//! (`examples/game-embed`), driven through real Cargo builds:
//!
//! - a fixture crate (build.rs written per test, `build_support/main.rs`, `build_support/scripts`)
//!   built with a recording C compiler: the exact `cargo:` lines and compiler arguments;
//! - the Rust view of the table on every supported CPython, against the manifest and the C
//!   compiler's layout;
//! - rebuilds: a changed script reruns the build script, nothing changed is `Fresh`;
//! - bad input: one framed error naming the fix, exit status non-zero, no panic;
//! - game-embed built against pyenv's 3.11 and 3.13 and run from an empty folder.
//!
//! Every build shares one target folder (`target/build-support-tests`, apart from the
//! outer cargo's, so no lock is fought over, and kept between runs, so only the first builds
//! bindgen and cc), and a lock runs them one at a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

// Builds go to `target/build-support-tests` (or `PYFREEZE_TEST_TARGET_DIR`: the sid root's
// runs keep their own, since what its C compiler links runs on its C library only), with a
// clean environment.
use pyfreeze_tests::{
    copy_tree, example_cargo as cargo, example_target_dir as target_dir, python, repo, run,
};
use serde_json::Value;

/// One Cargo build at a time: they share a target folder.
fn cargo_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn must_succeed(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A standalone crate (its own workspace, the repository's lock file, the repository's
/// profile; edition 2024, while game-embed covers 2021) depending on pyfreeze-build by path. It is made anew at a fixed place under the
/// target folder, so each run's build replaces the last one's instead of adding to it.
struct Fixture {
    dir: PathBuf,
    name: String,
}

impl Fixture {
    fn new(name: &str, build_rs: &str) -> Fixture {
        let dir = target_dir().join("fixtures").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(
            &repo().join("tests/build_support/scripts"),
            &dir.join("scripts"),
        );
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::copy(
            repo().join("tests/build_support/main.rs"),
            dir.join("src/main.rs"),
        )
        .unwrap();
        std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [build-dependencies]\npyfreeze-build = {{ path = {:?} }}\n\n\
             [workspace]\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n",
            repo().join("build-support/pyfreeze-build").display().to_string()
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("build.rs"), build_rs).unwrap();
        Fixture {
            dir,
            name: name.to_string(),
        }
    }

    fn build(&self, env: &[(&str, &Path)], verbose: bool) -> Output {
        let mut cmd = cargo(&self.dir);
        cmd.arg("build");
        if verbose {
            cmd.arg("-v");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd)
    }

    fn binary(&self) -> PathBuf {
        target_dir().join("debug").join(&self.name)
    }

    /// The build script's OUT_DIR of the last build (the newest one of this package).
    fn out_dir(&self) -> PathBuf {
        let prefix = format!("{}-", self.name);
        std::fs::read_dir(target_dir().join("debug/build"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path().join("out"))
            .filter(|p| p.join("pyfreeze/manifest.json").is_file())
            .max_by_key(|p| {
                p.join("pyfreeze/manifest.json")
                    .metadata()
                    .unwrap()
                    .modified()
                    .unwrap()
            })
            .expect("an OUT_DIR with a manifest")
    }
}

const BUILD_RS: &str = r#"fn main() {
    pyfreeze_build::Build::new()
        .interpreter("3.11")
        .root("scripts")
        .origin_prefix("/fixture")
        .compile("pyfreeze");
}
"#;

/// The `cargo:` lines of a build script run, without cc's own (it tracks its variables:
/// CC, CFLAGS, AR, ...) and its debug prints.
fn our_cargo_lines(out_dir: &Path) -> Vec<String> {
    let output = std::fs::read_to_string(out_dir.parent().unwrap().join("output")).unwrap();
    output
        .lines()
        .filter(|l| l.starts_with("cargo:"))
        .filter(|l| {
            !l.starts_with("cargo:rerun-if-env-changed=")
                || l.contains("=PYFREEZE_")
                || l.contains("=PYENV_ROOT")
                || l.contains("=LIBCLANG_PATH")
                || l.contains("=BINDGEN_")
        })
        .map(str::to_string)
        .collect()
}

fn sysconfig(minor: u32, var: &str) -> String {
    sysconfig_of(&python(minor), var)
}

fn sysconfig_of(python: &Path, var: &str) -> String {
    let out = run(Command::new(python).args([
        "-I",
        "-c",
        &format!("import sysconfig; print(sysconfig.get_config_var('{var}'))"),
    ]));
    text(&out.stdout).trim().to_string()
}

#[test]
fn cargo_lines_and_compiler_arguments_are_exact() {
    let _lock = cargo_lock();
    let fx = Fixture::new("fixture-lines", BUILD_RS);
    let include = PathBuf::from(sysconfig(11, "INCLUDEPY"));
    let libpython = Path::new(&sysconfig(11, "LIBPL")).join(sysconfig(11, "LIBRARY"));
    let dynload = sysconfig(11, "DESTSHARED");
    // A config file pins the link flags, so the expected lines do not depend on how this
    // machine's CPython was configured.
    let cfg = fx.dir.join("python.cfg");
    std::fs::write(
        &cfg,
        format!(
            "version=3.11\ninclude_dir={}\nlibpython={}\nlibs=-ldl -L/opt/extra -lm\n\
             link_args=-Xlinker -export-dynamic\ndynload={dynload}\n",
            include.display(),
            libpython.display()
        ),
    )
    .unwrap();
    // A C compiler that records its arguments, then compiles.
    let log = fx.dir.join("cc.log");
    let shim = fx.dir.join("cc-shim");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec cc \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = fx.build(
        &[("PYFREEZE_PYTHON_CONFIG_FILE", &cfg), ("CC", &shim)],
        false,
    );
    must_succeed(&out, "fixture build");
    let out_dir = fx.out_dir();
    let exe = PathBuf::from(
        text(
            &run(Command::new(python(11)).args(["-I", "-c", "import sys; print(sys.executable)"]))
                .stdout,
        )
        .trim(),
    );
    let s = fx.dir.join("scripts");
    let mut expected: Vec<String> = vec![
        "cargo:rerun-if-env-changed=PYFREEZE_PYTHON".into(),
        "cargo:rerun-if-env-changed=PYENV_ROOT".into(),
        "cargo:rerun-if-env-changed=PYFREEZE_PYTHON_CONFIG_FILE".into(),
        format!("cargo:rerun-if-changed={}", cfg.display()),
        format!("cargo:rerun-if-changed={}", exe.display()),
        format!("cargo:rerun-if-changed={}", libpython.display()),
    ];
    for input in [
        "",
        "/app",
        "/app/__init__.py",
        "/app/data",
        "/app/data/config.txt",
        "/app/util.py",
        "/plugins",
        "/plugins/greet.py",
    ] {
        expected.push(format!("cargo:rerun-if-changed={}{input}", s.display()));
    }
    expected.extend([
        "cargo:rustc-link-lib=static=pyfreeze".to_string(),
        format!(
            "cargo:rustc-link-search=native={}",
            out_dir.join("pyfreeze-obj").display()
        ),
        format!(
            "cargo:rustc-link-search=native={}",
            libpython.parent().unwrap().display()
        ),
        "cargo:rustc-link-lib=static=python3.11".into(),
        "cargo:rustc-link-lib=dl".into(),
        "cargo:rustc-link-search=native=/opt/extra".into(),
        "cargo:rustc-link-lib=m".into(),
        "cargo:rustc-link-arg=-Xlinker".into(),
        "cargo:rustc-link-arg=-export-dynamic".into(),
        "cargo:rerun-if-env-changed=LIBCLANG_PATH".into(),
        "cargo:rerun-if-env-changed=BINDGEN_EXTRA_CLANG_ARGS".into(),
    ]);
    assert_eq!(our_cargo_lines(&out_dir), expected);

    // The compiler saw every generated C file once, with both include folders.
    let generated: Vec<String> = {
        let mk = std::fs::read_to_string(out_dir.join("pyfreeze/sources.mk")).unwrap();
        mk.split_whitespace()
            .filter(|w| w.ends_with(".c"))
            .map(|w| out_dir.join("pyfreeze").join(w).display().to_string())
            .chain(
                ["pyfreeze_layout.c", "pyfreeze_start.c"]
                    .map(|f| out_dir.join(f).display().to_string()),
            )
            .collect()
    };
    let calls = std::fs::read_to_string(&log).unwrap();
    for file in &generated {
        let matching: Vec<&str> = calls
            .lines()
            .filter(|c| c.ends_with(&format!(" -c {file}")))
            .collect();
        assert_eq!(matching.len(), 1, "{file} is compiled once:\n{calls}");
        let call = matching[0];
        assert!(
            call.contains(&format!("-I {}/pyfreeze ", out_dir.display())),
            "{call}"
        );
        assert!(
            call.contains(&format!("-I {} ", include.display())),
            "{call}"
        );
        assert!(
            !call.contains("-Wall"),
            "generated C is compiled without warnings: {call}"
        );
    }

    // The files the build left for the program and for people.
    let cfg_written = std::fs::read_to_string(out_dir.join("pyfreeze-python.cfg")).unwrap();
    assert!(
        cfg_written.contains("libs=-ldl -L/opt/extra -lm\n"),
        "{cfg_written}"
    );
    let rs = std::fs::read_to_string(out_dir.join("pyfreeze.rs")).unwrap();
    assert!(rs.starts_with("// Generated by pyfreeze-build from pyfreeze.h; do not edit.\n"));
    assert!(rs.contains("pub mod pyfreeze {"));
    let bin = run(&mut Command::new(fx.binary()));
    must_succeed(&bin, "fixture binary");
}

/// Parses the fixture binary's report into comparable rows.
fn report_rows(stdout: &str) -> (String, Vec<String>) {
    let mut lines = stdout.lines();
    let version = lines.next().unwrap().to_string();
    (version, lines.map(str::to_string).collect())
}

/// The same rows, from manifest.json.
fn manifest_rows(manifest: &Value) -> Vec<String> {
    let mut rows = Vec::new();
    for m in manifest["modules"].as_array().unwrap() {
        let source = m["source_size"].as_i64().unwrap_or(-1);
        rows.push(format!(
            "module {} {} {} {source} {}",
            m["name"].as_str().unwrap(),
            m["kind"].as_str().unwrap(),
            m["code_size"],
            m["origin"].as_str().unwrap()
        ));
    }
    for r in manifest["resources"].as_array().unwrap() {
        rows.push(format!(
            "resource {} {} {}",
            r["package"].as_str().unwrap(),
            r["path"].as_str().unwrap(),
            r["size"]
        ));
    }
    rows
}

#[test]
fn the_rust_view_matches_the_table_and_struct_frozen_on_every_version() {
    let _lock = cargo_lock();
    let fx = Fixture::new("fixture-layout", BUILD_RS);
    for minor in [10, 11, 12, 13] {
        the_rust_view_matches_the_table_and_struct_frozen(&fx, &python(minor), minor);
    }
}

/// The same on the system's own interpreters listed (paths, `:`-separated) in
/// `PYFREEZE_TEST_PYTHONS`: `ci/test.sh` runs it in the sid root (`ci/in-sid.sh`) for sid's
/// 3.13-3.15, whose libpython is linked shared (Debian's static archives are incomplete).
#[test]
#[ignore = "needs PYFREEZE_TEST_PYTHONS; ci/test.sh runs it"]
fn the_rust_view_matches_on_the_listed_system_interpreters() {
    let _lock = cargo_lock();
    let fx = Fixture::new("fixture-layout", BUILD_RS);
    for (py, minor) in pyfreeze_tests::listed_pythons() {
        the_rust_view_matches_the_table_and_struct_frozen(&fx, &py, minor);
    }
}

fn the_rust_view_matches_the_table_and_struct_frozen(fx: &Fixture, py: &Path, minor: u32) {
    let out = fx.build(&[("PYFREEZE_PYTHON", py)], false);
    must_succeed(&out, &format!("fixture build for 3.{minor}"));
    let err = text(&out.stderr);
    // No warning but the one saying that PYFREEZE_PYTHON picked another version than
    // the build script's `interpreter("3.11")`.
    let warnings: Vec<_> = err.lines().filter(|l| l.contains("warning")).collect();
    let overridden = format!(
        "warning: fixture-layout@0.1.0: PYFREEZE_PYTHON={} (CPython 3.{minor}) overrides \
         Build::interpreter(\"3.11\"); call Build::version to refuse any other version",
        py.display()
    );
    let expected: Vec<&str> = match minor {
        11 => vec![],
        _ => vec![&overridden],
    };
    assert_eq!(
        warnings, expected,
        "the generated code compiles cleanly:\n{err}"
    );
    // The binary checks Rust's layout against the C compiler's (the stock struct
    // against this version's struct _frozen) before it prints the table; the build
    // itself checked it against bindgen's reading of Python.h.
    let bin = run(&mut Command::new(fx.binary()));
    must_succeed(&bin, &format!("fixture binary for 3.{minor}"));
    let (version, rows) = report_rows(&text(&bin.stdout));
    assert_eq!(version, format!("python 3.{minor}"));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(fx.out_dir().join("pyfreeze/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rows, manifest_rows(&manifest), "3.{minor}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("module plugins namespace ")),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"resource app data/config.txt 10".to_string()),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r.starts_with("module app.util module ")
        && r.ends_with(" 32 /fixture/scripts/app/util.py")));

    // pyfreeze::Interpreter's errors, from an empty folder: settings refused before
    // CPython is touched, CPython's own PyStatus (no stdlib is frozen, so it finds no
    // `encodings`), then a second start.
    let empty = tempfile::tempdir().unwrap();
    let start = run(Command::new(fx.binary())
        .arg("--start")
        .current_dir(empty.path()));
    must_succeed(&start, &format!("fixture --start for 3.{minor}"));
    assert_eq!(
        text(&start.stdout),
        "relative path: Setting: sys.path entry `lib/python` is relative, so it would \
         depend on the current folder; pass an absolute path (e.g. one made from \
         std::env::current_exe())\n\
         NUL in argv: Setting: argument `a\\0b` contains a NUL byte, which CPython \
         cannot take\n\
         sys.path: [\"/opt/extra\", \"DYNLOAD\"]\n\
         no encodings: Python: CPython did not start: NO_ENCODINGS\n\
         twice: AlreadyStarted: CPython was already started by this process; it starts \
         once per process: keep the first Interpreter\n"
            .replace("DYNLOAD", &sysconfig_of(py, "DESTSHARED"))
            .replace(
                "NO_ENCODINGS",
                if minor >= 13 {
                    "Failed to import encodings module"
                } else {
                    "init_fs_encoding: failed to get the Python codec of the filesystem encoding"
                }
            ),
        "3.{minor}"
    );
    // 3.10-3.12's own report of the failed start shows the isolated configuration
    // (3.13 prints nothing).
    let err = text(&start.stderr);
    let dump: &[&str] = if minor >= 13 {
        &[]
    } else {
        &[
            "Python path configuration:",
            "  isolated = 1",
            "  environment = 0",
            "  user site = 0",
            "  import site = 0",
            "  sys.path = [",
        ]
    };
    for line in dump {
        assert!(
            err.lines().any(|l| l == *line),
            "3.{minor}: no {line:?} in:\n{err}"
        );
    }
}

fn fresh_line(name: &str) -> String {
    format!("Fresh {name} v0.1.0")
}

#[test]
fn a_changed_script_rebuilds_and_nothing_changed_is_fresh() {
    let _lock = cargo_lock();
    let fx = Fixture::new("fixture-rebuild", BUILD_RS);
    must_succeed(&fx.build(&[], false), "first build");
    let source = |name: &str| text(&run(Command::new(fx.binary()).args(["--source", name])).stdout);
    assert_eq!(source("app.util"), "def double(x):\n    return 2 * x\n");

    // Nothing changed: Cargo does not even rerun the build script.
    let out = fx.build(&[], true);
    must_succeed(&out, "second build");
    let err = text(&out.stderr);
    assert!(err.contains(&fresh_line(&fx.name)), "{err}");
    assert!(!err.contains("build-script-build`"), "{err}");

    // A script's content changes (same size, so only the bytes tell).
    let util = fx.dir.join("scripts/app/util.py");
    std::fs::write(&util, "def double(x):\n    return x * 2\n").unwrap();
    let out = fx.build(&[], true);
    must_succeed(&out, "build after a change");
    let err = text(&out.stderr);
    assert!(
        // Cargo names the first stale path it watches: the scripts folder (scanned
        // recursively) or the file.
        err.contains(&format!("Dirty {} v0.1.0", fx.name))
            && err.contains("): the file `scripts")
            && err.contains("` has changed"),
        "{err}"
    );
    assert!(err.contains("build-script-build`"), "{err}");
    assert_eq!(source("app.util"), "def double(x):\n    return x * 2\n");

    // A new module is noticed through its folder.
    std::fs::write(fx.dir.join("scripts/app/extra.py"), "X = 1\n").unwrap();
    let out = fx.build(&[], true);
    must_succeed(&out, "build after adding a module");
    assert!(text(&run(&mut Command::new(fx.binary())).stdout).contains("module app.extra module"));

    let out = fx.build(&[], true);
    must_succeed(&out, "build after the rebuilds");
    let err = text(&out.stderr);
    assert!(err.contains(&fresh_line(&fx.name)), "{err}");
}

/// The framed report in a failed build's stderr: the lines between the rules.
fn framed_error(out: &Output) -> Vec<String> {
    assert!(!out.status.success(), "the build should fail");
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "no panic, a framed error:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    let rules: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("-----------------------------"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(rules.len(), 2, "one frame:\n{err}");
    let body: Vec<String> = lines[rules[0] + 1..rules[1]]
        .iter()
        .map(|l| l.trim_start().to_string())
        .collect();
    assert!(
        body.iter().all(|l| l.starts_with("pyfreeze-build: ")),
        "{err}"
    );
    body
}

#[test]
fn bad_input_gives_one_framed_error_naming_the_fix() {
    let _lock = cargo_lock();
    let fx = Fixture::new("fixture-errors", BUILD_RS);

    // Missing interpreter.
    let body = framed_error(&fx.build(
        &[("PYFREEZE_PYTHON", Path::new("/nonexistent/bin/python3.11"))],
        false,
    ));
    assert_eq!(
        body,
        [
            "pyfreeze-build: error: target interpreter /nonexistent/bin/python3.11 does not exist",
            "pyfreeze-build: hint: set PYFREEZE_PYTHON (or call Build::interpreter) to a CPython \
             3.10-3.13 interpreter: a path, or a version such as `3.11` that pyenv has installed",
        ]
    );

    // An unsupported version.
    let body = framed_error(&fx.build(&[("PYFREEZE_PYTHON", Path::new("3.9"))], false));
    assert_eq!(
        body[0],
        "pyfreeze-build: error: PYFREEZE_PYTHON asks for CPython 3.9, which pyfreeze does not \
         support (supported: 3.10, 3.11, 3.12, 3.13, 3.14, 3.15)"
    );

    // libpython not found.
    let cfg = fx.dir.join("python.cfg");
    std::fs::write(
        &cfg,
        format!(
            "version=3.11\ninclude_dir={}\nlibpython=/nonexistent/libpython3.11.a\nlibs=\n\
             link_args=\ndynload=/d\n",
            sysconfig(11, "INCLUDEPY")
        ),
    )
    .unwrap();
    let body = framed_error(&fx.build(&[("PYFREEZE_PYTHON_CONFIG_FILE", &cfg)], false));
    assert_eq!(
        body[0],
        format!(
            "pyfreeze-build: error: static libpython not found: /nonexistent/libpython3.11.a \
             does not exist (from {})",
            cfg.display()
        )
    );
    assert!(body[1]
        .starts_with("pyfreeze-build: hint: use a CPython 3.11 built with its static library"));

    // Version mismatch: the build pins 3.11, the environment points at 3.13.
    std::fs::write(
        fx.dir.join("build.rs"),
        BUILD_RS.replace(
            ".interpreter(\"3.11\")",
            ".interpreter(\"3.11\").version(\"3.11\")",
        ),
    )
    .unwrap();
    let py13 = python(13);
    let body = framed_error(&fx.build(&[("PYFREEZE_PYTHON", &py13)], false));
    assert_eq!(
        body,
        [
            format!(
                "pyfreeze-build: error: target interpreter {} is CPython {}, but the build asks for 3.11",
                py13.display(),
                sysconfig(13, "py_version")
            ),
            "pyfreeze-build: hint: set PYFREEZE_PYTHON to a CPython 3.11 interpreter (e.g. \
             PYFREEZE_PYTHON=3.11), or change the version pinned in build.rs"
                .to_string(),
        ]
    );

    // A pattern that matches nothing.
    std::fs::write(
        fx.dir.join("build.rs"),
        BUILD_RS.replace(
            ".root(\"scripts\")",
            ".root(\"scripts\").include(\"app\").include(\"ap.util\")",
        ),
    )
    .unwrap();
    let body = framed_error(&fx.build(&[], false));
    assert_eq!(
        body,
        [
            "pyfreeze-build: error: 1 problem(s) in the selected modules:".to_string(),
            format!(
                "pyfreeze-build:   include pattern `ap.util` matches no module under {}; check the \
                 spelling (`.` separates names, `/` makes it a path pattern)",
                fx.dir.join("scripts").display()
            ),
            "pyfreeze-build: hint: fix the patterns passed to Build::include, Build::exclude or \
             Build::stdlib_include (or the spec file); docs/spec.md describes them"
                .to_string(),
        ]
    );

    // Stdlib patterns while the stdlib is off would be dropped without a word.
    std::fs::write(
        fx.dir.join("build.rs"),
        BUILD_RS.replace(
            ".root(\"scripts\")",
            ".root(\"scripts\").stdlib_include(\"json\")",
        ),
    )
    .unwrap();
    let body = framed_error(&fx.build(&[], false));
    assert_eq!(
        body,
        [
            "pyfreeze-build: error: `Build::stdlib_include` is given but the stdlib is not \
             frozen, so it would do nothing",
            "pyfreeze-build: hint: freeze the stdlib with `Build::stdlib`, or drop \
             `Build::stdlib_include`",
        ]
    );

    // A spec that leaves the code out, which only a patched CPython serves.
    std::fs::write(fx.dir.join("pyfreeze.toml"), "embed_bytecode = false\n").unwrap();
    std::fs::write(
        fx.dir.join("build.rs"),
        BUILD_RS.replace(
            ".root(\"scripts\")",
            ".root(\"scripts\").spec_file(\"pyfreeze.toml\")",
        ),
    )
    .unwrap();
    let body = framed_error(&fx.build(&[], false));
    assert_eq!(
        body,
        [
            "pyfreeze-build: error: pyfreeze.toml sets embed_bytecode = false: the table would \
             hold no code, which only a CPython patched by pyfreeze serves (from its deep-frozen \
             objects)",
            "pyfreeze-build: hint: remove embed_bytecode from pyfreeze.toml",
        ]
    );

    // A script that does not compile names the file, line and column.
    std::fs::write(fx.dir.join("build.rs"), BUILD_RS).unwrap();
    std::fs::write(
        fx.dir.join("scripts/app/util.py"),
        "def double(x)\n    return 2 * x\n",
    )
    .unwrap();
    let body = framed_error(&fx.build(&[], false));
    assert_eq!(body[0], "pyfreeze-build: error: 1 file(s) do not compile:");
    assert!(
        body[1].starts_with(&format!(
            "pyfreeze-build:   {}:1:",
            fx.dir.join("scripts/app/util.py").display()
        )),
        "{body:?}"
    );
}

/// game-embed built against one pyenv CPython, run from an empty folder.
fn check_game(minor: u32, selection: Option<&str>) {
    let mut cmd = cargo(&repo());
    cmd.args(["build", "-p", "game-embed"]);
    if let Some(s) = selection {
        cmd.env("PYFREEZE_PYTHON", s);
    }
    must_succeed(
        &run(&mut cmd),
        &format!("cargo build -p game-embed (3.{minor})"),
    );
    let empty = tempfile::tempdir().unwrap();
    let bin = target_dir().join("debug/game-embed");
    let game = |args: &[&str]| run(Command::new(&bin).args(args).current_dir(empty.path()));

    let out = game(&[]);
    must_succeed(&out, "game-embed");
    assert_eq!(
        text(&out.stdout),
        "level 'Meadow': 3 entities (hero, slime, bird)\n\
         tick 1: hero@(1,0) hp=12; slime@(4,2) hp=4; bird@(3,8) hp=1\n\
         tick 2: hero@(2,0) hp=12; slime@(3,2) hp=4; bird@(4,7) hp=1\n\
         tick 3: hero@(3,0) hp=12; slime@(2,2) hp=4; bird@(5,6) hp=1\n"
    );

    let out = game(&["--info"]);
    must_succeed(&out, "game-embed --info");
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(info["python"]
        .as_str()
        .unwrap()
        .starts_with(&format!("3.{minor}.")));
    assert_eq!(
        info["sys_path"],
        serde_json::json!([sysconfig(minor, "DESTSHARED")])
    );
    assert_eq!(info["game_file"], "/game-embed/scripts/game/__init__.py");
    assert_eq!(info["loader"], "PyfreezeLoader");
    assert_eq!(
        info["levels"],
        serde_json::json!(["meadow.json", "trap.json"])
    );

    let out = game(&["--crash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for expected in [
        "game-embed: a script raised an exception:",
        "Traceback (most recent call last):",
        "  File \"/game-embed/scripts/game/world.py\", line 26, in tick",
        "    entity.update(n)",
        "  File \"/game-embed/scripts/game/entities.py\", line 17, in update",
        "    blast = 10 // (self.fuse - tick)",
        "ZeroDivisionError: integer division or modulo by zero",
    ] {
        assert!(
            err.lines().any(|l| l == expected),
            "3.{minor}: no line {expected:?} in:\n{err}"
        );
    }

    // A mod, loaded into memory: the game package with a stronger hero in its meadow level
    // (package data) and its world script changed, from a pack that wins over the table.
    let mods = tempfile::tempdir().unwrap();
    let game_dir = mods.path().join("scripts/game");
    pyfreeze_tests::copy_tree(&repo().join("examples/game-embed/scripts/game"), &game_dir);
    let meadow = game_dir.join("levels/meadow.json");
    let level = std::fs::read_to_string(&meadow).unwrap();
    std::fs::write(&meadow, level.replace("\"hp\": 12", "\"hp\": 99")).unwrap();
    let world = game_dir.join("world.py");
    let script = std::fs::read_to_string(&world).unwrap();
    std::fs::write(&world, format!("{script}\nMODDED = True\n")).unwrap();
    let pack = mods.path().join("stronger-hero.pyfz");
    must_succeed(
        &run(Command::new(pyfreeze_tests::pyfreeze_bin())
            .args(["pack", "-q", "--python"])
            .arg(pyfreeze_tests::python(minor))
            .arg("--root")
            .arg(mods.path().join("scripts"))
            .arg("--origin-map")
            .arg(format!(
                "{}=/mods/stronger-hero",
                mods.path().join("scripts").display()
            ))
            .arg(&pack)),
        "pyfreeze pack (the mod)",
    );
    let pack = pack.to_str().unwrap();
    let out = game(&["--mod", pack, "--ticks", "1"]);
    must_succeed(&out, "game-embed --mod");
    assert_eq!(
        text(&out.stdout),
        "level 'Meadow': 3 entities (hero, slime, bird)\n\
         tick 1: hero@(1,0) hp=99; slime@(4,2) hp=4; bird@(3,8) hp=1\n"
    );
    let out = game(&[
        "--mod",
        pack,
        "--exec",
        "import game.world as w; print(w.MODDED, w.__file__)",
    ]);
    must_succeed(&out, "game-embed --mod --exec");
    assert_eq!(
        text(&out.stdout),
        "True /mods/stronger-hero/game/world.py\n"
    );
    let broken = mods.path().join("broken.pyfz");
    std::fs::write(&broken, &std::fs::read(pack).unwrap()[..100]).unwrap();
    let out = game(&["--mod", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "game-embed: pyfreeze: pack {}: truncated: 100 bytes, shorter than its header\n",
            broken.display()
        )
    );

    let out = game(&["--list-scripts"]);
    must_succeed(&out, "game-embed --list-scripts");
    let list = text(&out.stdout);
    assert!(list.contains("/game-embed/scripts/game/world.py"), "{list}");
    assert!(list.contains(" levels/trap.json"), "{list}");
    assert!(list.contains("3 game modules, "), "{list}");
    assert!(
        std::fs::read_dir(empty.path()).unwrap().next().is_none(),
        "it wrote nothing"
    );
}

#[test]
fn game_embed_runs_from_an_empty_folder_on_3_11_and_3_13() {
    let _lock = cargo_lock();
    check_game(11, None); // the default
    check_game(13, Some("3.13")); // selected by version
}

/// pyo3-embed built against one pyenv CPython and run from an empty folder: PyO3 calls
/// frozen Python through the interpreter `pyfreeze::Interpreter` started.
fn check_pyo3(minor: u32) {
    let mut cmd = cargo(&repo());
    cmd.args(["build", "-p", "pyo3-embed"])
        .env("PYFREEZE_PYTHON", format!("3.{minor}"));
    must_succeed(
        &run(&mut cmd),
        &format!("cargo build -p pyo3-embed (3.{minor})"),
    );
    let empty = tempfile::tempdir().unwrap();
    let bin = target_dir().join("debug/pyo3-embed");
    let embed = |args: &[&str]| run(Command::new(&bin).args(args).current_dir(empty.path()));

    let out = embed(&[]);
    must_succeed(&out, &format!("pyo3-embed (3.{minor})"));
    assert_eq!(
        text(&out.stdout),
        format!(
            "calc.fib(30) = 832040\n\
             calc.mean([1.0, 2.5, 4.0]) = 2.5\n\
             python: '3.{minor}'\n\
             file: '/pyo3-embed/python/calc/__init__.py'\n\
             loader: 'PyfreezeLoader'\n\
             sys_path: ['{}']\n\
             isolated: 1\n\
             utf8_mode: 1\n",
            sysconfig(minor, "DESTSHARED")
        )
    );

    // An exception raised in frozen code: PyErr::print (stderr) and
    // traceback.format_exception (stdout) both show the frozen source line.
    let out = embed(&["--crash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let traceback = [
        "Traceback (most recent call last):",
        "  File \"/pyo3-embed/python/calc/stats.py\", line 6, in mean",
        "    return total / len(values)",
        "ZeroDivisionError: division by zero",
    ];
    for (stream, what) in [(&out.stderr, "stderr"), (&out.stdout, "stdout")] {
        let lines = text(stream);
        for expected in traceback {
            assert!(
                lines.lines().any(|l| l == expected),
                "3.{minor}: no line {expected:?} in {what}:\n{lines}"
            );
        }
    }
    assert!(text(&out.stderr).starts_with("pyo3-embed: calc.mean([]) raised; PyErr::print says:\n"));
    assert!(text(&out.stdout).starts_with("traceback.format_exception, in Rust:\n"));

    // Interpreter::run_module: calc/__main__.py, with sys.argv, and its SystemExit status.
    let out = embed(&["--main", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "calc as __main__: fib(10) = 55, argv[1:] = ['--main', '3']\n"
    );
    assert_eq!(embed(&["--main"]).status.code(), Some(0));

    // The program of docs/embedding-rust.md's "PyO3" section (src/bin/minimal.rs).
    let out = run(Command::new(target_dir().join("debug/minimal")).current_dir(empty.path()));
    must_succeed(&out, &format!("minimal (3.{minor})"));
    assert_eq!(text(&out.stdout), "fib(30) = 832040\n");
    let err = text(&out.stderr);
    assert!(
        err.lines().any(|l| l == "    return total / len(values)"),
        "3.{minor}: {err}"
    );
    assert!(
        std::fs::read_dir(empty.path()).unwrap().next().is_none(),
        "it wrote nothing"
    );
}

#[test]
fn pyo3_embed_runs_from_an_empty_folder_on_3_10_to_3_13() {
    let _lock = cargo_lock();
    // PyO3 is built once (stable ABI, no libpython of its own); each version relinks.
    for minor in [11, 13, 10, 12] {
        check_pyo3(minor);
    }

    // A PyO3 that would link its own libpython is refused by pyfreeze-build's build script,
    // which sees PyO3's configuration through Cargo (before PyO3 itself is recompiled).
    let config = target_dir().join("pyo3-links-libpython.txt");
    std::fs::write(
        &config,
        "implementation=CPython\nversion=3.11\nshared=false\nlib_name=python3.11\n",
    )
    .unwrap();
    let mut cmd = cargo(&repo());
    cmd.args(["build", "-p", "pyo3-embed"])
        .env("PYO3_CONFIG_FILE", &config);
    let body = framed_error(&run(&mut cmd));
    assert_eq!(
        body[0],
        format!(
            "pyfreeze-build: error: PyO3 links libpython3.11 (static) itself, and \
             pyfreeze-build links the static {} of CPython 3.11: one program would hold two \
             libpythons",
            sysconfig(11, "LIBRARY")
        )
    );
    assert!(
        body.contains(&"pyfreeze-build:       suppress_build_script_link_lines=true".to_string()),
        "{body:?}"
    );
}

/// docs/embedding-rust.md's PyO3 program is examples/pyo3-embed/src/bin/minimal.rs, which
/// the test above builds and runs: the page's code compiles and does what it says.
#[test]
fn the_docs_pyo3_program_is_the_tested_one() {
    let page = std::fs::read_to_string(repo().join("docs/embedding-rust.md")).unwrap();
    let marker = "<!-- walkthrough: file my-app/src/main.rs -->\n```rust\n";
    let start = page.find(marker).expect("the PyO3 main.rs block") + marker.len();
    let block = &page[start..start + page[start..].find("```").unwrap()];
    let bin =
        std::fs::read_to_string(repo().join("examples/pyo3-embed/src/bin/minimal.rs")).unwrap();
    let code = &bin[bin.find("use pyo3::prelude::*;").unwrap()..];
    assert_eq!(block, code);
}
