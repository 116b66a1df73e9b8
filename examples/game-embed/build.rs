//! Freezes the game's scripts, with their level files, and the part of the stdlib they use
//! into the binary, and links CPython statically: pyenv's 3.11 unless `PYFREEZE_PYTHON`
//! names another interpreter or version (e.g. `PYFREEZE_PYTHON=3.13`).

/// The stdlib the game imports, directly or not, on CPython 3.10-3.13 (json, importlib.resources
/// and their imports, traceback for error reports, and what CPython imports while it starts).
/// `sys.path` holds no stdlib folder, so whatever is missing here fails to import.
const STDLIB: &[&str] = &[
    // Start-up: codecs and the encodings of UTF-8, ASCII (C locale) and Latin-1 stdio.
    "encodings/__init__.py",
    "encodings/aliases.py",
    "encodings/ascii.py",
    "encodings/latin_1.py",
    "encodings/utf_8.py",
    "abc",
    "codecs",
    "io",
    "os",
    "stat",
    "posixpath",
    "genericpath",
    "ntpath",
    "_collections_abc",
    // json, importlib.resources and their imports.
    "json",
    "importlib",
    "ast",
    "bisect",
    "bz2",
    "collections",
    "contextlib",
    "copyreg",
    "dis",
    "enum",
    "fnmatch",
    "functools",
    "glob",
    "inspect",
    "ipaddress",
    "keyword",
    "lzma",
    "opcode",
    "operator",
    "pathlib",
    "random",
    "re",
    "reprlib",
    "shutil",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "struct",
    "tempfile",
    "textwrap",
    "threading",
    "types",
    "typing",
    "urllib",
    "warnings",
    "weakref",
    "_weakrefset",
    "_compression",
    "zipfile",
    "zipimport",
    // Tracebacks with source lines.
    "traceback",
    "linecache",
    "tokenize",
    "token",
];

fn main() {
    let mut build = pyfreeze_build::Build::new();
    build
        .interpreter("3.11")
        .root("scripts")
        .include("game")
        .origin_prefix("/game-embed")
        .stdlib(true)
        .stdlib_include_since("3.13", "_colorize")
        .stdlib_include_since("3.13", "_opcode_metadata")
        // GCC's unwinder linked in: with a `--static-extensions` install as the target, the
        // game needs nothing but the C library (docs/appliance.md).
        .static_libgcc(true);
    for pattern in STDLIB {
        build.stdlib_include(pattern);
    }
    build.compile("pyfreeze");
}
