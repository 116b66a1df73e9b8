//! The build script's conversation with Cargo: the one place that reads environment
//! variables and the one place that prints `cargo:` lines.
//!
//! Every read goes through [`Cargo::env`], which prints `cargo:rerun-if-env-changed` for the
//! variable first, so a variable that changes what is built always reruns the build script
//! (`clippy.toml` forbids `std::env::var*` elsewhere in this crate). The output is any
//! [`Write`], so tests assert the exact lines.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

/// Variables Cargo sets for every build-script run; tracking them would add nothing (the
/// same exception cc makes).
const SET_BY_CARGO: &[&str] = &["OUT_DIR", "CARGO_MANIFEST_DIR", "CARGO_CFG_TARGET_ENV"];

enum Source {
    Process,
    /// A fixed environment, for tests.
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(BTreeMap<String, OsString>),
}

/// Environment reads and `cargo:` lines of one build.
pub(crate) struct Cargo<'w> {
    out: &'w mut dyn Write,
    source: Source,
}

impl<'w> Cargo<'w> {
    /// Reads the process environment.
    pub(crate) fn new(out: &'w mut dyn Write) -> Self {
        Cargo {
            out,
            source: Source::Process,
        }
    }

    /// Reads `vars` instead of the process environment.
    #[cfg(test)]
    pub(crate) fn fixed(out: &'w mut dyn Write, vars: &[(&str, &str)]) -> Self {
        Cargo {
            out,
            source: Source::Fixed(
                vars.iter()
                    .map(|(k, v)| (k.to_string(), OsString::from(v)))
                    .collect(),
            ),
        }
    }

    /// Reads a variable, first telling Cargo to rerun the build script when it changes.
    /// An empty value counts as unset.
    pub(crate) fn env(&mut self, name: &str) -> Option<OsString> {
        // `DEP_*` come from the dependencies' build scripts, which rerun ours when they change.
        if !SET_BY_CARGO.contains(&name) && !name.starts_with("DEP_") {
            self.line("rerun-if-env-changed", name);
        }
        #[allow(clippy::disallowed_methods)] // the one sanctioned read
        let value = match &self.source {
            Source::Process => std::env::var_os(name),
            Source::Fixed(vars) => vars.get(name).cloned(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// Tells Cargo to rerun the build script when a variable that a dependency reads (not
    /// this crate) changes.
    pub(crate) fn track(&mut self, name: &str) {
        self.line("rerun-if-env-changed", name);
    }

    /// Prints `cargo:KEY=VALUE`.
    pub(crate) fn line(&mut self, key: &str, value: impl std::fmt::Display) {
        // A build script whose stdout is gone has lost Cargo; nothing useful is left to do.
        let _ = writeln!(self.out, "cargo:{key}={value}");
    }

    /// Prints `cargo:rerun-if-changed=PATH`.
    pub(crate) fn rerun_if_changed(&mut self, path: &Path) {
        self.line("rerun-if-changed", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_but_cargos_own_prints_a_rerun_line() {
        let mut out = Vec::new();
        let mut cargo = Cargo::fixed(
            &mut out,
            &[
                ("PYFREEZE_PYTHON", "3.13"),
                ("OUT_DIR", "/o"),
                ("EMPTY", ""),
            ],
        );
        assert_eq!(cargo.env("PYFREEZE_PYTHON"), Some("3.13".into()));
        assert_eq!(cargo.env("OUT_DIR"), Some("/o".into()));
        assert_eq!(cargo.env("EMPTY"), None);
        assert_eq!(cargo.env("PYFREEZE_PYTHON_CONFIG_FILE"), None);
        cargo.rerun_if_changed(Path::new("/s/a.py"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cargo:rerun-if-env-changed=PYFREEZE_PYTHON\n\
             cargo:rerun-if-env-changed=EMPTY\n\
             cargo:rerun-if-env-changed=PYFREEZE_PYTHON_CONFIG_FILE\n\
             cargo:rerun-if-changed=/s/a.py\n"
        );
    }
}
