//! Builds `examples/embed-c` against each pyenv CPython (stock static libpython), runs it
//! from an empty folder, and checks that every pure stdlib module and the app are served
//! from the frozen table with full importlib behaviour; the same for the interpreters that
//! `PYFREEZE_TEST_PYTHONS` lists (the system's own: Debian's, and sid's 3.13-3.15 inside
//! `ci/in-sid.sh`; `ci/test.sh` runs those).

use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{
    assert_frozen_report, copy_tree, python, repo, run, run_ok, FrozenExpectations,
};
use serde_json::Value;

/// A copy of the example in a temporary folder (so tests can edit it), built with make.
struct Example {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    python: PathBuf,
    minor: u32,
}

impl Example {
    fn build(python: PathBuf, minor: u32) -> Example {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("embed-c");
        copy_tree(&repo().join("examples/embed-c"), &dir);
        let _ = std::fs::remove_dir_all(dir.join("build"));
        let ex = Example {
            _tmp: tmp,
            dir,
            python,
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
                .arg(format!("PYTHON={}", self.python.display()))
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

    /// Runs the binary (a check script, `--run SCRIPT`, in `args`) and returns the JSON object
    /// the script prints.
    fn report(&self, args: &[&str]) -> Value {
        let minor = self.minor;
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "3.{minor} {args:?}: check script failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("3.{minor}: bad report ({e}): {stdout}"))
    }
}

/// The interpreter's `lib-dynload` (`DESTSHARED`), the one folder embed-c puts on `sys.path`.
fn dynload_dir(python: &Path) -> String {
    run_ok(Command::new(python).args([
        "-I",
        "-c",
        "import sysconfig; print(sysconfig.get_config_var('DESTSHARED'))",
    ]))
    .trim()
    .to_string()
}

fn stdlib_dir(python: &Path) -> String {
    run_ok(Command::new(python).args([
        "-I",
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
    ]))
    .trim()
    .to_string()
}

fn check_embedded(ex: &Example) {
    let minor = ex.minor;
    let report = ex.report(&[
        "--run",
        repo()
            .join("tests/support/check_frozen.py")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(report["version"], serde_json::json!([3, minor]));
    assert_eq!(
        report["sys_path"],
        serde_json::json!([dynload_dir(&ex.python)]),
        "3.{minor}: stdlib must be off sys.path"
    );

    let stdlib = stdlib_dir(&ex.python);
    let label = format!("3.{minor} (stock libpython)");
    assert_frozen_report(
        &report,
        &FrozenExpectations {
            label: &label,
            loader: "PyfreezeLoader",
            stdlib: &stdlib,
            other_origins: &["/embed-c/app/"],
            reference_python: &ex.python,
            not_in_reference: &["mygame"],
            reference_path: &[],
            cpython_frozen_first: false,
        },
    );

    assert_tuples_untracked(&report, &label);

    // The app's module, source and data.
    let c = &report["checks"];
    assert_eq!(c["activation_hook"], "removed", "{label}");
    assert_eq!(c["python_hook_called"], true, "{label}");
    // The sources were stored compressed (assert_frozen_report compared them with the files).
    assert_eq!(c["compressed_sources"], true, "3.{minor}");
    assert_eq!(c["mygame_file"], "/embed-c/app/mygame/__init__.py");
    assert_eq!(
        c["engine_source_head"],
        "\"\"\"The game engine: a world of levels that advances one tick at a time.\"\"\""
    );
    assert_eq!(c["getsource_explode"], "def explode(self):");
    let levels =
        std::fs::read_to_string(repo().join("examples/embed-c/app/mygame/data/levels.txt"))
            .unwrap();
    assert_eq!(c["levels"], levels);
    assert_eq!(c["get_data"], levels);
    assert_eq!(c["mygame_data_dir"], serde_json::json!(["data"]));
    assert_eq!(c["iter_mygame"], serde_json::json!(["__main__", "engine"]));
    assert_eq!(
        c["mygame_data_module"],
        serde_json::json!([["levels.txt"], true, null, ["data"], ["levels"]]),
        "3.{minor}: importlib.resources.files(\"mygame.data\")"
    );

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

/// Packs (`pyfreeze pack`) with the stock runtime: an app pack added from C (a file, or memory)
/// or put on `sys.path` serves modules, packages, namespace packages, source, tracebacks,
/// resources, `iter_modules` and metadata as the linked table does; a "mod" pack added from
/// memory replaces a module of the linked table; bad packs are errors naming the pack and the
/// reason, never a crash.
fn check_packs(ex: &Example) {
    let minor = ex.minor;
    let dir = tempfile::tempdir().unwrap();
    pyfreeze_tests::write_pack_app(dir.path(), &ex.python);
    let pack = |root: &str, out: &str, python: &Path| {
        run_ok(
            Command::new(pyfreeze_tests::pyfreeze_bin())
                .args(["pack", "-q", "--python"])
                .arg(python)
                .arg("--root")
                .arg(dir.path().join(root))
                .arg("--origin-map")
                .arg(format!("{}=/packs/{root}", dir.path().join(root).display()))
                .arg(dir.path().join(out)),
        );
    };
    pack("app", "app.pyfz", &ex.python);
    let app = dir.path().join("app.pyfz");
    let app = app.to_str().unwrap();
    let script = repo().join("tests/support/check_pack.py");
    let script = script.to_str().unwrap();
    let expect = |report: &Value, how: &str| {
        pyfreeze_tests::assert_pack_app_report(report, &format!("3.{minor} {how}"))
    };
    let report = |args: &[&str]| ex.report(args);
    expect(
        &report(&["--pack", app, "--run", script, "front"]),
        "--pack",
    );
    expect(
        &report(&["--pack-memory", app, "--run", script, "front"]),
        "--pack-memory",
    );
    let on_path = report(&["--run", script, "path", app]);
    expect(&on_path, "sys.path");
    assert_eq!(
        on_path["iter_top"],
        serde_json::json!(["packapp", "packns"])
    );
    assert_eq!(on_path["finder"], "_PackFinder");

    // Two packs holding the same package under the same origins (a patch of the app): the one
    // first on sys.path serves the package, its submodules and its data, even when the other
    // was opened first.
    let patch_root = dir.path().join("patch");
    copy_tree(&dir.path().join("app"), &patch_root);
    std::fs::write(patch_root.join("packapp/sub.py"), "X = 43\n").unwrap();
    std::fs::write(patch_root.join("packapp/data/levels.txt"), "level two\n").unwrap();
    let patch = dir.path().join("patch.pyfz");
    run_ok(
        Command::new(pyfreeze_tests::pyfreeze_bin())
            .args(["pack", "-q", "--python"])
            .arg(&ex.python)
            .arg("--root")
            .arg(&patch_root)
            .arg("--origin-map")
            .arg(format!("{}=/packs/app", patch_root.display()))
            .arg(&patch),
    );
    let code = format!(
        "import sys, pkgutil, importlib.resources\n\
         sys.path.insert(0, {app:?})\n\
         print(sorted(m.name for m in pkgutil.iter_modules([{app:?}])))\n\
         sys.path.insert(0, {patch:?})\n\
         import packapp.sub\n\
         print(packapp.__file__, packapp.sub.__file__, packapp.sub.X,\n\
         \x20     importlib.resources.files('packapp').joinpath('data/levels.txt').read_text().strip(),\n\
         \x20     packapp.sub.__loader__.get_source('packapp.sub').strip())"
    );
    let out = ex.run(&["-c", &code]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "['packapp', 'packns']\n/packs/app/packapp/__init__.py /packs/app/packapp/sub.py 43 level two X = 43\n",
        "3.{minor}: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A mod: the app's package with its engine changed, from memory, wins over the table.
    let mod_root = dir.path().join("mod");
    copy_tree(
        &repo().join("examples/embed-c/app/mygame"),
        &mod_root.join("mygame"),
    );
    let engine = mod_root.join("mygame/engine.py");
    let text = std::fs::read_to_string(&engine).unwrap();
    std::fs::write(&engine, format!("{text}\nMODDED = 'yes'\n")).unwrap();
    pack("mod", "mod.pyfz", &ex.python);
    let modded = dir.path().join("mod.pyfz");
    let code = "import mygame.engine as e; print(e.MODDED, e.__file__)";
    let out = ex.run(&["--pack-memory", modded.to_str().unwrap(), "-c", code]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "yes /packs/mod/mygame/engine.py",
        "3.{minor}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ex.run(&["--pack-memory", modded.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("tick 2: cave=6, forest=10"));

    // The runtime's reader, fuzzed in one process: every truncation, every byte of the
    // header and index changed (with the index checksum made right), random changes.
    let work = tempfile::tempdir().unwrap();
    let out = ex.run(&[
        "--run",
        repo().join("tests/support/fuzz_pack.py").to_str().unwrap(),
        app,
        work.path().to_str().unwrap(),
        "2000",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "3.{minor}: the pack reader failed under fuzzing:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fuzz: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(fuzz["cases"].as_u64().unwrap() > 5000, "{fuzz}");
    assert!(fuzz["opened"].as_u64().unwrap() > 100, "{fuzz}");
    assert!(fuzz["rejected"].as_u64().unwrap() > 3000, "{fuzz}");
    assert_eq!(fuzz["unnamed"], 0, "{fuzz}");
    for reason in [
        "checksum mismatch",
        "corrupt",
        "truncated",
        "not a pyfreeze",
    ] {
        assert!(
            fuzz["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().starts_with(reason)),
            "3.{minor}: no case gave {reason:?}: {fuzz}"
        );
    }

    // Bad packs: truncated, changed, for another CPython; from C (an error, exit 1) and on
    // sys.path (a warning naming the reason; the import fails).
    let bytes = std::fs::read(app).unwrap();
    let bad = |name: &str, bytes: &[u8]| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let truncated = bad("truncated.pyfz", &bytes[..bytes.len() - 1]);
    let mut changed = bytes.clone();
    changed[200] ^= 0xff; // in the index: its checksum
    let changed = bad("changed.pyfz", &changed);
    // Another CPython's bytecode magic number (the header's bytecode_magic field).
    let mut other = bytes.clone();
    other[16..18].copy_from_slice(&3000u16.to_le_bytes());
    let other_pack = PathBuf::from(bad("other.pyfz", &other));
    for (path, reason) in [
        (truncated.as_str(), "truncated: "),
        (changed.as_str(), "checksum mismatch: the index"),
        (
            other_pack.to_str().unwrap(),
            "its bytecode is for another CPython",
        ),
    ] {
        let out = ex.run(&["--pack", path, "-c", "print('ran')"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "3.{minor} {path}: {stderr}");
        assert!(
            stderr.contains(&format!("embed-c: pyfreeze: pack {path}: {reason}")),
            "3.{minor}: {stderr}"
        );
        let code = format!("import sys; sys.path.insert(0, {path:?}); import packapp");
        let out = ex.run(&["-c", &code]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "3.{minor} {path}: {stderr}");
        assert!(
            stderr.contains(&format!("RuntimeWarning: pyfreeze: pack {path}: {reason}"))
                && stderr.contains("ModuleNotFoundError: No module named 'packapp'"),
            "3.{minor}: {stderr}"
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

/// A stdlib pack with the stock runtime: embed-c with only its app linked and the whole stdlib
/// as one pack first on `sys.path` from start-up on (`--path`): the linked table's checks
/// (`tests/support/check_frozen.py --pack`: every module served from the pack, origins, source,
/// tracebacks, resources, `iter_modules`, no file opened).
fn check_stdlib_pack(ex: &Example) {
    let minor = ex.minor;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("embed-c");
    copy_tree(&repo().join("examples/embed-c"), &dir);
    let _ = std::fs::remove_dir_all(dir.join("build"));
    let spec = dir.join("pyfreeze.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.contains("stdlib = true\n"), "{text}");
    std::fs::write(&spec, text.replace("stdlib = true\n", "")).unwrap();
    let app_only = Example {
        _tmp: tmp,
        dir,
        python: ex.python.clone(),
        minor,
    };
    app_only.make();
    let pack = app_only.dir.join("stdlib.pyfz");
    run_ok(
        Command::new(pyfreeze_tests::pyfreeze_bin())
            .args(["pack", "-q", "--stdlib", "--python"])
            .arg(&ex.python)
            .arg(&pack),
    );
    let pack = pack.to_str().unwrap();
    let script = repo().join("tests/support/check_frozen.py");
    let report = app_only.report(&[
        "--path",
        pack,
        "--run",
        script.to_str().unwrap(),
        "--pack",
        pack,
    ]);
    assert_eq!(
        report["sys_path"],
        serde_json::json!([pack, dynload_dir(&ex.python)]),
        "3.{minor}"
    );
    let label = format!("3.{minor} (stock libpython, stdlib pack)");
    assert_frozen_report(
        &report,
        &FrozenExpectations {
            label: &label,
            loader: "PyfreezeLoader",
            stdlib: &stdlib_dir(&ex.python),
            other_origins: &[],
            reference_python: &ex.python,
            not_in_reference: &[],
            reference_path: &[],
            cpython_frozen_first: true,
        },
    );
    assert_tuples_untracked(&report, &label);
}

/// The runtime's code objects come without the tuples that the garbage collector would untrack
/// at its first look (constants and names made only of strings, numbers and code), which
/// `marshal.loads` leaves tracked on every version tested (so the check can fail).
fn assert_tuples_untracked(report: &Value, label: &str) {
    let [runtime, marshal] = [0, 1].map(|i| {
        report["checks"]["tuples_left_tracked"][i]
            .as_u64()
            .unwrap_or_else(|| panic!("{label}: no tuples_left_tracked in the report"))
    });
    assert!(
        marshal > 0,
        "{label}: marshal.loads left no tuple to untrack; the check proves nothing here"
    );
    assert_eq!(
        runtime, 0,
        "{label}: the runtime's get_code left {runtime} tuples tracked that hold nothing trackable"
    );
}

fn embed(minor: u32) -> Example {
    let ex = Example::build(python(minor), minor);
    check_embedded(&ex);
    check_packs(&ex);
    if matches!(minor, 11 | 13) {
        check_stdlib_pack(&ex);
    }
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
        layout_matches_the_headers(&python(minor));
    }
}

/// `pyfreeze freeze` of an app of one module, `module`.py, for `python`, into `tmp`/out (returned).
fn freeze_one_module(python: &Path, tmp: &Path, module: &str) -> PathBuf {
    let app = tmp.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join(format!("{module}.py")), "x = 1\n").unwrap();
    let out = tmp.join("out");
    run_ok(
        Command::new(pyfreeze_tests::pyfreeze_bin())
            .args(["freeze", "-q", "--python"])
            .arg(python)
            .arg("--root")
            .arg(&app)
            .arg("--out")
            .arg(&out),
    );
    out
}

fn layout_matches_the_headers(python: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let out = freeze_one_module(python, tmp.path(), "m");
    let asked = run_ok(Command::new(python).args([
        "-I",
        "-c",
        "import sys, sysconfig; print(sysconfig.get_paths()['include']); print(sys.version_info[1])",
    ]));
    let (include, minor) = asked.trim().split_once('\n').unwrap();
    let minor: u32 = minor.parse().unwrap();
    // The audit-hook half is core code over CPython's internal headers: it must compile, and
    // reference nothing of libpython but what every libpython exports.
    for file in ["pyfreeze_runtime", "pyfreeze_audit"] {
        let object = tmp.path().join(format!("{file}.o"));
        run_ok(
            Command::new("cc")
                .args(["-std=c11", "-Wall", "-Werror", "-c"])
                .args((file == "pyfreeze_audit").then_some("-Wextra"))
                .arg("-o")
                .arg(&object)
                .arg(format!("-I{}", include))
                .arg(format!("-I{}", out.display()))
                .arg(out.join(format!("{file}.c"))),
        );
        assert!(object.exists());
    }
    let undefined = run_ok(
        Command::new("nm")
            .args(["--undefined-only", "--format=just-symbols"])
            .arg(tmp.path().join("pyfreeze_audit.o")),
    );
    let mut undefined: Vec<&str> = undefined.lines().collect();
    undefined.retain(|s| !matches!(*s, "realloc" | "strlen" | "strncmp"));
    let expected: &[&str] = match minor {
        10 => &["Py_GetVersion", "_PyRuntime"],
        11 => &["Py_Version", "_PyRuntime"],
        12 => &[
            "PyThread_acquire_lock",
            "PyThread_release_lock",
            "Py_Version",
            "_PyRuntime",
        ],
        _ => &["PyMutex_Lock", "PyMutex_Unlock", "Py_Version", "_PyRuntime"],
    };
    undefined.sort_unstable();
    assert_eq!(undefined, expected, "{}", python.display());
}

#[test]
fn the_embedders_audit_hooks_outlive_the_runtimes() {
    // tests/support/audit_hooks.c: the runtime unlinks its activation hook from the list that
    // also holds the embedder's (one ahead of it, one behind), in each of two initialisations;
    // a third activates after initialising (no hook).
    for minor in [10, 11, 12, 13] {
        let python = python(minor);
        let tmp = tempfile::tempdir().unwrap();
        let out = freeze_one_module(&python, tmp.path(), "hooked");
        let config = PathBuf::from(format!("{}-config", python.display()));
        let flags = |args: &[&str]| pyfreeze_tests::python_config(&config, args);
        let exe = tmp.path().join("audit_hooks");
        let mut cc = Command::new("cc");
        cc.arg(repo().join("tests/support/audit_hooks.c"));
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "c") {
                cc.arg(path);
            }
        }
        for entry in std::fs::read_dir(out.join("modules")).unwrap() {
            cc.arg(entry.unwrap().path());
        }
        run_ok(
            cc.arg(format!("-I{}", out.display()))
                .args(flags(&["--includes"]))
                .arg("-o")
                .arg(&exe)
                .args(flags(&["--ldflags", "--embed"]))
                .args(["-Xlinker", "-export-dynamic"]),
        );
        let printed = run_ok(Command::new(&exe).current_dir(tmp.path()));
        assert_eq!(
            printed.lines().collect::<Vec<_>>(),
            [
                "round 1 removed PyfreezeLoader 1 1",
                "round 2 removed PyfreezeLoader 1 1",
                "round 3 none PyfreezeLoader 1 1"
            ],
            "3.{minor}"
        );
    }
}

/// The system's own interpreters, listed (paths, `:`-separated) in `PYFREEZE_TEST_PYTHONS`:
/// `ci/test.sh` runs this for Debian bookworm's `/usr/bin/python3.11`, and inside the sid root
/// (`ci/in-sid.sh`) for sid's 3.13, 3.14 and 3.15. Each gets the layout check and the whole
/// embed check; their libpython is linked as `pyfreeze.mk` picks (Debian's `-pic.a`, or the
/// shared one where Debian's static archive lacks objects).
#[test]
#[ignore = "needs PYFREEZE_TEST_PYTHONS; ci/test.sh runs it"]
fn embed_the_listed_system_interpreters() {
    for (python, minor) in pyfreeze_tests::listed_pythons() {
        layout_matches_the_headers(&python);
        let ex = Example::build(python, minor);
        check_embedded(&ex);
        check_packs(&ex);
        check_stdlib_folder_hidden(&ex);
    }
}

/// The example run with its interpreter's stdlib folder hidden but for `lib-dynload` (bind
/// mounts in a private mount namespace, so root), as on a machine that has only the executable:
/// it prints what it prints with the folder there, and nothing more. 3.15's getpath warns about
/// a missing stdlib folder unless `pathconfig_warnings = 0`, which embed-c sets.
fn check_stdlib_folder_hidden(ex: &Example) {
    let minor = ex.minor;
    assert!(
        run_ok(Command::new("id").arg("-u")).trim() == "0",
        "hiding the stdlib folder takes bind mounts, which need root (CI runs as root)"
    );
    let stdlib = PathBuf::from(stdlib_dir(&ex.python));
    let dynload = PathBuf::from(dynload_dir(&ex.python));
    let shown = ex.run(&[]);
    assert!(shown.status.success(), "3.{minor}: {shown:?}");
    let tmp = tempfile::tempdir().unwrap();
    let over = tmp.path().join("stdlib");
    std::fs::create_dir_all(&over).unwrap();
    // lib-dynload stays where it is (bound into the empty folder first) when it is inside.
    let keep = dynload.strip_prefix(&stdlib).ok().map(|rel| over.join(rel));
    // The new namespace's mounts are made private first, so the binds stay in it; inside
    // ci/in-sid.sh's chroot `/` is no mount point, but that namespace is private already.
    let mut script = String::from("mount --make-rprivate / 2>/dev/null; ");
    if let Some(keep) = &keep {
        std::fs::create_dir_all(keep).unwrap();
        script.push_str("mount --bind \"$1\" \"$2\" && ");
    }
    script.push_str("mount --rbind \"$3\" \"$4\" && test ! -e \"$4/os.py\" && exec \"$5\"");
    let hidden = run(Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "unchanged",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .arg(&dynload)
        .arg(keep.as_deref().unwrap_or(&dynload))
        .arg(&over)
        .arg(&stdlib)
        .arg(ex.binary())
        .current_dir(tmp.path()));
    let context = format!(
        "3.{minor}, {} hidden:\nstdout:\n{}\nstderr:\n{}",
        stdlib.display(),
        String::from_utf8_lossy(&hidden.stdout),
        String::from_utf8_lossy(&hidden.stderr)
    );
    assert_eq!(hidden.status.code(), shown.status.code(), "{context}");
    assert_eq!(hidden.stdout, shown.stdout, "{context}");
    assert!(hidden.stderr.is_empty(), "{context}");
}
