//! `pyfreeze cpython build --static-extensions`: what of CPython's stdlib extension modules is
//! compiled into libpython as built-in modules, what stays out and why, and which Debian
//! package provides each C library. Declared once here; the CLI's build plans from it and
//! docs/appliance.md shows it (a test keeps the generated block current).
//!
//! Everything CPython's own `Modules/Setup.stdlib` builds on the platform is built in, except
//! the [`EXCLUDED`] patterns; 3.11 still builds a few modules with `setup.py`, declared in
//! [`SETUP_PY_MODULES`]. Their C libraries are linked from the system's static archives
//! (`libNAME.a`), except the C library's own ([`C_RUNTIME`]).

/// A module (or a pattern of names) that is never built in, and why.
#[derive(Debug, Clone, Copy)]
pub struct Exclusion {
    /// A module name, or a prefix ending in `*`.
    pub pattern: &'static str,
    /// The minor versions it applies to (`"3.11"`); empty: every version.
    pub versions: &'static [&'static str],
    pub reason: &'static str,
}

impl Exclusion {
    pub fn matches(&self, minor: &str, module: &str) -> bool {
        let version = self.versions.is_empty() || self.versions.contains(&minor);
        let name = match self.pattern.strip_suffix('*') {
            Some(prefix) => module.starts_with(prefix),
            None => module == self.pattern,
        };
        version && name
    }
}

/// The modules that stay as CPython configures them (shared objects in `lib-dynload`, or not
/// built), each with the reason.
pub const EXCLUDED: &[Exclusion] = &[
    Exclusion {
        pattern: "_test*",
        versions: &[],
        reason: "CPython's test modules (the test suite imports them from `lib-dynload`; some must be shared objects)",
    },
    Exclusion {
        pattern: "_ctypes_test",
        versions: &[],
        reason: "test module of `ctypes`",
    },
    Exclusion {
        pattern: "_xxtestfuzz",
        versions: &[],
        reason: "CPython's fuzzing test module",
    },
    Exclusion {
        pattern: "xx*",
        versions: &[],
        reason: "example and template modules (`xxlimited` must be a shared object)",
    },
    Exclusion {
        pattern: "readline",
        versions: &[],
        reason: "GNU Readline is GPL: linking it into the interpreter would make the binary GPL; the interactive prompt is not an appliance's",
    },
    Exclusion {
        pattern: "_tkinter",
        versions: &[],
        reason: "needs Tcl/Tk's shared libraries, its script library on disk and X11",
    },
    Exclusion {
        pattern: "nis",
        versions: &["3.11"],
        reason: "NIS/YP client, deprecated (PEP 594, gone in 3.13); `libtirpc` needs Kerberos' (GSS-API) shared libraries",
    },
    Exclusion {
        pattern: "_scproxy",
        versions: &[],
        reason: "macOS only",
    },
];

/// The exclusion that applies to `module` on `minor`, if any.
pub fn exclusion(minor: &str, module: &str) -> Option<&'static Exclusion> {
    EXCLUDED.iter().find(|e| e.matches(minor, module))
}

/// A module that CPython's `Modules/Setup.stdlib` does not build yet in this version (3.11's
/// `setup.py` does), declared as a `Setup.local` line: the facts `setup.py` finds on Debian.
#[derive(Debug, Clone, Copy)]
pub struct DeclaredModule {
    pub minor: &'static str,
    pub name: &'static str,
    /// Source files, relative to `Modules/`.
    pub sources: &'static [&'static str],
    /// No `=` in a word: makesetup takes a line with one for a variable definition.
    pub cflags: &'static [&'static str],
    /// `-lNAME` words (linked from `libNAME.a` unless in [`C_RUNTIME`]).
    pub libs: &'static [&'static str],
    /// A header whose presence means the library's development files are installed.
    pub header: &'static str,
}

pub const SETUP_PY_MODULES: &[DeclaredModule] = &[
    DeclaredModule {
        minor: "3.11",
        name: "_ctypes",
        sources: &[
            "_ctypes/_ctypes.c",
            "_ctypes/callbacks.c",
            "_ctypes/callproc.c",
            "_ctypes/stgdict.c",
            "_ctypes/cfield.c",
        ],
        // What setup.py defines after finding these functions in libffi 3.4's ffi.h.
        cflags: &[
            "-DHAVE_FFI_PREP_CIF_VAR",
            "-DHAVE_FFI_PREP_CLOSURE_LOC",
            "-DHAVE_FFI_CLOSURE_ALLOC",
        ],
        libs: &["-lffi", "-ldl"],
        header: "ffi.h",
    },
    DeclaredModule {
        minor: "3.11",
        name: "_curses",
        sources: &["_cursesmodule.c"],
        cflags: &["-DHAVE_NCURSESW", "-I/usr/include/ncursesw"],
        libs: &["-lncursesw", "-ltinfo"],
        header: "ncursesw/curses.h",
    },
    DeclaredModule {
        minor: "3.11",
        name: "_curses_panel",
        sources: &["_curses_panel.c"],
        cflags: &["-DHAVE_NCURSESW", "-I/usr/include/ncursesw"],
        libs: &["-lpanelw", "-lncursesw", "-ltinfo"],
        header: "ncursesw/panel.h",
    },
    DeclaredModule {
        minor: "3.11",
        name: "_dbm",
        sources: &["_dbmmodule.c"],
        cflags: &["-DUSE_GDBM_COMPAT"],
        libs: &["-lgdbm_compat", "-lgdbm"],
        header: "gdbm-ndbm.h",
    },
];

/// Libraries of the C library itself: linked as shared objects, as every program is.
pub const C_RUNTIME: &[&str] = &["c", "m", "dl", "pthread", "rt", "util"];

/// What a static archive needs after it on the link line (a shared library names these
/// itself; an archive cannot).
pub const STATIC_COMPANIONS: &[(&str, &[&str])] = &[
    ("ssl", &["crypto"]),
    ("gdbm_compat", &["gdbm"]),
    ("panelw", &["ncursesw", "tinfo"]),
    ("ncursesw", &["tinfo"]),
];

/// The Debian package with each library's headers and static archive.
pub const LIBRARY_PACKAGES: &[(&str, &str)] = &[
    ("bz2", "libbz2-dev"),
    ("crypt", "libcrypt-dev"),
    ("crypto", "libssl-dev"),
    ("db", "libdb-dev"),
    ("expat", "libexpat1-dev"),
    ("ffi", "libffi-dev"),
    ("gdbm", "libgdbm-dev"),
    ("gdbm_compat", "libgdbm-compat-dev"),
    ("lzma", "liblzma-dev"),
    ("mpdec", "libmpdec-dev"),
    ("ncursesw", "libncurses-dev"),
    ("panelw", "libncurses-dev"),
    ("readline", "libreadline-dev"),
    ("sqlite3", "libsqlite3-dev"),
    ("ssl", "libssl-dev"),
    ("tinfo", "libncurses-dev"),
    ("uuid", "uuid-dev"),
    ("z", "zlib1g-dev"),
];

/// The Debian package a module's C library comes from, for a module configure found no
/// library for (it names none then).
pub const MODULE_PACKAGES: &[(&str, &str)] = &[
    ("_bz2", "libbz2-dev"),
    ("_crypt", "libcrypt-dev"),
    ("_ctypes", "libffi-dev"),
    ("_curses", "libncurses-dev"),
    ("_curses_panel", "libncurses-dev"),
    ("_dbm", "libgdbm-compat-dev"),
    ("_gdbm", "libgdbm-dev"),
    ("_hashlib", "libssl-dev"),
    ("_lzma", "liblzma-dev"),
    ("_sqlite3", "libsqlite3-dev"),
    ("_ssl", "libssl-dev"),
    ("_uuid", "uuid-dev"),
    ("binascii", "zlib1g-dev"),
    ("zlib", "zlib1g-dev"),
];

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The Debian package of `libNAME` (`name` without `lib`).
pub fn library_package(name: &str) -> Option<&'static str> {
    lookup(LIBRARY_PACKAGES, name)
}

/// The Debian package a module's C library comes from.
pub fn module_package(module: &str) -> Option<&'static str> {
    lookup(MODULE_PACKAGES, module)
}

/// The exclusions as a Markdown table (docs/appliance.md).
pub fn markdown() -> String {
    let mut out = String::from("| module | versions | why it is not built in |\n|---|---|---|\n");
    for e in EXCLUDED {
        let versions = if e.versions.is_empty() {
            "all".to_string()
        } else {
            e.versions.join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {versions} | {} |\n",
            e.pattern, e.reason
        ));
    }
    out.push_str("\n| C library | Debian package |\n|---|---|\n");
    for (lib, package) in LIBRARY_PACKAGES {
        out.push_str(&format!("| `lib{lib}.a` | `{package}` |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_match_names_and_versions() {
        assert!(exclusion("3.13", "_testcapi").is_some());
        assert!(exclusion("3.13", "xxsubtype").is_some());
        assert!(exclusion("3.11", "nis").is_some());
        assert!(exclusion("3.13", "nis").is_none());
        // A real module whose name only contains a pattern's text stays built in.
        assert!(exclusion("3.11", "_xxsubinterpreters").is_none());
        assert!(exclusion("3.13", "_ssl").is_none());
        assert!(exclusion("3.13", "readline").is_some());
    }

    #[test]
    fn every_library_has_a_package() {
        for m in SETUP_PY_MODULES {
            for lib in m.libs {
                let name = lib.strip_prefix("-l").expect("a -l word");
                assert!(
                    C_RUNTIME.contains(&name) || library_package(name).is_some(),
                    "{}: {lib}",
                    m.name
                );
            }
            assert!(module_package(m.name).is_some(), "{}", m.name);
            for word in m.sources.iter().chain(m.cflags).chain(m.libs) {
                assert!(!word.contains('='), "{}: {word}", m.name);
            }
        }
        for (lib, companions) in STATIC_COMPANIONS {
            for name in std::iter::once(lib).chain(companions.iter()) {
                assert!(library_package(name).is_some(), "{name}");
            }
        }
    }
}
