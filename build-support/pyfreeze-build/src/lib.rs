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
//!     // Installs the table, then starts an isolated CPython whose sys.path is only
//!     // lib-dynload (pyfreeze::PYTHON_DYNLOAD); finalised when `python` is dropped.
//!     let python = pyfreeze::Interpreter::builder().start().expect("start Python");
//!     std::process::exit(python.run_module("game")); // like `python -m game`
//! }
//! ```
//!
//! `pyfreeze::Interpreter` needs no C of the program's: its `PyConfig` code (whose layout
//! differs between CPython versions) is C of this crate, compiled against the target's
//! `Python.h` (`OUT_DIR/pyfreeze_start.c`). After `start()` PyO3 can take the GIL with
//! `Python::attach`; `docs/embedding-rust.md` ("Start Python from Rust", "PyO3") and
//! `examples/game-embed`, `examples/pyo3-embed` show both.
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
//! 6. Writes `OUT_DIR/pyfreeze.rs`: bindgen's view of `pyfreeze.h` plus a safe API
//!    (`pyfreeze::Interpreter` included), with compile-time checks that the stock table
//!    matches the real `struct _frozen`.
//!
//! When the package depends on PyO3, step 2 also checks PyO3's configuration (which Cargo
//! passes as `DEP_PYO3_PYTHON_PYO3_CONFIG`): PyO3 must link no libpython of its own and be
//! compiled for the target's ABI, or the build stops with an [`ErrorKind::Pyo3`] error
//! naming the `PYO3_CONFIG_FILE` to write.
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
mod frozen;
mod pyo3;
mod python;
mod run;
mod rust;

use std::io::Write;
use std::path::{Path, PathBuf};

use pyfreeze_gen::{Source, SpecBuilder};

use crate::env::Cargo;
use crate::error::Result;
pub use crate::error::{Error, ErrorKind};
pub use crate::frozen::Frozen;
pub use crate::python::PythonConfig;

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
    /// What the spec options give (relative to the package folder when run); the
    /// setters of the options declared in `pyfreeze_gen::spec::options` are generated below.
    options: SpecBuilder,
    interpreter: Option<PathBuf>,
    spec_file: Option<PathBuf>,
    stdlib_include_since: Vec<(String, String)>,
    origin_prefix: Option<String>,
    python_config_file: Option<PathBuf>,
    c_files: Vec<PathBuf>,
    link_python: bool,
    static_libgcc: bool,
    bindings: bool,
    cc: Option<cc::Build>,
    out_dir: Option<PathBuf>,
}

// `Build`'s setters for the spec options: one per option the declaration in
// `pyfreeze_gen::spec::options` gives a `Build` method.
pyfreeze_gen::__build_setters!(Build, "pyfreeze_build::Build::new()", |this| &mut this
    .options);

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
            options: SpecBuilder::with_source(Source::Build, ""),
            interpreter: None,
            spec_file: None,
            stdlib_include_since: Vec::new(),
            origin_prefix: None,
            python_config_file: None,
            c_files: Vec::new(),
            link_python: true,
            static_libgcc: false,
            bindings: true,
            cc: None,
            out_dir: None,
        }
    }

    /// The target interpreter: the CPython whose bytecode is frozen and whose libpython is
    /// linked. A path, a command on `PATH`, or a version `X.Y`, meaning pyenv's newest
    /// `X.Y.N` (else `pythonX.Y` on `PATH`). It is the default: `PYFREEZE_PYTHON` overrides
    /// it (with a `cargo:warning`), so one `build.rs` can build against several versions. To
    /// refuse every other version, pin it with [`Build::version`] too.
    ///
    /// ```
    /// pyfreeze_build::Build::new().interpreter("3.11");
    /// pyfreeze_build::Build::new().interpreter("/opt/python/bin/python3.13");
    /// ```
    pub fn interpreter(&mut self, python: impl AsRef<Path>) -> &mut Build {
        self.interpreter = Some(python.as_ref().to_path_buf());
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

    /// Links GCC's runtime statically (`libgcc_eh.a` and `libgcc.a`, what `gcc -static-libgcc`
    /// does for C), so the program no longer needs `libgcc_s.so.1`, which Rust's standard
    /// library links on glibc targets to unwind panics (default off). With a `--static-extensions` CPython
    /// install as the target, the executable then needs nothing but the C library: the
    /// one-file appliance of `docs/appliance.md`. Panics still unwind and can be caught.
    ///
    /// ```
    /// pyfreeze_build::Build::new().static_libgcc(true);
    /// ```
    pub fn static_libgcc(&mut self, on: bool) -> &mut Build {
        self.static_libgcc = on;
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
    /// changes. Use it for C that calls the CPython API (the `PyConfig` set-up is already
    /// done by `pyfreeze::Interpreter`): the library comes before libpython on the link
    /// line, as a static link needs. It is compiled with the [`Build::cc`] settings,
    /// warnings included.
    ///
    /// ```
    /// pyfreeze_build::Build::new().c_file("src/extra.c");
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
    /// frozen.cc_build().file("src/extra.c").compile("extra");
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
        assert!(
            out.starts_with("cargo:rerun-if-env-changed=PYFREEZE_PYTHON\n"),
            "{out}"
        );
    }

    #[test]
    fn stdlib_patterns_without_the_stdlib_are_refused_before_anything_is_read() {
        let mut build = Build::new();
        build.root("scripts").stdlib_include("json");
        let (result, out) = run(&build, &[]);
        let e = result.unwrap_err();
        assert_eq!(
            (e.kind(), e.message(), e.hint()),
            (
                ErrorKind::Selection,
                "`Build::stdlib_include` is given but the stdlib is not frozen, so it would do nothing",
                Some("freeze the stdlib with `Build::stdlib`, or drop `Build::stdlib_include`")
            )
        );
        assert_eq!(out, "");
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test's own pyenv, not the build's environment
    fn overriding_the_interpreter_warns_when_it_picks_another_version() {
        let pyenv_root =
            pyfreeze_gen::pyenv::root(std::env::var_os("PYENV_ROOT"), std::env::var_os("HOME"))
                .expect("pyenv's root");
        let pyenv_root = pyenv_root.to_str().unwrap();
        let mut build = Build::new();
        build.interpreter("3.11").root("/no/such/scripts");
        let warned = |build: &Build, python: &str| {
            let out = run(
                build,
                &[("PYFREEZE_PYTHON", python), ("PYENV_ROOT", pyenv_root)],
            )
            .1;
            out.lines()
                .filter(|l| l.starts_with("cargo:warning="))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warned(&build, "3.13"),
            [
                "cargo:warning=PYFREEZE_PYTHON=3.13 (CPython 3.13) overrides \
              Build::interpreter(\"3.11\"); call Build::version to refuse any other version"
            ]
        );
        // The same version by another name is no override.
        assert_eq!(warned(&build, "3.11"), Vec::<String>::new());
        // A pinned version refuses instead.
        build.version("3.11");
        assert_eq!(warned(&build, "3.13"), Vec::<String>::new());
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        let mut build = Build::new();
        build.root("s").version("3.9");
        let e = run(&build, &[]).0.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        assert_eq!(
            e.message(),
            "`Build::version` `3.9` is not a supported CPython version (supported: 3.10, 3.11, 3.12, 3.13, 3.14, 3.15)"
        );
        let e = Build::new()
            .root("s")
            .run("lib/x", &mut Cargo::fixed(&mut Vec::new(), &[]))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
    }

    #[test]
    fn patterns_without_any_root_are_a_selection_error_naming_the_methods() {
        let mut build = Build::new();
        build.stdlib(true).include("game");
        let e = run(&build, &[]).0.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Selection);
        assert_eq!(
            e.message(),
            "`Build::include` and `Build::exclude` patterns need a root to apply to"
        );
        assert_eq!(
            e.hint(),
            Some(
                "add the folder of the modules with `Build::root` (or `Build::site_packages`), \
                 or drop the patterns"
            )
        );
    }

    /// The declared example of an option.
    fn example(field: &str) -> &'static str {
        let o = pyfreeze_gen::spec::OPTIONS
            .iter()
            .find(|o| o.field == field);
        o.unwrap_or_else(|| panic!("no option `{field}`")).example
    }

    /// Every generated `Build` setter, called with its option's declared example. A new
    /// option with a generated setter fails `the_setters_give_what_the_same_spec_file_gives`
    /// until it is called here: that is the test of its signature.
    fn every_option() -> Build {
        let ex = example;
        let on = |field| ex(field) == "true";
        let (from, to) = ex("origin_map").split_once('=').unwrap();
        let mut build = Build::new();
        build
            .version(ex("version"))
            .root(ex("roots"))
            .site_packages(ex("site_packages"))
            .stdlib(on("stdlib"))
            .stdlib_dir(ex("stdlib_dir"))
            .stdlib_include(ex("stdlib_include"))
            .stdlib_exclude(ex("stdlib_exclude"))
            .check_imports(on("check_imports"))
            .embed_source(on("embed_source"))
            .compress_source(on("compress_source"))
            .package_data(on("package_data"))
            .metadata(on("metadata"))
            .origin_map(from, to)
            .optimize(ex("optimize").parse().unwrap())
            .runtime(on("runtime"))
            .jobs(ex("jobs").parse().unwrap())
            .include(ex("include"))
            .exclude(ex("exclude"));
        build
    }

    #[test]
    fn the_setters_give_what_the_same_spec_file_gives() {
        use pyfreeze_gen::spec::OPTIONS;
        let mut file = toml::Table::new();
        for o in OPTIONS.iter().filter(|o| o.build_generated) {
            let mut one = pyfreeze_gen::SpecBuilder::new();
            one.set_text(o.field, o.example).unwrap();
            file.extend(one.to_toml());
        }
        let file = toml::to_string(&file).unwrap();
        let from_file = pyfreeze_gen::Spec::from_toml(&file, Path::new("/pkg"), "x").unwrap();
        let options = every_option().options.relative_to("/pkg");
        assert_eq!(options.build().unwrap(), from_file, "{file}");
    }
}
