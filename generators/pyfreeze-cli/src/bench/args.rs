//! The bench's arguments: the `pyfreeze bench` flags, the rounds and runs they ask for, and
//! the command line as the report quotes it.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The stock interpreter: X.Y (pyenv's newest X.Y.Z) or the path of a python.
    #[arg(long, value_name = "X.Y|PATH", required_unless_present = "chart_from")]
    pub python: Option<String>,
    /// Measure nothing: draw the chart of a recorded result (pyfreeze-bench-X.Y.json) into --out.
    #[arg(long = "chart-from", value_name = "JSON", conflicts_with = "python")]
    pub chart_from: Option<PathBuf>,
    /// A CPython built by `pyfreeze cpython build --prefix PREFIX` (adds `patched`).
    #[arg(long, value_name = "PREFIX")]
    pub patched: Option<PathBuf>,
    /// The same source built unpatched (`pyfreeze cpython build --plain`): adds `plain`, the
    /// fair comparator of `patched`.
    #[arg(long, value_name = "PREFIX")]
    pub plain: Option<PathBuf>,
    /// Folder for the results: pyfreeze-bench-X.Y.json and pyfreeze-bench-X.Y.svg.
    #[arg(long, short = 'o', default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// Build folder kept between runs (embed-c build, the zip); default ~/.cache/pyfreeze/bench.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// The pyfreeze checkout whose examples/embed-c is built (default: the one this binary was
    /// built from).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// A smoke run: 2 rounds of 1 run for the imports, 3 rounds of 2 for start-up.
    #[arg(long)]
    pub quick: bool,
    /// Rounds of the import workload (default 15).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Runs of each configuration per round, import workload (default 3).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Rounds of the start-up workload (default 20).
    #[arg(long = "startup-rounds")]
    pub startup_rounds: Option<usize>,
    /// Runs of each configuration per round, start-up workload (default 5).
    #[arg(long = "startup-repeats")]
    pub startup_repeats: Option<usize>,
    /// Before measuring, wait until the 1-minute load average is below LOAD.
    #[arg(long = "wait-load", value_name = "LOAD")]
    pub wait_load: Option<f64>,
    /// Longest wait for --wait-load, in seconds; measuring starts anyway after it (with a warning).
    #[arg(long = "wait-max", default_value_t = 1200, value_name = "SECONDS")]
    pub wait_max: u64,
    /// Measure your program instead of the whole stdlib: SCRIPT is imported as a module (its
    /// top level and everything it imports, not its `if __name__ == "__main__":` block), with
    /// its folder as the app root (see --app-root).
    #[arg(long, value_name = "SCRIPT", conflicts_with_all = ["imports", "app_root"])]
    pub app: Option<PathBuf>,
    /// Measure importing these modules of your program (repeatable; with --app-root).
    #[arg(long = "import", value_name = "MODULE", requires = "app_root")]
    pub imports: Vec<String>,
    /// The folder your program's modules import from (what goes first on sys.path; put its
    /// pure-Python dependencies there too, e.g. with `pip install --target`). It is copied into
    /// the cache and compiled there, and frozen whole into embed-c.
    #[arg(long = "app-root", value_name = "DIR", requires = "imports")]
    pub app_root: Option<PathBuf>,
    /// Also count each configuration's instructions with valgrind's callgrind (one run each,
    /// after the timed rounds): start-up and the import loop, as work done, whatever else the
    /// machine is doing (the kernel's work is not counted). Needs valgrind.
    #[arg(long)]
    pub instructions: bool,
    /// Rows of the per-module breakdown printed (the JSON has all).
    #[arg(long, default_value_t = 12)]
    pub top: usize,
}

/// How many rounds and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub rounds: usize,
    pub repeats: usize,
    pub startup_rounds: usize,
    pub startup_repeats: usize,
}

impl Settings {
    pub fn from_args(args: &BenchArgs) -> Result<Settings, String> {
        let (r, p, sr, sp) = if args.quick {
            (2, 1, 3, 2)
        } else {
            (15, 3, 20, 5)
        };
        let s = Settings {
            rounds: args.rounds.unwrap_or(r),
            repeats: args.repeats.unwrap_or(p),
            startup_rounds: args.startup_rounds.unwrap_or(sr),
            startup_repeats: args.startup_repeats.unwrap_or(sp),
        };
        if s.rounds == 0 || s.repeats == 0 || s.startup_rounds == 0 || s.startup_repeats == 0 {
            return Err(
                "--rounds, --repeats, --startup-rounds and --startup-repeats must be at least 1"
                    .into(),
            );
        }
        Ok(s)
    }
}

/// The command line that ran the bench, as a shell would take it back (`pyfreeze` for the
/// program, so that reports do not carry the binary's path).
pub fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| if i == 0 { "pyfreeze".into() } else { quote(&a) })
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_of_the_command_line() {
        assert_eq!(quote("--python"), "--python");
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
