//! Builds `examples/embed-c` against each pyenv CPython (stock static libpython), runs it
//! from an empty folder, and checks that every pure stdlib module and the app are served
//! from the frozen table with full importlib behaviour.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{copy_tree, python, repo, run, run_ok};
use serde_json::Value;

/// A copy of the example in a temporary folder (so tests can edit it), built with make.
struct Example {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    minor: u32,
}

impl Example {
    fn build(minor: u32) -> Example {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("embed-c");
        copy_tree(&repo().join("examples/embed-c"), &dir);
        let _ = std::fs::remove_dir_all(dir.join("build"));
        let ex = Example {
            _tmp: tmp,
            dir,
            minor,
        };
        ex.make();
        ex
    }

    fn make(&self) -> String {
        run_ok(
            Command::new("make")
                .arg("-j2")
                .arg(format!("PYTHON_VERSION=3.{}", self.minor))
                .arg(format!("PYTHON={}", python(self.minor).display()))
                .arg(format!("REPO={}", repo().display()))
                .current_dir(&self.dir),
        )
    }

    fn binary(&self) -> PathBuf {
        self.dir.join(format!("build/3.{}/embed-c", self.minor))
    }

    /// Runs the binary in a new empty folder.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let empty = tempfile::tempdir().unwrap();
        run(Command::new(self.binary())
            .args(args)
            .current_dir(empty.path()))
    }
}

fn stock_import_errors(minor: u32, names: &[String]) -> BTreeMap<String, String> {
    let out = run_ok(
        Command::new(python(minor))
            .args(["-I", "-S"])
            .arg(repo().join("tests/support/import_all.py"))
            .args(names),
    );
    serde_json::from_str(&out).unwrap()
}

fn stdlib_dir(minor: u32) -> String {
    run_ok(Command::new(python(minor)).args([
        "-I",
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
    ]))
    .trim()
    .to_string()
}

fn check_embedded(ex: &Example) {
    let minor = ex.minor;
    let out = ex.run(&[
        "--run",
        repo()
            .join("tests/support/check_frozen.py")
            .to_str()
            .unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "3.{minor}: check script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("3.{minor}: bad report ({e}): {stdout}"));
    assert_eq!(report["version"], serde_json::json!([3, minor]));
    let dynload = run_ok(Command::new(python(minor)).args([
        "-I",
        "-c",
        "import sysconfig; print(sysconfig.get_config_var('DESTSHARED'))",
    ]));
    assert_eq!(
        report["sys_path"],
        serde_json::json!([dynload.trim()]),
        "3.{minor}: stdlib must be off sys.path"
    );

    // Every module of the table imports wherever the stock interpreter imports it, from the table.
    let imports = report["imports"].as_object().unwrap();
    assert!(
        imports.len() > 400,
        "3.{minor}: only {} modules tried",
        imports.len()
    );
    let names: Vec<String> = imports
        .keys()
        .filter(|n| !n.starts_with("mygame") && *n != "_pyfreeze_runtime")
        .cloned()
        .collect();
    let stock_errors = stock_import_errors(minor, &names);
    let stdlib = stdlib_dir(minor);
    let mut problems = Vec::new();
    for (name, result) in imports {
        if let Some(err) = result.get("error") {
            if !stock_errors.contains_key(name) {
                problems.push(format!(
                    "{name}: fails frozen ({err}) but imports in the stock interpreter"
                ));
            }
            continue;
        }
        // importlib/__init__.py aliases these to the bootstrap modules CPython always
        // freezes itself (`_frozen_importlib`, `_frozen_importlib_external`).
        let bootstrap_alias =
            name == "importlib._bootstrap" || name == "importlib._bootstrap_external";
        if bootstrap_alias {
            assert_eq!(result["loader"], "FrozenImporter", "3.{minor}: {name}");
        } else if result["loader"] != "PyfreezeImporter" {
            problems.push(format!("{name}: loader {}", result["loader"]));
        }
        let file = result["file"].as_str().unwrap_or("");
        let ok_file = name == "_pyfreeze_runtime"
            || file.starts_with(&stdlib)
            || file.starts_with("/embed-c/app/");
        if !ok_file && !result["file"].is_null() {
            problems.push(format!("{name}: __file__ {file}"));
        }
    }
    assert!(problems.is_empty(), "3.{minor}:\n{}", problems.join("\n"));
    assert_eq!(
        report["from_disk"],
        serde_json::json!([]),
        "3.{minor}: modules loaded from disk"
    );
    assert_eq!(
        report["opened_py"],
        serde_json::json!([]),
        "3.{minor}: .py/.pyc files opened"
    );

    let c = &report["checks"];
    assert_eq!(c["json_file"], format!("{stdlib}/json/__init__.py"));
    assert_eq!(
        c["json_path"],
        serde_json::json!([format!("{stdlib}/json")])
    );
    assert_eq!(c["json_spec_origin"], format!("{stdlib}/json/__init__.py"));
    assert_eq!(c["mygame_file"], "/embed-c/app/mygame/__init__.py");
    assert_eq!(
        c["engine_source_head"],
        "\"\"\"The game engine: a world of levels that advances one tick at a time.\"\"\""
    );
    assert!(
        c["getsource_dumps"]
            .as_str()
            .unwrap()
            .starts_with("def dumps("),
        "{}",
        c["getsource_dumps"]
    );
    assert_eq!(c["getsource_explode"], "def explode(self):");
    let frames = c["traceback_frames"].as_array().unwrap();
    assert!(frames.len() >= 2, "{frames:?}");
    for f in frames {
        assert!(
            !f[1].as_str().unwrap_or("").is_empty(),
            "3.{minor}: frame without source line: {f}"
        );
    }
    assert!(
        frames
            .iter()
            .any(|f| f[0] == format!("{stdlib}/json/decoder.py")),
        "{frames:?}"
    );
    let levels =
        std::fs::read_to_string(repo().join("examples/embed-c/app/mygame/data/levels.txt"))
            .unwrap();
    assert_eq!(c["levels"], levels);
    assert_eq!(c["get_data"], levels);
    assert_eq!(c["mygame_data_dir"], serde_json::json!(["data"]));
    assert!(
        c["email_data"]
            .as_array()
            .unwrap()
            .contains(&"architecture.rst".into()),
        "{}",
        c["email_data"]
    );
    assert_eq!(
        c["iter_json"],
        serde_json::json!(["decoder", "encoder", "scanner", "tool"])
    );
    assert_eq!(c["iter_mygame"], serde_json::json!(["__main__", "engine"]));
    let walked = c["walk_email_mime"].as_array().unwrap();
    assert!(walked.contains(&"email.mime.text".into()), "{walked:?}");

    // The app itself, and an uncaught exception through the default excepthook.
    let out = ex.run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tick 2: cave=6, forest=10"));
    let out = ex.run(&["--crash"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for frame in [
        "File \"/embed-c/app/mygame/__main__.py\", line 5, in <module>\n    sys.exit(main(sys.argv[1:]))",
        "File \"/embed-c/app/mygame/__init__.py\", line 23, in main\n    world.explode()",
        "File \"/embed-c/app/mygame/engine.py\", line 21, in explode\n    raise RuntimeError(",
    ] {
        assert!(
            stderr.contains(frame),
            "3.{minor}: the default excepthook printed no source line for {frame:?}:\n{stderr}"
        );
    }
}

fn made(log: &str, what: &str) -> bool {
    log.lines().any(|l| l.contains(what))
}

fn check_incremental(ex: &Example) {
    let again = ex.make();
    assert!(
        !made(&again, "pyfreeze freeze") && !made(&again, "CC "),
        "a second make did work:\n{again}"
    );
    let engine = ex.dir.join("app/mygame/engine.py");
    let mut text = std::fs::read_to_string(&engine).unwrap();
    text.push_str("\n\ndef version():\n    return 2\n");
    std::fs::write(&engine, text).unwrap();
    let log = ex.make();
    assert!(made(&log, "pyfreeze freeze"), "{log}");
    assert!(made(&log, "modules/mygame.engine.c"), "{log}");
    assert!(
        !made(&log, "modules/json.c") && !made(&log, "modules/mygame.c"),
        "unchanged modules rebuilt:\n{log}"
    );
    let script = ex.dir.join("v.py");
    std::fs::write(
        &script,
        "import mygame.engine\nprint(mygame.engine.version())\n",
    )
    .unwrap();
    let out = ex.run(&["--run", script.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn embed(minor: u32) -> Example {
    let ex = Example::build(minor);
    check_embedded(&ex);
    ex
}

#[test]
fn embed_3_10() {
    embed(10);
}

#[test]
fn embed_3_11_and_incremental_make() {
    let ex = embed(11);
    check_incremental(&ex);
}

#[test]
fn embed_3_12() {
    embed(12);
}

#[test]
fn embed_3_13() {
    embed(13);
}

#[test]
fn layout_matches_each_version_headers() {
    // pyfreeze_runtime.c static-asserts struct pyfreeze_frozen against the real struct
    // _frozen; compiling it against every version's headers is the layout check. The
    // embed tests do that on a full build; this checks it alone, quickly, for each version.
    for minor in [10, 11, 12, 13] {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path().join("app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("m.py"), "x = 1\n").unwrap();
        let out = tmp.path().join("out");
        run_ok(
            Command::new(pyfreeze_tests::pyfreeze_bin())
                .args(["freeze", "-q", "--python"])
                .arg(python(minor))
                .arg("--root")
                .arg(&app)
                .arg("--out")
                .arg(&out),
        );
        let include = run_ok(Command::new(python(minor)).args([
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'])",
        ]));
        run_ok(
            Command::new("cc")
                .args(["-std=c11", "-Wall", "-Werror", "-c", "-o"])
                .arg(tmp.path().join("rt.o"))
                .arg(format!("-I{}", include.trim()))
                .arg(format!("-I{}", out.display()))
                .arg(out.join("pyfreeze_runtime.c")),
        );
        assert!(Path::new(&tmp.path().join("rt.o")).exists());
    }
}
