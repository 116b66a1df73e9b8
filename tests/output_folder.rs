//! The output folder under stress: `pyfreeze freeze` runs into one folder at once are
//! serialised by its lock file, and a run killed (SIGKILL) at any point while it writes leaves
//! a folder that the next run repairs to exactly what an uninterrupted run writes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pyfreeze_tests::{first_difference, pyfreeze_bin, python, snapshot};

/// Modules in the stdlib-sized app: enough files that a kill lands in the middle of writing.
const MODULES: usize = 1200;

/// Writes the app: a package of [`MODULES`] modules, each a few kB, whose bodies depend on
/// `variant`, so that a freeze of another variant rewrites every module's C file.
fn write_app(dir: &Path, variant: u32) {
    let pkg = dir.join("app/big");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(pkg.join("data.txt"), format!("variant {variant}\n")).unwrap();
    for i in 0..MODULES {
        let body: String = (0..20)
            .map(|j| {
                format!(
                    "def f{j}(x):\n    \"\"\"doc {i} {j}\"\"\"\n    return x * {j} + {variant}\n"
                )
            })
            .collect();
        std::fs::write(pkg.join(format!("m{i:04}.py")), body).unwrap();
    }
}

/// `pyfreeze freeze` of the app into `out`, quiet.
fn freeze_cmd(dir: &Path, out: &str, extra: &[&str]) -> Command {
    freeze_cmd_saying(dir, out, extra, false)
}

/// `pyfreeze freeze` of the app into `out`; `verbose` keeps its progress lines.
fn freeze_cmd_saying(dir: &Path, out: &str, extra: &[&str], verbose: bool) -> Command {
    let mut cmd = Command::new(pyfreeze_bin());
    cmd.arg("freeze")
        .arg("--python")
        .arg(python(11))
        .args(["--root", "app", "--out", out])
        .args(if verbose { None } else { Some("-q") })
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn wait_ok(child: Child) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyfreeze failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn freeze_ok(dir: &Path, out: &str, extra: &[&str]) -> BTreeMap<String, Vec<u8>> {
    wait_ok(freeze_cmd(dir, out, extra).spawn().unwrap());
    snapshot(&dir.join(out))
}

fn assert_same(what: &str, got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>) {
    assert!(
        first_difference(got, want).is_none(),
        "{what}: {:?}",
        first_difference(got, want)
    );
}

/// Polls (every millisecond, for at most a minute) until `ready` holds.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn two_runs_into_one_folder_at_once_leave_one_complete_output() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), 1);
    // Two different outputs, so a mix of the two would show.
    let with_source = freeze_ok(dir.path(), "ref-a", &[]);
    let without_source = freeze_ok(dir.path(), "ref-b", &["--no-source"]);
    for round in 0..3 {
        let out = format!("out-{round}");
        let a = freeze_cmd(dir.path(), &out, &[]).spawn().unwrap();
        let b = freeze_cmd(dir.path(), &out, &["--no-source"])
            .spawn()
            .unwrap();
        wait_ok(a);
        wait_ok(b);
        let got = snapshot(&dir.path().join(&out));
        assert!(
            first_difference(&got, &with_source).is_none()
                || first_difference(&got, &without_source).is_none(),
            "round {round}: the output is neither run's: {:?} / {:?}",
            first_difference(&got, &with_source),
            first_difference(&got, &without_source)
        );
    }
}

#[test]
fn a_run_waits_for_the_lock_of_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), 1);
    let reference = freeze_ok(dir.path(), "ref", &[]);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let lock = File::create(out.join(".pyfreeze.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = freeze_cmd_saying(dir.path(), "out", &[], true)
        .spawn()
        .unwrap();
    // It says it waits, and writes nothing while it does.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("waiting for another pyfreeze run writing into") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("pyfreeze ended without waiting for the lock:\n{said}");
        }
        said.push_str(&line);
    }
    assert!(said.contains(&out.display().to_string()), "{said}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "pyfreeze did not wait for the lock"
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "wrote while locked"
    );
    drop(lock);
    wait_ok(child);
    assert_same("after the lock was released", &snapshot(&out), &reference);
}

/// Starts a freeze of the app as it is now into `out`, waits until `ready`, and kills it.
fn kill_when(dir: &Path, what: &str, ready: impl FnMut() -> bool) {
    let mut child = freeze_cmd(dir, "out", &[]).spawn().unwrap();
    wait_until(what, ready);
    child.kill().unwrap(); // SIGKILL: no destructor or cleanup runs
    child.wait().unwrap();
}

fn module_c(out: &Path, i: usize) -> PathBuf {
    out.join(format!("modules/big.m{i:04}.c"))
}

#[test]
fn the_next_run_repairs_a_folder_whose_run_was_killed_while_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    write_app(dir.path(), 1);
    let one = freeze_ok(dir.path(), "ref-1", &[]);
    write_app(dir.path(), 2);
    let two = freeze_ok(dir.path(), "ref-2", &[]);

    // A first run killed before its manifest: the folder is still ours, and repaired.
    kill_when(dir.path(), "the first run wrote 300 modules", || {
        std::fs::read_dir(out.join("modules")).is_ok_and(|rd| rd.count() >= 300)
    });
    assert!(
        !out.join("manifest.json").exists(),
        "the kill came too late to test a half-written first run"
    );
    assert_same(
        "repaired first run",
        &freeze_ok(dir.path(), "out", &[]),
        &two,
    );

    // Runs that replace a complete output, killed after the first, a middle and the last module.
    let mut complete = &two;
    for (variant, killed_after) in [(1, 0), (2, MODULES / 2), (1, MODULES - 1)] {
        write_app(dir.path(), variant);
        let want = if variant == 1 { &one } else { &two };
        let old = complete[&format!("modules/big.m{killed_after:04}.c")].clone();
        let path = module_c(&out, killed_after);
        kill_when(
            dir.path(),
            &format!("module {killed_after} was rewritten"),
            || std::fs::read(&path).is_ok_and(|now| now != old),
        );
        let left = snapshot(&out);
        if left["manifest.json"] == want["manifest.json"] {
            // Too late to leave half a set (possible only after the last module): then the
            // manifest, written last, vouches for a complete output.
            assert!(
                killed_after == MODULES - 1,
                "killed after module {killed_after}: manifest written early"
            );
            assert_same("an output with its new manifest", &left, want);
        } else {
            assert_eq!(left["manifest.json"], complete["manifest.json"]);
        }
        let repaired = freeze_ok(dir.path(), "out", &[]);
        assert_same(
            &format!("repaired after a kill after module {killed_after}"),
            &repaired,
            want,
        );
        complete = want;
    }
}
