//! Writing generated files: each file atomically (temporary file + rename) and only when its
//! bytes change, so `make` and Cargo rebuild only what changed. Files that an earlier run
//! generated and this one does not are removed. A folder that is not empty and holds no
//! `manifest.json` is refused: it is not ours to overwrite.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::OutputFile;

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

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create folder", e))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, "write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, "replace", e)
    })
}

/// Writes `files` under `dir`.
pub fn write_output(dir: &Path, files: &[OutputFile]) -> Result<WriteReport> {
    let mut existing = Vec::new();
    list_files(dir, "", &mut existing)?;
    if !existing.is_empty() && !dir.join("manifest.json").is_file() {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "it is not empty and holds no pyfreeze manifest.json, so it is not a pyfreeze output \
                      folder; choose a new or empty folder"
                .into(),
        });
    }
    let mut report = WriteReport::default();
    // The manifest goes last: if anything fails before, the old manifest still stands.
    let mut ordered: Vec<&OutputFile> =
        files.iter().filter(|f| f.path != "manifest.json").collect();
    ordered.extend(files.iter().filter(|f| f.path == "manifest.json"));
    for file in ordered {
        let path = dir.join(&file.path);
        if std::fs::read(&path).is_ok_and(|old| old == file.bytes) {
            report.unchanged += 1;
            continue;
        }
        write_atomic(&path, &file.bytes)?;
        report.written.push(file.path.clone());
    }
    let wanted: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for old in existing {
        let generated = GENERATED_DIRS
            .iter()
            .any(|d| old.starts_with(&format!("{d}/")));
        if generated && !wanted.contains(old.as_str()) {
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
