//! Freezes the `calc` package and the part of the stdlib it and PyO3's error reports use,
//! links pyenv's static libpython 3.11 (or `PYFREEZE_PYTHON`'s), and writes
//! `OUT_DIR/pyfreeze.rs`, whose `pyfreeze::Interpreter` starts CPython for PyO3.

/// What CPython imports while it starts (UTF-8 mode: one codec), what `traceback` and
/// `runpy` (for `Interpreter::run_module`) import, on CPython 3.10-3.13. `sys.path` holds no
/// stdlib folder, so whatever is missing here fails to import.
const STDLIB: &[&str] = &[
    "encodings/__init__.py",
    "encodings/aliases.py",
    "encodings/utf_8.py",
    "_collections_abc",
    "_weakrefset",
    "abc",
    "ast",
    "codecs",
    "collections",
    "contextlib",
    "copyreg",
    "enum",
    "functools",
    "genericpath",
    "importlib/__init__.py",
    "importlib/_abc.py",
    "importlib/_bootstrap.py",
    "importlib/_bootstrap_external.py",
    "importlib/machinery.py",
    "importlib/util.py",
    "io",
    "keyword",
    "linecache",
    "operator",
    "os",
    "posixpath",
    "re",
    "reprlib",
    "runpy",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "stat",
    "textwrap",
    "threading",
    "token",
    "tokenize",
    "traceback",
    "types",
    "warnings",
    "zipimport",
];

fn main() {
    let mut build = pyfreeze_build::Build::new();
    build
        .interpreter("3.11")
        .root("python")
        .include("calc")
        .origin_prefix("/pyo3-embed")
        .stdlib(true)
        .stdlib_include_since("3.13", "_colorize");
    for pattern in STDLIB {
        build.stdlib_include(pattern);
    }
    build.compile("pyfreeze");
}
