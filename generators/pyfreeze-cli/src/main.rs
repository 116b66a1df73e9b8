//! `pyfreeze`: freeze Python modules into C tables.

mod bench;
mod cpython;
mod spec_flags;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use pyfreeze_gen::{generate, write_output_reporting, Interpreter, Progress, Spec, SpecBuilder};
use spec_flags::SpecFlags;

#[derive(Parser)]
#[command(
    name = "pyfreeze",
    version,
    about = "Freeze Python modules into C tables of an extended frozen-module table"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Discover, compile and emit C sources for the selected modules.
    Freeze(FreezeArgs),
    /// Print the modules a spec selects, without compiling or writing anything.
    List(FreezeArgs),
    /// Print the effective spec (the file, then the flags) as a pyfreeze.toml, without
    /// running the interpreter: every setting with its default, paths made absolute.
    Spec(FreezeArgs),
    /// Build a CPython whose interpreter boots from the extended table (patch series, make).
    #[command(subcommand)]
    Cpython(CpythonCommand),
    /// Measure importing the stdlib: pyfreeze against PathFinder, zipimport and CPython's frozen modules.
    Bench(Box<bench::BenchArgs>),
    /// Print the documentation tables derived from the code (table schema, stdlib exclusions).
    #[command(hide = true)]
    DocTables,
}

#[derive(Subcommand)]
enum CpythonCommand {
    /// Download the pristine source tarball (Debian source package), cached.
    Fetch {
        /// X.Y
        #[arg(long)]
        version: String,
        /// Exact Debian version (e.g. 3.13.5-2+deb13u5); default: the newest available.
        #[arg(long = "debian-version")]
        debian_version: Option<String>,
        #[arg(long, default_value = ".pyfreeze-cache")]
        cache: PathBuf,
    },
    /// Apply pyfreeze's patch series to a CPython source tree, strictly (no fuzz).
    Patch {
        /// The source tree (its Include/patchlevel.h picks the series).
        tree: PathBuf,
        /// Only check that the series applies; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Fetch, patch, configure, build and install a CPython with the whole stdlib frozen.
    Build {
        /// X.Y
        #[arg(long)]
        version: String,
        /// Install prefix.
        #[arg(long)]
        prefix: PathBuf,
        /// Exact Debian version of the source package.
        #[arg(long = "debian-version")]
        debian_version: Option<String>,
        /// Downloads, build trees and logs.
        #[arg(long, default_value = ".pyfreeze-cache")]
        cache: PathBuf,
        #[arg(long, short = 'j', default_value_t = 2)]
        jobs: usize,
        /// More ./configure arguments.
        #[arg(long = "configure-arg", allow_hyphen_values = true)]
        configure_args: Vec<String>,
        /// Build the source without the patch series (a baseline for tests and benchmarks).
        #[arg(long)]
        plain: bool,
    },
}

#[derive(Args)]
struct FreezeArgs {
    /// A pyfreeze.toml; the flags below add to its lists and override its single values.
    #[arg(long, short = 's', value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    flags: SpecFlags,
    /// Also write a Make depfile: TARGET depends on every file and folder read.
    #[arg(long, value_name = "FILE", requires = "depfile_target")]
    depfile: Option<PathBuf>,
    /// The target the depfile names (the file or stamp your Makefile makes with pyfreeze).
    #[arg(long = "depfile-target", value_name = "TARGET")]
    depfile_target: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// The spec file (if any), then the flags.
fn build_spec(args: &FreezeArgs) -> Result<Spec, String> {
    let file = match &args.spec {
        Some(path) => Some(SpecBuilder::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let layers: Vec<&SpecBuilder> = file.iter().chain([&args.flags.0]).collect();
    Spec::from_layers(&layers).map_err(|e| e.to_string())
}

/// Progress on stderr: a live counter on a terminal, a few lines otherwise.
struct Reporter {
    quiet: bool,
    tty: bool,
    last_tenth: Mutex<usize>,
}

impl Progress for Reporter {
    fn interpreter(&self, interp: &Interpreter) {
        if !self.quiet {
            eprintln!(
                "pyfreeze: target CPython {} ({})",
                interp.full_version(),
                interp.info.executable.display()
            );
        }
    }
    fn discovered(&self, modules: usize, resources: usize) {
        if !self.quiet {
            eprintln!("pyfreeze: {modules} modules, {resources} data files selected");
        }
    }
    fn waiting_for_lock(&self, dir: &Path) {
        if !self.quiet {
            eprintln!(
                "pyfreeze: waiting for another pyfreeze run writing into {}",
                dir.display()
            );
        }
    }
    fn compiled(&self, done: usize, total: usize) {
        if self.quiet {
            return;
        }
        if self.tty {
            eprint!("\rpyfreeze: compiled {done}/{total}");
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else {
            let tenth = done * 10 / total.max(1);
            let mut last = self.last_tenth.lock().unwrap();
            if tenth > *last || done == total {
                *last = tenth;
                eprintln!("pyfreeze: compiled {done}/{total}");
            }
        }
    }
}

fn make_escape(path: &Path) -> String {
    path.to_string_lossy()
        .replace(' ', "\\ ")
        .replace('$', "$$")
}

fn write_depfile(path: &Path, target: &str, inputs: &[PathBuf]) -> Result<(), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let shown: Vec<String> = inputs
        .iter()
        .map(|input| make_escape(input.strip_prefix(&cwd).unwrap_or(input)))
        .collect();
    let mut text = format!("{target}:");
    for input in &shown {
        text.push_str(" \\\n ");
        text.push_str(input);
    }
    text.push('\n');
    // An empty rule per input, as gcc's -MP writes: when a frozen file is deleted, make
    // reruns the freeze instead of stopping at "No rule to make target".
    for input in &shown {
        text.push_str(&format!("\n{input}:\n"));
    }
    pyfreeze_gen::write_if_changed(path, text.as_bytes())
        .map(drop)
        .map_err(|e| format!("cannot write depfile {}: {e}", path.display()))
}

fn freeze(args: &FreezeArgs, list_only: bool) -> Result<(), String> {
    let started = Instant::now();
    let spec = build_spec(args)?;
    let out = match (spec.out_dir(), list_only) {
        (Some(out), _) => Some(out.to_path_buf()),
        (None, true) => None,
        (None, false) => {
            return Err("no output folder: pass --out DIR or set `out` in the spec".into())
        }
    };
    let reporter = Reporter {
        quiet: args.quiet || list_only,
        tty: std::io::stderr().is_terminal(),
        last_tenth: Mutex::new(0),
    };
    let generated = generate(&spec, &reporter).map_err(|e| e.to_string())?;
    for warning in &generated.warnings {
        eprintln!("pyfreeze: warning: {warning}");
    }
    if !generated.added_parents.is_empty() && !args.quiet {
        eprintln!(
            "pyfreeze: note: also freezing the package(s) {} (their __init__ only): selected \
             submodules are imported through them",
            generated.added_parents.join(", ")
        );
    }
    if list_only {
        let mut stdout = std::io::stdout().lock();
        for m in &generated.modules {
            let _ = writeln!(stdout, "{}\t{}\t{}", m.name, m.kind.as_str(), m.origin);
        }
        return Ok(());
    }
    let out = out.expect("checked above");
    let report =
        write_output_reporting(&out, &generated.files, &reporter).map_err(|e| e.to_string())?;
    if let (Some(depfile), Some(target)) = (&args.depfile, &args.depfile_target) {
        let mut inputs = generated.inputs.clone();
        if let Some(s) = &args.spec {
            inputs.push(s.clone());
        }
        write_depfile(depfile, target, &inputs)?;
    }
    if !args.quiet {
        for ext in &generated.extensions {
            eprintln!(
                "pyfreeze: note: extension module {} stays on disk (not frozen)",
                ext.display()
            );
        }
        let code: usize = generated.modules.iter().map(|m| m.code.len()).sum();
        let source: usize = generated
            .modules
            .iter()
            .filter_map(|m| m.source.as_ref())
            .map(Vec::len)
            .sum();
        eprintln!(
            "pyfreeze: {} modules ({:.1} MB bytecode, {:.1} MB source), {} data files -> {}: {} written, {} unchanged, {} removed in {:.1}s",
            generated.modules.len(),
            code as f64 / 1e6,
            source as f64 / 1e6,
            generated.resources.len(),
            out.display(),
            report.written.len(),
            report.unchanged,
            report.removed.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Freeze(args) => freeze(args, false),
        Command::List(args) => freeze(args, true),
        Command::Spec(args) => build_spec(args).map(|spec| {
            let text = toml::to_string(&spec.to_toml()).expect("a TOML table serialises");
            println!("{}", text.trim_end());
        }),
        Command::Cpython(CpythonCommand::Fetch {
            version,
            debian_version,
            cache,
        }) => cpython::fetch(version, cache, debian_version.as_deref())
            .map(|p| println!("{}", p.display())),
        Command::Cpython(CpythonCommand::Patch { tree, check }) => {
            cpython::patch(tree, *check).map(|m| eprintln!("pyfreeze: {m}"))
        }
        Command::Cpython(CpythonCommand::Build {
            version,
            prefix,
            debian_version,
            cache,
            jobs,
            configure_args,
            plain,
        }) => cpython::build(&cpython::BuildArgs {
            minor: version,
            prefix,
            cache,
            debian_version: debian_version.as_deref(),
            jobs: *jobs,
            configure_args,
            plain: *plain,
        }),
        Command::Bench(args) => bench::run(args),
        Command::DocTables => {
            print!(
                "{}\n{}\n{}",
                pyfreeze_gen::schema::markdown_reference(),
                pyfreeze_gen::spec::markdown(),
                pyfreeze_gen::stdlib::markdown()
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The flags derived from the option declarations must not clash with the hand-written
    /// ones (ids, long or short names); clap checks it here rather than at a user's run.
    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
