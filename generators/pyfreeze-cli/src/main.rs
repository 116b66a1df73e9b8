//! `pyfreeze`: freeze Python modules into C tables.

mod bench;
mod cpython;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use pyfreeze_gen::{
    generate, write_output, Interpreter, OriginMap, Progress, PythonVersion, Root, Spec,
};

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
    /// A pyfreeze.toml; flags below add to it or override it.
    #[arg(long, short = 's', value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Target interpreter (path or command name); bytecode is compiled by it.
    #[arg(long, value_name = "PYTHON")]
    python: Option<PathBuf>,
    /// Require the interpreter to be this X.Y.
    #[arg(long = "target-version", value_name = "X.Y")]
    target_version: Option<String>,
    /// A source root (repeatable); --include/--exclude apply to the roots given by flags.
    #[arg(long = "root", value_name = "DIR")]
    roots: Vec<PathBuf>,
    /// Select modules by glob over dotted names (`app.**`) or, with a `/`, root-relative paths.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Freeze the target interpreter's pure-Python stdlib (see docs/spec.md for what is left out).
    #[arg(long)]
    stdlib: bool,
    /// Freeze the stdlib from this folder instead of the interpreter's (e.g. a CPython tree's Lib).
    #[arg(long = "stdlib-dir", value_name = "DIR")]
    stdlib_dir: Option<PathBuf>,
    /// More stdlib exclusions.
    #[arg(long = "stdlib-exclude", value_name = "GLOB")]
    stdlib_exclude: Vec<String>,
    /// Do not embed source (no get_source, no source lines in tracebacks).
    #[arg(long = "no-source")]
    no_source: bool,
    /// Do not embed package data files.
    #[arg(long = "no-data")]
    no_data: bool,
    /// Rewrite origins under FROM to start with TO (repeatable), like -fdebug-prefix-map.
    #[arg(long = "origin-map", value_name = "FROM=TO")]
    origin_map: Vec<String>,
    /// compile() optimization level.
    #[arg(long, value_name = "0|1|2")]
    optimize: Option<u8>,
    /// Leave out the stock-libpython runtime (for a patched CPython).
    #[arg(long = "no-runtime")]
    no_runtime: bool,
    /// Compile workers (default: one per core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Output folder.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write a Make depfile: TARGET depends on every file and folder read.
    #[arg(long, value_name = "FILE", requires = "depfile_target")]
    depfile: Option<PathBuf>,
    #[arg(long = "depfile-target", value_name = "TARGET")]
    depfile_target: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn build_spec(args: &FreezeArgs) -> Result<Spec, String> {
    let mut spec = match &args.spec {
        Some(path) => Spec::from_file(path).map_err(|e| e.to_string())?,
        None => Spec::default(),
    };
    if let Some(p) = &args.python {
        spec.python = p.clone();
    }
    if let Some(v) = &args.target_version {
        spec.version = Some(PythonVersion::parse(v).ok_or_else(|| {
            format!(
                "--target-version {v}: not a supported CPython version (supported: {})",
                pyfreeze_gen::versions::supported_list()
            )
        })?);
    }
    for root in &args.roots {
        spec.roots.push(Root {
            path: root.clone(),
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        });
    }
    if args.roots.is_empty() && (!args.include.is_empty() || !args.exclude.is_empty()) {
        if spec.roots.is_empty() {
            return Err("--include/--exclude need a --root (or [[root]] in the spec)".into());
        }
        for root in &mut spec.roots {
            root.include.extend(args.include.iter().cloned());
            root.exclude.extend(args.exclude.iter().cloned());
        }
    }
    spec.stdlib |= args.stdlib;
    if let Some(dir) = &args.stdlib_dir {
        spec.stdlib_dir = Some(dir.clone());
    }
    spec.stdlib_exclude
        .extend(args.stdlib_exclude.iter().cloned());
    if args.no_source {
        spec.embed_source = false;
    }
    if args.no_data {
        spec.package_data = false;
    }
    if args.no_runtime {
        spec.runtime = false;
    }
    if let Some(o) = args.optimize {
        spec.optimize = o;
    }
    if let Some(j) = args.jobs {
        spec.jobs = j;
    }
    for m in &args.origin_map {
        spec.origin_map.push(OriginMap::parse(m, Path::new(""))?);
    }
    if let Some(out) = &args.out {
        spec.out_dir = Some(out.clone());
    }
    spec.validate()?;
    Ok(spec)
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
    let mut text = format!("{target}:");
    for input in inputs {
        let shown = input.strip_prefix(&cwd).unwrap_or(input);
        text.push_str(" \\\n ");
        text.push_str(&make_escape(shown));
    }
    text.push('\n');
    pyfreeze_gen::write_if_changed(path, text.as_bytes())
        .map(drop)
        .map_err(|e| format!("cannot write depfile {}: {e}", path.display()))
}

fn freeze(args: &FreezeArgs, list_only: bool) -> Result<(), String> {
    let started = Instant::now();
    let spec = build_spec(args)?;
    let out = match (&spec.out_dir, list_only) {
        (Some(out), _) => Some(out.clone()),
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
    if list_only {
        let mut stdout = std::io::stdout().lock();
        for m in &generated.modules {
            let kind = match m.kind {
                pyfreeze_gen::Kind::Module => "module",
                pyfreeze_gen::Kind::Package => "package",
                pyfreeze_gen::Kind::Namespace => "namespace",
            };
            let _ = writeln!(stdout, "{}\t{kind}\t{}", m.name, m.origin);
        }
        return Ok(());
    }
    let out = out.expect("checked above");
    let report = write_output(&out, &generated.files).map_err(|e| e.to_string())?;
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
                "{}\n{}",
                pyfreeze_gen::schema::markdown_reference(),
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
