//! The user's own program as the workload (`--app SCRIPT`, or `--import MODULE...` with
//! `--app-root DIR`): its folder is copied into the cache (only changed files are rewritten,
//! so its `.pyc` stay warm) and compiled there by the stock interpreter, so that no
//! configuration writes into the user's tree and PathFinder reads warm `.pyc` like the stdlib's;
//! embed-c freezes the copy whole, the zip holds its `.pyc`, the other configurations import it
//! from the copy on `sys.path`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pyfreeze_gen::{NoProgress, SpecBuilder};

use super::args::BenchArgs;
use super::harness::command;
use super::setup::Stock;
use super::workload::{selection_of, DataFile, Selected};

/// The program under test.
pub struct App {
    /// The folder as given.
    pub given: PathBuf,
    /// The copy every configuration imports from (or freezes).
    pub root: PathBuf,
    /// What the import workload imports, in order.
    pub modules: Vec<String>,
    /// The copy's modules, as the generator selects them (the zip holds them).
    pub selection: Vec<Selected>,
    /// The copy's package data: `(archive path, file)`.
    pub data: Vec<DataFile>,
    /// Top-level names of the copy's modules: a module under one of them is the app's.
    tops: BTreeSet<String>,
}

impl App {
    /// Whether module `name` belongs to the app (its top-level name is one of the copy's).
    pub fn owns(&self, name: &str) -> bool {
        self.tops
            .contains(name.split('.').next().unwrap_or_default())
    }
}

/// The app of `--app`/`--import`, copied and compiled; `None` without them.
pub fn prepare(args: &BenchArgs, stock: &Stock, cache: &Path) -> Result<Option<App>, String> {
    let (given, modules) = match (&args.app, &args.app_root) {
        (Some(script), _) => {
            let is_py = script.extension().is_some_and(|e| e == "py");
            let stem = script.file_stem().map(|s| s.to_string_lossy().into_owned());
            let (Some(stem), true) = (stem, is_py && script.is_file()) else {
                return Err(format!(
                    "--app {}: not a Python file (give the script your program starts from, \
                     or --app-root DIR with --import MODULE)",
                    script.display()
                ));
            };
            if !is_module_name(&stem) || stem == "__init__" || stem == "__main__" {
                return Err(format!(
                    "--app {}: `{stem}` cannot be imported as a module; give the package it \
                     belongs to with --app-root DIR --import PACKAGE, or rename the script",
                    script.display()
                ));
            }
            let folder = script.parent().filter(|p| !p.as_os_str().is_empty());
            (folder.unwrap_or(Path::new(".")).to_path_buf(), vec![stem])
        }
        (None, Some(root)) => (root.clone(), args.imports.clone()),
        (None, None) => return Ok(None),
    };
    for m in &modules {
        if !is_module_name(m) {
            return Err(format!(
                "--import {m}: not a module name (dotted names, like `app.cli`)"
            ));
        }
    }
    let given = given
        .canonicalize()
        .map_err(|e| format!("app root {}: {e}", given.display()))?;
    if !given.is_dir() {
        return Err(format!("app root {}: not a folder", given.display()));
    }
    // The copy's folder: the folder's name, kept to characters a Makefile passes on as they
    // are (embed-c's build gets it in PYFREEZE_FLAGS), and a hash of where it is, so two apps
    // in folders of one name keep their own copies.
    let name: String = given
        .file_name()
        .map_or("app".into(), |n| n.to_string_lossy().into_owned())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = pyfreeze_gen::emit::sha256_hex(given.as_os_str().as_encoded_bytes());
    let root = cache
        .join(format!("app-{}", stock.version))
        .join(format!("{name}-{}", &hash[..8]));
    let plain = |c: char| c.is_ascii_graphic() && !"$\\'\"`;&|<>*?#%(){}[]".contains(c);
    if !root.to_str().is_some_and(|p| p.chars().all(plain)) {
        return Err(format!(
            "the bench's cache {} has a character that embed-c's Makefile cannot take in a \
             path (a space, a quote, `$`...); pass --cache DIR with a plain path",
            cache.display()
        ));
    }
    let copied = sync_tree(&given, &root)?;
    eprintln!(
        "pyfreeze bench: app: {} copied to {} ({copied} files changed), compiling its .pyc",
        given.display(),
        root.display()
    );
    compile(stock, &root)?;

    let spec = SpecBuilder::new()
        .python(&stock.python)
        .root(&root)
        .runtime(false)
        .package_data(true)
        .embed_source(false)
        .build()
        .map_err(|e| format!("app root {}: {e}", given.display()))?;
    let generated = pyfreeze_gen::generate(&spec, &NoProgress)
        .map_err(|e| format!("app root {}: {e}", given.display()))?;
    let (selection, data) = selection_of(generated);
    let tops: BTreeSet<String> = selection
        .iter()
        .map(|m| m.name.split('.').next().unwrap_or_default().to_string())
        .collect();
    if selection.is_empty() {
        return Err(format!(
            "app root {}: no Python module in it (give the folder your program imports from)",
            given.display()
        ));
    }
    let app = App {
        given,
        root,
        modules,
        selection,
        data,
        tops,
    };
    if let Some(m) = app.modules.iter().find(|m| !app.owns(m)) {
        return Err(format!(
            "--import {m}: not a module of the app root {} (its top-level modules: {})",
            app.given.display(),
            app.tops.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Some(app))
}

/// Whether `name` is a dotted module name (`app.cli`).
fn is_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            part.chars().next().is_some_and(|c| !c.is_ascii_digit())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// What is never copied: bytecode caches, and hidden files and folders (version control,
/// editors' state).
fn skipped(name: &str) -> bool {
    name == "__pycache__" || name.starts_with('.')
}

/// Makes `to` a copy of `from` (files rewritten only when their bytes change, files that are
/// gone removed, `__pycache__` and hidden folders left out); returns how many files changed.
fn sync_tree(from: &Path, to: &Path) -> Result<usize, String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    let mut changed = 0;
    let mut wanted = BTreeSet::new();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| io(from, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(from, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        // A link is copied as the file it points to; a folder only when it is one itself (a
        // linked folder could loop); anything else is left out.
        let kind = entry.file_type().map_err(|e| io(&src, e))?;
        let is_dir = kind.is_dir();
        if !(is_dir || kind.is_file() || kind.is_symlink() && src.is_file()) {
            continue;
        }
        wanted.insert(name);
        // What changed from file to folder, or back, is replaced.
        if is_dir && dst.is_file() {
            std::fs::remove_file(&dst).map_err(|e| io(&dst, e))?;
        } else if !is_dir && dst.is_dir() {
            std::fs::remove_dir_all(&dst).map_err(|e| io(&dst, e))?;
        }
        if is_dir {
            changed += sync_tree(&src, &dst)?;
        } else {
            let bytes = std::fs::read(&src).map_err(|e| io(&src, e))?;
            if std::fs::read(&dst).ok().as_deref() != Some(&bytes[..]) {
                pyfreeze_gen::write_if_changed(&dst, &bytes).map_err(|e| io(&dst, e))?;
                changed += 1;
            }
        }
    }
    for entry in std::fs::read_dir(to).map_err(|e| io(to, e))? {
        let entry = entry.map_err(|e| io(to, e))?;
        let name = entry.file_name();
        if wanted.contains(&name) || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        gone.map_err(|e| io(&path, e))?;
        changed += 1;
    }
    Ok(changed)
}

/// `python -m compileall` on the copy with the stock interpreter (what PathFinder, plain and
/// patched read: one minor version, one bytecode magic).
fn compile(stock: &Stock, root: &Path) -> Result<(), String> {
    let out = command(&stock.python, root)
        .args(["-I", "-m", "compileall", "-q", "-j", "0"])
        .arg(root)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", stock.python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "compiling the app copy {} failed ({}):\n{}{}",
            root.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_follows_the_tree_and_keeps_unchanged_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        std::fs::create_dir_all(src.join("pkg/__pycache__")).unwrap();
        std::fs::create_dir_all(src.join(".git")).unwrap();
        std::fs::write(src.join("pkg/__init__.py"), "x = 1\n").unwrap();
        std::fs::write(src.join("pkg/__pycache__/__init__.cpython-311.pyc"), "old").unwrap();
        std::fs::write(src.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(src.join("main.py"), "import pkg\n").unwrap();
        assert_eq!(sync_tree(&src, &dst).unwrap(), 2);
        assert!(dst.join("pkg/__init__.py").is_file());
        assert!(!dst.join("pkg/__pycache__").exists());
        assert!(!dst.join(".git").exists());

        // Unchanged: nothing rewritten, so the copy's mtimes (and .pyc) stay valid.
        let mtime = || {
            std::fs::metadata(dst.join("main.py"))
                .unwrap()
                .modified()
                .unwrap()
        };
        let before = mtime();
        std::fs::create_dir_all(dst.join("pkg/__pycache__")).unwrap();
        assert_eq!(sync_tree(&src, &dst).unwrap(), 0);
        assert_eq!(mtime(), before);
        assert!(
            dst.join("pkg/__pycache__").is_dir(),
            "the copy's caches stay"
        );

        // A changed file is rewritten, a removed one removed.
        std::fs::write(src.join("pkg/__init__.py"), "x = 2\n").unwrap();
        std::fs::remove_file(src.join("main.py")).unwrap();
        assert_eq!(sync_tree(&src, &dst).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(dst.join("pkg/__init__.py")).unwrap(),
            "x = 2\n"
        );
        assert!(!dst.join("main.py").exists());

        // A file that became a folder, and a folder that became a file; a linked folder is
        // not followed.
        std::fs::remove_file(src.join("pkg/__init__.py")).unwrap();
        std::fs::create_dir_all(src.join("pkg/__init__.py")).unwrap();
        std::fs::write(src.join("pkg2"), "").unwrap();
        std::fs::create_dir_all(dst.join("pkg2")).unwrap();
        std::os::unix::fs::symlink(&src, src.join("loop")).unwrap();
        sync_tree(&src, &dst).unwrap();
        assert!(dst.join("pkg/__init__.py").is_dir() && dst.join("pkg2").is_file());
        assert!(!dst.join("loop").exists());
    }
}
