//! `pyfreeze`: freeze Python modules into C tables.

mod bench;
mod cpython;
mod pack;
mod sizes;
mod spec_flags;
mod static_ext;

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
    /// Print what a spec selects, without writing anything: one line per module
    /// (`NAME<TAB>module|package|namespace<TAB>ORIGIN`), then per package data file
    /// (`PACKAGE/PATH<TAB>data<TAB>FILE`), per distribution (`FOLDER<TAB>distribution<TAB>ORIGIN`)
    /// and its files (`FOLDER/PATH<TAB>metadata<TAB>FILE`), and per entry of a site-packages
    /// folder that is not frozen (`NAME<TAB>skipped<TAB>PATH<TAB>WHY`).
    List(ListArgs),
    /// Write what a spec selects (modules compiled by the target interpreter, their source,
    /// package data and distribution metadata) as one pack file, which a program with
    /// pyfreeze's runtime imports from (mapped, used in place) without relinking.
    Pack(Box<pack::PackArgs>),
    /// Print what a pack holds, checked as a loader checks it: its target, then a line per
    /// module (`NAME<TAB>KIND<TAB>BYTECODE<TAB>SOURCE<TAB>DATA<TAB>ORIGIN`, sizes in bytes) and
    /// per distribution, then the totals.
    Inspect(pack::InspectArgs),
    /// Run an app under the target interpreter and print the stdlib it needs, as the
    /// `stdlib_include` of a pyfreeze.toml (or rewrite that key of a spec file with --update).
    Trace(Box<TraceArgs>),
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
        /// Build from this pristine upstream tarball (python.org's `Python-X.Y.Z.tar.xz`, or a
        /// Debian `.orig` tarball) instead of fetching Debian's source package.
        #[arg(long, conflicts_with = "debian_version")]
        source: Option<PathBuf>,
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
        /// Build every stdlib extension module the platform can build into libpython
        /// (sys.builtin_module_names), its C libraries linked from static archives; a build
        /// tree of its own (`cpython-X.Y.Z[-plain]-static`). docs/appliance.md says what stays out.
        #[arg(long = "static-extensions")]
        static_extensions: bool,
        /// With --static-extensions: a module that cannot be built in (no header or no static
        /// archive) stays a shared object, or unbuilt, with a warning instead of an error.
        #[arg(long = "allow-shared-extensions", requires = "static_extensions")]
        allow_shared_extensions: bool,
        /// A pyfreeze.toml whose roots are frozen into the extended table next to the stdlib
        /// (the packages of a site-packages folder, an application), with their package data
        /// and distribution metadata; its single values (embed_source, optimize...) apply to
        /// the whole table. Map its roots' origins (origin_map) to where the files would be
        /// installed.
        #[arg(long, conflicts_with = "plain")]
        spec: Option<PathBuf>,
        /// Stage `make install` under DIR (make's DESTDIR), as packagers do: the files go to
        /// DIR/PREFIX, for an interpreter that runs from PREFIX.
        #[arg(long)]
        destdir: Option<PathBuf>,
        /// Compile through ccache (on PATH, with its own configuration: CCACHE_DIR...), the
        /// tree as its base folder: the unpatched and patched builds of a version, and a
        /// --static-extensions build's interpreter core, share their objects. The installed
        /// sysconfig keeps the configured compiler.
        #[arg(long)]
        ccache: bool,
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

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    freeze: FreezeArgs,
    /// Print what the table would weigh instead, by top-level package, largest first:
    /// `PACKAGE<TAB>MODULES<TAB>BYTECODE<TAB>SOURCE<TAB>DATA<TAB>TOTAL` (bytes; the source only
    /// when embedded; DATA is package data, and for `<metadata>` the distributions' files),
    /// after a header line and before a `<total>` line.
    #[arg(long)]
    sizes: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["module", "import", "script"])))]
struct TraceArgs {
    /// A pyfreeze.toml: its interpreter, version, roots (put first on sys.path) and
    /// stdlib_exclude; the flags below add to it or override it.
    #[arg(long, short = 's', value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    flags: SpecFlags,
    /// Run this module as __main__, like python -m.
    #[arg(short = 'm', long = "module", value_name = "MODULE")]
    module: Option<String>,
    /// Only import these modules (comma-separated, or the flag repeated).
    #[arg(long = "import", value_name = "MOD[,MOD]", value_delimiter = ',')]
    import: Vec<String>,
    /// Import `site` at start-up, for a program that enables it (off by default, as with
    /// PyConfig_InitIsolatedConfig and site_import = 0).
    #[arg(long)]
    site: bool,
    /// Leave out what printing a traceback needs (by default, once the app has returned, one
    /// is printed into a buffer as PyErr_Print and pyfreeze's runtime would: traceback,
    /// linecache, tokenize, ...).
    #[arg(long = "no-traceback")]
    no_traceback: bool,
    /// Rewrite `stdlib_include` in this spec file (default: the --spec file), keeping the
    /// rest of the file, instead of printing it.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    update: Option<Option<PathBuf>>,
    /// Print nothing on stderr but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// A script to run as __main__ (instead of -m or --import).
    #[arg(value_name = "SCRIPT")]
    script: Option<PathBuf>,
    /// Arguments for the app (its sys.argv[1:]), after --.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

/// The spec file (if any), then the flags.
fn build_spec(args: &FreezeArgs) -> Result<Spec, String> {
    spec_from(args.spec.as_deref(), &args.flags)
}

fn spec_from(file: Option<&Path>, flags: &SpecFlags) -> Result<Spec, String> {
    let file = match file {
        Some(path) => Some(SpecBuilder::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let layers: Vec<&SpecBuilder> = file.iter().chain([&flags.0]).collect();
    Spec::from_layers(&layers).map_err(|e| e.to_string())
}

fn trace(args: &TraceArgs) -> Result<(), String> {
    use pyfreeze_gen::trace::{self, Run, TraceRequest};
    // Tracing is about the stdlib: a spec without roots is fine here.
    let mut flags = args.flags.clone();
    flags.0.stdlib(true);
    let spec = spec_from(args.spec.as_deref(), &flags)?;
    let update = match &args.update {
        Some(None) => Some(args.spec.clone().ok_or(
            "--update without a FILE rewrites the --spec file, but no --spec was given; \
             pass --update pyfreeze.toml",
        )?),
        Some(Some(path)) => Some(path.clone()),
        None => None,
    };
    if let Some(path) = &update {
        if !path.is_file() {
            return Err(format!(
                "--update {}: no such spec file; create one first (`pyfreeze spec --stdlib \
                 --root DIR > {}` writes every setting), or print the list without --update",
                path.display(),
                path.display()
            ));
        }
    }
    let run = match (&args.module, &args.script) {
        (Some(m), _) => Run::Module(m.clone()),
        (None, Some(script)) => {
            if !script.is_file() {
                return Err(format!(
                    "script {} is not a file; check the path, or run a module with -m MODULE",
                    script.display()
                ));
            }
            Run::Script(script.clone())
        }
        (None, None) => Run::Import(args.import.clone()),
    };
    let request = TraceRequest {
        run,
        args: args.args.clone(),
        site: args.site,
        traceback: !args.no_traceback,
    };
    if !args.quiet {
        let what = match &request.run {
            Run::Module(m) => format!("-m {m}"),
            Run::Script(s) => s.display().to_string(),
            Run::Import(names) => format!("--import {}", names.join(",")),
        };
        let roots: Vec<String> = spec
            .all_roots()
            .map(|r| r.path.display().to_string())
            .collect();
        eprintln!(
            "pyfreeze: tracing {what} with {} -I{} (sys.path starts with: {})",
            spec.python().display(),
            if args.site { "" } else { " -S" },
            if roots.is_empty() {
                "no roots".to_string()
            } else {
                roots.join(", ")
            },
        );
    }
    let traced = trace::trace(&spec, &request).map_err(|e| e.to_string())?;
    if traced.status != 0 {
        let stderr = String::from_utf8_lossy(&traced.stderr);
        let stderr = stderr.trim_end();
        return Err(format!(
            "the traced app failed with exit status {}, so the modules it loaded are not all \
             it needs; nothing was printed or updated. Its stderr:\n{}\n  hint: fix the app \
             or how it is run (its roots: --root or [[root]]; its arguments: after --), then \
             trace again",
            traced.status,
            if stderr.is_empty() { "(empty)" } else { stderr }
        ));
    }
    let patterns = traced.patterns();
    if !args.quiet {
        let startup = traced.modules.iter().filter(|m| m.startup).count();
        eprintln!(
            "pyfreeze: the app exited with status 0 under CPython {} ({}); it needs {} stdlib \
             modules ({} of them loaded by interpreter start-up)",
            traced.interpreter.full_version(),
            traced.interpreter.info.executable.display(),
            patterns.len(),
            startup
        );
    }
    match update {
        Some(path) => {
            let updated = trace::update_spec_file(&path, &patterns).map_err(|e| e.to_string())?;
            if !args.quiet {
                eprintln!(
                    "pyfreeze: {} stdlib_include in {} ({} patterns)",
                    if updated.changed {
                        "rewrote"
                    } else {
                        "unchanged:"
                    },
                    path.display(),
                    patterns.len()
                );
                if !updated.stdlib_on {
                    eprintln!(
                        "pyfreeze: note: {} does not set stdlib = true, so stdlib_include has \
                         no effect until it does",
                        path.display()
                    );
                }
            }
        }
        None => print!("{}", trace::toml_array(&patterns)),
    }
    Ok(())
}

/// Progress on stderr: a live counter on a terminal, a few lines otherwise.
struct Reporter {
    quiet: bool,
    tty: bool,
    last_tenth: Mutex<usize>,
}

impl Reporter {
    fn new(quiet: bool) -> Reporter {
        Reporter {
            quiet,
            tty: std::io::stderr().is_terminal(),
            last_tenth: Mutex::new(0),
        }
    }
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

/// What `freeze` does with what the spec selects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// `pyfreeze freeze`: write the output folder.
    Files,
    /// `pyfreeze list`: print it, a line per module, data file, distribution, skipped entry.
    List,
    /// `pyfreeze list --sizes`: print its bytes by top-level package.
    Sizes,
}

fn freeze(args: &FreezeArgs, output: Output) -> Result<(), String> {
    let list_only = output != Output::Files;
    let started = Instant::now();
    let spec = build_spec(args)?;
    let out = match (spec.out_dir(), list_only) {
        (Some(out), _) => Some(out.to_path_buf()),
        (None, true) => None,
        (None, false) => {
            return Err("no output folder: pass --out DIR or set `out` in the spec".into())
        }
    };
    let reporter = Reporter::new(args.quiet || list_only);
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
    if !generated.already_in_target.is_empty() && !args.quiet {
        eprintln!(
            "pyfreeze: note: {} stdlib modules not frozen: {}'s libpython already carries \
             them in its frozen table (a CPython built by `pyfreeze cpython build`)",
            generated.already_in_target.len(),
            generated.interpreter.given.display()
        );
    }
    if output == Output::Sizes {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(size_report(&generated).as_bytes());
        return Ok(());
    }
    if list_only {
        let mut stdout = std::io::stdout().lock();
        for m in &generated.modules {
            let _ = writeln!(stdout, "{}\t{}\t{}", m.name, m.kind.as_str(), m.origin);
        }
        for r in &generated.resources {
            let _ = writeln!(
                stdout,
                "{}/{}\tdata\t{}",
                r.package,
                r.rel,
                r.path.display()
            );
        }
        for d in &generated.distributions {
            let _ = writeln!(stdout, "{}\tdistribution\t{}", d.name, d.origin);
            for f in &d.files {
                let _ = writeln!(
                    stdout,
                    "{}/{}\tmetadata\t{}",
                    d.name,
                    f.rel,
                    f.path.display()
                );
            }
        }
        for s in &generated.skipped {
            let _ = writeln!(
                stdout,
                "{}\tskipped\t{}\t{}",
                s.name,
                s.path.display(),
                s.reason
            );
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
        for s in &generated.skipped {
            eprintln!("pyfreeze: note: {}: {}", s.path.display(), s.reason);
        }
        for ext in &generated.extensions {
            eprintln!(
                "pyfreeze: note: extension module {} stays on disk (not frozen)",
                ext.display()
            );
        }
        let code: usize = generated.modules.iter().map(|m| m.code.len()).sum();
        let code = if spec.embed_bytecode() {
            format!("{:.1} MB bytecode", code as f64 / 1e6)
        } else {
            "no bytecode".to_string()
        };
        let source: usize = generated
            .modules
            .iter()
            .filter_map(|m| m.source.as_ref())
            .map(Vec::len)
            .sum();
        let stored = manifest_of(&generated)["totals"]["source_stored_bytes"]
            .as_u64()
            .unwrap_or(0) as usize;
        let stored = if stored < source {
            format!(", stored in {:.1} MB", stored as f64 / 1e6)
        } else {
            String::new()
        };
        eprintln!(
            "pyfreeze: {} modules ({code}, {:.1} MB source{stored}), {} data files, {} distributions -> {}: {} written, {} unchanged, {} removed in {:.1}s",
            generated.modules.len(),
            source as f64 / 1e6,
            generated.resources.len(),
            generated.distributions.len(),
            out.display(),
            report.written.len(),
            report.unchanged,
            report.removed.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The generator's `manifest.json`, parsed.
fn manifest_of(generated: &pyfreeze_gen::Generated) -> serde_json::Value {
    generated
        .files
        .iter()
        .find(|f| f.path == "manifest.json")
        .and_then(|f| serde_json::from_slice(&f.bytes).ok())
        .expect("the generator emits manifest.json")
}

/// `pyfreeze list --sizes`: bytes by top-level package, largest first (then by name), a header
/// line first and the totals last, as the generator's manifest gives them (no bytecode without
/// `embed_bytecode`: `code.bin` keeps it, outside the binary).
fn size_report(generated: &pyfreeze_gen::Generated) -> String {
    sizes::table(&sizes::of_manifest(&manifest_of(generated)), false).0
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Freeze(args) => freeze(args, Output::Files),
        Command::List(args) => freeze(
            &args.freeze,
            if args.sizes {
                Output::Sizes
            } else {
                Output::List
            },
        ),
        Command::Trace(args) => trace(args),
        Command::Pack(args) => pack::pack(args),
        Command::Inspect(args) => pack::inspect(args),
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
            static_extensions,
            allow_shared_extensions,
            spec,
            destdir,
            source,
            ccache,
        }) => cpython::build(&cpython::BuildArgs {
            minor: version,
            prefix,
            cache,
            debian_version: debian_version.as_deref(),
            jobs: *jobs,
            configure_args,
            plain: *plain,
            static_extensions: *static_extensions,
            allow_shared_extensions: *allow_shared_extensions,
            spec: spec.as_deref(),
            destdir: destdir.as_deref(),
            source: source.as_deref(),
            ccache: *ccache,
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
