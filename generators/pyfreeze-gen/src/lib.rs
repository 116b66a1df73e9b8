//! # pyfreeze-gen
//!
//! The generator of pyfreeze: a [`Spec`] in, [`OutputFile`]s out. It discovers modules under
//! the spec's roots, compiles them with the *target* interpreter (never the host's), and
//! renders C sources of the extended frozen-module table (name, flags, origin, source,
//! bytecode, package data) plus a stock `struct _frozen` table for `PyImport_FrozenModules`.
//!
//! The library reads no environment variables and prints nothing; callers (the `pyfreeze`
//! CLI, the build-support crate) report progress through [`Progress`] and write the files
//! with [`write_output`].
//!
//! ```no_run
//! use pyfreeze_gen::{generate, write_output, NoProgress, SpecBuilder};
//! let spec = SpecBuilder::new().python("python3.11").root("app").build()?;
//! let generated = generate(&spec, &NoProgress)?;
//! write_output("frozen".as_ref(), &generated.files)?;
//! # Ok::<(), pyfreeze_gen::Error>(())
//! ```

pub mod codefile;
pub mod cwriter;
pub mod discover;
pub mod emit;
mod error;
pub mod pack;
pub mod pyenv;
pub mod python;
pub mod readback;
pub mod schema;
pub mod select;
pub mod site;
pub mod spec;
pub mod static_modules;
pub mod stdlib;
pub mod trace;
pub mod versions;
mod write;

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

pub use discover::Kind;
pub use error::{Error, Result, SourceError};
pub use python::Interpreter;
pub use spec::{OriginMap, Precedence, Root, Source, Spec, SpecBuilder};
pub use versions::PythonVersion;
pub use write::{write_if_changed, write_output, write_output_reporting, WriteReport};

/// Name of the frozen Python half of the stock-libpython runtime.
pub const RUNTIME_MODULE: &str = "_pyfreeze_runtime";
/// The runtime module's name in a program's table when the target's libpython carries a
/// [`RUNTIME_MODULE`] of its own (a CPython built by `pyfreeze cpython build`): two modules,
/// each with the state of its own table.
pub const APP_RUNTIME_MODULE: &str = "_pyfreeze_app_runtime";
const RUNTIME_PY: &str = include_str!("../runtime/_pyfreeze_runtime.py");

/// The name of the runtime module a table for `interp` includes: [`APP_RUNTIME_MODULE`] when
/// the target's libpython has a [`RUNTIME_MODULE`] of its own ([`target_table`]).
fn runtime_module(spec: &Spec, interp: &Interpreter) -> &'static str {
    if carries(target_table(spec, interp), RUNTIME_MODULE) {
        APP_RUNTIME_MODULE
    } else {
        RUNTIME_MODULE
    }
}

/// One generated file, with a `/`-separated path relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A compiled module as it goes into the table.
#[derive(Debug, Clone)]
pub struct FrozenModule {
    pub name: String,
    pub kind: Kind,
    /// `__file__` and `co_filename` (after the origin map).
    pub origin: String,
    /// The real file or folder it came from (`None` for the runtime module).
    pub path: Option<PathBuf>,
    pub code: Vec<u8>,
    pub source: Option<Vec<u8>>,
    /// Rows of this package in the resource table.
    pub resources: Range<u32>,
}

/// A package data file as it goes into the table.
#[derive(Debug, Clone)]
pub struct FrozenResource {
    pub package: String,
    pub rel: String,
    pub path: PathBuf,
    pub data: Vec<u8>,
}

/// A distribution's metadata folder as it goes into the table.
#[derive(Debug, Clone)]
pub struct FrozenDistribution {
    /// The folder's name (`attrs-23.2.0.dist-info`).
    pub name: String,
    /// The folder's path after the origin map.
    pub origin: String,
    pub path: PathBuf,
    /// Its files, sorted by `rel`; `package` is the folder's name.
    pub files: Vec<FrozenResource>,
}

/// The result of [`generate`].
#[derive(Debug)]
pub struct Generated {
    pub interpreter: Interpreter,
    pub modules: Vec<FrozenModule>,
    pub resources: Vec<FrozenResource>,
    /// Distribution metadata frozen beside the modules (`importlib.metadata`).
    pub distributions: Vec<FrozenDistribution>,
    pub files: Vec<OutputFile>,
    /// Every file and folder read: for `rerun-if-changed` and Make depfiles.
    pub inputs: Vec<PathBuf>,
    /// Extension modules found inside frozen packages; they stay on disk.
    pub extensions: Vec<PathBuf>,
    /// Packages frozen only because a selected submodule needs them (their `__init__`).
    pub added_parents: Vec<String>,
    /// What the site-packages folders hold that is not frozen, and why.
    pub skipped: Vec<site::Skipped>,
    /// (top-level module, metadata folder) of the roots whose installed copies win
    /// (`precedence = "path"`); see [`discover::Found::path_first`].
    pub path_first: Vec<(String, String)>,
    /// Stdlib modules not frozen because the target's libpython already carries them in its
    /// extended frozen table (a CPython built by `pyfreeze cpython build`), sorted.
    pub already_in_target: Vec<String>,
    /// Problems that do not stop the build: guarded (optional) imports of stdlib modules that
    /// are not frozen, `file:line: ...`.
    pub warnings: Vec<String>,
}

/// Progress reports of a long generation. Every method has a no-op default.
pub trait Progress: Sync {
    fn interpreter(&self, _interp: &Interpreter) {}
    fn discovered(&self, _modules: usize, _resources: usize) {}
    fn compiled(&self, _done: usize, _total: usize) {}
    /// Another run holds the output folder's lock; this one waits for it.
    fn waiting_for_lock(&self, _dir: &Path) {}
}

/// A [`Progress`] that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Makes `path` absolute (against the current folder) and removes `.` and `..` lexically,
/// without resolving symlinks, so an origin is the path the user sees.
pub fn normalize_path(path: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(path).map_err(|e| Error::io(path, "resolve path", e))?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn origin_of(path: &Path, maps: &[(PathBuf, String)]) -> Result<String> {
    let abs = normalize_path(path)?;
    let best = maps
        .iter()
        .filter(|(from, _)| abs.starts_with(from))
        .max_by_key(|(from, _)| from.components().count());
    let mapped = match best {
        Some((from, to)) => {
            let rest = abs.strip_prefix(from).expect("checked by starts_with");
            let rest = rest.to_string_lossy();
            if rest.is_empty() {
                to.clone()
            } else if to.is_empty() {
                rest.into_owned()
            } else {
                format!("{}/{}", to.trim_end_matches('/'), rest)
            }
        }
        None => abs.to_string_lossy().into_owned(),
    };
    if std::path::MAIN_SEPARATOR == '\\' {
        return Ok(mapped.replace('\\', "/"));
    }
    Ok(mapped)
}

/// The spec's origin map, its `FROM`s made absolute.
fn origin_maps(spec: &Spec) -> Result<Vec<(PathBuf, String)>> {
    spec.origin_map()
        .iter()
        .map(|m| Ok((normalize_path(&m.from)?, m.to.clone())))
        .collect()
}

fn size_check(len: usize, what: &str, path: &Path) -> Result<()> {
    if len > i32::MAX as usize {
        return Err(Error::Output {
            path: path.to_path_buf(),
            message: format!("{what} is {len} bytes, more than a frozen table can hold (2 GiB)"),
        });
    }
    Ok(())
}

/// Discovers, compiles and renders everything the spec selects. Nothing is written: on any
/// error the caller's output folder stays as it was.
pub fn generate(spec: &Spec, progress: &dyn Progress) -> Result<Generated> {
    spec.validate(&Source::Code)?;
    let interp = Interpreter::probe(spec.python(), spec.version())?;
    progress.interpreter(&interp);

    let runtime = runtime_module(spec, &interp);
    let (mut found, already_in_target) = discover_selected(spec, &interp, runtime)?;
    progress.discovered(
        found.modules.len() + usize::from(spec.runtime()),
        found.resources.len(),
    );
    let mut inputs: Vec<PathBuf> = Vec::new();
    // Only a partial stdlib can miss a module the app imports.
    let check = spec.check_imports() && spec.stdlib() && !spec.stdlib_include().is_empty();
    let scan_below = if check {
        Some(stdlib::root(spec, &interp)?)
    } else {
        None
    };
    let pending = read_sources(
        spec,
        runtime,
        std::mem::take(&mut found.modules),
        scan_below.as_deref(),
        &mut inputs,
    )?;
    let (mut modules, imports) = compile(spec, &interp, pending, progress)?;
    let warnings = if check {
        check_imports(spec, &interp, &modules, &imports)?
    } else {
        Vec::new()
    };
    let resources = read_resources(found.resources, &mut inputs)?;
    attach_resources(&mut modules, &resources);
    let distributions = read_distributions(spec, found.distributions, &mut inputs)?;
    inputs.extend(found.dirs);
    inputs.sort();
    inputs.dedup();

    let files = emit::try_emit(
        &modules,
        &resources,
        &distributions,
        &found.path_first,
        &emit::EmitOptions {
            version: interp.version,
            python_version: &interp.full_version(),
            embed_source: spec.embed_source(),
            compress_source: spec.embed_source() && spec.compress_source(),
            embed_bytecode: spec.embed_bytecode(),
            optimize: spec.optimize(),
            runtime: spec.runtime().then_some(runtime),
        },
    )?;
    Ok(Generated {
        interpreter: interp,
        modules,
        resources,
        distributions,
        files,
        inputs,
        extensions: found.extensions,
        added_parents: found.added_parents,
        skipped: found.skipped,
        path_first: found.path_first,
        already_in_target,
        warnings,
    })
}

/// Checks the app's absolute imports against what is frozen, built in or an extension module
/// of the interpreter: importing a stdlib module that exists but is not selected is an error
/// (a warning when guarded by `try`/`except ImportError`). Returns the warnings.
fn check_imports(
    spec: &Spec,
    interp: &Interpreter,
    modules: &[FrozenModule],
    imports: &[(PathBuf, Vec<python::ImportSite>)],
) -> Result<Vec<String>> {
    use std::collections::BTreeSet;
    let (stdlib_root, selectable) = stdlib::selectable(spec, interp)?;
    let frozen: BTreeSet<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    // Top-level names the app itself defines: `import x.y` then means the app's `x`.
    let app_tops: BTreeSet<&str> = modules
        .iter()
        .filter(|m| {
            m.path
                .as_deref()
                .is_some_and(|p| !p.starts_with(&stdlib_root))
        })
        .map(|m| m.name.split('.').next().unwrap_or(&m.name))
        .collect();
    let available = |name: &str| {
        frozen.contains(name)
            || carries(target_table(spec, interp), name)
            || interp.info.builtin_modules.iter().any(|b| b == name)
            || interp.info.extension_modules.iter().any(|e| e == name)
    };
    let version = interp.version.name();
    let (mut errors, mut warnings, mut missing) = (Vec::new(), Vec::new(), BTreeSet::new());
    for (path, sites) in imports {
        let mut reported = BTreeSet::new();
        for site in sites {
            if app_tops.contains(site.module.split('.').next().unwrap_or("")) {
                continue;
            }
            let mut candidates: Vec<String> = site
                .module
                .match_indices('.')
                .map(|(i, _)| site.module[..i].to_string())
                .chain([site.module.clone()])
                .collect();
            candidates.extend(site.names.iter().map(|n| format!("{}.{n}", site.module)));
            candidates.retain(|name| !available(name) && selectable.contains_key(name));
            // `from concurrent import futures`: report `concurrent.futures`, whose selection
            // brings its package along, not `concurrent` too.
            let deepest: Vec<String> = candidates
                .iter()
                .filter(|c| {
                    !candidates.iter().any(|d| {
                        d.len() > c.len()
                            && d.starts_with(c.as_str())
                            && d.as_bytes()[c.len()] == b'.'
                    })
                })
                .cloned()
                .collect();
            for name in deepest {
                if !reported.insert((site.line, name.clone())) {
                    continue;
                }
                let at = format!("{}:{}", path.display(), site.line);
                if site.guarded {
                    warnings.push(format!(
                        "{at}: optional import of `{name}` (inside try/except ImportError) \
                         fails: it is a stdlib module of CPython {version} that \
                         `stdlib_include` does not select; add it if the program should use it"
                    ));
                } else {
                    errors.push(format!(
                        "{at}: imports `{name}`, a stdlib module of CPython {version} that \
                         `stdlib_include` does not select"
                    ));
                    missing.insert(name);
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(warnings);
    }
    let modules: Vec<String> = missing.into_iter().collect();
    let quoted: Vec<String> = modules.iter().map(|m| format!("\"{m}\"")).collect();
    let hint = format!(
        "add them to the stdlib: stdlib_include = [{}] in the spec (`--stdlib-include`, \
         `Build::stdlib_include`), or compute the whole list by running the app under \
         `pyfreeze trace`; `check_imports = false` turns this check off",
        quoted.join(", "),
    );
    Err(Error::MissingStdlib {
        problems: errors,
        modules,
        hint,
    })
}

/// Walks the spec's roots and the stdlib (when selected) through their patterns. Returns what
/// they select, and the stdlib modules left out because the target carries them
/// ([`drop_carried_stdlib`]).
fn discover_selected(
    spec: &Spec,
    interp: &Interpreter,
    runtime: &str,
) -> Result<(discover::Found, Vec<String>)> {
    let spec_err = |message: String| Error::Spec {
        origin: "spec".into(),
        message,
        hint: None,
    };
    let mut selectors = Vec::new();
    let mut root_paths = Vec::new();
    // (site-packages, precedence) of each walk.
    let mut settings = Vec::new();
    for root in spec.all_roots() {
        selectors.push(select::Selector::new(&root.include, &root.exclude).map_err(spec_err)?);
        root_paths.push(normalize_path(&root.path)?);
        settings.push((root.site_packages, root.precedence));
    }
    if spec.stdlib() {
        let mut exclude = stdlib::default_excludes();
        exclude.extend(spec.stdlib_exclude().iter().cloned());
        selectors.push(select::Selector::new(spec.stdlib_include(), &exclude).map_err(spec_err)?);
        root_paths.push(stdlib::root(spec, interp)?);
        // The stdlib always comes from the table.
        settings.push((false, Precedence::Table));
    }
    let walks: Vec<_> = root_paths
        .iter()
        .zip(&selectors)
        .zip(&settings)
        .enumerate()
        .map(
            |(i, ((path, selector), &(site_packages, precedence)))| discover::RootWalk {
                path,
                selector,
                package_data: spec.package_data(),
                // The stdlib's walk comes after the spec's roots.
                stdlib: i >= spec.all_roots().count(),
                metadata: spec.metadata(),
                site_packages,
                precedence,
            },
        )
        .collect();
    let mut found = discover::discover(&walks)?;
    let already = drop_carried_stdlib(&mut found, target_table(spec, interp));
    if spec.runtime() && found.modules.contains_key(runtime) {
        return Err(Error::Discovery(vec![format!(
            "module `{runtime}` clashes with pyfreeze's runtime module; rename it, or set runtime = false"
        )]));
    }
    Ok((found, already))
}

/// The modules of the target's libpython table that a program's table must not repeat: those
/// of a CPython built by `pyfreeze cpython build` (`_imp._frozen_ext_modules()`), unless the
/// spec names a stdlib folder of its own (`stdlib_dir`): it then builds a table from that
/// source, as CPython's own build does (with `--stdlib-dir Lib`), whatever the interpreter
/// that compiles it carries. Sorted.
fn target_table<'a>(spec: &Spec, interp: &'a Interpreter) -> &'a [String] {
    if spec.stdlib_dir().is_some() {
        &[]
    } else {
        &interp.info.frozen_ext_modules
    }
}

/// Whether the sorted `table` ([`target_table`]) holds module `name`.
fn carries(table: &[String], name: &str) -> bool {
    table.binary_search_by(|c| c.as_str().cmp(name)).is_ok()
}

/// Removes from `found` the modules of the stdlib's walk (and their packages' data files) that
/// the target's libpython already carries in its extended frozen table (`carried`, sorted,
/// from [`target_table`]): a program linking it needs no second copy. Returns their names.
/// The spec's own roots are kept whole, wherever they are (a site-packages folder under the
/// stdlib's): a module of theirs that the target also carries is served from the program's
/// table, which comes first.
fn drop_carried_stdlib(found: &mut discover::Found, carried: &[String]) -> Vec<String> {
    let dropped: Vec<String> = found
        .modules
        .values()
        .filter(|m| m.stdlib && carries(carried, &m.name))
        .map(|m| m.name.clone())
        .collect();
    for name in &dropped {
        found.modules.remove(name);
    }
    found
        .resources
        .retain(|r| dropped.binary_search(&r.package).is_err());
    dropped
}

/// A module whose source is read, waiting to be compiled.
struct Pending {
    name: String,
    kind: Kind,
    origin: String,
    path: Option<PathBuf>,
    source: Vec<u8>,
    /// List its absolute imports for the import check.
    scan_imports: bool,
}

/// Reads every module's source (and the runtime's, when added), with its mapped origin,
/// sorted by name. With `scan_outside` (the stdlib folder), modules outside it (the app's)
/// are marked for the import check.
fn read_sources(
    spec: &Spec,
    runtime: &str,
    found: std::collections::BTreeMap<String, discover::Module>,
    scan_outside: Option<&Path>,
    inputs: &mut Vec<PathBuf>,
) -> Result<Vec<Pending>> {
    let maps = origin_maps(spec)?;
    let mut pending = Vec::with_capacity(found.len() + 1);
    for m in found.into_values() {
        let source = if m.kind == Kind::Namespace {
            Vec::new()
        } else {
            std::fs::read(&m.path).map_err(|e| Error::io(&m.path, "read", e))?
        };
        size_check(source.len(), "the source", &m.path)?;
        inputs.push(m.path.clone());
        let scan_imports = m.kind != Kind::Namespace
            && scan_outside.is_some_and(|stdlib| !m.path.starts_with(stdlib));
        pending.push(Pending {
            scan_imports,
            origin: origin_of(&m.path, &maps)?,
            name: m.name,
            kind: m.kind,
            path: Some(m.path),
            source,
        });
    }
    if spec.runtime() {
        pending.push(Pending {
            name: runtime.into(),
            kind: Kind::Module,
            origin: format!("<pyfreeze>/{runtime}.py"),
            path: None,
            source: RUNTIME_PY.as_bytes().to_vec(),
            scan_imports: false,
        });
    }
    pending.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(pending)
}

/// The absolute imports of each scanned module, by file.
type Imports = Vec<(PathBuf, Vec<python::ImportSite>)>;

/// Compiles every module with the target interpreter; every file that does not compile is
/// reported, sorted by path. Also returns the imports of the modules marked for the check.
fn compile(
    spec: &Spec,
    interp: &Interpreter,
    pending: Vec<Pending>,
    progress: &dyn Progress,
) -> Result<(Vec<FrozenModule>, Imports)> {
    let items: Vec<_> = pending
        .iter()
        .map(|p| python::CompileItem {
            origin: &p.origin,
            source: &p.source,
            scan_imports: p.scan_imports,
        })
        .collect();
    let compiled = python::compile_all(interp, &items, spec.optimize(), spec.jobs(), &|d, t| {
        progress.compiled(d, t)
    })?;

    let mut failures = Vec::new();
    let mut modules = Vec::with_capacity(pending.len());
    let mut imports = Vec::new();
    for (p, result) in pending.into_iter().zip(compiled) {
        match result {
            Ok(python::CompiledCode {
                code,
                imports: sites,
            }) => {
                if p.scan_imports {
                    if let Some(path) = &p.path {
                        imports.push((path.clone(), sites));
                    }
                }
                size_check(
                    code.len(),
                    "the bytecode",
                    p.path.as_deref().unwrap_or(Path::new(&p.origin)),
                )?;
                let embed = spec.embed_source() && p.kind != Kind::Namespace;
                modules.push(FrozenModule {
                    name: p.name,
                    kind: p.kind,
                    origin: p.origin,
                    path: p.path,
                    code,
                    source: embed.then_some(p.source),
                    resources: 0..0,
                });
            }
            Err(f) => {
                let mut message = f.message;
                if message.contains("(unicode error)") {
                    message.push_str(" (save the file as UTF-8, or declare its encoding with a PEP 263 `# -*- coding: ... -*-` line)");
                }
                failures.push(SourceError {
                    path: p.path.unwrap_or_else(|| PathBuf::from(p.origin)),
                    line: f.line,
                    column: f.column,
                    message,
                });
            }
        }
    }
    if !failures.is_empty() {
        failures.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        return Err(Error::Compile(failures));
    }
    Ok((modules, imports))
}

/// Reads every package data file.
fn read_resources(
    found: Vec<discover::Resource>,
    inputs: &mut Vec<PathBuf>,
) -> Result<Vec<FrozenResource>> {
    let mut resources = Vec::with_capacity(found.len());
    for r in found {
        let data = std::fs::read(&r.path).map_err(|e| Error::io(&r.path, "read", e))?;
        size_check(data.len(), "the data file", &r.path)?;
        inputs.push(r.path.clone());
        resources.push(FrozenResource {
            package: r.package,
            rel: r.rel,
            path: r.path,
            data,
        });
    }
    Ok(resources)
}

/// Reads every file of the distribution metadata folders, with the folders' mapped origins.
fn read_distributions(
    spec: &Spec,
    found: Vec<discover::Distribution>,
    inputs: &mut Vec<PathBuf>,
) -> Result<Vec<FrozenDistribution>> {
    let maps = origin_maps(spec)?;
    let mut out = Vec::with_capacity(found.len());
    for d in found {
        let files = read_resources(
            d.files
                .into_iter()
                .map(|(rel, path)| discover::Resource {
                    package: d.name.clone(),
                    rel,
                    path,
                })
                .collect(),
            inputs,
        )?;
        out.push(FrozenDistribution {
            origin: origin_of(&d.path, &maps)?,
            name: d.name,
            path: d.path,
            files,
        });
    }
    Ok(out)
}

/// Gives each package its rows of the resource table. Resources are sorted by (package,
/// path), so each package's rows are contiguous.
fn attach_resources(modules: &mut [FrozenModule], resources: &[FrozenResource]) {
    for m in modules {
        let start = resources.partition_point(|r| r.package.as_bytes() < m.name.as_bytes());
        let end = resources.partition_point(|r| r.package.as_bytes() <= m.name.as_bytes());
        m.resources = if start == end {
            0..0
        } else {
            start as u32..end as u32
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stdlib_walks_carried_modules_and_their_data_are_dropped() {
        let module = |name: &str, stdlib: bool| discover::Module {
            name: name.into(),
            kind: Kind::Package,
            path: PathBuf::from(format!("/p/lib/python3.13/{name}/__init__.py")),
            rel: format!("{name}/__init__.py"),
            stdlib,
        };
        let data = |package: &str| discover::Resource {
            package: package.into(),
            rel: "x.txt".into(),
            path: PathBuf::from(format!("/p/{package}/x.txt")),
        };
        let mut found = discover::Found::default();
        // `attrs` from a spec root under the stdlib's folder (site-packages), `email` and
        // `json` from the stdlib's walk; the target carries attrs, email and zipfile.
        for m in [
            module("attrs", false),
            module("email", true),
            module("json", true),
        ] {
            found.modules.insert(m.name.clone(), m);
        }
        found.resources = vec![data("attrs"), data("email"), data("json")];
        let carried = ["attrs", "email", "zipfile"].map(String::from);
        let dropped = drop_carried_stdlib(&mut found, &carried);
        assert_eq!(dropped, ["email"]);
        assert_eq!(found.modules.keys().collect::<Vec<_>>(), ["attrs", "json"]);
        let packages: Vec<&str> = found.resources.iter().map(|r| r.package.as_str()).collect();
        assert_eq!(packages, ["attrs", "json"]);
    }

    #[test]
    fn origin_map_uses_the_longest_prefix() {
        let maps = vec![
            (PathBuf::from("/w"), "/app".to_string()),
            (PathBuf::from("/w/lib"), "/usr/lib/python3.11".to_string()),
        ];
        assert_eq!(
            origin_of(Path::new("/w/game/a.py"), &maps).unwrap(),
            "/app/game/a.py"
        );
        assert_eq!(
            origin_of(Path::new("/w/lib/os.py"), &maps).unwrap(),
            "/usr/lib/python3.11/os.py"
        );
        assert_eq!(origin_of(Path::new("/x/y.py"), &maps).unwrap(), "/x/y.py");
        assert_eq!(
            origin_of(Path::new("/w/./a/../b.py"), &maps).unwrap(),
            "/app/b.py"
        );
    }
}
