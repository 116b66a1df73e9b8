//! Which interpreter a version `X.Y` means under pyenv: the one rule the CLI's bench,
//! `pyfreeze-build` and the tests share, and where pyenv's root is. The caller reads the
//! environment (`PYENV_ROOT`, `HOME`) and passes it in: the generator reads no environment
//! variables. (`ci/lib.sh` holds the shell scripts' copy of the same rules, `pyenv_root` and
//! `pyenv_python`.)

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::versions::PythonVersion;

/// pyenv's root, as pyenv itself decides it: `PYENV_ROOT` when set (`pyenv_root_var`), else
/// what `pyenv root` prints, else `~/.pyenv` (`home` is `HOME`).
pub fn root(pyenv_root_var: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    if let Some(root) = pyenv_root_var.filter(|r| !r.is_empty()) {
        return Some(PathBuf::from(root));
    }
    let printed = Command::new("pyenv")
        .arg("root")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty());
    printed
        .map(PathBuf::from)
        .or_else(|| home.map(|h| PathBuf::from(h).join(".pyenv")))
}

/// The newest `X.Y.N` interpreter installed under pyenv's `root`:
/// `root/versions/X.Y.N/bin/pythonX.Y` for the largest `N` whose interpreter is a file.
///
/// Only plain releases count: `3.11.10` and `3.11.7`, not `3.11.7t` (free-threaded),
/// `3.11.0rc1` or `3.11-dev`. `N` is compared as a number (`3.11.10` is newer than
/// `3.11.7`). `None` when there is no such interpreter, or no `root/versions` folder.
pub fn newest_interpreter(root: &Path, version: &PythonVersion) -> Option<PathBuf> {
    let minor = version.name();
    let prefix = format!("{minor}.");
    let versions = root.join("versions");
    std::fs::read_dir(&versions)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let patch = name.strip_prefix(&prefix)?;
            if patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let number: u64 = patch.parse().ok()?;
            let python = versions
                .join(&name)
                .join("bin")
                .join(format!("python{minor}"));
            // The name breaks ties between `3.11.07` and `3.11.7`, so the answer never
            // depends on the order the folder is read in.
            python.is_file().then_some(((number, name), python))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, python)| python)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(root: &Path, name: &str, minor: &str) {
        let bin = root.join("versions").join(name).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join(format!("python{minor}")), "").unwrap();
    }

    #[test]
    fn pyenv_root_comes_first_from_the_variable() {
        assert_eq!(
            root(Some("/opt/pyenv".into()), Some("/home/u".into())),
            Some(PathBuf::from("/opt/pyenv"))
        );
    }

    #[test]
    fn picks_the_numerically_newest_release_with_an_interpreter() {
        let root = tempfile::tempdir().unwrap();
        for name in [
            "3.11.2",
            "3.11.10",
            "3.11.7",
            "3.11.11t",
            "3.11.0rc1",
            "3.13.1",
        ] {
            install(root.path(), name, &name[..4]);
        }
        // A newer folder without its interpreter (an interrupted install) does not count.
        std::fs::create_dir_all(root.path().join("versions/3.11.12/bin")).unwrap();
        let v3_11 = PythonVersion::parse("3.11").unwrap();
        assert_eq!(
            newest_interpreter(root.path(), v3_11),
            Some(root.path().join("versions/3.11.10/bin/python3.11"))
        );
    }

    #[test]
    fn none_without_a_match() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "3.11.7", "3.11");
        install(root.path(), "3.12-dev", "3.12");
        let v3_12 = PythonVersion::parse("3.12").unwrap();
        assert_eq!(newest_interpreter(root.path(), v3_12), None);
        let missing = root.path().join("nowhere");
        assert_eq!(newest_interpreter(&missing, v3_12), None);
    }
}
