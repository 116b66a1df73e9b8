//! Site-packages folders (`site_packages`): which distributions are frozen and which files
//! each one owns, read from its metadata folder's list of files.
//!
//! Rules (docs/spec.md, "Site-packages"):
//! - a distribution's files are the ones its `*.dist-info/RECORD` lists; for a `*.egg-info`,
//!   pip's `installed-files.txt`, else everything under the names of its `top_level.txt`; a
//!   metadata folder with none of these, or a metadata *file* (distutils' `*.egg-info`), is
//!   reported and not frozen;
//! - a distribution with an extension module (`.so`, `.pyd`, ...) is not frozen at all, so
//!   that the package stays whole on disk (its pure modules next to its extension modules);
//!   nor is an editable install (an `__editable__` file, or `direct_url.json` saying so),
//!   whose code lives elsewhere;
//! - of the other distributions, the files inside the folder are frozen as the walk of a root
//!   would freeze them (modules, packages, namespace packages, package data), but never
//!   `__pycache__`, compiled files or `.pth` files; files outside it (`../../bin/NAME`, a
//!   console script) are not frozen;
//! - `.pth` files and top-level entries that no distribution lists are reported, not frozen
//!   (and `.pth` files are never run).
//!
//! Entries are read in byte order of their names, so the result does not depend on the
//! file system's order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::discover::{files_below, is_dist_dir, record_path, sorted_entries};
use crate::error::{Error, Result};

/// Something found in a site-packages folder that is not frozen, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The metadata folder's name, or the entry's name at the top of the folder.
    pub name: String,
    pub path: PathBuf,
    /// Why it is not frozen and what stays on disk, for `pyfreeze list` and notes.
    pub reason: String,
}

/// What [`scan`] found.
#[derive(Debug, Default)]
pub struct SiteScan {
    /// The files (`/`-separated, relative to the folder) of the distributions to freeze.
    pub owned: BTreeSet<String>,
    /// The metadata folders of the distributions to freeze, each with the top-level names
    /// (`attr` for `attr/__init__.py`, `six` for `six.py`) of the files it owns.
    pub frozen: BTreeMap<String, BTreeSet<String>>,
    /// Sorted by name.
    pub skipped: Vec<Skipped>,
}

const EXTENSION_SUFFIXES: &[&str] = &[".so", ".pyd", ".dll", ".dylib"];

/// The files a metadata folder lists, relative to the site folder (`../` for files outside
/// it), or `None` when it lists none. `folder` is the metadata folder's name.
pub fn listed_files(site: &Path, folder: &str) -> Result<Option<Vec<String>>> {
    let dir = site.join(folder);
    let read = |file: &str| -> Result<Option<String>> {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, "read", e)),
        }
    };
    if let Some(record) = read("RECORD")? {
        let files = record
            .lines()
            .map(record_path)
            .filter(|p| !p.is_empty())
            .map(|p| normalize_rel(&p))
            .collect();
        return Ok(Some(files));
    }
    if let Some(installed) = read("installed-files.txt")? {
        // Relative to the metadata folder.
        let files = installed
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| normalize_rel(&format!("{folder}/{l}")))
            .collect();
        return Ok(Some(files));
    }
    if let Some(top_level) = read("top_level.txt")? {
        let mut files = Vec::new();
        let tops: BTreeSet<&str> = top_level
            .lines()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        for (name, path, is_dir) in sorted_entries(site)? {
            let stem = name.split('.').next().unwrap_or("");
            if is_dir && tops.contains(name.as_str()) {
                let mut below = Vec::new();
                files_below(&path, &name, &mut below)?;
                files.extend(below.into_iter().map(|(rel, _)| rel));
            } else if !is_dir && tops.contains(stem) && name != folder {
                files.push(name);
            }
        }
        return Ok(Some(files));
    }
    Ok(None)
}

/// Removes `.` and `a/..` from a `/`-separated relative path, keeping leading `..`.
fn normalize_rel(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::ParentDir if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            Component::ParentDir => parts.push(".."),
            Component::Normal(s) => parts.push(s.to_str().unwrap_or("")),
            _ => {}
        }
    }
    parts.join("/")
}

/// The file name of a `/`-separated path.
fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Whether pip's `direct_url.json` in the metadata folder says the install is editable.
fn editable_by_direct_url(dir: &Path) -> bool {
    std::fs::read(dir.join("direct_url.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("dir_info")?.get("editable")?.as_bool())
        .unwrap_or(false)
}

/// Reads the distributions of the site-packages folder `site` (see the module's rules).
pub fn scan(site: &Path) -> Result<SiteScan> {
    let mut out = SiteScan::default();
    let entries = sorted_entries(site)?;
    // Top-level entry -> the metadata folders listing a file in it.
    let mut listed_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, path, is_dir) in &entries {
        if !is_dist_dir(name) {
            continue;
        }
        if !is_dir {
            out.skipped.push(Skipped {
                name: name.clone(),
                path: path.clone(),
                reason: "a metadata file without a list of the distribution's files \
                         (distutils' `*.egg-info`): not frozen; reinstall the distribution \
                         with pip to freeze it"
                    .into(),
            });
            continue;
        }
        let Some(files) = listed_files(site, name)? else {
            out.skipped.push(Skipped {
                name: name.clone(),
                path: path.clone(),
                reason: "lists none of its files (no `RECORD`, `installed-files.txt` or \
                         `top_level.txt`): not frozen; reinstall the distribution with pip to \
                         freeze it"
                    .into(),
            });
            continue;
        };
        let inside: Vec<&String> = files
            .iter()
            .filter(|f| {
                !f.starts_with("../")
                    && f.as_str() != ".."
                    && !f.starts_with(&format!("{name}/"))
                    && !f.split('/').any(|part| part == "__pycache__")
            })
            .collect();
        for f in &inside {
            let top = f.split('/').next().unwrap_or(f);
            let owners = listed_by.entry(top.to_string()).or_default();
            if !owners.contains(name) {
                owners.push(name.clone());
            }
        }
        let extensions: Vec<&str> = inside
            .iter()
            .map(|f| f.as_str())
            .filter(|f| EXTENSION_SUFFIXES.iter().any(|s| f.ends_with(s)))
            .collect();
        let editable: Vec<&str> = inside
            .iter()
            .map(|f| f.as_str())
            .filter(|f| file_name(f).starts_with("__editable__"))
            .collect();
        if !extensions.is_empty() {
            out.skipped.push(Skipped {
                name: name.clone(),
                path: path.clone(),
                reason: format!(
                    "has extension modules ({}): not frozen, neither its pure modules nor its \
                     data or metadata, so the distribution stays whole on disk; keep this \
                     folder (or one with the distribution) on `sys.path` to import it",
                    quoted(&extensions)
                ),
            });
            continue;
        }
        if !editable.is_empty() || editable_by_direct_url(path) {
            let why = match editable.is_empty() {
                true => "`direct_url.json` says so".to_string(),
                false => quoted(&editable),
            };
            out.skipped.push(Skipped {
                name: name.clone(),
                path: path.clone(),
                reason: format!(
                    "an editable install ({why}): its code is not in this folder, so nothing \
                     of it is frozen; freeze the project's own folder with a [[root]]"
                ),
            });
            continue;
        }
        let mut tops = BTreeSet::new();
        for f in inside {
            let ext = file_name(f).rsplit_once('.').map_or("", |(_, e)| e);
            if matches!(ext, "pyc" | "pyo" | "pth") {
                continue;
            }
            let top = f.split('/').next().unwrap_or(f);
            tops.insert(top.strip_suffix(".py").unwrap_or(top).to_string());
            out.owned.insert(f.clone());
        }
        out.frozen.insert(name.clone(), tops);
    }
    for (name, path, is_dir) in entries {
        if name.starts_with('.') || name == "__pycache__" || is_dist_dir(&name) {
            continue;
        }
        let owners = listed_by.get(&name);
        let reason = if name.ends_with(".pth") && !is_dir {
            let of = match owners {
                Some(owners) => format!(" (installed by {})", owners.join(", ")),
                None => String::new(),
            };
            format!(
                "a `.pth` file{of}: not run at freeze time, and the paths and imports it lists \
                 are not frozen (a program that does not import `site` never runs it)"
            )
        } else if owners.is_some() {
            continue;
        } else if name == "bin" && is_dir {
            "console scripts: not frozen (their entry points are in the frozen metadata)".into()
        } else {
            "listed by no distribution's `RECORD`: not frozen; install it with pip, or freeze \
             it with a [[root]]"
                .into()
        };
        out.skipped.push(Skipped { name, path, reason });
    }
    out.skipped
        .sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(out)
}

fn quoted(items: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (rel, text) in files {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    fn record(files: &[&str]) -> String {
        files.iter().map(|f| format!("{f},,\n")).collect()
    }

    #[test]
    fn relative_paths_are_normalised_lexically() {
        assert_eq!(
            normalize_rel("a.egg-info/../a/__init__.py"),
            "a/__init__.py"
        );
        assert_eq!(normalize_rel("../../bin/tool"), "../../bin/tool");
        assert_eq!(normalize_rel("./x/./y.py"), "x/y.py");
    }

    /// A folder as pip leaves it: a pure wheel with a `.pth` and a console script, one with an
    /// extension module, a namespace package shared by two distributions (one pure, one not),
    /// an editable install, an egg-info with `installed-files.txt` and one with only
    /// `top_level.txt`, a stray module and a stray `.pth`.
    #[test]
    fn distributions_are_frozen_or_reported_by_their_lists_of_files() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path();
        write(
            site,
            &[
                ("pure/__init__.py", ""),
                ("pure/data.txt", "x"),
                ("pure/__pycache__/__init__.cpython-311.pyc", ""),
                ("pure.pth", "import os\n"),
                (
                    "pure-1.0.dist-info/RECORD",
                    &record(&[
                        "pure/__init__.py",
                        "pure/data.txt",
                        "pure/__pycache__/__init__.cpython-311.pyc",
                        "pure.pth",
                        "../../bin/pure",
                        "pure-1.0.dist-info/METADATA",
                        "pure-1.0.dist-info/RECORD",
                    ]),
                ),
                ("pure-1.0.dist-info/METADATA", "Name: pure\n"),
                ("bin/pure", "#!python\n"),
                ("fast/__init__.py", ""),
                ("fast/_speedups.cpython-311-x86_64-linux-gnu.so", ""),
                (
                    "fast-2.0.dist-info/RECORD",
                    &record(&[
                        "fast/__init__.py",
                        "fast/_speedups.cpython-311-x86_64-linux-gnu.so",
                    ]),
                ),
                ("ns/a/__init__.py", ""),
                ("ns/b/__init__.py", ""),
                ("ns/b/_c.pyd", ""),
                ("ns_a-1.dist-info/RECORD", &record(&["ns/a/__init__.py"])),
                (
                    "ns_b-1.dist-info/RECORD",
                    &record(&["ns/b/__init__.py", "ns/b/_c.pyd"]),
                ),
                ("__editable__.dev-0.1.pth", "/src/dev\n"),
                ("__editable___dev_0_1_finder.py", ""),
                (
                    "dev-0.1.dist-info/RECORD",
                    &record(&["__editable__.dev-0.1.pth", "__editable___dev_0_1_finder.py"]),
                ),
                ("old.py", ""),
                (
                    "old-3.egg-info/installed-files.txt",
                    "../old.py\nPKG-INFO\n",
                ),
                ("tl/__init__.py", ""),
                ("tl-1.egg-info/top_level.txt", "tl\n"),
                ("nolist-1.dist-info/METADATA", "Name: nolist\n"),
                ("stray.py", ""),
                ("easy-install.pth", "./x\n"),
            ],
        );
        let scan = scan(site).unwrap();
        let owned: Vec<&str> = scan.owned.iter().map(String::as_str).collect();
        assert_eq!(
            owned,
            [
                "ns/a/__init__.py",
                "old.py",
                "pure/__init__.py",
                "pure/data.txt",
                "tl/__init__.py"
            ]
        );
        let frozen: Vec<(&str, Vec<&str>)> = scan
            .frozen
            .iter()
            .map(|(d, tops)| (d.as_str(), tops.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            frozen,
            [
                ("ns_a-1.dist-info", vec!["ns"]),
                ("old-3.egg-info", vec!["old"]),
                ("pure-1.0.dist-info", vec!["pure"]),
                ("tl-1.egg-info", vec!["tl"]),
            ]
        );
        let skipped: Vec<(&str, &str)> = scan
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), s.reason.split(':').next().unwrap()))
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    "__editable__.dev-0.1.pth",
                    "a `.pth` file (installed by dev-0.1.dist-info)"
                ),
                ("bin", "console scripts"),
                (
                    "dev-0.1.dist-info",
                    "an editable install (`__editable__.dev-0.1.pth`, \
                     `__editable___dev_0_1_finder.py`)"
                ),
                ("easy-install.pth", "a `.pth` file"),
                (
                    "fast-2.0.dist-info",
                    "has extension modules (`fast/_speedups.cpython-311-x86_64-linux-gnu.so`)"
                ),
                (
                    "nolist-1.dist-info",
                    "lists none of its files (no `RECORD`, `installed-files.txt` or \
                     `top_level.txt`)"
                ),
                ("ns_b-1.dist-info", "has extension modules (`ns/b/_c.pyd`)"),
                (
                    "pure.pth",
                    "a `.pth` file (installed by pure-1.0.dist-info)"
                ),
                ("stray.py", "listed by no distribution's `RECORD`"),
            ]
        );
    }

    #[test]
    fn an_editable_install_is_known_by_its_direct_url_too() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            &[
                (
                    "dev-1.dist-info/RECORD",
                    &record(&["dev-1.dist-info/RECORD"]),
                ),
                (
                    "dev-1.dist-info/direct_url.json",
                    r#"{"url": "file:///src/dev", "dir_info": {"editable": true}}"#,
                ),
            ],
        );
        let scan = scan(tmp.path()).unwrap();
        assert!(scan.frozen.is_empty());
        assert!(scan.skipped[0]
            .reason
            .starts_with("an editable install (`direct_url.json` says so)"));
    }
}
