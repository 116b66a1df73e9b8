//! Agreement with PyO3. When the package depends on `pyo3`, Cargo hands its build script the
//! interpreter configuration PyO3 was built with (`DEP_PYO3_PYTHON_PYO3_CONFIG`, from pyo3's
//! `links = "pyo3-python"`; `DEP_PYTHON_PYO3_CONFIG` for a direct `pyo3-ffi` dependency):
//! hex-encoded `key=value` lines, the format of `PYO3_CONFIG_FILE`. PyO3's build script runs
//! before ours and cannot see which interpreter we pick, so we cannot tell it; we check that
//! it agrees, and say what to write in `PYO3_CONFIG_FILE` when it does not:
//!
//! - one libpython: PyO3 must not link one (`suppress_build_script_link_lines=true`) while
//!   pyfreeze-build links the static one, or two copies of CPython meet in one program;
//! - one ABI: PyO3's version-specific ABI must be the target's `X.Y`; with a stable ABI
//!   (`abi3-py3N` features), its minimum must not be newer than the target.

use crate::env::Cargo;
use crate::error::{Error, ErrorKind, Result};
use crate::python::PythonConfig;

/// What we read of PyO3's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pyo3Config {
    implementation: String,
    /// The ABI's `(major, minor)`: the interpreter's, or the stable ABI's minimum.
    version: (u8, u8),
    stable_abi: bool,
    shared: bool,
    links_libpython: bool,
    lib_name: Option<String>,
}

fn parse_version(text: &str) -> Option<(u8, u8)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl Pyo3Config {
    /// Parses the `key=value` text (pyo3 0.29+ writes `target_abi=CPython-abi3-3.10`, older
    /// versions `abi3=true` and `version`).
    pub(crate) fn parse(text: &str) -> Option<Pyo3Config> {
        let mut implementation = "CPython".to_string();
        let (mut version, mut target_abi, mut abi3) = (None, None, false);
        let (mut shared, mut suppress, mut lib_name) = (true, false, None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "implementation" => implementation = value.to_string(),
                "version" => version = parse_version(value),
                "target_abi" => target_abi = Some(value.to_string()),
                "abi3" => abi3 = value == "true",
                "shared" => shared = value == "true",
                "lib_name" => lib_name = Some(value.to_string()),
                "suppress_build_script_link_lines" => suppress = value == "true",
                _ => {}
            }
        }
        let (version, stable_abi) = match target_abi {
            // `Implementation-kind-X.Y[-debug]`
            Some(abi) => {
                let mut parts = abi.splitn(3, '-');
                let (_, kind, v) = (parts.next()?, parts.next()?, parts.next()?);
                let v = v.strip_suffix("-debug").unwrap_or(v);
                (parse_version(v)?, kind.starts_with("abi3"))
            }
            None => (version?, abi3),
        };
        Some(Pyo3Config {
            implementation,
            version,
            stable_abi,
            shared,
            links_libpython: !suppress,
            lib_name,
        })
    }

    /// Decodes the hex of a `DEP_*_PYO3_CONFIG` variable.
    pub(crate) fn from_hex(hex: &str) -> Option<Pyo3Config> {
        let digits: Vec<u8> = hex
            .trim()
            .bytes()
            .map(|b| (b as char).to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()?;
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Vec<u8> = digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
        Pyo3Config::parse(&String::from_utf8(bytes).ok()?)
    }
}

/// The `PYO3_CONFIG_FILE` that makes PyO3 agree with a build linking `python`.
pub(crate) fn config_file(python: &PythonConfig) -> String {
    format!(
        "implementation=CPython\nversion={}\nshared=false\nsuppress_build_script_link_lines=true\n",
        python.version()
    )
}

fn hint(python: &PythonConfig, what: &str) -> String {
    format!(
        "{what}: set PYO3_CONFIG_FILE (an absolute path; `[env]` in .cargo/config.toml \
         can set it) to a file with these lines, then rebuild:\n{}\
         (with pyo3's feature `abi3-py310`, version=3.10 in that file serves every CPython \
         3.10-3.13; see docs/embedding-rust.md, \"PyO3\")",
        config_file(python)
    )
}

/// Checks PyO3's configuration, if the package uses PyO3, against the target `python`;
/// `link_python` says whether pyfreeze-build links libpython ([`crate::Build::link_python`]).
pub(crate) fn check(cargo: &mut Cargo<'_>, python: &PythonConfig, link_python: bool) -> Result<()> {
    let Some(hex) = cargo
        .env("DEP_PYO3_PYTHON_PYO3_CONFIG")
        .or_else(|| cargo.env("DEP_PYTHON_PYO3_CONFIG"))
    else {
        return Ok(());
    };
    let config = Pyo3Config::from_hex(&hex.to_string_lossy()).ok_or_else(|| {
        Error::new(
            ErrorKind::Pyo3,
            "cannot read PyO3's interpreter configuration (DEP_PYO3_PYTHON_PYO3_CONFIG)",
        )
        .with_hint("use a pyo3 version that pyfreeze-build knows (0.23 or newer)")
    })?;
    agree(&config, python, link_python)
}

pub(crate) fn agree(config: &Pyo3Config, python: &PythonConfig, link_python: bool) -> Result<()> {
    let target = python.version();
    let (major, minor) = config.version;
    let pyo3_version = format!("{major}.{minor}");
    if config.implementation != "CPython" {
        return Err(Error::new(
            ErrorKind::Pyo3,
            format!(
                "PyO3 is configured for {} {pyo3_version}, but pyfreeze-build links CPython {target}",
                config.implementation
            ),
        )
        .with_hint(hint(python, "configure PyO3 for CPython")));
    }
    if link_python && config.links_libpython {
        let how = if config.shared { "shared" } else { "static" };
        let theirs = match &config.lib_name {
            Some(name) => format!("lib{name} ({how})"),
            None => format!("a {how} libpython"),
        };
        return Err(Error::new(
            ErrorKind::Pyo3,
            format!(
                "PyO3 links {theirs} itself, and pyfreeze-build links the static {} of \
                 CPython {target}: one program would hold two libpythons",
                python
                    .libpython()
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
            ),
        )
        .with_hint(hint(python, "let pyfreeze-build link libpython alone")));
    }
    let target_pair = (python.python_version().major, python.python_version().minor);
    let agrees = if config.stable_abi {
        config.version <= target_pair
    } else {
        config.version == target_pair
    };
    if !agrees {
        let abi = if config.stable_abi {
            format!("the stable ABI of CPython {pyo3_version} and newer")
        } else {
            format!("CPython {pyo3_version}")
        };
        return Err(Error::new(
            ErrorKind::Pyo3,
            format!("PyO3 is built for {abi}, but pyfreeze-build links CPython {target}"),
        )
        .with_hint(hint(python, "give PyO3 the target's version")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(version: &str) -> PythonConfig {
        let text = format!(
            "version={version}\ninclude_dir=/i\nlibpython=/l/libpython{version}.a\nlibs=\n\
             link_args=\ndynload=/d\n"
        );
        PythonConfig::from_reader(text.as_bytes(), "t").unwrap()
    }

    fn hex(text: &str) -> String {
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// What pyo3 0.30's build script forwards for the example's PYO3_CONFIG_FILE with the
    /// `abi3-py310` feature.
    const ABI3: &str = "implementation=CPython\nversion=3.10\nshared=false\n\
        target_abi=CPython-abi3-3.10\nlib_name=python3.10\nbuild_flags=\n\
        suppress_build_script_link_lines=true\n";

    #[test]
    fn a_stable_abi_without_link_lines_agrees_with_every_newer_target() {
        let c = Pyo3Config::from_hex(&hex(ABI3)).unwrap();
        assert_eq!(
            c,
            Pyo3Config {
                implementation: "CPython".into(),
                version: (3, 10),
                stable_abi: true,
                shared: false,
                links_libpython: false,
                lib_name: Some("python3.10".into()),
            }
        );
        for v in ["3.10", "3.11", "3.12", "3.13"] {
            agree(&c, &python(v), true).unwrap();
        }
        let newer = Pyo3Config::parse(&ABI3.replace("abi3-3.10", "abi3-3.12")).unwrap();
        let e = agree(&newer, &python("3.11"), true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Pyo3);
        assert_eq!(
            e.message(),
            "PyO3 is built for the stable ABI of CPython 3.12 and newer, but pyfreeze-build links CPython 3.11"
        );
    }

    #[test]
    fn a_version_specific_abi_must_be_the_targets() {
        let text = "implementation=CPython\nversion=3.13\nshared=false\n\
            target_abi=CPython-gil_enabled-3.13\nsuppress_build_script_link_lines=true\n";
        let c = Pyo3Config::parse(text).unwrap();
        agree(&c, &python("3.13"), true).unwrap();
        let e = agree(&c, &python("3.11"), true).unwrap_err();
        assert_eq!(
            e.message(),
            "PyO3 is built for CPython 3.13, but pyfreeze-build links CPython 3.11"
        );
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("\nimplementation=CPython\nversion=3.11\nshared=false\nsuppress_build_script_link_lines=true\n"),
            "{hint}"
        );
        // pyo3 before 0.29: `abi3` instead of `target_abi`.
        let old = Pyo3Config::parse("version=3.10\nabi3=true\nshared=true\n").unwrap();
        assert!(old.stable_abi && old.links_libpython);
    }

    #[test]
    fn pyo3_linking_libpython_too_is_refused_unless_we_do_not_link() {
        let text = "implementation=CPython\nversion=3.11\nshared=false\n\
            target_abi=CPython-gil_enabled-3.11\nlib_name=python3.11\n\
            lib_dir=/py/lib\nsuppress_build_script_link_lines=false\n";
        let c = Pyo3Config::parse(text).unwrap();
        let e = agree(&c, &python("3.11"), true).unwrap_err();
        assert_eq!(
            e.message(),
            "PyO3 links libpython3.11 (static) itself, and pyfreeze-build links the static \
             libpython3.11.a of CPython 3.11: one program would hold two libpythons"
        );
        agree(&c, &python("3.11"), false).unwrap();
        let pypy = Pyo3Config::parse(&text.replace("=CPython\n", "=PyPy\n")).unwrap();
        assert!(agree(&pypy, &python("3.11"), false)
            .unwrap_err()
            .message()
            .starts_with("PyO3 is configured for PyPy 3.11"));
    }

    #[test]
    fn the_variable_is_read_only_when_cargo_sets_it() {
        let mut out = Vec::new();
        let mut cargo = Cargo::fixed(&mut out, &[]);
        check(&mut cargo, &python("3.11"), true).unwrap();
        let mut cargo = Cargo::fixed(&mut out, &[("DEP_PYO3_PYTHON_PYO3_CONFIG", "zz")]);
        let e = check(&mut cargo, &python("3.11"), true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Pyo3);
        let mut cargo = Cargo::fixed(&mut out, &[("DEP_PYO3_PYTHON_PYO3_CONFIG", &hex(ABI3))]);
        check(&mut cargo, &python("3.13"), true).unwrap();
        // Cargo sets DEP_ variables from the dependencies: nothing to track.
        assert_eq!(String::from_utf8(out).unwrap(), "");
    }
}
