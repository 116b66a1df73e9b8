//! Writing generated files: each file atomically (temporary file + rename) and only when its
//! bytes change, so `make` and Cargo rebuild only what changed ([`write_if_changed`], the one
//! place pyfreeze replaces a file). Files that an earlier run generated and this one does not
//! are removed. Runs into one folder are serialised by a lock file in it, and a killed run is
//! repaired by the next. A folder that is not empty and holds neither our `manifest.json` nor
//! our lock file is refused: it is not ours to overwrite.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::{NoProgress, OutputFile, Progress};

/// Subfolders whose every file is generated.
const GENERATED_DIRS: &[&str] = &["modules", "resources"];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
}

fn list_files(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, "list folder", e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, "list folder", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            list_files(&entry.path(), &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// Marks temporary files, so a later run can tell its own leftovers from the user's files.
const TEMP_SUFFIX: &str = ".pyfreeze-tmp";

/// A name for a temporary sibling of `path` that no other writer uses at the same time: the
/// process id tells processes apart, the counter tells apart writes within one process (two
/// threads of a build script, or two outputs of one run). `create_new` below guards the rest.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}-{n}{TEMP_SUFFIX}", std::process::id()))
}

/// Creates a new temporary sibling of `path`. A name can only be taken already by a file that
/// a killed process with a reused pid left (until the next run removes it): then the next
/// name is tried.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempts = 0;
    loop {
        let tmp = temp_path(path);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 => {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether `name` (a file name) is a temporary file left by [`write_if_changed`].
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// Removes the temporary file unless the write got as far as renaming it into place.
struct TempGuard<'a>(&'a Path);

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// Writes `bytes` to `path` atomically and only when they differ from what is there; returns
/// whether it wrote. The one place pyfreeze replaces a file: generated C, depfiles and the
/// build script's outputs all go through it.
///
/// Atomic: the bytes go to a fresh temporary file in the same folder (unique per process and
/// write, see `temp_path`), which is renamed over `path`, so a reader sees the old or the new
/// file, never half of one. On any error the temporary file is removed; a process killed
/// between the two steps leaves one behind, named `.<file>.<pid>-<n>.pyfreeze-tmp`, which
/// [`write_output`] removes on its next run.
///
/// Only when changed: an unchanged file keeps its modification time, so `make` and Cargo
/// rebuild only what changed.
///
/// No fsync, on purpose: everything written is regenerated from its inputs, and every run
/// compares each file's bytes before trusting it, so a file that a power loss left empty or
/// stale is rewritten by the next run. Syncing each of the stdlib's ~1,000 files would cost
/// more than the whole run.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let (tmp, mut file) = create_temp(path)?;
    let guard = TempGuard(&tmp);
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    std::mem::forget(guard); // renamed: nothing left to remove
    Ok(true)
}

/// The lock file that serialises runs into one output folder. It stays (an empty file): removing
/// it would let a waiting run lock a file that a third run no longer sees.
pub const LOCK_FILE: &str = ".pyfreeze.lock";

/// Written last: until it is written, the old one still describes a complete earlier output.
const MANIFEST: &str = "manifest.json";

/// Refuses a folder that holds files but neither our manifest nor our lock file (the lock file
/// alone marks a folder whose first run was killed before its manifest was written).
fn check_ours(dir: &Path, existing: &[String]) -> Result<()> {
    let ours = existing.is_empty() || dir.join(MANIFEST).is_file() || dir.join(LOCK_FILE).is_file();
    if ours {
        return Ok(());
    }
    Err(Error::Output {
        path: dir.to_path_buf(),
        message:
            "it is not empty and holds no pyfreeze manifest.json, so it is not a pyfreeze output \
                  folder; choose a new or empty folder"
                .into(),
    })
}

/// Creates `dir` and takes its lock, waiting (and saying so through `progress`) for a run
/// that holds it; released when the returned file is dropped (or the process dies).
fn lock(dir: &Path, progress: &dyn Progress) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create folder", e))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, "open the lock file", e))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => progress.waiting_for_lock(dir),
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, "lock", e)),
    }
    file.lock().map_err(|e| Error::io(&path, "lock", e))?;
    Ok(file)
}

/// The file a temporary file was going to replace (`modules/.a.c.12-0.pyfreeze-tmp` →
/// `modules/a.c`), if `rel` is one of ours.
fn temp_target(rel: &str) -> Option<String> {
    let (parent, name) = rel.rsplit_once('/').map_or(("", rel), |(p, n)| (p, n));
    if !is_temp_name(name) {
        return None;
    }
    let stem = &name[1..name.len() - TEMP_SUFFIX.len()];
    let (target, _pid_and_count) = stem.rsplit_once('.')?;
    Some(if parent.is_empty() {
        target.to_string()
    } else {
        format!("{parent}/{target}")
    })
}

/// Whether `rel` is a file this run may remove: a generated file no longer wanted, or a
/// temporary file left by a killed run for a file this function writes. Temporary files of
/// other writers into the folder (the CLI's depfile) are left alone: they write without the
/// lock.
fn is_leftover(rel: &str, wanted: &BTreeSet<&str>) -> bool {
    let generated = |p: &str| {
        GENERATED_DIRS
            .iter()
            .any(|d| p.starts_with(&format!("{d}/")))
    };
    if let Some(target) = temp_target(rel) {
        return generated(&target) || wanted.contains(target.as_str());
    }
    generated(rel) && !wanted.contains(rel)
}

/// Writes `files` under `dir`, serialised with other runs by [`LOCK_FILE`].
///
/// A run killed at any point leaves a folder the next run repairs, because the next run
/// trusts nothing it finds: every file is compared byte for byte and rewritten if it differs,
/// temporary files and generated files no longer wanted are removed, and `manifest.json` is
/// written last, so that a folder whose manifest is missing or stale has not been completed.
pub fn write_output(dir: &Path, files: &[OutputFile]) -> Result<WriteReport> {
    write_output_reporting(dir, files, &NoProgress)
}

/// [`write_output`], reporting through `progress` when it waits for another run's lock.
pub fn write_output_reporting(
    dir: &Path,
    files: &[OutputFile],
    progress: &dyn Progress,
) -> Result<WriteReport> {
    let mut existing = Vec::new();
    list_files(dir, "", &mut existing)?;
    check_ours(dir, &existing)?;
    let _lock = lock(dir, progress)?;
    // What a run that held the lock before us left.
    existing.clear();
    list_files(dir, "", &mut existing)?;
    existing.sort(); // a deterministic report

    let mut report = WriteReport::default();
    let mut ordered: Vec<&OutputFile> = files.iter().filter(|f| f.path != MANIFEST).collect();
    ordered.extend(files.iter().filter(|f| f.path == MANIFEST));
    for file in ordered {
        let path = dir.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create folder", e))?;
        }
        if write_if_changed(&path, &file.bytes).map_err(|e| Error::io(&path, "write", e))? {
            report.written.push(file.path.clone());
        } else {
            report.unchanged += 1;
        }
    }
    let wanted: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for old in existing {
        if is_leftover(&old, &wanted) {
            let path = dir.join(&old);
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove stale file", e))?;
            report.removed.push(old);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, bytes: &[u8]) -> OutputFile {
        OutputFile {
            path: path.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn writes_only_changes_and_removes_stale_generated_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = [
            file("manifest.json", b"{}"),
            file("modules/a.c", b"a"),
            file("modules/b.c", b"b"),
        ];
        let r = write_output(&out, &first).unwrap();
        assert_eq!(r.written.len(), 3);
        std::fs::write(out.join("user-notes.txt"), "keep").unwrap();
        let second = [file("manifest.json", b"{}"), file("modules/a.c", b"A")];
        let r = write_output(&out, &second).unwrap();
        assert_eq!(r.written, vec!["modules/a.c"]);
        assert_eq!(r.unchanged, 1);
        assert_eq!(r.removed, vec!["modules/b.c"]);
        assert!(out.join("user-notes.txt").exists());
        assert_eq!(std::fs::read(out.join("modules/a.c")).unwrap(), b"A");
    }

    #[test]
    fn write_if_changed_keeps_unchanged_files_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.c");
        assert!(write_if_changed(&path, b"one").unwrap());
        assert!(!write_if_changed(&path, b"one").unwrap());
        assert!(write_if_changed(&path, b"two").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_removes_its_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a folder fails after the temporary file is written.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), "x").unwrap();
        assert!(write_if_changed(&path, b"bytes").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn temp_names_are_unique_and_recognisable() {
        let a = temp_path(Path::new("out/x.c"));
        let b = temp_path(Path::new("out/x.c"));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("out")));
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name), "{name}");
        assert!(!is_temp_name("x.c"));
    }

    /// Every file under `dir` with its bytes.
    fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut names = Vec::new();
        list_files(dir, "", &mut names).unwrap();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let bytes = std::fs::read(dir.join(&n)).unwrap();
                (n, bytes)
            })
            .collect()
    }

    #[test]
    fn the_next_run_repairs_what_a_killed_run_left() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let files = [
            file("manifest.json", b"{\"complete\": true}"),
            file("modules/a.c", b"a"),
            file("pyfreeze.h", b"h"),
        ];
        write_output(&out, &files).unwrap();
        let good = contents(&out);
        // A run killed half way: a file cut short, a stale manifest, a module of its own, and
        // temporary files next to what it was replacing.
        std::fs::write(out.join("modules/a.c"), b"").unwrap();
        std::fs::write(out.join("manifest.json"), b"{\"compl").unwrap();
        std::fs::write(out.join("modules/b.c"), b"b").unwrap();
        std::fs::write(out.join(".manifest.json.77-3.pyfreeze-tmp"), b"{").unwrap();
        std::fs::write(out.join("modules/.a.c.77-1.pyfreeze-tmp"), b"").unwrap();
        let r = write_output(&out, &files).unwrap();
        assert_eq!(contents(&out), good);
        assert_eq!(r.written, ["modules/a.c", "manifest.json"]);
        assert_eq!(
            r.removed,
            [
                ".manifest.json.77-3.pyfreeze-tmp",
                "modules/.a.c.77-1.pyfreeze-tmp",
                "modules/b.c"
            ]
        );
    }

    #[test]
    fn a_first_run_killed_before_its_manifest_is_still_ours() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), b"").unwrap();
        std::fs::create_dir(dir.path().join("modules")).unwrap();
        std::fs::write(dir.path().join("modules/a.c"), b"half").unwrap();
        write_output(dir.path(), &[file("manifest.json", b"{}")]).unwrap();
        assert!(!dir.path().join("modules/a.c").exists());
    }

    #[test]
    fn temporary_files_of_other_writers_are_left_alone() {
        let wanted = BTreeSet::from(["manifest.json", "modules/a.c"]);
        assert!(is_leftover(".manifest.json.1-0.pyfreeze-tmp", &wanted));
        assert!(is_leftover("modules/.gone.c.1-0.pyfreeze-tmp", &wanted));
        assert!(!is_leftover(".deps.mk.1-0.pyfreeze-tmp", &wanted));
        assert!(!is_leftover("deps.mk", &wanted));
        assert!(!is_leftover(LOCK_FILE, &wanted));
        assert!(is_leftover("modules/b.c", &wanted));
        assert!(!is_leftover("modules/a.c", &wanted));
    }

    #[test]
    fn refuses_a_folder_that_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "x").unwrap();
        let e = write_output(dir.path(), &[file("manifest.json", b"{}")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a pyfreeze output folder"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
