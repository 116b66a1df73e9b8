//! What `--stdlib` selects: the target interpreter's `sysconfig.get_paths()["stdlib"]`,
//! minus the patterns below. The list is rendered into `docs/spec.md` by a test.

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
