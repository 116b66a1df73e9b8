//! The target CPython: finding its interpreter from a path or a version, and what it takes
//! to compile against it and link it statically ([`PythonConfig`]).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use pyfreeze_gen::python::names_build_tree_file;
use pyfreeze_gen::{Interpreter, PythonVersion};

use crate::env::Cargo;
use crate::error::{Error, ErrorKind, Result};

/// What the user asked for: an interpreter path (or command name), or a version to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Path(PathBuf),
    Version(&'static PythonVersion),
}

impl Request {
    /// `3.11` is a version; anything else (`python3.11`, `/usr/bin/python3`) is a path or a
    /// command name. `origin` names where the text came from, for the error about an
    /// unsupported version.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Request> {
        let looks_like_version = text.split('.').count() == 2
            && text
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !looks_like_version {
            return Ok(Request::Path(PathBuf::from(text)));
        }
        PythonVersion::parse(text).map(Request::Version).ok_or_else(|| {
            Error::new(
                ErrorKind::Interpreter,
                format!(
                    "{origin} asks for CPython {text}, which pyfreeze does not support (supported: {})",
                    pyfreeze_gen::versions::supported_list()
                ),
            )
            .with_hint(SET_INTERPRETER)
        })
    }
}

pub(crate) const SET_INTERPRETER: &str =
    "set PYFREEZE_PYTHON (or call Build::interpreter) to a CPython \
     3.10-3.13 interpreter: a path, or a version such as `3.11` that pyenv has installed";

/// The newest `3.X.N` pyenv has installed under its root (`pyfreeze_gen::pyenv`'s rules;
/// `PYENV_ROOT` is read through `cargo`, so a change reruns the build script). Without
/// `PYENV_ROOT` or `pyenv` on `PATH` there is no pyenv: `~/.pyenv` is not guessed, so that
/// `HOME` need not be tracked.
fn pyenv_interpreter(cargo: &mut Cargo<'_>, v: &PythonVersion) -> Option<PathBuf> {
    let root = pyfreeze_gen::pyenv::root(cargo.env("PYENV_ROOT"), None)?;
    pyfreeze_gen::pyenv::newest_interpreter(&root, v)
}

/// Finds and probes the interpreter. `pinned` is the version the build asks for, if any.
pub(crate) fn resolve(
    cargo: &mut Cargo<'_>,
    request: &Request,
    pinned: Option<&'static PythonVersion>,
) -> Result<Interpreter> {
    let (path, pinned) = match request {
        Request::Version(v) => {
            // Looked up first, so that `PYENV_ROOT` is tracked whatever happens next.
            let found = pyenv_interpreter(cargo, v);
            if let Some(p) = pinned.filter(|p| p != v) {
                return Err(Error::new(
                    ErrorKind::VersionMismatch,
                    format!(
                        "the build asks for CPython {} (Build::version) but the interpreter requested is {}",
                        p.name(),
                        v.name()
                    ),
                )
                .with_hint(format!(
                    "set PYFREEZE_PYTHON={} or change Build::version to {}",
                    p.name(),
                    v.name()
                )));
            }
            let path = found.unwrap_or_else(|| format!("python{}", v.name()).into());
            (path, Some(*v))
        }
        Request::Path(p) => {
            if p.components().count() > 1 && !p.exists() {
                return Err(Error::new(
                    ErrorKind::Interpreter,
                    format!("target interpreter {} does not exist", p.display()),
                )
                .with_hint(SET_INTERPRETER));
            }
            (p.clone(), pinned)
        }
    };
    let interp = Interpreter::probe(&path, None).map_err(|e| {
        // The generator's own hint speaks of the CLI's --python; ours replaces it.
        let text = e.message();
        let hint = match request {
            Request::Version(v) => format!(
                "no CPython {0} under pyenv's versions and no working `python{0}` on PATH: \
                 install it with `pyenv install {0}`, or set PYFREEZE_PYTHON to the path of a \
                 CPython {0} interpreter",
                v.name()
            ),
            Request::Path(_) => SET_INTERPRETER.to_string(),
        };
        Error::new(ErrorKind::Interpreter, text).with_hint(hint)
    })?;
    if let Some(want) = pinned {
        if want != interp.version {
            return Err(Error::new(
                ErrorKind::VersionMismatch,
                format!(
                    "target interpreter {} is CPython {}, but the build asks for {}",
                    path.display(),
                    interp.full_version(),
                    want.name()
                ),
            )
            .with_hint(format!(
                "set PYFREEZE_PYTHON to a CPython {0} interpreter (e.g. PYFREEZE_PYTHON={0}), \
                 or change the version pinned in build.rs",
                want.name()
            )));
        }
    }
    Ok(interp)
}

/// How to compile against a CPython and link its static library: its headers, its
/// `libpythonX.Y.a`, the libraries that needs, the linker flags that let extension modules
/// in `lib-dynload` find the interpreter's symbols, and that folder.
///
/// pyfreeze-build takes these from the target interpreter's `sysconfig` (the variables
/// `pythonX.Y-config` prints: `INCLUDEPY`, `LIBPL`/`LIBRARY`, `LIBS`, `SYSLIBS`,
/// `LINKFORSHARED`, `DESTSHARED`), or from a `key=value` file named by
/// `PYFREEZE_PYTHON_CONFIG_FILE` for an unusual installation. The file format is what
/// [`PythonConfig::to_writer`] writes (pyfreeze-build leaves the one it used in
/// `OUT_DIR/pyfreeze-python.cfg`, a starting point for an override):
///
/// ```
/// use pyfreeze_build::PythonConfig;
/// let text = "\
/// ## CPython 3.11 with a static libpython
/// version=3.11
/// include_dir=/opt/py/include/python3.11
/// libpython=/opt/py/lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.a
/// libs=-ldl -lm
/// link_args=-Xlinker -export-dynamic
/// dynload=/opt/py/lib/python3.11/lib-dynload
/// ";
/// let cfg = PythonConfig::from_reader(text.as_bytes(), "python.cfg")?;
/// assert_eq!(cfg.version(), "3.11");
/// assert_eq!(cfg.libs(), ["-ldl", "-lm"]);
/// let mut again = Vec::new();
/// cfg.to_writer(&mut again)?;
/// assert_eq!(PythonConfig::from_reader(&again[..], "again")?, cfg);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonConfig {
    version: &'static PythonVersion,
    include_dir: PathBuf,
    libpython: PathBuf,
    libs: Vec<String>,
    link_args: Vec<String>,
    dynload: PathBuf,
}

const KEYS: &[&str] = &[
    "version",
    "include_dir",
    "libpython",
    "libs",
    "link_args",
    "dynload",
];

/// Whether a static libpython cannot be linked alone: its built-in modules need files of
/// CPython's build tree that `MODLIBS` names (relative paths, or the stray `\` left of a
/// multi-line object list) and that are not installed under `LIBPL`. Debian's 3.12+ archives
/// lack the HACL* objects of hashlib; the shared libpython is linked instead (the rule of
/// `build-support/pyfreeze.mk`'s `auto`).
fn static_archive_needs_build_tree(modlibs: &str, libpl: &Path) -> bool {
    modlibs
        .split_whitespace()
        .any(|w| names_build_tree_file(w) && installed_copy(libpl, w).is_none())
}

/// The copy of a build-tree file under `LIBPL`, at the same relative path, where `pyfreeze
/// cpython build` installs the archives `MODLIBS` names (`Modules/expat/libexpat.a`).
fn installed_copy(libpl: &Path, word: &str) -> Option<PathBuf> {
    let path = libpl.join(word);
    (word != "\\" && !libpl.as_os_str().is_empty() && path.is_file()).then_some(path)
}

/// A link word with its build-tree path resolved under `LIBPL`; `None` when it names a
/// build-tree file that is not installed.
fn link_word(libpl: &Path, word: &str) -> Option<String> {
    if names_build_tree_file(word) {
        installed_copy(libpl, word).map(|p| p.display().to_string())
    } else {
        Some(word.to_string())
    }
}

/// Debian's `libpythonX.Y.a` is not position-independent (a PIE link fails with
/// `R_X86_64_32` relocations); it ships `libpythonX.Y-pic.a` beside it, which is.
fn position_independent(libpython: PathBuf) -> PathBuf {
    let pic = libpython.with_file_name(format!(
        "{}-pic.a",
        libpython
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
    ));
    if libpython.extension().is_some_and(|e| e == "a") && pic.is_file() {
        pic
    } else {
        libpython
    }
}

/// Whether `exe` is an ELF executable linked at a fixed address (`ET_EXEC`, not `-pie`).
fn fixed_address_executable(exe: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 18];
    std::fs::File::open(exe)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| {
            let e_type = [header[16], header[17]];
            // EI_DATA: 2 is big-endian.
            let e_type = match header[5] {
                2 => u16::from_be_bytes(e_type),
                _ => u16::from_le_bytes(e_type),
            };
            header[..4] == *b"\x7fELF" && e_type == 2
        })
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

impl PythonConfig {
    /// From the target interpreter's sysconfig variables, as probed by the generator.
    pub(crate) fn from_interpreter(interp: &Interpreter) -> Result<PythonConfig> {
        let var = |k: &str| interp.info.config.get(k).map(String::as_str).unwrap_or("");
        let missing: Vec<&str> = ["INCLUDEPY", "LIBPL", "LIBRARY", "DESTSHARED"]
            .into_iter()
            .filter(|k| var(k).is_empty())
            .collect();
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorKind::Libpython,
                format!(
                    "target interpreter {} does not report {} in sysconfig",
                    interp.given.display(),
                    missing.join(", ")
                ),
            )
            .with_hint(
                "use an installed CPython (not a build tree), or describe it in a file named by \
                 PYFREEZE_PYTHON_CONFIG_FILE (keys: version, include_dir, libpython, libs, link_args, dynload)",
            ));
        }
        let libpl = Path::new(var("LIBPL"));
        let shared = static_archive_needs_build_tree(var("MODLIBS"), libpl)
            && var("LDLIBRARY").ends_with(".so");
        // MODLIBS: the libraries of extension modules built into a static libpython (Debian
        // builds zlib and pyexpat in; a shared libpython brings its own). Its words that name
        // files of CPython's build tree are linked from their copies under LIBPL (a static
        // build of `pyfreeze cpython build`: libmpdec, expat, HACL*) or dropped (Debian 3.13's
        // `Modules/_hacl/libHacl_Hash_SHA2.a`, whose objects its libpython holds; the stray
        // `\` words).
        let keys: &[&str] = if shared {
            &["LIBS", "SYSLIBS"]
        } else {
            &["LIBS", "MODLIBS", "SYSLIBS"]
        };
        let libs = keys
            .iter()
            .flat_map(|k| words(var(k)))
            .filter_map(|w| link_word(libpl, &w))
            .collect();
        Ok(PythonConfig {
            version: interp.version,
            include_dir: var("INCLUDEPY").into(),
            libpython: if shared {
                Path::new(var("LIBDIR")).join(var("LDLIBRARY"))
            } else {
                position_independent(Path::new(var("LIBPL")).join(var("LIBRARY")))
            },
            libs,
            link_args: {
                let mut args = words(var("LINKFORSHARED"));
                // A static libpython goes into a program linked as the interpreter itself is
                // (the rule of pyfreeze.mk): Debian's python3.X, a deep-frozen 3.11 of `pyfreeze
                // cpython build` (whose static code objects would otherwise each need a
                // load-time relocation) are fixed-address executables.
                if !shared && fixed_address_executable(&interp.info.executable) {
                    args.push("-no-pie".into());
                }
                args
            },
            dynload: var("DESTSHARED").into(),
        })
    }

    /// Reads a config file.
    ///
    /// ```no_run
    /// let cfg = pyfreeze_build::PythonConfig::from_file("python-3.11.cfg".as_ref())?;
    /// println!("{}", cfg.libpython().display());
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn from_file(path: &Path) -> Result<PythonConfig> {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::new(
                ErrorKind::Libpython,
                format!("cannot read python config file {}", path.display()),
            )
            .with_source(e)
            .with_hint("fix PYFREEZE_PYTHON_CONFIG_FILE (or Build::python_config_file), or unset it to use the interpreter's sysconfig")
        })?;
        PythonConfig::from_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Parses `key=value` lines; `#` starts a comment line. Every key is required and
    /// unknown keys are errors. `origin` names the text in errors.
    ///
    /// ```
    /// let err = pyfreeze_build::PythonConfig::from_reader(&b"version 3.11"[..], "my.cfg").unwrap_err();
    /// assert_eq!(err.message(), "my.cfg:1: expected key=value, found `version 3.11`");
    /// ```
    pub fn from_reader(reader: impl BufRead, origin: &str) -> Result<PythonConfig> {
        let bad = |message: String| {
            Error::new(ErrorKind::Libpython, message).with_hint(format!(
                "each line of {origin} is `key=value` with one of the keys {}",
                KEYS.join(", ")
            ))
        };
        let mut values: [Option<String>; 6] = Default::default();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| {
                Error::new(ErrorKind::Libpython, format!("cannot read {origin}")).with_source(e)
            })?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| {
                bad(format!(
                    "{origin}:{}: expected key=value, found `{line}`",
                    n + 1
                ))
            })?;
            let key = key.trim();
            let i = KEYS
                .iter()
                .position(|k| *k == key)
                .ok_or_else(|| bad(format!("{origin}:{}: unknown key `{key}`", n + 1)))?;
            values[i] = Some(value.trim().to_string());
        }
        let missing: Vec<&str> = KEYS
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!("{origin}: missing {}", missing.join(", "))));
        }
        let [version, include_dir, libpython, libs, link_args, dynload] =
            values.map(Option::unwrap_or_default);
        let version = PythonVersion::parse(&version).ok_or_else(|| {
            bad(format!(
                "{origin}: version `{version}` is not a supported CPython version (supported: {})",
                pyfreeze_gen::versions::supported_list()
            ))
        })?;
        Ok(PythonConfig {
            version,
            include_dir: include_dir.into(),
            libpython: libpython.into(),
            libs: words(&libs),
            link_args: words(&link_args),
            dynload: dynload.into(),
        })
    }

    /// Writes the `key=value` form that [`PythonConfig::from_reader`] reads.
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=-lm\nlink_args=\ndynload=/d"[..], "x")?;
    /// let mut out = Vec::new();
    /// cfg.to_writer(&mut out)?;
    /// assert!(String::from_utf8(out)?.contains("\nlibpython=/l/libpython3.13.a\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_writer(&self, mut w: impl Write) -> std::io::Result<()> {
        writeln!(w, "# CPython {} as pyfreeze-build links it", self.version())?;
        writeln!(w, "version={}", self.version())?;
        writeln!(w, "include_dir={}", self.include_dir.display())?;
        writeln!(w, "libpython={}", self.libpython.display())?;
        writeln!(w, "libs={}", self.libs.join(" "))?;
        writeln!(w, "link_args={}", self.link_args.join(" "))?;
        writeln!(w, "dynload={}", self.dynload.display())
    }

    /// `X.Y`.
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=\nlink_args=\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.version(), "3.13");
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn version(&self) -> String {
        self.version.name()
    }

    pub(crate) fn python_version(&self) -> &'static PythonVersion {
        self.version
    }

    /// The folder holding `Python.h`.
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=\nlink_args=\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.include_dir(), std::path::Path::new("/i"));
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn include_dir(&self) -> &Path {
        &self.include_dir
    }

    /// The static library, `libpythonX.Y.a`.
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=\nlink_args=\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.libpython(), std::path::Path::new("/l/libpython3.13.a"));
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn libpython(&self) -> &Path {
        &self.libpython
    }

    /// Linker words for the libraries libpython needs (`LIBS` and `SYSLIBS`).
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=-ldl -lm\nlink_args=\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.libs(), ["-ldl", "-lm"]);
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn libs(&self) -> &[String] {
        &self.libs
    }

    /// Linker words for a program embedding libpython (`LINKFORSHARED`, e.g.
    /// `-Xlinker -export-dynamic`, so extension modules find the interpreter's symbols).
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=\nlink_args=-Xlinker -export-dynamic\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.link_args(), ["-Xlinker", "-export-dynamic"]);
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn link_args(&self) -> &[String] {
        &self.link_args
    }

    /// The extension-module folder (`lib-dynload`): the one entry an embedding program
    /// keeps on `sys.path`, since extension modules are not frozen.
    ///
    /// ```
    /// # let cfg = pyfreeze_build::PythonConfig::from_reader(&b"version=3.13\ninclude_dir=/i\nlibpython=/l/libpython3.13.a\nlibs=\nlink_args=\ndynload=/d"[..], "x")?;
    /// assert_eq!(cfg.dynload(), std::path::Path::new("/d"));
    /// # Ok::<(), pyfreeze_build::Error>(())
    /// ```
    pub fn dynload(&self) -> &Path {
        &self.dynload
    }

    /// Whether libpython is a shared library (`.so`): the one linked when the static archive
    /// cannot be linked alone (Debian's 3.12+), or what a config file names.
    pub fn is_shared(&self) -> bool {
        self.libpython.extension().is_some_and(|e| e == "so")
    }

    /// Checks that the headers and the library are where the config says.
    pub(crate) fn check_files(&self, origin: &str, link: bool) -> Result<()> {
        let python_h = self.include_dir.join("Python.h");
        if !python_h.is_file() {
            return Err(Error::new(
                ErrorKind::Libpython,
                format!(
                    "Python.h not found: {} does not exist ({origin})",
                    python_h.display()
                ),
            )
            .with_hint(format!(
                "install the headers of CPython {} (pyenv installs them; Debian: python{}-dev), \
                 or point PYFREEZE_PYTHON_CONFIG_FILE at a file whose include_dir holds Python.h",
                self.version(),
                self.version()
            )));
        }
        let is_library = self
            .libpython
            .extension()
            .is_some_and(|e| e == "a" || e == "lib" || e == "so");
        if link && !(is_library && self.libpython.is_file()) {
            let what = if is_library {
                "does not exist"
            } else {
                "is not a library (.a or .so)"
            };
            return Err(Error::new(
                ErrorKind::Libpython,
                format!(
                    "static libpython not found: {} {what} ({origin})",
                    self.libpython.display()
                ),
            )
            .with_hint(format!(
                "use a CPython {} built with its static library (pyenv builds libpython{}.a by default; \
                 Debian: libpython{}-dev), or point PYFREEZE_PYTHON_CONFIG_FILE at a file whose \
                 libpython names it; to link Python yourself, call Build::link_python(false)",
                self.version(),
                self.version(),
                self.version()
            )));
        }
        Ok(())
    }

    /// The `cargo:` lines that link the static libpython, its libraries and its linker
    /// flags, in the order a static link needs (after the tables that use them).
    ///
    /// A library given by path (`MODLIBS`' `libssl.a`, `libmpdec.a`) is a library in its place
    /// on the line: rustc puts link arguments after every library, past Rust's own
    /// `-lgcc_s`, which would then answer the libgcc calls those archives make. With `links`
    /// (a folder of the build's), each gets a link there under a name of its own
    /// (`libpyfreeze_lib<N>_<name>.a`: two archives of one name in different folders stay
    /// apart) and is linked by that name; without, it stays a link argument.
    pub(crate) fn link_lines(&self, cargo: &mut Cargo<'_>, links: Option<&Path>) -> Result<()> {
        let mut linked = Vec::new();
        if let Some(dir) = links {
            linked = self.link_archives(dir)?;
        }
        let mut printed: Vec<(String, String)> = Vec::new();
        let mut emit = |cargo: &mut Cargo<'_>, key: &str, value: String| {
            // Repeated library and search lines (`-lm` is often in LIBS and SYSLIBS) add nothing.
            let dedup = key != "rustc-link-arg";
            if dedup && printed.iter().any(|(k, v)| k == key && *v == value) {
                return;
            }
            cargo.line(key, &value);
            printed.push((key.to_string(), value));
        };
        if let Some(dir) = self
            .libpython
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            emit(
                cargo,
                "rustc-link-search",
                format!("native={}", dir.display()),
            );
        }
        let file = self
            .libpython
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = file.strip_prefix("lib").unwrap_or(&file).to_string();
        if self.is_shared() {
            emit(cargo, "rustc-link-lib", format!("dylib={name}"));
            // A libpython outside the linker's own folders is found at run time through an rpath.
            if let Some(dir) = self.libpython.parent().filter(|d| {
                !["/usr/lib", "/lib"]
                    .iter()
                    .any(|system| d.starts_with(system))
            }) {
                emit(
                    cargo,
                    "rustc-link-arg",
                    format!("-Wl,-rpath,{}", dir.display()),
                );
            }
        } else {
            emit(cargo, "rustc-link-lib", format!("static={name}"));
        }
        let mut words = self.libs.iter();
        while let Some(w) = words.next() {
            if let Some(lib) = w.strip_prefix("-l").filter(|l| !l.is_empty()) {
                emit(cargo, "rustc-link-lib", lib.to_string());
            } else if let Some(dir) = w.strip_prefix("-L").filter(|d| !d.is_empty()) {
                emit(cargo, "rustc-link-search", format!("native={dir}"));
            } else if w == "-framework" {
                if let Some(fw) = words.next() {
                    emit(cargo, "rustc-link-lib", format!("framework={fw}"));
                }
            } else if let Some((_, name)) = linked.iter().find(|(path, _)| path == w) {
                if let Some(dir) = links {
                    emit(
                        cargo,
                        "rustc-link-search",
                        format!("native={}", dir.display()),
                    );
                }
                emit(cargo, "rustc-link-lib", format!("static:-bundle={name}"));
            } else {
                emit(cargo, "rustc-link-arg", w.clone());
            }
        }
        for w in &self.link_args {
            emit(cargo, "rustc-link-arg", w.clone());
        }
        Ok(())
    }

    /// Links every archive given by absolute path into `dir` under a name of its own (see
    /// [`PythonConfig::link_lines`]), removing links left by an earlier build; returns
    /// `(path, library name)` pairs.
    fn link_archives(&self, dir: &Path) -> Result<Vec<(String, String)>> {
        let io = |path: &Path, e: std::io::Error| {
            Error::new(
                ErrorKind::Io,
                format!("cannot link {} for the linker: {e}", path.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut linked = Vec::new();
        let archives = self.libs.iter().filter(|w| {
            let path = Path::new(w.as_str());
            path.is_absolute() && path.extension().is_some_and(|x| x == "a") && path.is_file()
        });
        for word in archives {
            if linked.iter().any(|(w, _)| w == word) {
                continue;
            }
            let stem = Path::new(word.as_str())
                .file_stem()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default();
            let stem: String = stem
                .strip_prefix("lib")
                .unwrap_or(&stem)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let name = format!("pyfreeze_lib{}_{stem}", linked.len());
            let link = dir.join(format!("lib{name}.a"));
            if std::fs::read_link(&link).ok().as_deref() != Some(Path::new(word.as_str())) {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(word, &link).map_err(|e| io(&link, e))?;
            }
            linked.push((word.clone(), name));
        }
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))?.flatten() {
            let file = entry.file_name();
            let known = linked
                .iter()
                .any(|(_, name)| file.to_string_lossy() == format!("lib{name}.a"));
            if !known {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(linked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(libs: &str, link_args: &str) -> PythonConfig {
        let text = format!(
            "version=3.10\ninclude_dir=/py/include/python3.10\n\
             libpython=/py/lib/python3.10/config-3.10-x86_64-linux-gnu/libpython3.10.a\n\
             libs={libs}\nlink_args={link_args}\ndynload=/py/lib/python3.10/lib-dynload\n"
        );
        PythonConfig::from_reader(text.as_bytes(), "t.cfg").unwrap()
    }

    #[test]
    fn archives_by_path_are_linked_by_a_name_of_their_own_in_their_place() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = |dir: &str, file: &str| {
            let d = tmp.path().join(dir);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(file), "!<arch>\n").unwrap();
            d.join(file).display().to_string()
        };
        let (ssl, other_ssl, expat) = (
            lib("usr", "libssl.a"),
            lib("other", "libssl.a"),
            lib("py/Modules/expat", "libexpat.a"),
        );
        let c = cfg(&format!("-lm {ssl} {expat} {other_ssl} -lpthread"), "");
        let links = tmp.path().join("links");
        std::fs::create_dir_all(&links).unwrap();
        std::fs::write(links.join("libpyfreeze_lib9_stale.a"), "").unwrap();
        let mut out = Vec::new();
        c.link_lines(&mut Cargo::fixed(&mut out, &[]), Some(&links))
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().skip(2).collect();
        let search = format!("cargo:rustc-link-search=native={}", links.display());
        assert_eq!(
            lines,
            [
                "cargo:rustc-link-lib=m",
                &search,
                "cargo:rustc-link-lib=static:-bundle=pyfreeze_lib0_ssl",
                "cargo:rustc-link-lib=static:-bundle=pyfreeze_lib1_expat",
                "cargo:rustc-link-lib=static:-bundle=pyfreeze_lib2_ssl",
                "cargo:rustc-link-lib=pthread",
            ]
        );
        let target = |name: &str| std::fs::read_link(links.join(name)).unwrap();
        assert_eq!(target("libpyfreeze_lib0_ssl.a"), Path::new(&ssl));
        assert_eq!(target("libpyfreeze_lib2_ssl.a"), Path::new(&other_ssl));
        assert!(!links.join("libpyfreeze_lib9_stale.a").exists());
    }

    #[test]
    fn link_lines_put_libpython_first_then_its_libraries_and_flags() {
        let c = cfg(
            "-lcrypt -ldl -L/py/lib -Wl,-rpath,/py/lib -lm -lm",
            "-Xlinker -export-dynamic",
        );
        let mut out = Vec::new();
        c.link_lines(&mut Cargo::fixed(&mut out, &[]), None)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cargo:rustc-link-search=native=/py/lib/python3.10/config-3.10-x86_64-linux-gnu\n\
             cargo:rustc-link-lib=static=python3.10\n\
             cargo:rustc-link-lib=crypt\n\
             cargo:rustc-link-lib=dl\n\
             cargo:rustc-link-search=native=/py/lib\n\
             cargo:rustc-link-arg=-Wl,-rpath,/py/lib\n\
             cargo:rustc-link-lib=m\n\
             cargo:rustc-link-arg=-Xlinker\n\
             cargo:rustc-link-arg=-export-dynamic\n"
        );
    }

    #[test]
    fn a_shared_libpython_is_linked_as_a_dylib_with_an_rpath_outside_system_folders() {
        let shared = |libpython: &str| {
            let text = format!(
                "version=3.14\ninclude_dir=/i\nlibpython={libpython}\nlibs=-ldl\nlink_args=\ndynload=/d\n"
            );
            let c = PythonConfig::from_reader(text.as_bytes(), "t.cfg").unwrap();
            assert!(c.is_shared());
            let mut out = Vec::new();
            c.link_lines(&mut Cargo::fixed(&mut out, &[]), None)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            shared("/usr/lib/x86_64-linux-gnu/libpython3.14.so"),
            "cargo:rustc-link-search=native=/usr/lib/x86_64-linux-gnu\n\
             cargo:rustc-link-lib=dylib=python3.14\n\
             cargo:rustc-link-lib=dl\n"
        );
        assert_eq!(
            shared("/opt/py/lib/libpython3.14.so"),
            "cargo:rustc-link-search=native=/opt/py/lib\n\
             cargo:rustc-link-lib=dylib=python3.14\n\
             cargo:rustc-link-arg=-Wl,-rpath,/opt/py/lib\n\
             cargo:rustc-link-lib=dl\n"
        );
    }

    #[test]
    fn static_archives_whose_modlibs_name_build_tree_files_are_not_linked_alone() {
        let none = Path::new("/nonexistent/config-3.13");
        // Debian bookworm's 3.11, pyenv's builds: complete archives.
        assert!(!static_archive_needs_build_tree(
            "-lm      -lm   -lz -lm -lm   -lexpat  -lexpat              -lz",
            none
        ));
        assert!(!static_archive_needs_build_tree("", none));
        assert!(!static_archive_needs_build_tree(
            "/opt/ssl/lib/libssl.a -lcrypto",
            none
        ));
        // Debian sid's 3.13 (a relative .a) and 3.14/3.15 (object lists left as `\`).
        assert!(static_archive_needs_build_tree(
            "-lm -lexpat Modules/_hacl/libHacl_Hash_SHA2.a -lz",
            none
        ));
        assert!(static_archive_needs_build_tree(
            "-lm -lexpat  -lexpat \\ \\ \\ \\ \\       -lzstd  -lz",
            none
        ));
    }

    #[test]
    fn fixed_address_executables_are_told_from_position_independent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let elf = |e_type: u8| {
            let mut h = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
            h.extend([e_type, 0, 0x3e, 0]);
            let path = dir.path().join(format!("elf-{e_type}"));
            std::fs::write(&path, h).unwrap();
            path
        };
        assert!(fixed_address_executable(&elf(2)));
        assert!(!fixed_address_executable(&elf(3)));
        // This test program: cargo links position-independent executables.
        assert!(!fixed_address_executable(&std::env::current_exe().unwrap()));
        std::fs::write(dir.path().join("script"), "#!/bin/sh\nexit 0\n").unwrap();
        assert!(!fixed_address_executable(&dir.path().join("script")));
        assert!(!fixed_address_executable(&dir.path().join("missing")));
    }

    #[test]
    fn build_tree_archives_installed_under_libpl_are_linked_from_there() {
        // What `pyfreeze cpython build --static-extensions` installs.
        let libpl = tempfile::tempdir().unwrap();
        let hacl = "Modules/_hacl/libHacl_Hash_SHA2.a";
        std::fs::create_dir_all(libpl.path().join("Modules/_hacl")).unwrap();
        std::fs::write(libpl.path().join(hacl), "!<arch>\n").unwrap();
        let modlibs = format!("-lm {hacl} /usr/lib/libz.a");
        assert!(!static_archive_needs_build_tree(&modlibs, libpl.path()));
        let linked: Vec<String> = modlibs
            .split_whitespace()
            .filter_map(|w| link_word(libpl.path(), w))
            .collect();
        let copy = libpl.path().join(hacl).display().to_string();
        assert_eq!(linked, ["-lm", copy.as_str(), "/usr/lib/libz.a"]);
        // Not installed: dropped, and the archive cannot be linked alone.
        let missing = "Modules/expat/libexpat.a";
        assert_eq!(link_word(libpl.path(), missing), None);
        assert!(static_archive_needs_build_tree(missing, libpl.path()));
        assert_eq!(link_word(libpl.path(), "\\"), None);
    }

    #[test]
    fn config_files_round_trip_and_name_bad_lines() {
        let c = cfg("-ldl", "");
        let mut text = Vec::new();
        c.to_writer(&mut text).unwrap();
        assert_eq!(PythonConfig::from_reader(&text[..], "x").unwrap(), c);

        let e =
            PythonConfig::from_reader(&b"# c\n\nversion=3.11\nlibz=1\n"[..], "p.cfg").unwrap_err();
        assert_eq!(e.message(), "p.cfg:4: unknown key `libz`");
        let e = PythonConfig::from_reader(&b"version=3.11\n"[..], "p.cfg").unwrap_err();
        assert_eq!(
            e.message(),
            "p.cfg: missing include_dir, libpython, libs, link_args, dynload"
        );
        let text = String::from_utf8(text)
            .unwrap()
            .replace("version=3.10", "version=3.9");
        let e = PythonConfig::from_reader(text.as_bytes(), "p.cfg").unwrap_err();
        assert!(e.message().contains("version `3.9`"), "{}", e.message());
    }

    #[test]
    fn missing_static_library_names_the_path_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Python.h"), "").unwrap();
        let text = format!(
            "version=3.11\ninclude_dir={}\nlibpython=/nowhere/libpython3.11.a\nlibs=\nlink_args=\ndynload=/d\n",
            dir.path().display()
        );
        let c = PythonConfig::from_reader(text.as_bytes(), "t").unwrap();
        let e = c.check_files("from t", true).unwrap_err();
        assert_eq!(
            e.message(),
            "static libpython not found: /nowhere/libpython3.11.a does not exist (from t)"
        );
        assert!(e.hint().unwrap().contains("PYFREEZE_PYTHON_CONFIG_FILE"));
        c.check_files("from t", false).unwrap();
    }

    #[test]
    fn requests_tell_versions_from_paths() {
        let parse = |t| Request::parse(t, "PYFREEZE_PYTHON");
        assert_eq!(
            parse("3.11").unwrap(),
            Request::Version(PythonVersion::parse("3.11").unwrap())
        );
        assert_eq!(
            parse("python3.11").unwrap(),
            Request::Path("python3.11".into())
        );
        assert_eq!(parse("3.11.7").unwrap(), Request::Path("3.11.7".into()));
        assert_eq!(
            parse("3.9").unwrap_err().message(),
            "PYFREEZE_PYTHON asks for CPython 3.9, which pyfreeze does not support (supported: 3.10, 3.11, 3.12, 3.13, 3.14, 3.15)"
        );
    }
}
