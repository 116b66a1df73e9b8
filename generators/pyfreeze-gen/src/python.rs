//! Running the target interpreter: a probe for its facts, and a pool of long-lived compile
//! workers fed in batches. Bytecode only ever comes from this interpreter.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::versions::PythonVersion;

const WORKER: &str = include_str!("worker.py");

/// Environment variables that would change what the worker imports or compiles. They are
/// removed from the worker's environment; `PYTHONHASHSEED` is pinned to 0 so set and
/// frozenset constants marshal in a stable order.
pub(crate) const SCRUBBED_ENV: &[&str] = &[
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONOPTIMIZE",
    "PYTHONWARNINGS",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "PYTHONSAFEPATH",
    "PYTHONPLATLIBDIR",
    "PYTHONNODEBUGRANGES",
    "PYTHONDEVMODE",
    "PYTHONDEBUG",
    "PYTHONVERBOSE",
    "PYTHONUTF8",
    "PYTHONIOENCODING",
    "PYTHONINTMAXSTRDIGITS",
    "PYTHONFROZENMODULES",
    "PYTHONPYCACHEPREFIX",
];

/// Facts reported by the interpreter itself.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Info {
    pub implementation: String,
    pub version: [u32; 3],
    pub releaselevel: String,
    pub hexversion: u32,
    pub magic: u16,
    pub marshal_version: u32,
    pub cache_tag: Option<String>,
    pub executable: PathBuf,
    pub stdlib: PathBuf,
    /// A few `sysconfig` variables (`LIBPL`, `LIBRARY`, `LIBS`, `LINKFORSHARED`, ...).
    pub config: BTreeMap<String, String>,
    /// `sys.builtin_module_names`.
    #[serde(default)]
    pub builtin_modules: Vec<String>,
    /// Top-level extension modules on its `sys.path` (lib-dynload), which stay on disk.
    #[serde(default)]
    pub extension_modules: Vec<String>,
    /// The modules of the extended frozen table in its libpython (a CPython built by
    /// `pyfreeze cpython build`; empty for any other), sorted.
    #[serde(default)]
    pub frozen_ext_modules: Vec<String>,
}

/// Whether a word of a sysconfig link variable (`MODLIBS`) names a file of CPython's build
/// tree, which `make install` leaves behind: a relative path
/// (`Modules/_decimal/libmpdec/libmpdec.a`), or the stray `\` left of a multi-line object list
/// (Debian 3.14's and 3.15's). `pyfreeze cpython build` installs such files under `LIBPL`;
/// pyfreeze-build links them from there (`build-support/pyfreeze.mk` has the same rule).
///
/// ```
/// use pyfreeze_gen::python::names_build_tree_file;
/// assert!(names_build_tree_file("Modules/expat/libexpat.a"));
/// assert!(names_build_tree_file("\\"));
/// assert!(!names_build_tree_file("/usr/lib/libz.a") && !names_build_tree_file("-lm"));
/// ```
pub fn names_build_tree_file(word: &str) -> bool {
    word == "\\" || (!word.starts_with(['-', '/']) && word.contains('/'))
}

/// A probed, supported target interpreter.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// As given by the user (for messages).
    pub given: PathBuf,
    pub info: Info,
    pub version: &'static PythonVersion,
    /// The worker script, in a private folder removed when the last clone is dropped.
    /// (A file rather than `-c`: a CPython build's `_bootstrap_python` only runs files.)
    worker: std::sync::Arc<WorkerScript>,
}

#[derive(Debug)]
struct WorkerScript {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl WorkerScript {
    fn new() -> std::io::Result<WorkerScript> {
        let dir = tempfile::Builder::new().prefix("pyfreeze-").tempdir()?;
        let path = dir.path().join("pyfreeze_worker.py");
        std::fs::write(&path, WORKER)?;
        Ok(WorkerScript { _dir: dir, path })
    }
}

fn hint(given: &Path) -> String {
    format!(
        "pass the path of a CPython interpreter of the target version (e.g. --python \
         \"$(pyenv root)/versions/3.11.7/bin/python3.11\"); `{}` was given",
        given.display()
    )
}

/// The version of any CPython, 2.x included, asked in a way every version understands; for
/// naming an interpreter the worker cannot run on. `None` when that fails too.
fn plain_version(python: &Path) -> Option<[u8; 3]> {
    let out = Command::new(python)
        .args([
            "-S",
            "-c",
            "import sys; sys.stdout.write('%d %d %d' % sys.version_info[:3])",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut parts = text.split(' ').map(|p| p.parse().ok());
    Some([parts.next()??, parts.next()??, parts.next()??])
}

impl Interpreter {
    /// Runs `python` once to learn its version, magic number and paths, and checks that
    /// pyfreeze supports it and that it is `expected` when a version is pinned.
    pub fn probe(python: &Path, expected: Option<&'static PythonVersion>) -> Result<Interpreter> {
        let err = |message: String| Error::Interpreter {
            python: python.to_path_buf(),
            message,
            hint: Some(hint(python)),
        };
        let worker = WorkerScript::new().map_err(|e| Error::Interpreter {
            python: python.to_path_buf(),
            message: format!("cannot write the worker script to a temporary folder: {e}"),
            hint: None,
        })?;
        let out = Command::new(python)
            .args(["-S", "-s", "-B"])
            .arg(&worker.path)
            .arg("probe")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| err(format!("cannot run it: {e}")))?;
        if !out.status.success() {
            // The worker needs a supported Python 3 to even compile; name an older one as such.
            if let Some(found) = plain_version(python) {
                if PythonVersion::find(found[0], found[1]).is_none() {
                    return Err(Error::Version {
                        python: python.to_path_buf(),
                        message: format!(
                            "is CPython {}.{}.{}, which pyfreeze does not support (supported: {})",
                            found[0],
                            found[1],
                            found[2],
                            crate::versions::supported_list()
                        ),
                    });
                }
            }
            return Err(err(format!(
                "the probe failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end(),
            )));
        }
        let info: Info = serde_json::from_slice(&out.stdout).map_err(|e| {
            err(format!(
                "the probe printed something unexpected ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(200)
                    .collect::<String>(),
            ))
        })?;
        let verr = |message: String| Error::Version {
            python: python.to_path_buf(),
            message,
        };
        if info.implementation != "cpython" {
            return Err(verr(format!(
                "is {}, but pyfreeze needs CPython",
                info.implementation
            )));
        }
        let [major, minor, micro] = info.version;
        let found = format!("{major}.{minor}.{micro}");
        let version = PythonVersion::find(major as u8, minor as u8).ok_or_else(|| {
            verr(format!(
                "is CPython {found}, which pyfreeze does not support (supported: {})",
                crate::versions::supported_list()
            ))
        })?;
        if let Some(want) = expected {
            if want != version {
                return Err(verr(format!(
                    "is CPython {found}, but the spec asks for {}; point --python (or `python` in the spec) \
                     at a {} interpreter, or change `version`",
                    want.name(),
                    want.name()
                )));
            }
        }
        if info.magic != version.magic && info.releaselevel == "final" {
            return Err(verr(format!(
                "reports bytecode magic {} but CPython {} uses {}; is it a modified interpreter?",
                info.magic,
                version.name(),
                version.magic
            )));
        }
        Ok(Interpreter {
            given: python.to_path_buf(),
            info,
            version,
            worker: std::sync::Arc::new(worker),
        })
    }

    /// `3.11.7`, with the release level of a pre-release (`3.14.0b2`).
    pub fn full_version(&self) -> String {
        version_of_hex(self.info.hexversion)
    }

    fn spawn_worker(&self, optimize: u8) -> Result<Worker> {
        let mut cmd = Command::new(&self.info.executable);
        cmd.args(["-S", "-s", "-B", "-W", "ignore"])
            .arg(&self.worker.path)
            .arg("compile")
            .arg(optimize.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("PYTHONHASHSEED", "0");
        let mut child = cmd.spawn().map_err(|e| Error::Interpreter {
            python: self.info.executable.clone(),
            message: format!("cannot start a compile worker: {e}"),
            hint: None,
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        Ok(Worker {
            child,
            stdin,
            stdout: stdout.expect("piped stdout"),
            stderr_thread: Some(stderr_thread),
        })
    }
}

/// One source to compile.
#[derive(Debug, Clone)]
pub struct CompileItem<'a> {
    /// Becomes `co_filename`.
    pub origin: &'a str,
    pub source: &'a [u8],
    /// Also list the module's absolute imports ([`CompiledCode::imports`]).
    pub scan_imports: bool,
}

/// One absolute import statement (`import a.b`, `from a import b`) of a compiled module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSite {
    pub line: u32,
    /// Inside `try:` with a handler for `ImportError` (or broader): an optional import.
    pub guarded: bool,
    /// The module named after `import` or `from`.
    pub module: String,
    /// The names after `from ... import` (some may be submodules); empty for `import`.
    pub names: Vec<String>,
}

/// A module compiled by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledCode {
    /// `marshal.dumps(code)`.
    pub code: Vec<u8>,
    /// Its absolute imports, in line order, when the item asked for them.
    pub imports: Vec<ImportSite>,
}

/// The outcome of compiling one item: marshalled code, or why it failed.
pub type Compiled = std::result::Result<CompiledCode, CompileFailure>;

/// Why one item did not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileFailure {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    stderr_thread: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Worker {
    fn run_batch(&mut self, items: &[CompileItem<'_>]) -> std::io::Result<Vec<Compiled>> {
        let mut body = Vec::new();
        body.extend_from_slice(&(items.len() as u32).to_be_bytes());
        for item in items {
            for field in [item.origin.as_bytes(), item.source] {
                body.extend_from_slice(&(field.len() as u32).to_be_bytes());
                body.extend_from_slice(field);
            }
            body.push(u8::from(item.scan_imports));
        }
        let stdin = self.stdin.as_mut().expect("worker stdin open");
        stdin.write_all(&(body.len() as u32).to_be_bytes())?;
        stdin.write_all(&body)?;
        stdin.flush()?;
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len)?;
        let mut resp = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stdout.read_exact(&mut resp)?;
        parse_response(&resp, items.len()).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed worker response")
        })
    }

    /// Closes the pipe and collects the worker's stderr.
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let _ = self.child.wait();
        let err = self
            .stderr_thread
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        String::from_utf8_lossy(&err).trim_end().to_string()
    }
}

fn parse_response(resp: &[u8], expected: usize) -> Option<Vec<Compiled>> {
    let u32_at = |pos: usize| -> Option<u32> {
        Some(u32::from_be_bytes(resp.get(pos..pos + 4)?.try_into().ok()?))
    };
    let count = u32_at(0)? as usize;
    if count != expected {
        return None;
    }
    let mut pos = 4;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let status = *resp.get(pos)?;
        let len = u32_at(pos + 1)? as usize;
        let payload = resp.get(pos + 5..pos + 5 + len)?;
        pos += 5 + len;
        let imports_len = u32_at(pos)? as usize;
        let imports = resp.get(pos + 4..pos + 4 + imports_len)?;
        pos += 4 + imports_len;
        if status == 0 {
            out.push(Ok(CompiledCode {
                code: payload.to_vec(),
                imports: parse_imports(imports)?,
            }));
        } else {
            let text = String::from_utf8_lossy(payload);
            let mut parts = text.splitn(3, '\n');
            let line = parts.next()?.parse().unwrap_or(0);
            let column = parts.next()?.parse().unwrap_or(0);
            let message = parts.next().unwrap_or("").to_string();
            out.push(Err(CompileFailure {
                line,
                column,
                message,
            }));
        }
    }
    Some(out)
}

/// `line\tguarded\tmodule\tname,name` lines (see `scan_imports` in worker.py).
fn parse_imports(text: &[u8]) -> Option<Vec<ImportSite>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(4, '\t');
        let lineno = parts.next()?.parse().ok()?;
        let guarded = parts.next()? == "1";
        let module = parts.next()?.to_string();
        let names = parts
            .next()?
            .split(',')
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        out.push(ImportSite {
            line: lineno,
            guarded,
            module,
            names,
        });
    }
    Some(out)
}

/// Splits work into batches of about this much source (and at most `MAX_BATCH` items), so
/// both workers stay busy to the end and a pipe never holds more than a few MB.
const BATCH_BYTES: usize = 512 * 1024;
const MAX_BATCH: usize = 64;

fn batches(items: &[CompileItem<'_>]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        bytes += item.source.len();
        if bytes >= BATCH_BYTES || i + 1 - start >= MAX_BATCH {
            out.push(start..i + 1);
            start = i + 1;
            bytes = 0;
        }
    }
    if start < items.len() {
        out.push(start..items.len());
    }
    out
}

/// Compiles every item with `jobs` workers (0: one per core). `progress(done, total)` is
/// called after each batch. The result is in input order.
pub fn compile_all(
    interp: &Interpreter,
    items: &[CompileItem<'_>],
    optimize: u8,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Compiled>> {
    let work = batches(items);
    let jobs = if jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        jobs
    };
    let jobs = jobs.clamp(1, work.len().max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Compiled>>> = Mutex::new(vec![None; items.len()]);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let mut worker = match interp.spawn_worker(optimize) {
                    Ok(w) => w,
                    Err(e) => {
                        failure.lock().unwrap().get_or_insert(e);
                        return;
                    }
                };
                loop {
                    if failure.lock().unwrap().is_some() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(range) = work.get(i) else { break };
                    match worker.run_batch(&items[range.clone()]) {
                        Ok(batch) => {
                            let mut r = results.lock().unwrap();
                            for (slot, res) in r[range.clone()].iter_mut().zip(batch) {
                                *slot = Some(res);
                            }
                            drop(r);
                            let n = done.fetch_add(range.len(), Ordering::SeqCst) + range.len();
                            progress(n, items.len());
                        }
                        Err(e) => {
                            let stderr = worker.finish();
                            failure.lock().unwrap().get_or_insert(Error::Interpreter {
                                python: interp.info.executable.clone(),
                                message: format!("a compile worker failed ({e}):\n{stderr}"),
                                hint: None,
                            });
                            return;
                        }
                    }
                }
                worker.finish();
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every batch ran"))
        .collect())
}

/// A `sys.hexversion` as `sys.version` starts: `3.13.15`, or with the release level of a
/// pre-release (`3.14.0b2`, `3.15.0rc1`); `readback::hexversion_of` is its inverse.
pub fn version_of_hex(hex: u32) -> String {
    let (major, minor, micro) = (hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
    let level = match (hex >> 4) & 0xf {
        0xa => "a",
        0xb => "b",
        0xc => "rc",
        _ => return format!("{major}.{minor}.{micro}"),
    };
    format!("{major}.{minor}.{micro}{level}{}", hex & 0xf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_everything_in_order() {
        let src = vec![0u8; 200 * 1024];
        let items: Vec<_> = (0..10)
            .map(|_| CompileItem {
                origin: "x",
                source: &src,
                scan_imports: false,
            })
            .collect();
        let b = batches(&items);
        assert_eq!(b.first().unwrap().start, 0);
        assert_eq!(b.last().unwrap().end, 10);
        for pair in b.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(b.len() >= 4, "{b:?}");
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn malformed_responses_are_rejected() {
        assert!(parse_response(&[0, 0, 0, 1], 1).is_none());
        assert!(parse_response(&[0, 0, 0, 2, 0, 0, 0, 0, 0], 1).is_none());
        // The imports field is missing.
        assert!(parse_response(&[0, 0, 0, 1, 0, 0, 0, 0, 1, b'c'], 1).is_none());
        let ok = parse_response(
            &[
                0, 0, 0, 1, 1, 0, 0, 0, 5, b'3', b'\n', b'4', b'\n', b'x', 0, 0, 0, 0,
            ],
            1,
        )
        .unwrap();
        assert_eq!(
            ok[0],
            Err(CompileFailure {
                line: 3,
                column: 4,
                message: "x".into()
            })
        );
        let text = b"3\t0\tjson\t\n7\t1\tconcurrent\tfutures,thread";
        let mut resp = vec![0, 0, 0, 1, 0, 0, 0, 0, 1, b'c'];
        resp.extend_from_slice(&(text.len() as u32).to_be_bytes());
        resp.extend_from_slice(text);
        let ok = parse_response(&resp, 1).unwrap();
        let compiled = ok[0].as_ref().unwrap();
        assert_eq!(compiled.code, b"c");
        assert_eq!(
            compiled.imports,
            vec![
                ImportSite {
                    line: 3,
                    guarded: false,
                    module: "json".into(),
                    names: vec![]
                },
                ImportSite {
                    line: 7,
                    guarded: true,
                    module: "concurrent".into(),
                    names: vec!["futures".into(), "thread".into()]
                },
            ]
        );
    }
}
