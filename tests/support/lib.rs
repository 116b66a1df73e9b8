//! Shared helpers of the pyfreeze test suites: finding interpreters and the CLI, running
//! commands, snapshotting folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `pyfreeze` binary (debug), built once per test process with the cargo running the tests:
/// Cargo does not build another package's binaries for an integration test.
pub fn pyfreeze_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            run_ok(
                Command::new(cargo)
                    .args(["build", "--quiet", "-p", "pyfreeze-cli", "--manifest-path"])
                    .arg(repo().join("Cargo.toml")),
            );
            let exe = std::env::current_exe().unwrap();
            let bin = exe
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join(format!("pyfreeze{}", std::env::consts::EXE_SUFFIX));
            assert!(
                bin.exists(),
                "cargo build did not produce {}",
                bin.display()
            );
            bin
        })
        .clone()
}

/// The pyenv interpreter `3.minor` (newest patch level). The test suite needs pyenv's
/// 3.10-3.13; a missing one is a set-up error, not a reason to skip.
pub fn python(minor: u32) -> PathBuf {
    let root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|o| o.status.success());
    let root = match root {
        Some(o) => PathBuf::from(String::from_utf8(o.stdout).unwrap().trim()),
        None => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv"),
    };
    let prefix = format!("3.{minor}.");
    let mut versions: Vec<_> = std::fs::read_dir(root.join("versions"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|v| {
        v.starts_with(&prefix) && v[prefix.len()..].chars().all(|c| c.is_ascii_digit())
    });
    versions.sort_by_key(|v| v[prefix.len()..].parse::<u32>().unwrap_or(0));
    let v = versions.last().unwrap_or_else(|| {
        panic!(
            "no CPython 3.{minor} under {}/versions: install it with `pyenv install 3.{minor}` (see README)",
            root.display()
        )
    });
    root.join("versions")
        .join(v)
        .join("bin")
        .join(format!("python3.{minor}"))
}

/// Runs a command, returning its output; panics (with the command) if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` with its bytes, by `/`-separated relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.path().is_dir() {
                walk(&e.path(), &child, out);
            } else {
                out.insert(child, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Writes `files` (relative path → contents) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Names the first difference between two snapshots, or None when equal.
pub fn first_difference(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
) -> Option<String> {
    for (k, v) in a {
        match b.get(k) {
            None => return Some(format!("{k} only in the first")),
            Some(w) if w != v => return Some(format!("{k} differs")),
            _ => {}
        }
    }
    b.keys()
        .find(|k| !a.contains_key(*k))
        .map(|k| format!("{k} only in the second"))
}
