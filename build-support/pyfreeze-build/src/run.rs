//! What [`Build::compile`] does, step by step: check the options, find the interpreter and
//! its libpython, generate, watch the inputs, compile the C, link, write the bindings.

use std::path::{Path, PathBuf};

use pyfreeze_gen::{PythonVersion, Spec, SpecBuilder};

use crate::env::Cargo;
use crate::error::Result;
use crate::python::{self, Request};
use crate::{rust, Build, Error, ErrorKind, Frozen, PythonConfig};

impl Build {
    /// The whole build, reading the environment and printing through `cargo`.
    pub(crate) fn run(&self, lib_name: &str, cargo: &mut Cargo<'_>) -> Result<Frozen> {
        check_lib_name(lib_name)?;
        // Everything that can be checked without the environment comes first.
        self.options.check().map_err(usage_error)?;
        let since = self.versioned_stdlib_patterns()?;
        let file = match &self.spec_file {
            Some(path) => Some(SpecBuilder::from_file(path).map_err(|e| gen_error(e, None))?),
            None => None,
        };
        let selection = self.spec(file.as_ref(), &self.options)?;
        if !selection.embed_bytecode() {
            // No setter turns it off: only the spec file can.
            let file = self
                .spec_file
                .as_deref()
                .unwrap_or(Path::new("the spec file"));
            return Err(Error::new(
                ErrorKind::Selection,
                format!(
                    "{} sets embed_bytecode = false: the table would hold no code, which only a \
                     CPython patched by pyfreeze serves (from its deep-frozen objects)",
                    file.display()
                ),
            )
            .with_hint(format!("remove embed_bytecode from {}", file.display())));
        }

        let interp = self.find_interpreter(cargo, &selection, selection.version())?;
        let (python, config_file) = self.python_config(cargo, &interp)?;
        crate::pyo3::check(cargo, &python, self.link_python)?;
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

        let spec = self.spec(
            file.as_ref(),
            &self.completed(&interp, &since, &manifest_dir),
        )?;
        let generated = pyfreeze_gen::generate(&spec, &pyfreeze_gen::NoProgress)
            .map_err(|e| gen_error(e, Some(&interp)))?;
        for warning in &generated.warnings {
            cargo.line("warning", warning);
        }
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
        let start_c = out_root.join("pyfreeze_start.c");
        write_if_changed(&start_c, rust::START_C.as_bytes())?;
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
        c_files.push(start_c);
        self.compile_c(lib_name, &base, &c_files, &out_root.join("pyfreeze-obj"))?;
        if self.link_python {
            python.link_lines(cargo, Some(&out_root.join("pyfreeze-link")))?;
        }
        if self.static_libgcc {
            link_libgcc_eh(&base, cargo)?;
        }

        let bindings = if self.bindings {
            cargo.track("LIBCLANG_PATH");
            cargo.track("BINDGEN_EXTRA_CLANG_ARGS");
            let code = rust::generate(&rust::Inputs {
                header: &out_dir.join("pyfreeze.h"),
                python: &python,
                python_full_version: &interp.full_version(),
                runtime: spec.runtime(),
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

    /// The spec file (if any), then the options set here.
    fn spec(&self, file: Option<&SpecBuilder>, options: &SpecBuilder) -> Result<Spec> {
        let layers: Vec<&SpecBuilder> = file.into_iter().chain([options]).collect();
        Spec::from_layers(&layers).map_err(|e| gen_error(e, None))
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
        let (text, origin) = match (&from_env, &self.interpreter, &self.spec_file) {
            (Some(v), _, _) => (v.clone(), "PYFREEZE_PYTHON"),
            (None, Some(p), _) => (p.clone().into_os_string(), "Build::interpreter"),
            (None, None, Some(_)) => (spec.python().as_os_str().to_owned(), "the spec file"),
            (None, None, None) => {
                return Err(Error::new(ErrorKind::Interpreter, "no target interpreter")
                    .with_hint(python::SET_INTERPRETER))
            }
        };
        let request = match text.to_str() {
            Some(text) => Request::parse(text, origin)?,
            None => Request::Path(PathBuf::from(text)),
        };
        let interp = python::resolve(cargo, &request, pinned)?;
        // Overriding is what the variable is for, but not silently when it picks another
        // interpreter than the build script's: pinning a version is `Build::version`'s job.
        if let (Some(v), Some(chosen), None) = (&from_env, &self.interpreter, pinned) {
            let other = match chosen
                .to_str()
                .map(|c| Request::parse(c, "Build::interpreter"))
            {
                Some(Ok(Request::Version(want))) => want != interp.version,
                _ => chosen.as_os_str() != v,
            };
            if other {
                cargo.line(
                    "warning",
                    format!(
                        "PYFREEZE_PYTHON={} (CPython {}) overrides Build::interpreter(\"{}\"); \
                         call Build::version to refuse any other version",
                        v.to_string_lossy(),
                        interp.version.name(),
                        chosen.display()
                    ),
                );
            }
        }
        Ok(interp)
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

    /// The options set here, relative to the package folder, with the settings that need
    /// the probed interpreter.
    fn completed(
        &self,
        interp: &pyfreeze_gen::Interpreter,
        since: &[(&'static PythonVersion, &str)],
        manifest_dir: &Path,
    ) -> SpecBuilder {
        let mut options = self.options.relative_to(manifest_dir);
        options
            .python(&interp.given)
            .version(&interp.version.name());
        let target = (interp.version.major, interp.version.minor);
        for (_, pattern) in since.iter().filter(|(v, _)| (v.major, v.minor) <= target) {
            options.stdlib_include(pattern);
        }
        if let Some(prefix) = &self.origin_prefix {
            options.origin_map(manifest_dir, prefix);
        }
        options
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

/// Turns a generator error into ours, with a hint for a build script when the generator
/// has none.
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
        G::MissingStdlib { .. } => (
            ErrorKind::Selection,
            e.hint().unwrap_or_default().to_string(),
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
    // The build script's hint for the interpreter beats the generator's, which names flags.
    let hint = match (&e, e.hint()) {
        (G::Spec { .. }, Some(h)) => h.to_string(),
        _ => hint,
    };
    Error::new(kind, e.message()).with_hint(hint)
}

/// A value given to a `Build` setter is not valid.
fn usage_error(e: pyfreeze_gen::Error) -> Error {
    let hint = e
        .hint()
        .unwrap_or("pass a value the method's documentation describes")
        .to_string();
    Error::new(ErrorKind::Usage, e.message()).with_hint(hint)
}

/// Writes `bytes` to `path` atomically, only when they differ from what is there.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    pyfreeze_gen::write_if_changed(path, bytes)
        .map(drop)
        .map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot write {}", path.display()))
                .with_source(e)
                .with_hint("check that OUT_DIR is writable")
        })
}

/// Links `libgcc_eh.a` and `libgcc.a` from the C compiler's own folder
/// ([`Build::static_libgcc`]): the unwinder and the arithmetic helpers the program would
/// otherwise take from `libgcc_s.so.1`, which the linker then drops (Rust links with
/// `--as-needed`).
fn link_libgcc_eh(base: &cc::Build, cargo: &mut Cargo<'_>) -> Result<()> {
    let target_env = cargo.env("CARGO_CFG_TARGET_ENV");
    if target_env.as_deref().is_some_and(|e| e != "gnu") {
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "Build::static_libgcc is for glibc targets (this one's C library is {:?})",
                target_env.unwrap_or_default()
            ),
        )
        .with_hint("drop Build::static_libgcc: Rust on musl links an unwinder of its own"));
    }
    let compiler = base.try_get_compiler().map_err(|e| {
        Error::new(ErrorKind::CCompile, "no C compiler to ask for libgcc_eh.a")
            .with_source(e)
            .with_hint("set CC to the GCC that links the program, or drop Build::static_libgcc")
    })?;
    let out = compiler
        .to_command()
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map_err(|e| {
            Error::new(
                ErrorKind::CCompile,
                format!("cannot run the C compiler {}", compiler.path().display()),
            )
            .with_source(e)
            .with_hint("set CC to the GCC that links the program, or drop Build::static_libgcc")
        })?;
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = out
        .status
        .success()
        .then(|| libgcc_eh_dir(&printed))
        .flatten()
        .filter(|dir| dir.join("libgcc.a").is_file());
    match dir {
        Some(dir) => {
            cargo.line("rustc-link-search", format!("native={}", dir.display()));
            cargo.line("rustc-link-lib", "static=gcc_eh");
            // libgcc.a too: C in the program (OpenSSL's, libmpdec's 128-bit divisions) calls
            // its helpers. libpython's archives come before it on the line (link_lines), and
            // Rust's `-lgcc_s` after, so libgcc_s.so.1 is left with nothing to answer.
            cargo.line("rustc-link-lib", "static=gcc");
            Ok(())
        }
        None => Err(Error::new(
            ErrorKind::CCompile,
            format!(
                "the C compiler {} has no libgcc_eh.a and libgcc.a, which Build::static_libgcc links",
                compiler.path().display()
            ),
        )
        .with_hint(
            "install the GCC runtime's development files (Debian: libgcc-N-dev for gcc-N), \
             or drop Build::static_libgcc",
        )),
    }
}

/// The folder of the archive `cc -print-file-name=libgcc_eh.a` printed: GCC prints the bare
/// name back when it has none.
fn libgcc_eh_dir(printed: &str) -> Option<PathBuf> {
    let path = Path::new(printed);
    if !path.is_absolute() || !path.is_file() {
        return None;
    }
    path.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libgcc_eh_is_found_only_where_gcc_printed_a_file() {
        assert_eq!(libgcc_eh_dir("libgcc_eh.a"), None);
        assert_eq!(libgcc_eh_dir("/no/such/libgcc_eh.a"), None);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("libgcc_eh.a");
        std::fs::write(&archive, b"!<arch>\n").unwrap();
        assert_eq!(
            libgcc_eh_dir(archive.to_str().unwrap()),
            Some(dir.path().to_path_buf())
        );
    }
}
