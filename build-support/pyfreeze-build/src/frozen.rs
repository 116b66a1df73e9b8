//! [`Frozen`]: what a build produced.

use std::path::{Path, PathBuf};

use crate::PythonConfig;

/// What [`Build::compile`] produced: where the generated files are, the target CPython, and
/// a `cc::Build` set up to compile C code of your own against `pyfreeze.h` and `Python.h`.
///
/// ```no_run
/// let frozen = pyfreeze_build::Build::new().interpreter("3.11").root("scripts").compile("pyfreeze");
/// println!("cargo:rustc-env=FROZEN_MODULES={}", frozen.module_count());
/// ```
#[derive(Debug, Clone)]
pub struct Frozen {
    pub(crate) out_dir: PathBuf,
    pub(crate) header: PathBuf,
    pub(crate) bindings: Option<PathBuf>,
    pub(crate) python: PythonConfig,
    pub(crate) python_full_version: String,
    pub(crate) modules: Vec<String>,
    pub(crate) resources: usize,
    pub(crate) cc: cc::Build,
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

    /// The full version of the target interpreter, e.g. `3.11.7` (`3.14.0b2` for a pre-release).
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
    /// frozen.cc_build().file("src/extra.c").compile("extra");
    /// ```
    pub fn cc_build(&self) -> cc::Build {
        self.cc.clone()
    }
}
