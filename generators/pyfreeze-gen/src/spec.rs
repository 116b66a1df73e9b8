//! What to freeze: the spec, from a `pyfreeze.toml` file, from flags, or built in code.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::versions::PythonVersion;

/// A source root: a folder whose top-level `.py` files and packages become modules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Root {
    pub path: PathBuf,
    /// Glob patterns selecting modules; empty means everything under the root.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// `FROM=TO`: an origin path under `FROM` is rewritten to start with `TO` (as gcc's
/// `-fdebug-prefix-map`). The longest matching `FROM` wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginMap {
    pub from: PathBuf,
    pub to: String,
}

impl OriginMap {
    /// Parses `FROM=TO`; a relative `FROM` is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> std::result::Result<Self, String> {
        let (from, to) = text.split_once('=').ok_or_else(|| {
            format!("origin map `{text}` is not of the form FROM=TO (e.g. `.=/app`)")
        })?;
        if from.is_empty() {
            return Err(format!("origin map `{text}` has an empty FROM"));
        }
        Ok(OriginMap {
            from: base.join(from),
            to: to.to_string(),
        })
    }
}

/// Everything the generator needs. Paths are absolute or relative to the current directory;
/// [`Spec::from_toml`] resolves a file's relative paths against the file's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The target interpreter: a path, or a command name looked up on `PATH` when run.
    pub python: PathBuf,
    /// The `X.Y` the interpreter must be, when the spec pins one.
    pub version: Option<&'static PythonVersion>,
    pub roots: Vec<Root>,
    /// Freeze the target interpreter's pure-Python stdlib (see [`crate::stdlib`]).
    pub stdlib: bool,
    /// Where the stdlib is, instead of the interpreter's `sysconfig` stdlib path (for a
    /// CPython build tree: its `Lib/`).
    pub stdlib_dir: Option<PathBuf>,
    /// Patterns added to the stdlib's default exclusions.
    pub stdlib_exclude: Vec<String>,
    /// Patterns that restrict the stdlib selection (empty: all of it).
    pub stdlib_include: Vec<String>,
    /// Embed each module's source (for `get_source`, tracebacks, `inspect`).
    pub embed_source: bool,
    /// Embed non-Python files inside packages (for `importlib.resources`).
    pub package_data: bool,
    pub origin_map: Vec<OriginMap>,
    /// `optimize` argument of `compile()`: 0, 1 or 2.
    pub optimize: u8,
    /// Add the `_pyfreeze_runtime` module needed with a stock libpython.
    pub runtime: bool,
    /// Compile workers; 0 means one per core.
    pub jobs: usize,
    /// Where the files go (used by the CLI and build-support, not by [`crate::generate`]).
    pub out_dir: Option<PathBuf>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            python: PathBuf::from("python3"),
            version: None,
            roots: Vec::new(),
            stdlib: false,
            stdlib_dir: None,
            stdlib_exclude: Vec::new(),
            stdlib_include: Vec::new(),
            embed_source: true,
            package_data: true,
            origin_map: Vec::new(),
            optimize: 0,
            runtime: true,
            jobs: 0,
            out_dir: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRoot {
    path: PathBuf,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlSpec {
    python: Option<PathBuf>,
    version: Option<String>,
    out: Option<PathBuf>,
    #[serde(default)]
    stdlib: bool,
    stdlib_dir: Option<PathBuf>,
    #[serde(default)]
    stdlib_exclude: Vec<String>,
    #[serde(default)]
    stdlib_include: Vec<String>,
    embed_source: Option<bool>,
    package_data: Option<bool>,
    #[serde(default)]
    origin_map: Vec<String>,
    optimize: Option<u8>,
    runtime: Option<bool>,
    jobs: Option<usize>,
    /// Patterns applied to every `[[root]]` (not to the stdlib).
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    root: Vec<TomlRoot>,
}

impl Spec {
    /// Reads a `pyfreeze.toml`.
    pub fn from_file(path: &Path) -> Result<Spec> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "read spec file", e))?;
        let base = path.parent().unwrap_or(Path::new(""));
        Spec::from_toml(&text, base, &path.display().to_string())
    }

    /// Parses spec text; relative paths are resolved against `base`; `origin` names the
    /// text in errors.
    pub fn from_toml(text: &str, base: &Path, origin: &str) -> Result<Spec> {
        let spec_err = |message: String| Error::Spec {
            origin: origin.to_string(),
            message,
        };
        let raw: TomlSpec =
            toml::from_str(text).map_err(|e| spec_err(e.to_string().trim_end().to_string()))?;
        let mut spec = Spec::default();
        if let Some(python) = raw.python {
            // A bare command name stays a name (looked up on PATH); anything with a
            // separator is a path relative to the spec.
            spec.python = if python.components().count() > 1 {
                base.join(python)
            } else {
                python
            };
        }
        if let Some(v) = raw.version {
            spec.version = Some(PythonVersion::parse(&v).ok_or_else(|| {
                spec_err(format!(
                    "version `{v}` is not a supported CPython version (supported: {})",
                    crate::versions::supported_list()
                ))
            })?);
        }
        spec.out_dir = raw.out.map(|p| base.join(p));
        spec.stdlib = raw.stdlib;
        spec.stdlib_dir = raw.stdlib_dir.map(|p| base.join(p));
        spec.stdlib_exclude = raw.stdlib_exclude;
        spec.stdlib_include = raw.stdlib_include;
        spec.embed_source = raw.embed_source.unwrap_or(true);
        spec.package_data = raw.package_data.unwrap_or(true);
        spec.runtime = raw.runtime.unwrap_or(true);
        spec.jobs = raw.jobs.unwrap_or(0);
        spec.optimize = raw.optimize.unwrap_or(0);
        for m in &raw.origin_map {
            spec.origin_map
                .push(OriginMap::parse(m, base).map_err(spec_err)?);
        }
        for r in raw.root {
            let mut include = raw.include.clone();
            include.extend(r.include);
            let mut exclude = raw.exclude.clone();
            exclude.extend(r.exclude);
            spec.roots.push(Root {
                path: base.join(r.path),
                include,
                exclude,
            });
        }
        spec.validate().map_err(spec_err)?;
        Ok(spec)
    }

    /// Checks what can be checked without touching the disk.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.optimize > 2 {
            return Err(format!(
                "optimize = {} is out of range (0, 1 or 2)",
                self.optimize
            ));
        }
        if self.roots.is_empty() && !self.stdlib {
            return Err(
                "nothing to freeze: add a [[root]] (or --root DIR) or set stdlib = true (--stdlib)"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_paths_resolve_against_the_spec_folder() {
        let spec = Spec::from_toml(
            r#"
python = "bin/python3.11"
version = "3.11"
out = "frozen"
origin_map = [".=/app"]
exclude = ["*.tests"]
[[root]]
path = "src"
include = ["game.**"]
"#,
            Path::new("/w"),
            "pyfreeze.toml",
        )
        .unwrap();
        assert_eq!(spec.python, PathBuf::from("/w/bin/python3.11"));
        assert_eq!(spec.version.unwrap().minor, 11);
        assert_eq!(spec.out_dir, Some(PathBuf::from("/w/frozen")));
        assert_eq!(spec.origin_map[0].from, PathBuf::from("/w/."));
        assert_eq!(spec.roots[0].path, PathBuf::from("/w/src"));
        assert_eq!(spec.roots[0].include, vec!["game.**"]);
        assert_eq!(spec.roots[0].exclude, vec!["*.tests"]);
    }

    #[test]
    fn a_bare_interpreter_name_stays_a_name() {
        let spec = Spec::from_toml(
            "python = \"python3.13\"\nstdlib = true",
            Path::new("/w"),
            "x",
        )
        .unwrap();
        assert_eq!(spec.python, PathBuf::from("python3.13"));
    }

    #[test]
    fn unknown_keys_and_bad_versions_are_errors_naming_the_file() {
        let e = Spec::from_toml("stdlb = true", Path::new("/w"), "my.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("my.toml: ") && e.contains("stdlb"), "{e}");
        let e = Spec::from_toml(
            "version = \"3.9\"\nstdlib = true",
            Path::new("/w"),
            "my.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("3.9") && e.contains("3.11"), "{e}");
        let e = Spec::from_toml("", Path::new("/w"), "my.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing to freeze"), "{e}");
    }
}
