//! What `--stdlib` selects: the target interpreter's `sysconfig.get_paths()["stdlib"]`,
//! minus the patterns below. The list is rendered into `docs/spec.md` by a test. Also what
//! a partial stdlib is checked against ([`selectable`]).

/// Default exclusions of the stdlib root, each with the reason.
pub const DEFAULT_EXCLUDES: &[(&str, &str)] = &[
    ("test", "CPython's own test suite"),
    (
        "**.test",
        "test packages inside other packages (`unittest.test`, `ctypes.test`, ...)",
    ),
    (
        "**.tests",
        "test packages inside other packages (`lib2to3.tests`, `distutils.tests`, ...)",
    ),
    ("idlelib", "the IDLE application (needs tkinter)"),
    (
        "tkinter",
        "needs the `_tkinter` extension and Tcl/Tk at run time",
    ),
    ("turtle", "needs tkinter"),
    ("turtledemo", "demo scripts for turtle"),
    (
        "ensurepip",
        "bundles pip wheels (several MB) for installing pip into a file-system interpreter",
    ),
    ("__hello__", "CPython's test module for frozen imports"),
    ("__phello__", "CPython's test package for frozen imports"),
    (
        "site-packages",
        "third-party packages: freeze them with a root of their own",
    ),
    (
        "lib-dynload",
        "extension modules (shared objects) stay on disk",
    ),
    (
        "config-*",
        "the build configuration folder (`python-config.py`, `Makefile`, `libpython.a`)",
    ),
];

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::discover::{self, Module};
use crate::error::{Error, Result};
use crate::{normalize_path, select, Interpreter, Spec};

/// The stdlib folder a spec freezes from: `stdlib_dir`, else the interpreter's.
pub fn root(spec: &Spec, interp: &Interpreter) -> Result<PathBuf> {
    match spec.stdlib_dir() {
        Some(dir) => normalize_path(dir),
        None => Ok(interp.info.stdlib.clone()),
    }
}

/// Every module that `stdlib = true` would freeze without `stdlib_include` (the default
/// exclusions and the spec's `stdlib_exclude` applied), by name: what the import check and
/// `pyfreeze trace` compare against. Also returns the folder.
pub fn selectable(
    spec: &Spec,
    interp: &Interpreter,
) -> Result<(PathBuf, BTreeMap<String, Module>)> {
    let mut exclude = default_excludes();
    exclude.extend(spec.stdlib_exclude().iter().cloned());
    let selector = select::Selector::new(&[], &exclude).map_err(|message| Error::Spec {
        origin: "spec".into(),
        message,
        hint: None,
    })?;
    let path = root(spec, interp)?;
    let found = discover::discover(&[discover::RootWalk {
        path: &path,
        selector: &selector,
        package_data: false,
        stdlib: true,
        metadata: false,
        site_packages: false,
        precedence: crate::spec::Precedence::Table,
    }])?;
    Ok((path, found.modules))
}

pub fn default_excludes() -> Vec<String> {
    DEFAULT_EXCLUDES
        .iter()
        .map(|(p, _)| p.to_string())
        .collect()
}

/// A Markdown table of [`DEFAULT_EXCLUDES`] for the docs.
pub fn markdown() -> String {
    let mut out = String::from("| pattern | why |\n|---|---|\n");
    for (p, why) in DEFAULT_EXCLUDES {
        out.push_str(&format!("| `{p}` | {why} |\n"));
    }
    out
}
