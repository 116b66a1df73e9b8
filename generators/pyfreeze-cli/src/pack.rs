//! `pyfreeze pack` (the selection of a spec as one pack file) and `pyfreeze inspect` (what a
//! pack holds, checked as a loader checks it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use pyfreeze_gen::pack::{write_pack, Pack, PackOptions};
use pyfreeze_gen::python::version_of_hex;
use pyfreeze_gen::schema::{FLAG_NAMESPACE, FLAG_PACKAGE};
use pyfreeze_gen::{generate, FrozenModule, APP_RUNTIME_MODULE, RUNTIME_MODULE};

use crate::{build_spec, write_depfile, FreezeArgs, Reporter};

#[derive(Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub freeze: FreezeArgs,
    /// Pack what the output folder DIR of a `pyfreeze freeze` holds (its modules, data and
    /// metadata, each checked against its manifest), to compare a pack with that table; no
    /// spec is read.
    #[arg(long, value_name = "DIR", conflicts_with = "spec")]
    pub from: Option<PathBuf>,
    /// The pack file to write (`.pyfz` by convention); written only when its bytes change.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
}

#[derive(Args)]
pub struct InspectArgs {
    /// The pack file.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Also check the whole content against the header's SHA-256 and every module's and
    /// file's CRC-32 (opening checks the header, the index and its CRC-32 only).
    #[arg(long)]
    pub verify: bool,
}

/// `pyfreeze pack`.
pub fn pack(args: &PackArgs) -> Result<(), String> {
    let started = Instant::now();
    let (bytes, what, inputs) = match &args.from {
        Some(dir) => from_output_folder(dir, &args.pack)?,
        None => from_spec(args)?,
    };
    let written = pyfreeze_gen::write_if_changed(&args.pack, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", args.pack.display()))?;
    if let (Some(depfile), Some(target)) = (&args.freeze.depfile, &args.freeze.depfile_target) {
        write_depfile(depfile, target, &inputs)?;
    }
    if !args.freeze.quiet {
        eprintln!(
            "pyfreeze: {what} -> {} ({:.1} MB, {}) in {:.1}s",
            args.pack.display(),
            bytes.len() as f64 / 1e6,
            if written { "written" } else { "unchanged" },
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The runtime is linked into the program that reads a pack, not carried by the pack.
fn without_runtime(modules: &[FrozenModule]) -> Vec<FrozenModule> {
    modules
        .iter()
        .filter(|m| m.path.is_some() || (m.name != RUNTIME_MODULE && m.name != APP_RUNTIME_MODULE))
        .cloned()
        .collect()
}

/// The pack of a spec's selection: its bytes, what it holds (for the summary) and the inputs
/// read (for the depfile).
fn from_spec(args: &PackArgs) -> Result<(Vec<u8>, String, Vec<PathBuf>), String> {
    let spec = build_spec(&args.freeze)?;
    if !spec.embed_bytecode() {
        return Err(format!(
            "{}: embed_bytecode = false: a pack is imported from its bytecode; leave the option out",
            args.freeze
                .spec
                .as_deref()
                .map_or_else(|| "--no-bytecode".to_string(), |p| p.display().to_string())
        ));
    }
    let reporter = Reporter::new(args.freeze.quiet);
    let generated = generate(&spec, &reporter).map_err(|e| e.to_string())?;
    for warning in &generated.warnings {
        eprintln!("pyfreeze: warning: {warning}");
    }
    let modules = without_runtime(&generated.modules);
    let info = &generated.interpreter.info;
    let bytes = write_pack(
        &modules,
        &generated.resources,
        &generated.distributions,
        &PackOptions {
            magic: info.magic,
            hexversion: info.hexversion,
            compress_source: spec.embed_source() && spec.compress_source(),
        },
    )
    .map_err(|e| format!("{}: {e}", args.pack.display()))?;
    let what = format!(
        "{} modules, {} data files, {} distributions for CPython {}",
        modules.len(),
        generated.resources.len(),
        generated.distributions.len(),
        generated.interpreter.full_version(),
    );
    let mut inputs = generated.inputs.clone();
    if let Some(s) = &args.freeze.spec {
        inputs.push(s.clone());
    }
    Ok((bytes, what, inputs))
}

/// `--from DIR`: the pack of what the output folder `dir` holds.
fn from_output_folder(dir: &Path, pack: &Path) -> Result<(Vec<u8>, String, Vec<PathBuf>), String> {
    let out = pyfreeze_gen::readback::read_output(dir)?;
    let modules = without_runtime(&out.modules);
    let bytes = write_pack(
        &modules,
        &out.resources,
        &out.distributions,
        &PackOptions {
            magic: out.magic,
            hexversion: out.hexversion,
            compress_source: out.compress_source,
        },
    )
    .map_err(|e| format!("{}: {e}", pack.display()))?;
    let what = format!(
        "{} modules, {} data files, {} distributions for CPython {} from {}",
        modules.len(),
        out.resources.len(),
        out.distributions.len(),
        version_of_hex(out.hexversion),
        dir.display()
    );
    Ok((bytes, what, vec![dir.join("manifest.json")]))
}

/// What `pyfreeze inspect` prints for the pack `bytes` read from `path`.
pub fn inspect_text(path: &Path, bytes: &[u8], verify: bool) -> Result<String, String> {
    let pack = Pack::open(bytes, None).map_err(|e| format!("{}: {e}", path.display()))?;
    if verify {
        pack.verify_content()
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# pack {}: CPython {} (bytecode magic {}), {} modules, {} distributions, {} bytes, content sha256 {}",
        path.display(),
        version_of_hex(pack.target_hexversion()),
        pack.bytecode_magic(),
        pack.module_count(),
        pack.distribution_count(),
        bytes.len(),
        pack.content_sha256()
    );
    out.push_str("NAME\tKIND\tBYTECODE\tSOURCE\tDATA\tORIGIN\n");
    let (mut code, mut source, mut data) = (0usize, 0usize, 0usize);
    for i in 0..pack.module_count() {
        let m = pack.module(i);
        if verify {
            pack.module_bytes(&m)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let mut files = 0usize;
        for r in m.resources.clone() {
            let f = pack.resource(r);
            if verify {
                pack.file_bytes(&f)
                    .map_err(|e| format!("{}: {e} (package {})", path.display(), m.name))?;
            }
            files += f.data.len();
        }
        let kind = if m.flags & FLAG_NAMESPACE != 0 {
            "namespace"
        } else if m.flags & FLAG_PACKAGE != 0 {
            "package"
        } else {
            "module"
        };
        let _ = writeln!(
            out,
            "{}\t{kind}\t{}\t{}\t{files}\t{}",
            m.name,
            m.code.len(),
            m.source.len(),
            m.origin
        );
        code += m.code.len();
        source += m.source.len();
        data += files;
    }
    for i in 0..pack.distribution_count() {
        let d = pack.distribution(i);
        let mut bytes = 0usize;
        for f in d.files.clone() {
            let f = pack.dist_file(f);
            if verify {
                pack.file_bytes(&f)
                    .map_err(|e| format!("{}: {e} ({})", path.display(), d.name))?;
            }
            bytes += f.data.len();
        }
        let _ = writeln!(out, "{}\tdistribution\t0\t0\t{bytes}\t{}", d.name, d.origin);
        data += bytes;
    }
    let _ = writeln!(out, "<total>\t\t{code}\t{source}\t{data}\t");
    Ok(out)
}

/// `pyfreeze inspect`.
pub fn inspect(args: &InspectArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.pack)
        .map_err(|e| format!("cannot read {}: {e}", args.pack.display()))?;
    let text = inspect_text(&args.pack, &bytes, args.verify)?;
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}
