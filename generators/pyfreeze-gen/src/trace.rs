//! `pyfreeze trace`: the stdlib an app needs, found by running it under the target
//! interpreter (isolated, `-I`, without `site` unless asked) with the spec's roots first on
//! `sys.path`. `trace.py` records every module loaded: what start-up had loaded before the
//! app ran, `sys.modules` when it finished, and every import it started (audit hook and a
//! recording meta-path finder), so modules deleted from `sys.modules` count. Of those, the
//! pure-Python stdlib modules (the ones `stdlib = true` would freeze) and their packages
//! become `stdlib_include` patterns that select exactly them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::discover::Kind;
use crate::error::{Error, Result};
use crate::{stdlib, Interpreter, Spec};

const TRACER: &str = include_str!("trace.py");

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    /// `-m MODULE`: run it as `__main__`.
    Module(String),
    /// A script file, run as `__main__` (its folder goes first on `sys.path`, as with python).
    Script(PathBuf),
    /// Only import these modules.
    Import(Vec<String>),
}

/// How to trace.
#[derive(Debug, Clone)]
pub struct TraceRequest {
    pub run: Run,
    /// `sys.argv[1:]` of the app.
    pub args: Vec<String>,
    /// Let the interpreter import `site` at start-up (as a program that enables it does).
    pub site: bool,
    /// Once the app has returned, print a traceback (into a buffer) so that what reporting an
    /// error needs is recorded too: through `sys.excepthook`, which `PyErr_Print` calls (on
    /// 3.13 it imports `traceback`), and, when the spec adds the stock-libpython runtime,
    /// through `traceback.print_exception` as the runtime's hook does on every version.
    pub traceback: bool,
}

/// One stdlib module the app needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededModule {
    pub name: String,
    /// The `stdlib_include` pattern that selects this module alone: the dotted name of a
    /// module, `pkg/__init__.py` for a package (a name would select its whole subtree).
    pub pattern: String,
    /// Loaded by the interpreter's start-up, before the app ran.
    pub startup: bool,
}

/// The result of [`trace`].
#[derive(Debug)]
pub struct Traced {
    pub interpreter: Interpreter,
    /// The command that ran (for progress messages).
    pub command: Vec<String>,
    /// The app's exit status (`sys.exit`, 1 for an uncaught exception).
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The stdlib modules it needs, sorted by name.
    pub modules: Vec<NeededModule>,
}

impl Traced {
    /// The patterns, in the order of [`Traced::modules`].
    pub fn patterns(&self) -> Vec<String> {
        self.modules.iter().map(|m| m.pattern.clone()).collect()
    }
}

/// Runs the app under the spec's interpreter and works out the stdlib modules it loaded.
/// An app that fails is not an error here: see [`Traced::status`].
pub fn trace(spec: &Spec, request: &TraceRequest) -> Result<Traced> {
    let interp = Interpreter::probe(spec.python(), spec.version())?;
    let (stdlib_root, selectable) = stdlib::selectable(spec, &interp)?;
    let dir = tempfile::Builder::new()
        .prefix("pyfreeze-trace-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), "create a folder in", e))?;
    let tracer = dir.path().join("pyfreeze_trace.py");
    std::fs::write(&tracer, TRACER).map_err(|e| Error::io(&tracer, "write", e))?;
    let result = dir.path().join("result.txt");

    let (mode, target) = match &request.run {
        Run::Module(m) => ("module", m.clone()),
        Run::Script(p) => (
            "script",
            crate::normalize_path(p)?.to_string_lossy().into_owned(),
        ),
        Run::Import(names) => ("import", names.join(",")),
    };
    // The site-packages folders too: the app imports its dependencies from there.
    let roots: Vec<String> = spec
        .all_roots()
        .map(|r| {
            Ok(crate::normalize_path(&r.path)?
                .to_string_lossy()
                .into_owned())
        })
        .collect::<Result<_>>()?;
    let mut args: Vec<String> = vec!["-I".into()];
    if !request.site {
        args.push("-S".into());
    }
    args.push("-B".into());
    args.push(tracer.to_string_lossy().into_owned());
    args.push(result.to_string_lossy().into_owned());
    args.push(mode.into());
    args.push(target);
    args.push(
        match (request.traceback, spec.runtime()) {
            (false, _) => "0",
            (true, false) => "hook",
            (true, true) => "runtime",
        }
        .into(),
    );
    args.push(roots.len().to_string());
    args.extend(roots);
    args.extend(request.args.iter().cloned());

    let mut cmd = Command::new(&interp.info.executable);
    cmd.args(&args).stdin(Stdio::null());
    for var in crate::python::SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    let out = cmd.output().map_err(|e| Error::Interpreter {
        python: interp.info.executable.clone(),
        message: format!("cannot run the app under it: {e}"),
        hint: None,
    })?;
    let mut command = vec![interp.info.executable.to_string_lossy().into_owned()];
    command.extend(args);

    let text = match std::fs::read(&result) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => {
            return Err(Error::Interpreter {
                python: interp.info.executable.clone(),
                message: format!(
                    "the traced app ended ({}) before pyfreeze could record its modules \
                     (os._exit() or a crash?); its stderr:\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim_end()
                ),
                hint: Some(
                    "let the app return or call sys.exit(), or trace it with --import MODULE"
                        .into(),
                ),
            })
        }
    };
    let mut status = out.status.code().unwrap_or(1);
    // name -> (origin if known, seen at start-up)
    let mut seen: BTreeMap<String, (Option<String>, bool)> = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(tag), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let origin = parts.next().map(str::to_string);
        match tag {
            "S" => {
                let e = seen.entry(name.to_string()).or_default();
                e.0 = origin;
                e.1 = true;
            }
            "M" => {
                let e = seen.entry(name.to_string()).or_default();
                if e.0.is_none() {
                    e.0 = origin;
                }
            }
            "I" => {
                seen.entry(name.to_string()).or_default();
            }
            "X" => status = name.parse().unwrap_or(status),
            _ => {}
        }
    }

    // Keep the modules that are the stdlib's: selectable by `stdlib = true` and not loaded
    // from somewhere else (an app module shadowing a stdlib name).
    let from_stdlib = |origin: &Option<String>| match origin.as_deref() {
        None | Some("") | Some("frozen") | Some("built-in") => true,
        Some(path) => {
            let path = Path::new(path);
            !path.is_absolute()
                || path.starts_with(&stdlib_root)
                || path.starts_with(&interp.info.stdlib)
        }
    };
    let mut needed: BTreeMap<String, bool> = BTreeMap::new();
    for (name, (origin, startup)) in &seen {
        if !selectable.contains_key(name) || !from_stdlib(origin) {
            continue;
        }
        let mut prefix = name.as_str();
        loop {
            if selectable.contains_key(prefix) {
                let e = needed.entry(prefix.to_string()).or_insert(*startup);
                *e = *e || *startup;
            }
            match prefix.rsplit_once('.') {
                Some((p, _)) => prefix = p,
                None => break,
            }
        }
    }
    let modules = needed
        .into_iter()
        .map(|(name, startup)| {
            let m = &selectable[&name];
            let pattern = match m.kind {
                Kind::Package => m.rel.clone(),
                Kind::Module | Kind::Namespace => name.clone(),
            };
            NeededModule {
                name,
                pattern,
                startup,
            }
        })
        .collect();
    Ok(Traced {
        interpreter: interp,
        command,
        status,
        stdout: out.stdout,
        stderr: out.stderr,
        modules,
    })
}

/// `stdlib_include = [ ... ]`, one pattern a line, as `pyfreeze trace` prints it.
pub fn toml_array(patterns: &[String]) -> String {
    let mut out = String::from("stdlib_include = [\n");
    for p in patterns {
        out.push_str("    ");
        out.push_str(&toml_edit::Value::from(p.as_str()).to_string());
        out.push_str(",\n");
    }
    out.push_str("]\n");
    out
}

/// What [`update_spec_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Updated {
    /// The file's bytes changed.
    pub changed: bool,
    /// The file sets `stdlib = true` (else the list has no effect yet).
    pub stdlib_on: bool,
}

/// Rewrites the `stdlib_include` key of a spec file, or adds it, keeping everything else
/// (comments, other keys, their order and formatting); written atomically, only if it changes.
pub fn update_spec_file(path: &Path, patterns: &[String]) -> Result<Updated> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "read", e))?;
    let spec_err = |message: String, hint: &str| Error::Spec {
        origin: path.display().to_string(),
        message,
        hint: Some(hint.to_string()),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        spec_err(
            format!("is not valid TOML: {}", e.to_string().trim_end()),
            "fix the file, then run pyfreeze trace --update again",
        )
    })?;
    let mut array = toml_edit::Array::new();
    for p in patterns {
        let mut v = toml_edit::Value::from(p.as_str());
        v.decor_mut().set_prefix("\n    ");
        array.push_formatted(v);
    }
    array.set_trailing(if patterns.is_empty() { "" } else { "\n" });
    array.set_trailing_comma(!patterns.is_empty());
    let mut value = toml_edit::Value::Array(array);
    match doc.get_mut("stdlib_include") {
        Some(toml_edit::Item::Value(old)) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        Some(_) => {
            return Err(spec_err(
                "`stdlib_include` is not a list of patterns".into(),
                "write it as stdlib_include = [\"json\"], then run pyfreeze trace --update again",
            ))
        }
        None => {
            doc.insert("stdlib_include", toml_edit::Item::Value(value));
        }
    }
    let stdlib_on = doc.get("stdlib").and_then(|i| i.as_bool()).unwrap_or(false);
    let changed = crate::write_if_changed(path, doc.to_string().as_bytes())
        .map_err(|e| Error::io(path, "write", e))?;
    Ok(Updated { changed, stdlib_on })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_array_is_one_pattern_a_line() {
        let p = vec!["abc".to_string(), "encodings/__init__.py".to_string()];
        assert_eq!(
            toml_array(&p),
            "stdlib_include = [\n    \"abc\",\n    \"encodings/__init__.py\",\n]\n"
        );
    }

    #[test]
    fn update_keeps_the_rest_of_the_file_and_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyfreeze.toml");
        let text = "# my spec\npython = \"python3.11\"  # the target\nstdlib = true\n\
                    # what the app needs\nstdlib_include = [\"json\"]  # by hand\n\n\
                    [[root]]\npath = \"src\" # here\n";
        std::fs::write(&path, text).unwrap();
        let p = vec!["abc".to_string(), "json/__init__.py".to_string()];
        let u = update_spec_file(&path, &p).unwrap();
        assert!(u.changed && u.stdlib_on);
        let once = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            once,
            "# my spec\npython = \"python3.11\"  # the target\nstdlib = true\n\
             # what the app needs\nstdlib_include = [\n    \"abc\",\n    \"json/__init__.py\",\n]  # by hand\n\n\
             [[root]]\npath = \"src\" # here\n"
        );
        let again = update_spec_file(&path, &p).unwrap();
        assert!(!again.changed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), once);
    }

    #[test]
    fn update_adds_the_key_before_the_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyfreeze.toml");
        std::fs::write(&path, "python = \"python3\"\n\n[[root]]\npath = \"src\"\n").unwrap();
        let u = update_spec_file(&path, &["abc".to_string()]).unwrap();
        assert!(u.changed && !u.stdlib_on);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "python = \"python3\"\nstdlib_include = [\n    \"abc\",\n]\n\n[[root]]\npath = \"src\"\n"
        );
    }
}
