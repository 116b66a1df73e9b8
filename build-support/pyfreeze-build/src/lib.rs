//! # pyfreeze-build
//!
//! Freezes Python modules, and the stdlib they need, into a Rust program from `build.rs`:
//! no Python files ship beside the binary. One call runs the pyfreeze generator in-process
//! (the library behind the `pyfreeze` CLI), compiles the emitted C with [`cc`], links the
//! target CPython's static `libpythonX.Y.a`, and writes Rust bindings to the table with
//! bindgen.
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     pyfreeze_build::Build::new()
//!         .interpreter("3.11")          // pyenv's newest 3.11.x; PYFREEZE_PYTHON overrides
//!         .root("scripts")              // scripts/game/... becomes package `game`
//!         .include("game")
//!         .stdlib(true)
//!         .stdlib_include("json")       // only the parts of the stdlib the scripts use
//!         .origin_prefix("/game")       // __file__ = /game/scripts/game/...
//!         .compile("pyfreeze");
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs
//! include!(concat!(env!("OUT_DIR"), "/pyfreeze.rs")); // defines `mod pyfreeze`
//!
//! fn main() {
//!     for m in pyfreeze::modules() {
//!         println!("{} ({} bytes of bytecode) from {}", m.name(), m.code().len(), m.origin());
//!     }
//!     pyfreeze::install().expect("install the frozen importer"); // then initialise CPython
//! }
//! ```
//!
//! The program then initialises CPython with an isolated `PyConfig` whose `sys.path` holds
//! only [`PythonConfig::dynload`] (exported as `pyfreeze::PYTHON_DYNLOAD`), as
//! `examples/game-embed` and `docs/embedding-rust.md` show.
//!
//! ## What `compile` does
//!
//! 1. Finds the target interpreter ([`Build::interpreter`], `PYFREEZE_PYTHON`) and checks
//!    its version ([`Build::version`]).
//! 2. Finds its headers and static libpython ([`PythonConfig`]): from its `sysconfig`, the
//!    variables `pythonX.Y-config` prints, or from `PYFREEZE_PYTHON_CONFIG_FILE`.
//! 3. Generates the tables into `OUT_DIR/pyfreeze/` (files are rewritten only when their
//!    bytes change) and prints `cargo:rerun-if-changed` for every file and folder read, the
//!    interpreter, libpython and the spec or config file.
//! 4. Compiles the C with `cc` into `lib<name>.a`, plus `OUT_DIR/pyfreeze_layout.c`, the C
//!    compiler's view of the table structs.
//! 5. Links libpython after it: `cargo:rustc-link-lib=static=pythonX.Y`, the libraries in
//!    its `LIBS` and `SYSLIBS`, and its `LINKFORSHARED` flags (`-Xlinker -export-dynamic`,
//!    so extension modules in `lib-dynload` find the interpreter's symbols).
//! 6. Writes `OUT_DIR/pyfreeze.rs`: bindgen's view of `pyfreeze.h` plus a safe API, with
//!    compile-time checks that the stock table matches the real `struct _frozen`.
//!
//! Link arguments (`cargo:rustc-link-arg`) apply to the package's own binaries, tests and
//! examples, so call pyfreeze-build from the `build.rs` of the package that builds the
//! program.
//!
//! ## Environment variables
//!
//! pyfreeze-build reads these, and prints `cargo:rerun-if-env-changed` for each, so a
//! change reruns the build script:
//!
//! | variable | meaning |
//! |---|---|
//! | `PYFREEZE_PYTHON` | the target interpreter, overriding [`Build::interpreter`]: a path, a command on `PATH`, or a version `X.Y` (pyenv's newest `X.Y.N`, else `pythonX.Y` on `PATH`) |
//! | `PYFREEZE_PYTHON_CONFIG_FILE` | a `key=value` file ([`PythonConfig`]) naming the headers, static libpython and link flags, instead of the interpreter's `sysconfig`; overrides [`Build::python_config_file`] |
//!
//! From Cargo it reads `OUT_DIR` and `CARGO_MANIFEST_DIR` (set for every run, so not
//! tracked). It also tracks variables read by the tools it uses: `PYENV_ROOT` when the
//! interpreter is a version looked up with pyenv, and with bindings on `LIBCLANG_PATH` and
//! `BINDGEN_EXTRA_CLANG_ARGS`, which bindgen reads. `cc` reads and tracks its own variables
//! (`CC`, `CFLAGS`, `AR`, ...).
//!
//! ## Errors
//!
//! [`Build::try_compile`] returns an [`Error`] naming the input at fault and a hint;
//! [`Build::compile`] prints it framed, every line starting with `pyfreeze-build:`, and
//! exits with status 1 (no panic backtrace):
//!
//! ```text
//! -----------------------------------------------------------------------------
//! pyfreeze-build: error: target interpreter /opt/python3.11 does not exist
//! pyfreeze-build: hint: set PYFREEZE_PYTHON (or call Build::interpreter) to a CPython ...
//! -----------------------------------------------------------------------------
//! ```

#![warn(missing_docs)]
// The examples show whole `build.rs` files, `fn main` included.
#![allow(clippy::needless_doctest_main)]

mod env;
mod error;
mod python;
mod rust;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use pyfreeze_gen::{OriginMap, PythonVersion, Root, Spec};

use crate::env::Cargo;
use crate::error::Result;
pub use crate::error::{Error, ErrorKind};
pub use crate::python::PythonConfig;
use crate::python::Request;

/// Configuration of one frozen table: which interpreter, which modules, how to compile and
/// link. Setters take `&mut self` and return it, so options can be set conditionally;
/// [`Build::compile`] or [`Build::try_compile`] does the work.
///
/// ```
/// let mut build = pyfreeze_build::Build::new();
/// build.interpreter("3.11").root("scripts").include("game");
/// if cfg!(debug_assertions) {
///     build.embed_source(true);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Build {
    interpreter: Option<PathBuf>,
    version: Option<String>,
    spec_file: Option<PathBuf>,
    roots: Vec<PathBuf>,
    include: Vec<String>,
    exclude: Vec<String>,
    stdlib: Option<bool>,
    stdlib_include: Vec<String>,
    stdlib_include_since: Vec<(String, String)>,
    stdlib_exclude: Vec<String>,
    embed_source: Option<bool>,
    package_data: Option<bool>,
    optimize: Option<u8>,
    runtime: Option<bool>,
    jobs: Option<usize>,
    origin_prefix: Option<String>,
    origin_maps: Vec<(PathBuf, String)>,
    python_config_file: Option<PathBuf>,
    c_files: Vec<PathBuf>,
    link_python: bool,
    bindings: bool,
    cc: Option<cc::Build>,
    out_dir: Option<PathBuf>,
}

impl Default for Build {
    fn default() -> Self {
        Build::new()
    }
}

impl Build {
    /// A configuration that freezes nothing yet: add [`Build::root`]s or the
    /// [`Build::stdlib`]. Reads nothing from the environment.
    ///
    /// ```
    /// let build = pyfreeze_build::Build::new();
    /// ```
    pub fn new() -> Build {
        Build {
            interpreter: None,
            version: None,
            spec_file: None,
            roots: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            stdlib: None,
            stdlib_include: Vec::new(),
            stdlib_include_since: Vec::new(),
            stdlib_exclude: Vec::new(),
            embed_source: None,
            package_data: None,
            optimize: None,
            runtime: None,
            jobs: None,
            origin_prefix: None,
            origin_maps: Vec::new(),
            python_config_file: None,
            c_files: Vec::new(),
            link_python: true,
            bindings: true,
            cc: None,
            out_dir: None,
        }
    }

    /// The target interpreter: the CPython whose bytecode is frozen and whose libpython is
    /// linked. A path, a command on `PATH`, or a version `X.Y`, meaning pyenv's newest
    /// `X.Y.N` (else `pythonX.Y` on `PATH`) and pinning that version. `PYFREEZE_PYTHON`
    /// overrides it, so one `build.rs` can build against several versions.
    ///
    /// ```
    /// pyfreeze_build::Build::new().interpreter("3.11");
    /// pyfreeze_build::Build::new().interpreter("/opt/python/bin/python3.13");
    /// ```
    pub fn interpreter(&mut self, python: impl AsRef<Path>) -> &mut Build {
        self.interpreter = Some(python.as_ref().to_path_buf());
        self
    }

    /// Refuses any interpreter but CPython `X.Y`, wherever it comes from (including
    /// `PYFREEZE_PYTHON`).
    ///
    /// ```
    /// pyfreeze_build::Build::new().interpreter("python3").version("3.12");
    /// ```
    pub fn version(&mut self, version: &str) -> &mut Build {
        self.version = Some(version.to_string());
        self
    }

    /// Starts from a `pyfreeze.toml` (see `docs/spec.md`), shared with the `pyfreeze` CLI.
    /// Roots and patterns set here are added to the file's; single values override it.
    ///
    /// ```
    /// pyfreeze_build::Build::new().spec_file("pyfreeze.toml");
    /// ```
    pub fn spec_file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.spec_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// Adds a source root, relative to the package folder: its top-level `.py` files and
    /// packages become modules, other files inside packages become package data.
    ///
    /// ```
    /// pyfreeze_build::Build::new().root("scripts").root("vendor");
    /// ```
    pub fn root(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.roots.push(dir.as_ref().to_path_buf());
        self
    }

    /// Selects modules of the roots added with [`Build::root`] (without any, all of them).
    /// A pattern without `/` matches dotted names (`game`, `game.*`, `**.plugins`); with `/`
    /// it matches paths relative to the root (`game/levels/**`). A pattern also selects
    /// everything beneath what it matches. A pattern that matches nothing is an error.
    ///
    /// ```
    /// pyfreeze_build::Build::new().root("scripts").include("game").include("tools.export");
    /// ```
    pub fn include(&mut self, pattern: &str) -> &mut Build {
        self.include.push(pattern.to_string());
        self
    }

    /// Leaves out modules (and data) of the roots added with [`Build::root`]; excludes win
    /// over includes.
    ///
    /// ```
    /// pyfreeze_build::Build::new().root("scripts").exclude("*.tests").exclude("**/*.psd");
    /// ```
    pub fn exclude(&mut self, pattern: &str) -> &mut Build {
        self.exclude.push(pattern.to_string());
        self
    }

    /// Freezes the target interpreter's pure-Python stdlib (minus tests, IDLE, tkinter and
    /// the rest listed in `docs/spec.md`). Restrict it with [`Build::stdlib_include`].
    ///
    /// ```
    /// pyfreeze_build::Build::new().stdlib(true);
    /// ```
    pub fn stdlib(&mut self, on: bool) -> &mut Build {
        self.stdlib = Some(on);
        self
    }

    /// Restricts the stdlib to modules matching the patterns (path patterns such as
    /// `encodings/utf_8.py` pick single modules of a package). Whatever the program imports
    /// must be selected: `sys.path` has no stdlib folder.
    ///
    /// ```
    /// pyfreeze_build::Build::new().stdlib(true).stdlib_include("json").stdlib_include("encodings/utf_8.py");
    /// ```
    pub fn stdlib_include(&mut self, pattern: &str) -> &mut Build {
        self.stdlib_include.push(pattern.to_string());
        self
    }

    /// Like [`Build::stdlib_include`], used only when the target is CPython `version` or
    /// newer, for modules that appeared in that version (3.13's `traceback` imports
    /// `_colorize`). A pattern that matches nothing is an error, so it cannot be listed for
    /// older versions.
    ///
    /// ```
    /// pyfreeze_build::Build::new().stdlib(true).stdlib_include("traceback").stdlib_include_since("3.13", "_colorize");
    /// ```
    pub fn stdlib_include_since(&mut self, version: &str, pattern: &str) -> &mut Build {
        self.stdlib_include_since
            .push((version.to_string(), pattern.to_string()));
        self
    }

    /// Leaves more of the stdlib out, on top of the default exclusions.
    ///
    /// ```
    /// pyfreeze_build::Build::new().stdlib(true).stdlib_exclude("email").stdlib_exclude("xml");
    /// ```
    pub fn stdlib_exclude(&mut self, pattern: &str) -> &mut Build {
        self.stdlib_exclude.push(pattern.to_string());
        self
    }

    /// Embeds each module's source (default on): `inspect.getsource` and tracebacks with
    /// source lines work. Off saves the source's size.
    ///
    /// ```
    /// pyfreeze_build::Build::new().embed_source(!cfg!(feature = "small"));
    /// ```
    pub fn embed_source(&mut self, on: bool) -> &mut Build {
        self.embed_source = Some(on);
        self
    }

    /// Embeds non-Python files inside packages (default on), for `importlib.resources`.
    ///
    /// ```
    /// pyfreeze_build::Build::new().package_data(false);
    /// ```
    pub fn package_data(&mut self, on: bool) -> &mut Build {
        self.package_data = Some(on);
        self
    }

    /// `optimize` of `compile()`: 0 (default), 1 (no asserts) or 2 (no docstrings either).
    ///
    /// ```
    /// pyfreeze_build::Build::new().optimize(2);
    /// ```
    pub fn optimize(&mut self, level: u8) -> &mut Build {
        self.optimize = Some(level);
        self
    }

    /// Includes the stock-libpython runtime, `pyfreeze_install()` (default on). Turn it off
    /// only when linking a CPython patched to boot from the table.
    ///
    /// ```
    /// pyfreeze_build::Build::new().runtime(true);
    /// ```
    pub fn runtime(&mut self, on: bool) -> &mut Build {
        self.runtime = Some(on);
        self
    }

    /// Number of interpreter processes compiling bytecode; 0 (default) is one per core.
    ///
    /// ```
    /// pyfreeze_build::Build::new().jobs(2);
    /// ```
    pub fn jobs(&mut self, jobs: usize) -> &mut Build {
        self.jobs = Some(jobs);
        self
    }

    /// Rewrites origins (`__file__`, `co_filename`, traceback paths) under the package folder
    /// to start with `prefix`, so the binary holds no build-machine paths and does not
    /// depend on where the repository is checked out. Pick a prefix that does not exist on
    /// the target, so tracebacks show the embedded source, not a file that happens to be
    /// there.
    ///
    /// ```
    /// pyfreeze_build::Build::new().root("scripts").origin_prefix("/game");
    /// // scripts/game/world.py is /game/scripts/game/world.py in the program
    /// ```
    pub fn origin_prefix(&mut self, prefix: &str) -> &mut Build {
        self.origin_prefix = Some(prefix.to_string());
        self
    }

    /// Rewrites origins under `from` (relative to the package folder) to start with `to`,
    /// like gcc's `-fdebug-prefix-map`; the longest matching `from` wins.
    ///
    /// ```
    /// pyfreeze_build::Build::new().origin_map("vendor", "/site-packages");
    /// ```
    pub fn origin_map(&mut self, from: impl AsRef<Path>, to: &str) -> &mut Build {
        self.origin_maps
            .push((from.as_ref().to_path_buf(), to.to_string()));
        self
    }

    /// Takes headers, libpython and link flags from a `key=value` file ([`PythonConfig`])
    /// instead of the interpreter's `sysconfig`. `PYFREEZE_PYTHON_CONFIG_FILE` overrides it.
    ///
    /// ```
    /// pyfreeze_build::Build::new().python_config_file("python-3.11.cfg");
    /// ```
    pub fn python_config_file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.python_config_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// Prints the link lines for the static libpython (default on). Off, the program must
    /// link a libpython of the same `X.Y` itself.
    ///
    /// ```
    /// pyfreeze_build::Build::new().link_python(false);
    /// ```
    pub fn link_python(&mut self, on: bool) -> &mut Build {
        self.link_python = on;
        self
    }

    /// Writes `OUT_DIR/pyfreeze.rs` with bindgen (default on; needs libclang).
    ///
    /// ```
    /// pyfreeze_build::Build::new().bindings(false);
    /// ```
    pub fn bindings(&mut self, on: bool) -> &mut Build {
        self.bindings = on;
        self
    }

    /// The `cc::Build` to compile the tables with: compiler, flags, defines of your own.
    /// pyfreeze-build adds the include folders, the files and its output folder, and turns
    /// warnings off (the C is generated).
    ///
    /// ```
    /// let mut cc = cc::Build::new();
    /// cc.flag_if_supported("-ffunction-sections");
    /// pyfreeze_build::Build::new().cc(cc);
    /// ```
    pub fn cc(&mut self, build: cc::Build) -> &mut Build {
        self.cc = Some(build);
        self
    }

    /// Compiles a C file of your own into the library with the tables, with `pyfreeze.h`
    /// and the target's `Python.h` on the include path, and reruns the build script when it
    /// changes. Use it for C that calls the CPython API (such as `PyConfig` set-up, whose
    /// layout differs between versions): the library comes before libpython on the link
    /// line, as a static link needs. It is compiled with the [`Build::cc`] settings,
    /// warnings included.
    ///
    /// ```
    /// pyfreeze_build::Build::new().c_file("src/embed.c");
    /// ```
    pub fn c_file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.c_files.push(path.as_ref().to_path_buf());
        self
    }

    /// Where to generate, instead of `OUT_DIR`: the tables go to `DIR/pyfreeze/`, the
    /// bindings to `DIR/pyfreeze.rs`.
    ///
    /// ```
    /// pyfreeze_build::Build::new().out_dir("target/frozen");
    /// ```
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Generates, compiles and links the table as `lib<lib_name>.a`; on failure prints the
    /// framed error of [`Error::report`] and exits with status 1.
    ///
    /// ```no_run
    /// // build.rs
    /// let frozen = pyfreeze_build::Build::new().interpreter("3.11").root("scripts").compile("pyfreeze");
    /// frozen.cc_build().file("src/embed.c").compile("embed");
    /// ```
    pub fn compile(&mut self, lib_name: &str) -> Frozen {
        match self.try_compile(lib_name) {
            Ok(frozen) => frozen,
            Err(e) => {
                eprint!("\n{}\n", e.report());
                std::process::exit(1);
            }
        }
    }

    /// Like [`Build::compile`], returning the error instead of exiting.
    ///
    /// ```no_run
    /// match pyfreeze_build::Build::new().interpreter("3.11").root("scripts").try_compile("pyfreeze") {
    ///     Ok(frozen) => println!("cargo:warning=froze {} modules", frozen.module_count()),
    ///     Err(e) => panic!("{}", e.report()),
    /// }
    /// ```
    pub fn try_compile(&mut self, lib_name: &str) -> Result<Frozen, Error> {
        let mut stdout = std::io::stdout().lock();
        let frozen = self.run(lib_name, &mut Cargo::new(&mut stdout));
        let _ = stdout.flush();
        frozen
    }

    /// The whole build, reading the environment and printing through `cargo`.
    fn run(&self, lib_name: &str, cargo: &mut Cargo<'_>) -> Result<Frozen> {
        check_lib_name(lib_name)?;
        // Everything that can be checked without the environment comes first.
        let mut spec = self.selection()?;
        let pinned = self.pinned_version(&spec)?;
        let since = self.versioned_stdlib_patterns()?;

        let interp = self.find_interpreter(cargo, &spec, pinned)?;
        let (python, config_file) = self.python_config(cargo, &interp)?;
        let out_root = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => cargo.env("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                Error::new(ErrorKind::Usage, "OUT_DIR is not set").with_hint(
                    "run pyfreeze-build from a build script (build.rs), or set Build::out_dir",
                )
            })?,
        };
        let manifest_dir = cargo
            .env("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .map_or_else(std::env::current_dir, Ok)
            .map_err(|e| {
                Error::new(ErrorKind::Io, "cannot find the current folder").with_source(e)
            })?;

        self.complete(&mut spec, &interp, &since, &manifest_dir);
        let generated = pyfreeze_gen::generate(&spec, &pyfreeze_gen::NoProgress)
            .map_err(|e| gen_error(e, Some(&interp)))?;
        self.watch(
            cargo,
            &interp,
            &python,
            config_file.as_deref(),
            &generated.inputs,
        );

        let out_dir = out_root.join("pyfreeze");
        pyfreeze_gen::write_output(&out_dir, &generated.files)
            .map_err(|e| gen_error(e, Some(&interp)))?;
        let layout_c = out_root.join("pyfreeze_layout.c");
        write_if_changed(&layout_c, rust::layout_c(interp.version).as_bytes())?;
        let mut cfg_text = Vec::new();
        python
            .to_writer(&mut cfg_text)
            .expect("writing to memory cannot fail");
        write_if_changed(&out_root.join("pyfreeze-python.cfg"), &cfg_text)?;

        let mut base = self.cc.clone().unwrap_or_default();
        base.include(&out_dir).include(python.include_dir());
        let mut c_files: Vec<PathBuf> = generated
            .files
            .iter()
            .filter(|f| f.path.ends_with(".c"))
            .map(|f| out_dir.join(&f.path))
            .collect();
        c_files.push(layout_c);
        self.compile_c(lib_name, &base, &c_files, &out_root.join("pyfreeze-obj"))?;
        if self.link_python {
            python.link_lines(cargo);
        }

        let bindings = if self.bindings {
            cargo.track("LIBCLANG_PATH");
            cargo.track("BINDGEN_EXTRA_CLANG_ARGS");
            let code = rust::generate(&rust::Inputs {
                header: &out_dir.join("pyfreeze.h"),
                python: &python,
                python_full_version: &interp.full_version(),
                runtime: spec.runtime,
            })?;
            let path = out_root.join("pyfreeze.rs");
            write_if_changed(&path, code.as_bytes())?;
            Some(path)
        } else {
            None
        };

        Ok(Frozen {
            header: out_dir.join("pyfreeze.h"),
            out_dir,
            bindings,
            python_full_version: interp.full_version(),
            python,
            modules: generated.modules.iter().map(|m| m.name.clone()).collect(),
            resources: generated.resources.len(),
            cc: base,
        })
    }

    /// The spec file (if any) plus the roots and stdlib switch set here.
    fn selection(&self) -> Result<Spec> {
        let mut spec = match &self.spec_file {
            Some(path) => Spec::from_file(path).map_err(|e| gen_error(e, None))?,
            None => Spec::default(),
        };
        for root in &self.roots {
            spec.roots.push(Root {
                path: root.clone(),
                include: self.include.clone(),
                exclude: self.exclude.clone(),
            });
        }
        if let Some(on) = self.stdlib {
            spec.stdlib = on;
        }
        if spec.roots.is_empty() && !spec.stdlib {
            return Err(Error::new(ErrorKind::Selection, "nothing to freeze").with_hint(
                "add a folder of modules with Build::root, or the stdlib with Build::stdlib(true)",
            ));
        }
        if self.roots.is_empty() && !(self.include.is_empty() && self.exclude.is_empty()) {
            return Err(Error::new(
                ErrorKind::Usage,
                "include/exclude patterns are given but no Build::root to apply them to",
            )
            .with_hint("add the folder with Build::root, or put the patterns in the spec file"));
        }
        Ok(spec)
    }

    /// The version [`Build::version`] (or the spec file) pins, if any.
    fn pinned_version(&self, spec: &Spec) -> Result<Option<&'static PythonVersion>> {
        let Some(v) = &self.version else {
            return Ok(spec.version);
        };
        PythonVersion::parse(v).map(Some).ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!(
                    "Build::version(\"{v}\") is not a supported CPython version (supported: {})",
                    pyfreeze_gen::versions::supported_list()
                ),
            )
            .with_hint("pass `X.Y`, e.g. version(\"3.11\")")
        })
    }

    /// The [`Build::stdlib_include_since`] patterns with their parsed versions.
    fn versioned_stdlib_patterns(&self) -> Result<Vec<(&'static PythonVersion, &str)>> {
        self.stdlib_include_since
            .iter()
            .map(|(v, pattern)| {
                let version = PythonVersion::parse(v).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Usage,
                        format!(
                            "Build::stdlib_include_since(\"{v}\", ..) is not a supported CPython version"
                        ),
                    )
                    .with_hint("pass `X.Y`, e.g. stdlib_include_since(\"3.13\", \"_colorize\")")
                })?;
                Ok((version, pattern.as_str()))
            })
            .collect()
    }

    /// Finds and probes the target interpreter: `PYFREEZE_PYTHON`, else
    /// [`Build::interpreter`], else the spec file's.
    fn find_interpreter(
        &self,
        cargo: &mut Cargo<'_>,
        spec: &Spec,
        pinned: Option<&'static PythonVersion>,
    ) -> Result<pyfreeze_gen::Interpreter> {
        let from_env = cargo.env("PYFREEZE_PYTHON");
        let (text, origin) = match (from_env, &self.interpreter, &self.spec_file) {
            (Some(v), _, _) => (v, "PYFREEZE_PYTHON"),
            (None, Some(p), _) => (p.clone().into_os_string(), "Build::interpreter"),
            (None, None, Some(_)) => (spec.python.clone().into_os_string(), "the spec file"),
            (None, None, None) => {
                return Err(Error::new(ErrorKind::Interpreter, "no target interpreter")
                    .with_hint(python::SET_INTERPRETER))
            }
        };
        let request = match text.to_str() {
            Some(text) => Request::parse(text, origin)?,
            None => Request::Path(PathBuf::from(text)),
        };
        python::resolve(cargo, &request, pinned)
    }

    /// The target's headers, libpython and link flags, and the config file they came from.
    fn python_config(
        &self,
        cargo: &mut Cargo<'_>,
        interp: &pyfreeze_gen::Interpreter,
    ) -> Result<(PythonConfig, Option<PathBuf>)> {
        let config_file = cargo
            .env("PYFREEZE_PYTHON_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| self.python_config_file.clone());
        let (python, origin) = match &config_file {
            Some(path) => {
                let cfg = PythonConfig::from_file(path)?;
                if cfg.python_version() != interp.version {
                    return Err(Error::new(
                        ErrorKind::VersionMismatch,
                        format!(
                            "python config file {} describes CPython {}, but the target interpreter {} is {}",
                            path.display(),
                            cfg.version(),
                            interp.given.display(),
                            interp.full_version()
                        ),
                    )
                    .with_hint("point PYFREEZE_PYTHON and PYFREEZE_PYTHON_CONFIG_FILE at the same CPython version"));
                }
                (cfg, format!("from {}", path.display()))
            }
            None => (
                PythonConfig::from_interpreter(interp)?,
                format!("sysconfig of {}", interp.info.executable.display()),
            ),
        };
        python.check_files(&origin, self.link_python)?;
        Ok((python, config_file))
    }

    /// The settings that need the probed interpreter and the package folder.
    fn complete(
        &self,
        spec: &mut Spec,
        interp: &pyfreeze_gen::Interpreter,
        since: &[(&'static PythonVersion, &str)],
        manifest_dir: &Path,
    ) {
        spec.python = interp.given.clone();
        spec.version = Some(interp.version);
        spec.stdlib_include
            .extend(self.stdlib_include.iter().cloned());
        let target = (interp.version.major, interp.version.minor);
        spec.stdlib_include.extend(
            since
                .iter()
                .filter(|(v, _)| (v.major, v.minor) <= target)
                .map(|(_, p)| p.to_string()),
        );
        spec.stdlib_exclude
            .extend(self.stdlib_exclude.iter().cloned());
        if let Some(on) = self.embed_source {
            spec.embed_source = on;
        }
        if let Some(on) = self.package_data {
            spec.package_data = on;
        }
        if let Some(level) = self.optimize {
            spec.optimize = level;
        }
        if let Some(on) = self.runtime {
            spec.runtime = on;
        }
        if let Some(jobs) = self.jobs {
            spec.jobs = jobs;
        }
        if let Some(prefix) = &self.origin_prefix {
            spec.origin_map.push(OriginMap {
                from: manifest_dir.to_path_buf(),
                to: prefix.clone(),
            });
        }
        for (from, to) in &self.origin_maps {
            spec.origin_map.push(OriginMap {
                from: manifest_dir.join(from),
                to: to.clone(),
            });
        }
    }

    /// Prints `rerun-if-changed` for everything the output depends on. Folders make Cargo
    /// notice new files; the stdlib's folders are left out because Cargo scans a folder
    /// recursively (site-packages and `__pycache__` would cause rebuilds), and a new stdlib
    /// file means a new interpreter, whose executable is watched.
    fn watch(
        &self,
        cargo: &mut Cargo<'_>,
        interp: &pyfreeze_gen::Interpreter,
        python: &PythonConfig,
        config_file: Option<&Path>,
        inputs: &[PathBuf],
    ) {
        let mut watched: Vec<&Path> = Vec::new();
        watched.extend(self.spec_file.as_deref());
        watched.extend(config_file);
        watched.extend(self.c_files.iter().map(PathBuf::as_path));
        watched.push(&interp.info.executable);
        if self.link_python {
            watched.push(python.libpython());
        }
        watched.extend(
            inputs
                .iter()
                .filter(|p| !(p.starts_with(&interp.info.stdlib) && p.is_dir()))
                .map(PathBuf::as_path),
        );
        for path in watched {
            cargo.rerun_if_changed(path);
        }
    }

    /// Compiles the generated C (without warnings: it is generated) and the user's
    /// [`Build::c_file`]s (with the user's settings) into one library.
    fn compile_c(
        &self,
        lib_name: &str,
        base: &cc::Build,
        generated: &[PathBuf],
        obj_dir: &Path,
    ) -> Result<()> {
        let failed = |e: cc::Error, what: &Path| {
            Error::new(
                ErrorKind::CCompile,
                format!("the C compiler failed on {}", what.display()),
            )
            .with_source(e)
            .with_hint("see the compiler's output above; if CC or CFLAGS are set, check them")
        };
        let mut tables = base.clone();
        tables
            .warnings(false)
            .extra_warnings(false)
            .out_dir(obj_dir)
            .files(generated);
        if let Some(first) = self.c_files.first() {
            let objects = base
                .clone()
                .out_dir(obj_dir.join("own"))
                .files(&self.c_files)
                .try_compile_intermediates()
                .map_err(|e| failed(e, first))?;
            tables.objects(objects);
        }
        let folder = generated
            .first()
            .and_then(|f| f.parent())
            .unwrap_or(obj_dir);
        tables.try_compile(lib_name).map_err(|e| failed(e, folder))
    }
}

fn check_lib_name(lib_name: &str) -> Result<()> {
    let valid = !lib_name.is_empty()
        && lib_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Usage,
        format!("library name `{lib_name}` is not a valid static library name"),
    )
    .with_hint(
        "pass a name of letters, digits, `_` and `-` to compile, e.g. compile(\"pyfreeze\")",
    ))
}

/// Turns a generator error into ours, with a hint for a build script.
fn gen_error(e: pyfreeze_gen::Error, interp: Option<&pyfreeze_gen::Interpreter>) -> Error {
    use pyfreeze_gen::Error as G;
    let (kind, hint) = match &e {
        G::Spec { .. } => (
            ErrorKind::Selection,
            "fix the spec file (keys and patterns are described in docs/spec.md)".to_string(),
        ),
        G::Discovery(_) => (
            ErrorKind::Selection,
            "fix the patterns passed to Build::include, Build::exclude or Build::stdlib_include \
             (or the spec file); docs/spec.md describes them"
                .to_string(),
        ),
        G::Compile(_) => (
            ErrorKind::Syntax,
            match interp {
                Some(i) => format!(
                    "fix the files above; they are compiled by the target interpreter, CPython {}",
                    i.full_version()
                ),
                None => "fix the files above".to_string(),
            },
        ),
        G::Interpreter { .. } => (ErrorKind::Interpreter, python::SET_INTERPRETER.to_string()),
        G::Version { .. } => (
            ErrorKind::VersionMismatch,
            python::SET_INTERPRETER.to_string(),
        ),
        _ => (
            ErrorKind::Io,
            "check that the files exist and OUT_DIR is writable".to_string(),
        ),
    };
    let text = e.to_string();
    let text = text
        .split("\n  hint:")
        .next()
        .unwrap_or_default()
        .to_string();
    Error::new(kind, text).with_hint(hint)
}

/// Writes `bytes` to `path` atomically, only when they differ from what is there.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let io = |e: std::io::Error| {
        Error::new(ErrorKind::Io, format!("cannot write {}", path.display()))
            .with_source(e)
            .with_hint("check that OUT_DIR is writable")
    };
    let mut tmp = OsString::from(path.as_os_str());
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// What [`Build::compile`] produced: where the generated files are, the target CPython, and
/// a `cc::Build` set up to compile C code of your own against `pyfreeze.h` and `Python.h`.
///
/// ```no_run
/// let frozen = pyfreeze_build::Build::new().interpreter("3.11").root("scripts").compile("pyfreeze");
/// println!("cargo:rustc-env=FROZEN_MODULES={}", frozen.module_count());
/// ```
#[derive(Debug, Clone)]
pub struct Frozen {
    out_dir: PathBuf,
    header: PathBuf,
    bindings: Option<PathBuf>,
    python: PythonConfig,
    python_full_version: String,
    modules: Vec<String>,
    resources: usize,
    cc: cc::Build,
}

impl Frozen {
    /// The folder of the generated C sources, `pyfreeze.h` and `manifest.json`.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// let manifest = frozen.out_dir().join("manifest.json");
    /// ```
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// The generated header, `pyfreeze.h`.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// assert!(frozen.header().ends_with("pyfreeze.h"));
    /// ```
    pub fn header(&self) -> &Path {
        &self.header
    }

    /// The generated Rust file (`OUT_DIR/pyfreeze.rs`), unless bindings are off.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// assert!(frozen.bindings().unwrap().ends_with("pyfreeze.rs"));
    /// ```
    pub fn bindings(&self) -> Option<&Path> {
        self.bindings.as_deref()
    }

    /// The target CPython's headers, libpython and link flags.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// println!("linked {}", frozen.python().libpython().display());
    /// ```
    pub fn python(&self) -> &PythonConfig {
        &self.python
    }

    /// The full version of the target interpreter, e.g. `3.11.7`.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// assert!(frozen.python_full_version().starts_with("3."));
    /// ```
    pub fn python_full_version(&self) -> &str {
        &self.python_full_version
    }

    /// Names of the frozen modules, sorted.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// assert!(frozen.module_names().iter().any(|m| m == "json"));
    /// ```
    pub fn module_names(&self) -> &[String] {
        &self.modules
    }

    /// Number of frozen modules (the runtime module included).
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// assert!(frozen.module_count() > 0);
    /// ```
    pub fn module_count(&self) -> usize {
        self.modules.len()
    }

    /// Number of package data files.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// println!("{} data files", frozen.resource_count());
    /// ```
    pub fn resource_count(&self) -> usize {
        self.resources
    }

    /// A `cc::Build` (the one given to [`Build::cc`], or a new one) with the generated
    /// folder and the target's `Python.h` folder on the include path, for C code of your own
    /// that uses `pyfreeze.h` or the CPython API.
    ///
    /// ```no_run
    /// # let frozen = pyfreeze_build::Build::new().root("s").compile("pyfreeze");
    /// frozen.cc_build().file("src/embed.c").compile("embed");
    /// ```
    pub fn cc_build(&self) -> cc::Build {
        self.cc.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(build: &Build, env: &[(&str, &str)]) -> (Result<Frozen>, String) {
        let mut out = Vec::new();
        let result = build.run("pyfreeze", &mut Cargo::fixed(&mut out, env));
        (result, String::from_utf8(out).unwrap())
    }

    #[test]
    fn nothing_to_freeze_is_reported_before_anything_is_read() {
        let (result, out) = run(&Build::new(), &[("PYFREEZE_PYTHON", "3.11")]);
        let e = result.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Selection);
        assert_eq!(e.message(), "nothing to freeze");
        assert_eq!(out, "");
    }

    #[test]
    fn the_environment_overrides_the_interpreter_and_is_tracked() {
        let mut build = Build::new();
        build.interpreter("3.11").root("scripts");
        let (result, out) = run(&build, &[("PYFREEZE_PYTHON", "/no/such/python3.12")]);
        let e = result.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Interpreter);
        assert_eq!(
            e.message(),
            "target interpreter /no/such/python3.12 does not exist"
        );
        assert_eq!(out, "cargo:rerun-if-env-changed=PYFREEZE_PYTHON\n");
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        let mut build = Build::new();
        build.root("s").version("3.9");
        let e = run(&build, &[]).0.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        assert!(e.message().contains("\"3.9\""), "{}", e.message());
        let e = Build::new()
            .root("s")
            .run("lib/x", &mut Cargo::fixed(&mut Vec::new(), &[]))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        let mut build = Build::new();
        build.stdlib(true).include("game");
        assert_eq!(run(&build, &[]).0.unwrap_err().kind(), ErrorKind::Usage);
    }
}
