//! Finding modules, packages, namespace packages and package data under the roots.
//!
//! Rules, per directory (entries visited in byte order of their names, so the result does not
//! depend on the file system's order):
//! - at a root, `x.py` is module `x`; a folder with `__init__.py` is a package; a folder
//!   without one that holds `.py` files somewhere below is a namespace package; other
//!   folders are ignored;
//! - inside a package the same holds for submodules, and every other file (and every file
//!   below a folder without `.py` files) is package data of the nearest package;
//! - `__pycache__`, hidden entries (`.name`) and compiled files (`.pyc`, `.so`, ...) are
//!   skipped. Extension modules are counted so the caller can say they stay on disk;
//! - at a root (not the stdlib's), a `*.dist-info` or `*.egg-info` folder is a distribution's
//!   metadata, kept when it belongs to a module frozen from that root ([`belongs`]);
//! - a site-packages folder is walked by the same rules, over only the files of the
//!   distributions [`crate::site::scan`] freezes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::select::Selector;
use crate::site::{self, Skipped};
use crate::spec::Precedence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Module,
    Package,
    Namespace,
}

impl Kind {
    /// The kind's name in `pyfreeze list`, `manifest.json` and the bench's reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Package => "package",
            Kind::Namespace => "namespace",
        }
    }
}

/// A module found under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    pub kind: Kind,
    /// The `.py` file (a package's `__init__.py`), or a namespace package's folder.
    pub path: PathBuf,
    /// `path` relative to the root, `/`-separated.
    pub rel: String,
    /// Found by the stdlib's walk (not a root of the spec's).
    pub stdlib: bool,
}

/// A package data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub package: String,
    /// Relative to the package folder, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
}

/// A distribution's metadata folder (`*.dist-info`, `*.egg-info`) at the top of a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// The folder's name.
    pub name: String,
    pub path: PathBuf,
    /// Every file below it: path relative to the folder (`/`-separated), file. Sorted.
    pub files: Vec<(String, PathBuf)>,
}

/// What discovery found under all roots.
#[derive(Debug, Default)]
pub struct Found {
    pub modules: BTreeMap<String, Module>,
    pub resources: Vec<Resource>,
    /// Every folder walked (a new file in one of them should trigger a rebuild).
    pub dirs: Vec<PathBuf>,
    /// Extension modules seen inside selected packages (they are not frozen).
    pub extensions: Vec<PathBuf>,
    /// Packages that no include pattern selects but that a selected submodule needs (Python
    /// imports `a` before `a.b`): added with their `__init__` only, not their data.
    pub added_parents: Vec<String>,
    /// Distribution metadata found beside the frozen modules, sorted by folder name.
    pub distributions: Vec<Distribution>,
    /// What site-packages folders hold that is not frozen, and why; sorted by name.
    pub skipped: Vec<Skipped>,
    /// For roots whose installed copies win (`precedence = "path"`): (top-level module,
    /// metadata folder of its distribution), `""` for none on either side; sorted.
    pub path_first: Vec<(String, String)>,
}

const COMPILED_SUFFIXES: &[&str] = &[".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib"];

#[derive(Clone)]
enum Ctx {
    Root,
    Package(String),
    Data { package: String, prefix: String },
}

/// One root, with its selector.
pub struct RootWalk<'a> {
    pub path: &'a Path,
    pub selector: &'a Selector,
    pub package_data: bool,
    /// The stdlib: its exclude patterns may name modules of other versions, and module files
    /// may be named as CPython's own `_sysconfigdata_*-linux-gnu`.
    pub stdlib: bool,
    /// Keep the distribution metadata folders at the top of the root (not for the stdlib).
    pub metadata: bool,
    /// A site-packages folder: only the files of the distributions that can be frozen.
    pub site_packages: bool,
    pub precedence: Precedence,
}

struct Walker<'a> {
    root: &'a RootWalk<'a>,
    found: &'a mut Found,
    problems: &'a mut Vec<String>,
    include_hits: Vec<bool>,
    exclude_hits: Vec<bool>,
    names_here: BTreeMap<String, PathBuf>,
    /// Packages walked into that the include patterns did not select.
    unselected_packages: BTreeMap<String, Module>,
    /// Metadata folders at the top of the root: (name, path).
    dist_dirs: Vec<(String, PathBuf)>,
    /// For a site-packages folder, the files that may be frozen (root-relative).
    owned: Option<&'a std::collections::BTreeSet<String>>,
}

/// Whether `s` is a Python identifier (approximately `str.isidentifier()`).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// A module file's stem that may also contain `-`: importable through `importlib` only, which
/// is how CPython imports its own `_sysconfigdata_*-linux-gnu` module.
fn is_importlib_module_stem(s: &str) -> bool {
    is_identifier(&s.replace('-', "_"))
}

pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "list folder", e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, "list folder", e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follow symlinks, as the import system does.
        let is_dir = std::fs::metadata(&path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        out.push((name, path, is_dir));
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

fn contains_py(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__pycache__" {
            return false;
        }
        let p = e.path();
        if p.is_dir() {
            contains_py(&p)
        } else {
            name.ends_with(".py")
        }
    })
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

fn join_name(pkg: &str, name: &str) -> String {
    if pkg.is_empty() {
        name.to_string()
    } else {
        format!("{pkg}.{name}")
    }
}

impl Walker<'_> {
    /// Whether the file at `rel` may be frozen (always, outside site-packages folders).
    fn owns(&self, rel: &str) -> bool {
        self.owned.is_none_or(|owned| owned.contains(rel))
    }

    /// Whether the folder at `path` (`rel`) holds a module that may be frozen.
    fn has_modules(&self, path: &Path, rel: &str) -> bool {
        match self.owned {
            None => contains_py(path),
            Some(owned) => {
                let prefix = format!("{rel}/");
                owned
                    .range(prefix.clone()..)
                    .take_while(|f| f.starts_with(&prefix))
                    .any(|f| f.ends_with(".py"))
            }
        }
    }

    /// Whether the exclude patterns drop `name` (a module) or `rel` (a path), noting which
    /// patterns matched.
    fn excluded(&mut self, name: Option<&str>, rel: &str) -> bool {
        let hits = self.root.selector.exclude.matching(name, rel);
        for &i in &hits {
            self.exclude_hits[i] = true;
        }
        !hits.is_empty()
    }

    /// Adds every package above a selected module that the patterns left out: without it,
    /// importing the submodule fails at run time, far from the cause.
    fn add_parents(&mut self) {
        let mut wanted = Vec::new();
        for name in self.found.modules.keys() {
            let mut parent = name.as_str();
            while let Some((p, _)) = parent.rsplit_once('.') {
                parent = p;
                if self.unselected_packages.contains_key(parent) {
                    wanted.push(parent.to_string());
                }
            }
        }
        for name in wanted {
            if let Some(m) = self.unselected_packages.remove(&name) {
                self.names_here.insert(name.clone(), m.path.clone());
                self.found.modules.insert(name.clone(), m);
                self.found.added_parents.push(name);
            }
        }
    }

    fn add_module(&mut self, name: String, kind: Kind, path: PathBuf, rel: String) {
        let sel = self.root.selector;
        let hits = sel.include.matching(Some(&name), &rel);
        for &i in &hits {
            self.include_hits[i] = true;
        }
        if !sel.include.is_empty() && hits.is_empty() {
            if kind != Kind::Module {
                self.unselected_packages.insert(
                    name.clone(),
                    Module {
                        name,
                        kind,
                        path,
                        rel,
                        stdlib: self.root.stdlib,
                    },
                );
            }
            return;
        }
        if self.excluded(Some(&name), &rel) {
            return;
        }
        let last = name.rsplit('.').next().unwrap_or(&name);
        let parents_ok = name.split('.').rev().skip(1).all(is_identifier);
        // A file name with `-` is a module only `importlib` can import (CPython's own
        // `_sysconfigdata_*-linux-gnu`): in the stdlib, or when an include names it.
        let by_name = || self.root.stdlib || sel.include.names(&name, &rel);
        let last_ok = match kind == Kind::Module && by_name() {
            true => is_importlib_module_stem(last),
            false => is_identifier(last),
        };
        if !(parents_ok && last_ok) {
            // Only a module file whose one flaw is a `-` can be frozen as it is.
            let dashed = kind == Kind::Module && parents_ok && is_importlib_module_stem(last);
            let fix = match dashed {
                true => format!("rename it to `{}.py`", last.replace('-', "_")),
                false => "rename it".to_string(),
            };
            let by_include = match dashed {
                true => format!(
                    " (or include it by name, `--include '{name}'`, to freeze it for \
                     `importlib.import_module`)"
                ),
                false => String::new(),
            };
            self.problems.push(format!(
                "{}: `{name}` is not a valid module name (an `import` statement cannot name \
                 it: names must be Python identifiers); {fix}, or exclude it with \
                 `--exclude '{rel}'`{by_include}",
                path.display()
            ));
            return;
        }
        if let Some(first) = self.names_here.get(&name) {
            self.problems.push(format!(
                "module `{name}` is defined twice: {} and {}; remove one of them",
                first.display(),
                path.display()
            ));
            return;
        }
        self.names_here.insert(name.clone(), path.clone());
        self.found.modules.insert(
            name.clone(),
            Module {
                name,
                kind,
                path,
                rel,
                stdlib: self.root.stdlib,
            },
        );
    }

    fn walk(&mut self, dir: &Path, rel: &str, ctx: Ctx) -> Result<()> {
        self.found.dirs.push(dir.to_path_buf());
        let entries = sorted_entries(dir)?;
        let pkg_name = match &ctx {
            Ctx::Root => String::new(),
            Ctx::Package(p) => p.clone(),
            Ctx::Data { package, .. } => package.clone(),
        };
        for (name, path, is_dir) in entries {
            if name.starts_with('.') || name == "__pycache__" {
                continue;
            }
            let child_rel = join_rel(rel, &name);
            if is_dir && matches!(ctx, Ctx::Root) && is_dist_dir(&name) {
                if self.root.metadata && !self.root.stdlib {
                    self.dist_dirs.push((name, path));
                }
                continue;
            }
            if is_dir {
                match &ctx {
                    Ctx::Root | Ctx::Package(_) => {
                        let full = join_name(&pkg_name, &name);
                        if self.excluded(Some(&full), &child_rel) {
                            continue;
                        }
                        let init = path.join("__init__.py");
                        let init_rel = join_rel(&child_rel, "__init__.py");
                        if init.is_file() && !self.owns(&init_rel) {
                            // A package of a distribution that is not frozen.
                            continue;
                        }
                        if init.is_file() {
                            self.add_module(full.clone(), Kind::Package, init, init_rel);
                            self.walk(&path, &child_rel, Ctx::Package(full))?;
                        } else if self.has_modules(&path, &child_rel) {
                            self.add_module(
                                full.clone(),
                                Kind::Namespace,
                                path.clone(),
                                child_rel.clone(),
                            );
                            self.walk(&path, &child_rel, Ctx::Package(full))?;
                        } else if let Ctx::Package(p) = &ctx {
                            self.walk(
                                &path,
                                &child_rel,
                                Ctx::Data {
                                    package: p.clone(),
                                    prefix: name.clone(),
                                },
                            )?;
                        }
                    }
                    Ctx::Data { package, prefix } => {
                        let ctx = Ctx::Data {
                            package: package.clone(),
                            prefix: join_rel(prefix, &name),
                        };
                        self.walk(&path, &child_rel, ctx)?;
                    }
                }
                continue;
            }
            if !self.owns(&child_rel) {
                continue;
            }
            if let Some(stem) = name.strip_suffix(".py") {
                match &ctx {
                    Ctx::Root | Ctx::Package(_) if stem != "__init__" => {
                        self.add_module(join_name(&pkg_name, stem), Kind::Module, path, child_rel);
                    }
                    _ => {}
                }
                continue;
            }
            if COMPILED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                if !matches!(ctx, Ctx::Root)
                    && [".so", ".pyd", ".dylib"].iter().any(|s| name.ends_with(s))
                {
                    self.found.extensions.push(path);
                }
                continue;
            }
            let (package, rel_in_pkg) = match &ctx {
                Ctx::Root => continue,
                Ctx::Package(p) => (p.clone(), name.clone()),
                Ctx::Data { package, prefix } => (package.clone(), join_rel(prefix, &name)),
            };
            if !self.root.package_data || !self.found.modules.contains_key(&package) {
                continue; // the package itself was not selected
            }
            if self.excluded(None, &child_rel) {
                continue;
            }
            self.found.resources.push(Resource {
                package,
                rel: rel_in_pkg,
                path,
            });
        }
        Ok(())
    }
}

/// `NAME-VERSION.dist-info` (a wheel's) or `NAME[-VERSION...].egg-info` (setuptools').
pub(crate) fn is_dist_dir(name: &str) -> bool {
    name.len() > ".dist-info".len() && name.ends_with(".dist-info")
        || name.len() > ".egg-info".len() && name.ends_with(".egg-info")
}

/// Every file below `dir` (hidden ones and `__pycache__` left out), relative and sorted.
pub(crate) fn files_below(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for (name, path, is_dir) in sorted_entries(dir)? {
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        let child = join_rel(rel, &name);
        if is_dir {
            files_below(&path, &child, out)?;
        } else {
            out.push((child, path));
        }
    }
    Ok(())
}

/// The first field of a line of a wheel's `RECORD` (CSV: a path with a `,` is quoted).
pub(crate) fn record_path(line: &str) -> String {
    match line.strip_prefix('"') {
        Some(rest) => {
            let mut out = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(c);
            }
            out
        }
        None => line.split(',').next().unwrap_or("").to_string(),
    }
}

/// Whether the metadata folder `dir` belongs to a module frozen from its root: its `RECORD`
/// (a wheel's) lists one of their files, or its `top_level.txt` names one of their top-level
/// names, or `installed-files.txt` (pip's for an egg-info) lists one of their files. A folder
/// with none of these lists belongs to the root when the root is frozen whole (no include
/// patterns).
pub fn belongs(dir: &Path, modules: &BTreeMap<String, Module>, whole_root: bool) -> bool {
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let files: std::collections::BTreeSet<&str> =
        modules.values().map(|m| m.rel.as_str()).collect();
    let mut listed = false;
    if let Some(record) = read("RECORD") {
        listed = true;
        if record
            .lines()
            .any(|l| files.contains(record_path(l).as_str()))
        {
            return true;
        }
    }
    if let Some(installed) = read("installed-files.txt") {
        listed = true;
        if installed
            .lines()
            .filter_map(|l| l.trim().strip_prefix("../"))
            .any(|p| files.contains(p))
        {
            return true;
        }
    }
    if let Some(top_level) = read("top_level.txt") {
        listed = true;
        if top_level
            .lines()
            .map(str::trim)
            .any(|name| !name.is_empty() && modules.contains_key(name))
        {
            return true;
        }
    }
    !listed && whole_root
}

/// Walks the roots in order. Problems (clashes, invalid names, includes that match nothing)
/// are collected across all roots and returned together.
pub fn discover(roots: &[RootWalk<'_>]) -> Result<Found> {
    let mut found = Found::default();
    let mut problems = Vec::new();
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    // By text: a pattern given once may apply to several roots (flags refining a file's).
    let mut exclude_hits: BTreeMap<&str, bool> = BTreeMap::new();
    for root in roots {
        if !root.path.is_dir() {
            let (what, flag) = match root.site_packages {
                true => ("site-packages folder", "--site-packages"),
                false => ("root", "--root"),
            };
            problems.push(format!(
                "{what} {} is not a folder; check the path in the spec or {flag}",
                root.path.display()
            ));
            continue;
        }
        let mut root_found = Found::default();
        let scan = match root.site_packages {
            true => Some(site::scan(root.path)?),
            false => None,
        };
        let mut walker = Walker {
            root,
            found: &mut root_found,
            problems: &mut problems,
            include_hits: vec![false; root.selector.include.raw().len()],
            exclude_hits: vec![false; root.selector.exclude.raw().len()],
            names_here: BTreeMap::new(),
            unselected_packages: BTreeMap::new(),
            dist_dirs: Vec::new(),
            owned: scan.as_ref().map(|s| &s.owned),
        };
        walker.walk(root.path, "", Ctx::Root)?;
        walker.add_parents();
        for (name, path) in std::mem::take(&mut walker.dist_dirs) {
            let whole_root = root.selector.include.is_empty();
            let keep = match &scan {
                None => belongs(&path, &walker.found.modules, whole_root),
                // A distribution without modules (metadata only) goes with the whole folder.
                Some(scan) => scan.frozen.get(&name).is_some_and(|tops| {
                    belongs(&path, &walker.found.modules, false) || tops.is_empty() && whole_root
                }),
            };
            if walker.excluded(None, &name) || !keep {
                continue;
            }
            let mut files = Vec::new();
            files_below(&path, "", &mut files)?;
            // The table's order (its lookup is a binary search): `a-b` before `a/x`.
            files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            walker.found.dirs.push(path.clone());
            walker
                .found
                .distributions
                .push(Distribution { name, path, files });
        }
        let (include_hits, root_exclude_hits) = (walker.include_hits, walker.exclude_hits);
        if root.precedence == Precedence::Path {
            root_found.path_first = path_first(root.path, &root_found)?;
        }
        root_found.skipped = scan.map(|s| s.skipped).unwrap_or_default();
        for (i, hit) in include_hits.iter().enumerate() {
            if !hit {
                problems.push(format!(
                    "include pattern `{}` matches no module under {}; check the spelling \
                     (`.` separates names, `/` makes it a path pattern)",
                    root.selector.include.raw()[i],
                    root.path.display()
                ));
            }
        }
        if !root.stdlib {
            for (pattern, hit) in root.selector.exclude.raw().iter().zip(&root_exclude_hits) {
                *exclude_hits.entry(pattern.as_str()).or_default() |= *hit;
            }
        }
        for (name, m) in root_found.modules {
            if let Some(prev) = owner.get(&name) {
                let other = &found.modules[&name];
                if !(other.kind == Kind::Namespace && m.kind == Kind::Namespace) {
                    problems.push(format!(
                        "module `{name}` is found in two roots: {} and {}; exclude it from one",
                        prev.display(),
                        m.path.display()
                    ));
                }
                continue;
            }
            owner.insert(name.clone(), m.path.clone());
            found.modules.insert(name, m);
        }
        found.resources.extend(root_found.resources);
        found.dirs.extend(root_found.dirs);
        found.extensions.extend(root_found.extensions);
        found.added_parents.extend(root_found.added_parents);
        found.skipped.extend(root_found.skipped);
        found.path_first.extend(root_found.path_first);
        for d in root_found.distributions {
            match found.distributions.iter().find(|o| o.name == d.name) {
                Some(first) => problems.push(format!(
                    "distribution metadata `{}` is found in two roots: {} and {}; exclude it \
                     from one (`--exclude '{}'`)",
                    d.name,
                    first.path.display(),
                    d.path.display(),
                    d.name
                )),
                None => found.distributions.push(d),
            }
        }
    }
    for (pattern, _) in exclude_hits.iter().filter(|(_, hit)| !**hit) {
        problems.push(format!(
            "exclude pattern `{pattern}` matches nothing under {}; check the spelling \
             (`.` separates names, `/` makes it a path pattern), or drop it",
            roots
                .iter()
                .filter(|r| !r.stdlib && r.selector.exclude.raw().iter().any(|p| p == pattern))
                .map(|r| r.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    found.added_parents.sort();
    found.added_parents.dedup();
    found
        .skipped
        .sort_by(|a, b| (a.name.as_bytes(), &a.path).cmp(&(b.name.as_bytes(), &b.path)));
    found.path_first.sort();
    found.path_first.dedup();
    found
        .distributions
        .sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    // Drop data whose package lost a clash to another root.
    found.resources.retain(|r| {
        found
            .modules
            .get(&r.package)
            .is_some_and(|m| r.path.starts_with(package_dir(m)))
    });
    found.resources.sort_by(|a, b| {
        (a.package.as_bytes(), a.rel.as_bytes()).cmp(&(b.package.as_bytes(), b.rel.as_bytes()))
    });
    if problems.is_empty() {
        Ok(found)
    } else {
        problems.sort();
        problems.dedup();
        Err(Error::Discovery(problems))
    }
}

/// The rows of [`Found::path_first`] for a root whose installed copies win: each top-level
/// module frozen from it with the metadata folder of each distribution that lists a file of
/// it, a module no distribution lists with `""`, a distribution without modules with `""`.
fn path_first(root: &Path, found: &Found) -> Result<Vec<(String, String)>> {
    use std::collections::BTreeSet;
    let tops: BTreeSet<&str> = found
        .modules
        .keys()
        .filter(|name| !name.contains('.'))
        .map(String::as_str)
        .collect();
    let mut rows = BTreeSet::new();
    let mut listed_tops = BTreeSet::new();
    for d in &found.distributions {
        let mut any = false;
        for file in site::listed_files(root, &d.name)?.unwrap_or_default() {
            let top = file.split('/').next().unwrap_or("");
            let top = top.strip_suffix(".py").unwrap_or(top);
            if let Some(top) = tops.get(top) {
                rows.insert((top.to_string(), d.name.clone()));
                listed_tops.insert(*top);
                any = true;
            }
        }
        if !any {
            rows.insert((String::new(), d.name.clone()));
        }
    }
    for top in tops.difference(&listed_tops) {
        rows.insert((top.to_string(), String::new()));
    }
    Ok(rows.into_iter().collect())
}

/// The folder of a package (the parent of `__init__.py`, or the namespace folder itself).
pub fn package_dir(m: &Module) -> &Path {
    match m.kind {
        Kind::Namespace => &m.path,
        _ => m.path.parent().unwrap_or(Path::new("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths_are_csv_fields() {
        assert_eq!(
            record_path("attr/__init__.py,sha256=fOYI,2057"),
            "attr/__init__.py"
        );
        // csv quotes a field holding a comma and doubles its quotes.
        assert_eq!(record_path(r#""a,b/""x"".py",sha256=1,2"#), r#"a,b/"x".py"#);
        assert_eq!(record_path("bin/tool,,"), "bin/tool");
        assert!(is_dist_dir("attrs-25.3.0.dist-info") && is_dist_dir("six.egg-info"));
        assert!(!is_dist_dir(".dist-info") && !is_dist_dir("dist-info"));
    }

    /// A site-packages folder: only the files of the distributions that can be frozen become
    /// modules and data; the namespace package two distributions share holds only the pure
    /// one's part; metadata follows; `precedence = "path"` lists each top-level module with
    /// its distribution.
    #[test]
    fn a_site_packages_folder_is_walked_over_the_files_of_its_pure_distributions() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path();
        let record = |files: &[&str]| files.iter().map(|f| format!("{f},,\n")).collect::<String>();
        let files: Vec<(&str, String)> = vec![
            ("pure/__init__.py", String::new()),
            ("pure/sub/__init__.py", String::new()),
            ("pure/templates/page.html", "<p>".into()),
            ("pure/leftover.py", String::new()),
            (
                "pure-1.0.dist-info/RECORD",
                record(&[
                    "pure/__init__.py",
                    "pure/sub/__init__.py",
                    "pure/templates/page.html",
                    "pure-1.0.dist-info/RECORD",
                ]),
            ),
            ("ns/a/__init__.py", String::new()),
            ("ns/b/__init__.py", String::new()),
            ("ns/b/_c.so", String::new()),
            ("ns_a-1.dist-info/RECORD", record(&["ns/a/__init__.py"])),
            (
                "ns_b-1.dist-info/RECORD",
                record(&["ns/b/__init__.py", "ns/b/_c.so"]),
            ),
            (
                "meta-1.dist-info/RECORD",
                record(&["meta-1.dist-info/RECORD"]),
            ),
            ("stray.py", String::new()),
        ];
        for (rel, text) in &files {
            let path = site.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let selector = Selector::new(&[], &[]).unwrap();
        let walk = |precedence| {
            discover(&[RootWalk {
                path: site,
                selector: &selector,
                package_data: true,
                stdlib: false,
                metadata: true,
                site_packages: true,
                precedence,
            }])
            .unwrap()
        };
        let found = walk(Precedence::Path);
        let modules: Vec<(&str, Kind)> = found
            .modules
            .values()
            .map(|m| (m.name.as_str(), m.kind))
            .collect();
        assert_eq!(
            modules,
            [
                ("ns", Kind::Namespace),
                ("ns.a", Kind::Package),
                ("pure", Kind::Package),
                ("pure.sub", Kind::Package)
            ]
        );
        let data: Vec<(&str, &str)> = found
            .resources
            .iter()
            .map(|r| (r.package.as_str(), r.rel.as_str()))
            .collect();
        assert_eq!(data, [("pure", "templates/page.html")]);
        let dists: Vec<&str> = found
            .distributions
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(
            dists,
            ["meta-1.dist-info", "ns_a-1.dist-info", "pure-1.0.dist-info"]
        );
        let skipped: Vec<&str> = found.skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(skipped, ["ns_b-1.dist-info", "stray.py"]);
        assert!(found.extensions.is_empty());
        let rows: Vec<(&str, &str)> = found
            .path_first
            .iter()
            .map(|(m, d)| (m.as_str(), d.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("", "meta-1.dist-info"),
                ("ns", "ns_a-1.dist-info"),
                ("pure", "pure-1.0.dist-info")
            ]
        );
        assert!(walk(Precedence::Table).path_first.is_empty());
    }

    #[test]
    fn a_dashed_module_name_needs_the_stdlib_or_an_include_naming_it() {
        let sysconfigdata = "_sysconfigdata__linux_x86_64-linux-gnu";
        assert!(is_importlib_module_stem(sysconfigdata) && !is_identifier(sysconfigdata));
        // What CPython's build passes with its build folder as a root (Tools/pyfreeze/cpython.mk).
        let include =
            crate::select::Patterns::new(&["_sysconfigdata_*".into(), "game".into()]).unwrap();
        assert!(include.names(sysconfigdata, &format!("{sysconfigdata}.py")));
        // Selected only as part of a subtree is not named.
        assert!(!include.names("game.my-helper", "game/my-helper.py"));
    }
}
