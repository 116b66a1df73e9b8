//! `pyfreeze trace` on the app in `tests/trace_app/` (json at import, pathlib inside a
//! function, csv and colorsys imported and then deleted from `sys.modules`): the exact
//! patterns it prints, `--update` keeping the rest of the spec file byte for byte, and a
//! failing app failing the trace. On 3.11 and 3.13.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pyfreeze_tests::{copy_tree, pyfreeze_bin, python, repo, run};

/// A copy of the fixture app in a temp folder.
fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("tests/trace_app"), dir.path());
    dir
}

/// `pyfreeze SUBCOMMAND --python PY ARGS...`.
fn pyfreeze(args: &[&str], py: &Path, cwd: &Path) -> Output {
    run(Command::new(pyfreeze_bin())
        .arg(args[0])
        .arg("--python")
        .arg(py)
        .args(&args[1..])
        .current_dir(cwd))
}

fn ok(out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed:\n{stderr}\n{stdout}");
    (stdout, stderr)
}

/// The patterns of a printed `stdlib_include = [...]`, checking its exact layout.
fn patterns(printed: &str) -> Vec<String> {
    let body = printed
        .strip_prefix("stdlib_include = [\n")
        .and_then(|b| b.strip_suffix("]\n"))
        .unwrap_or_else(|| panic!("not a stdlib_include array:\n{printed}"));
    body.lines()
        .map(|l| {
            l.strip_prefix("    \"")
                .and_then(|l| l.strip_suffix("\","))
                .unwrap_or_else(|| panic!("line {l:?} is not `    \"pattern\",`"))
                .to_string()
        })
        .collect()
}

fn module_name(pattern: &str) -> String {
    pattern.trim_end_matches("/__init__.py").replace('/', ".")
}

fn trace_prints_exactly_what_the_app_loads(minor: u32) {
    let dir = app();
    let py: PathBuf = python(minor);
    let out = pyfreeze(&["trace", "--root", "src", "-m", "tapp"], &py, dir.path());
    let (stdout, stderr) = ok(&out);
    assert!(
        stderr.contains("pyfreeze: tracing -m tapp with ")
            && stderr.contains("exited with status 0"),
        "{stderr}"
    );
    // The app's own output is not mixed into the list.
    assert!(!stdout.contains("\"path\""), "{stdout}");
    let got = patterns(&stdout);
    let names: Vec<String> = got.iter().map(|p| module_name(p)).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted by module name, each once");

    let pathlib = if minor >= 13 {
        "pathlib/__init__.py"
    } else {
        "pathlib"
    };
    for want in [
        // start-up
        "encodings/__init__.py",
        "encodings.aliases",
        "encodings.utf_8",
        "codecs",
        "io",
        "abc",
        // the app's imports: at import time, inside a function, deleted afterwards
        "json/__init__.py",
        "json.decoder",
        "json.encoder",
        "json.scanner",
        "base64",
        pathlib,
        "csv",
        "colorsys",
        "importlib/__init__.py",
    ] {
        assert!(
            got.iter().any(|g| g == want),
            "{want} missing from\n{stdout}"
        );
    }
    for not in [
        "json",      // would select the whole package: packages are listed by __init__.py
        "tapp",      // the app's own
        "_csv",      // an extension module, stays on disk
        "sys",       // built in
        "site",      // -S
        "runpy",     // what python -m would import, not the app
        "encodings", // by name it would select every codec
        "encodings.latin_1",
    ] {
        assert!(!got.iter().any(|g| g == not), "{not} listed in\n{stdout}");
    }

    // What printing a traceback needs, as pyfreeze's runtime (traceback.print_exception) and
    // PyErr_Print (sys.excepthook; _colorize from 3.13) do it, unless --no-traceback; aliases
    // (importlib._bootstrap) are not modules.
    assert!(got.iter().any(|g| g == "traceback"), "{stdout}");
    assert_eq!(
        got.iter().any(|g| g == "_colorize"),
        minor >= 13,
        "{stdout}"
    );
    let report = ["traceback", "_colorize"];
    assert!(!got.iter().any(|g| g == "importlib._bootstrap"), "{stdout}");
    let lean = pyfreeze(
        &[
            "trace",
            "--root",
            "src",
            "-m",
            "tapp",
            "-q",
            "--no-traceback",
        ],
        &py,
        dir.path(),
    );
    let lean = patterns(&ok(&lean).0);
    assert!(
        lean.iter().all(|p| !report.contains(&p.as_str())),
        "{lean:?}"
    );

    // Deterministic: a second run prints the same bytes.
    let again = pyfreeze(
        &["trace", "--root", "src", "-m", "tapp", "-q"],
        &py,
        dir.path(),
    );
    assert_eq!(ok(&again).0, stdout);

    // The list passes freeze's import check of the same app.
    let mut args = vec!["freeze", "--root", "src", "--stdlib", "-o", "out", "-q"];
    for p in &got {
        args.extend(["--stdlib-include", p.as_str()]);
    }
    ok(&pyfreeze(&args, &py, dir.path()));
}

#[test]
fn trace_prints_exactly_what_the_app_loads_on_3_11() {
    trace_prints_exactly_what_the_app_loads(11);
}

#[test]
fn trace_prints_exactly_what_the_app_loads_on_3_13() {
    trace_prints_exactly_what_the_app_loads(13);
}

#[test]
fn update_rewrites_only_stdlib_include_and_is_byte_stable() {
    let dir = app();
    let py = python(11);
    let spec = dir.path().join("pyfreeze.toml");
    let before = std::fs::read_to_string(&spec).unwrap();
    let printed = ok(&pyfreeze(
        &["trace", "-s", "pyfreeze.toml", "-m", "tapp", "-q"],
        &py,
        dir.path(),
    ))
    .0;

    let (stdout, stderr) = ok(&pyfreeze(
        &["trace", "-s", "pyfreeze.toml", "-m", "tapp", "--update"],
        &py,
        dir.path(),
    ));
    assert_eq!(stdout, "", "--update prints no list");
    assert!(
        stderr.contains("rewrote stdlib_include in pyfreeze.toml"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(&spec).unwrap();
    let list = printed.trim_start_matches("stdlib_include = ").trim_end();
    let expected = before.replace(
        "stdlib_include = [\"json\"]  # stale",
        &format!("stdlib_include = {list}  # stale"),
    );
    assert_ne!(expected, before);
    assert_eq!(after, expected, "only the value changed, comments kept");

    let (_, stderr) = ok(&pyfreeze(
        &[
            "trace",
            "-s",
            "pyfreeze.toml",
            "-m",
            "tapp",
            "--update",
            "pyfreeze.toml",
        ],
        &py,
        dir.path(),
    ));
    assert!(stderr.contains("unchanged: stdlib_include"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), after);

    // The updated spec freezes, its import check satisfied.
    ok(&pyfreeze(
        &["freeze", "-s", "pyfreeze.toml", "-o", "out", "-q"],
        &py,
        dir.path(),
    ));
}

#[test]
fn a_failing_app_fails_the_trace_with_its_stderr_and_changes_nothing() {
    let dir = app();
    let py = python(11);
    let spec = dir.path().join("pyfreeze.toml");
    let before = std::fs::read(&spec).unwrap();
    let out = pyfreeze(
        &[
            "trace",
            "-s",
            "pyfreeze.toml",
            "-m",
            "tapp",
            "--update",
            "--",
            "fail",
        ],
        &py,
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(
            "error: the traced app failed with exit status 3, so the modules it loaded are not \
             all it needs; nothing was printed or updated. Its stderr:\ntapp: asked to fail\n  \
             hint: fix the app"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&spec).unwrap(), before);

    // An uncaught exception: its traceback, without the tracer's frames.
    std::fs::write(
        dir.path().join("boom.py"),
        "import json\nraise ValueError('boom')\n",
    )
    .unwrap();
    let out = pyfreeze(&["trace", "boom.py"], &py, dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("boom.py\", line 2, in <module>") && stderr.contains("ValueError: boom"),
        "{stderr}"
    );
    assert!(!stderr.contains("pyfreeze_trace.py"), "{stderr}");
}

#[test]
fn import_only_traces_without_running_main() {
    let dir = app();
    let out = pyfreeze(
        &["trace", "--root", "src", "--import", "tapp.util", "-q"],
        &python(11),
        dir.path(),
    );
    let got = patterns(&ok(&out).0);
    assert!(got.iter().any(|g| g == "base64"), "{got:?}");
    assert!(
        !got.iter().any(|g| g == "csv" || g == "json/__init__.py"),
        "{got:?}"
    );
}
