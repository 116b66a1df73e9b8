//! The Rust side of `harness.py`: the temporary folder of one bench run (the harness, the
//! lists it reads, its result file) and running the harness in one of its modes under an
//! interpreter, with the caller's `PYTHON*` variables removed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::config::Config;

const HARNESS: &str = include_str!("harness.py");

/// The temporary folder of one bench run: the harness, the lists it reads, its result file.
pub struct Work {
    _dir: tempfile::TempDir,
    harness: PathBuf,
    /// The start-up workload: an empty script, or (`--app`) one importing the app's modules.
    pub startup_script: PathBuf,
    /// The same, putting the app's folder first on `sys.path` first.
    pub startup_script_app_path: PathBuf,
    /// The module list every configuration imports, one name a line.
    pub list: PathBuf,
    /// An empty list: the baseline of an instruction count (`--instructions`).
    pub empty_list: PathBuf,
    /// The stdlib selection: `name<TAB>kind<TAB>file` lines.
    pub selection: PathBuf,
    /// Package data of the selection: `archive path<TAB>file` lines.
    pub data: PathBuf,
    pub plan_tsv: PathBuf,
    pub plan_bin: PathBuf,
    result: PathBuf,
    /// The empty current folder of every run.
    pub cwd: PathBuf,
}

impl Work {
    pub fn new() -> Result<Work, String> {
        let dir = tempfile::Builder::new()
            .prefix("pyfreeze-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let p = dir.path().to_path_buf();
        let w = Work {
            harness: p.join("harness.py"),
            startup_script: p.join("startup.py"),
            startup_script_app_path: p.join("startup-app-path.py"),
            list: p.join("list.txt"),
            empty_list: p.join("empty-list.txt"),
            selection: p.join("selection.tsv"),
            data: p.join("data.tsv"),
            plan_tsv: p.join("plan.tsv"),
            plan_bin: p.join("plan.bin"),
            result: p.join("result.json"),
            cwd: p.join("cwd"),
            _dir: dir,
        };
        write(&w.harness, HARNESS.as_bytes())?;
        write(&w.startup_script, b"")?;
        write(&w.startup_script_app_path, b"")?;
        write(&w.empty_list, b"")?;
        std::fs::create_dir_all(&w.cwd).map_err(|e| format!("{}: {e}", w.cwd.display()))?;
        Ok(w)
    }
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A command with the caller's environment minus `PYTHON*` variables, run in an empty folder.
pub fn command(program: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PYTHON") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(cwd);
    cmd
}

impl Work {
    /// The start-up workload's script for `cfg`: the one putting the app's folder first on
    /// `sys.path` when the configuration imports the app from files.
    pub fn startup_script_for(&self, cfg: &Config) -> &Path {
        match cfg.path {
            Some(_) => &self.startup_script_app_path,
            None => &self.startup_script,
        }
    }

    /// Writes the start-up scripts of `--app`: each imports `modules`, one after putting `root`
    /// first on `sys.path`.
    pub fn app_startup(&self, root: &Path, modules: &[String]) -> Result<(), String> {
        let imports: String = modules
            .iter()
            .map(|m| format!("__import__({})\n", py_str(m)))
            .collect();
        let insert = format!(
            "import sys\nsys.path.insert(0, {})\n",
            py_str(&root.display().to_string())
        );
        write(&self.startup_script, imports.as_bytes())?;
        write(
            &self.startup_script_app_path,
            (insert + &imports).as_bytes(),
        )
    }
}

/// A Python string literal of `text` (JSON's escapes are Python's).
fn py_str(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// Runs the harness in `mode` under `program pre_args` and returns its JSON result. `who`
/// names the run in errors (a configuration id, or the set-up step). `path`: a folder the
/// harness puts first on `sys.path` (the app's, `--app`).
pub fn run_harness(
    who: &str,
    program: &Path,
    pre_args: &[String],
    path: Option<&Path>,
    work: &Work,
    mode: &str,
    args: &[&Path],
) -> Result<Value, String> {
    let _ = std::fs::remove_file(&work.result);
    let mut cmd = command(program, &work.cwd);
    cmd.args(pre_args).arg(&work.harness);
    if let Some(path) = path {
        cmd.arg("--path").arg(path);
    }
    cmd.arg(mode)
        .arg(&work.result)
        .args(args)
        .stdin(Stdio::null());
    let out = cmd
        .output()
        .map_err(|e| format!("{who}: cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{who}: the harness ({mode}) failed ({}):\n{}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 30)
        ));
    }
    let text = std::fs::read_to_string(&work.result).map_err(|e| {
        format!(
            "{who}: the harness ({mode}) wrote no result ({e}); stderr:\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 30)
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{who}: bad harness result ({e})"))
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The arguments every stock-like interpreter runs with: isolated, no `site`, no `.pyc`
/// written (the `.pyc` already there are read).
pub fn stock_args() -> Vec<String> {
    ["-I", "-S", "-B"].map(String::from).to_vec()
}
