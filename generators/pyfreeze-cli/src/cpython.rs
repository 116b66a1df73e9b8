//! `pyfreeze cpython`: fetch CPython's source (Debian source packages), apply pyfreeze's patch
//! series strictly, and build an interpreter whose whole pure stdlib is frozen.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use pyfreeze_gen::PythonVersion;

use crate::static_ext;

/// One patch series, embedded so the binary works outside a checkout.
pub struct Series {
    pub minor: &'static str,
    /// `series` file as in the repository.
    pub series_file: &'static str,
    pub patches: &'static [(&'static str, &'static str)],
}

// SERIES: every `cpython-patches/X.Y/series` and the patches it lists, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/series.rs"));

/// Files installed into `Tools/pyfreeze/` of a patched tree.
const TOOLS: &[(&str, &str)] = &[
    (
        "cpython.mk",
        include_str!("../../../build-support/cpython.mk"),
    ),
    (
        "objects.mk",
        include_str!("../../../build-support/cpython-objects.mk"),
    ),
    (
        "stdlib.toml",
        include_str!("../../../build-support/cpython-stdlib.toml"),
    ),
    (
        "sysconfigdata.py",
        include_str!("../../../build-support/cpython-sysconfigdata.py"),
    ),
    (
        "deepfreeze.py",
        include_str!("../../../build-support/cpython-deepfreeze.py"),
    ),
];

const MARKER: &str = "Tools/pyfreeze/PATCHED";

/// What `Tools/pyfreeze/PATCHED` holds: the version, the series' patches and a fingerprint of
/// their text, so that a build tree patched with another series is not reused.
fn marker_text(series: &Series, full: &str) -> String {
    let text: String = series.patches.iter().map(|(_, text)| *text).collect();
    format!(
        "CPython {full}, pyfreeze {} series {} (sha256 {}):\n{}\n",
        env!("CARGO_PKG_VERSION"),
        series.minor,
        pyfreeze_gen::emit::sha256_hex(text.as_bytes()),
        series_names(series.series_file).join("\n")
    )
}

#[path = "series_file.rs"]
mod series_file;
pub use series_file::series_names;

fn series_for(version: &PythonVersion) -> Result<&'static Series, String> {
    let name = version.name();
    let wanted = version.patch_series;
    SERIES.iter().find(|s| Some(s.minor) == wanted).ok_or_else(|| {
        let have: Vec<_> = SERIES.iter().map(|s| s.minor).collect();
        format!(
            "pyfreeze has no patch series for CPython {name} (series exist for {}), so it cannot build a \
             patched {name}; use the stock-libpython mode: `pyfreeze freeze` with pyfreeze.mk or \
             pyfreeze-build, linking python{name}'s own libpython (docs/versions.md)",
            have.join(", ")
        )
    })
}

/// `3.11.2` from `Include/patchlevel.h`.
pub fn tree_version(tree: &Path) -> Result<String, String> {
    let path = tree.join("Include/patchlevel.h");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e}; is {} a CPython source tree?",
            path.display(),
            tree.display()
        )
    })?;
    text.lines()
        .find_map(|l| l.strip_prefix("#define PY_VERSION").map(str::trim))
        .and_then(|v| v.strip_prefix('"')?.split('"').next())
        .map(|v| v.trim_end_matches('+').to_string())
        .ok_or_else(|| format!("{}: no PY_VERSION line", path.display()))
}

fn git_apply(dir: &Path, args: &[&str], patch: &Path) -> Result<std::process::Output, String> {
    Command::new("git")
        .arg("apply")
        .args(args)
        .arg(patch)
        .current_dir(dir)
        // Never let git discover a repository above the folder and re-root the paths.
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()
        .map_err(|e| format!("cannot run git (needed to apply patches strictly): {e}"))
}

/// Paths (relative to the tree) that a patch touches.
fn touched(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| l.strip_prefix("diff --git a/"))
        .filter_map(|l| l.split(" b/").next())
        .map(String::from)
        .collect()
}

/// Why a series did not apply: the patch at fault (if any) and git's message.
struct ApplyError {
    patch: Option<String>,
    message: String,
}

/// Applies `patches` in order (`git apply` checks several patches against the original tree,
/// not cumulatively) to a scratch copy of the files they touch, and returns that copy.
fn apply_in_scratch(
    tree: &Path,
    patches: &[(&str, &str)],
    reverse: bool,
) -> Result<tempfile::TempDir, ApplyError> {
    let fail = |message: String| ApplyError {
        patch: None,
        message,
    };
    let scratch =
        tempfile::tempdir().map_err(|e| fail(format!("cannot create a temporary folder: {e}")))?;
    let files = scratch.path().join("files");
    std::fs::create_dir_all(&files).map_err(|e| fail(e.to_string()))?;
    for (_, text) in patches {
        for rel in touched(text) {
            let from = tree.join(&rel);
            let to = files.join(&rel);
            if from.is_file() && !to.exists() {
                std::fs::create_dir_all(to.parent().expect("relative path"))
                    .map_err(|e| fail(e.to_string()))?;
                std::fs::copy(&from, &to).map_err(|e| fail(format!("{}: {e}", from.display())))?;
            }
        }
    }
    let mut ordered: Vec<&(&str, &str)> = patches.iter().collect();
    if reverse {
        ordered.reverse();
    }
    let args: &[&str] = if reverse { &["--reverse"] } else { &[] };
    for (name, text) in ordered {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).map_err(|e| fail(e.to_string()))?;
        let out = git_apply(&files, args, &path).map_err(fail)?;
        if !out.status.success() {
            return Err(ApplyError {
                patch: Some(name.to_string()),
                message: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
            });
        }
    }
    Ok(scratch)
}

/// Writes (when changed) the build integration into `Tools/pyfreeze/` of a patched tree.
fn install_tools(tree: &Path) -> Result<(), String> {
    let tools = tree.join("Tools/pyfreeze");
    std::fs::create_dir_all(&tools).map_err(|e| format!("{}: {e}", tools.display()))?;
    for (name, text) in TOOLS {
        let path = tools.join(name);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == *text) {
            continue;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Applies (or with `check`, only checks) the series for the tree's version. The series is
/// applied patch by patch to a scratch copy first; the tree changes only if all of it applies.
pub fn patch(tree: &Path, check: bool) -> Result<String, String> {
    let full = tree_version(tree)?;
    let version = PythonVersion::parse(&full).ok_or_else(|| {
        format!(
            "{} is CPython {full}, which pyfreeze does not support",
            tree.display()
        )
    })?;
    let series = series_for(version)?;
    if tree.join(MARKER).exists() {
        return Err(format!(
            "{} is already patched (it has {MARKER}); start from a fresh extraction of the tarball",
            tree.display()
        ));
    }
    // The tree's own repository only: git ignores a relative ceiling (the default cache,
    // `.pyfreeze-cache`, is relative) and would report the checkout that holds the cache; and
    // whoever owns its files (a tarball extracted as root keeps their owners, which git
    // otherwise refuses to read as "dubious ownership").
    let real = std::fs::canonicalize(tree).unwrap_or_else(|_| tree.to_path_buf());
    let git_status = Command::new("git")
        .arg("-c")
        .arg(format!("safe.directory={}", real.display()))
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(&real)
        .env("GIT_CEILING_DIRECTORIES", real.parent().unwrap_or(&real))
        .output();
    if let Ok(out) = git_status {
        if out.status.success() && !out.stdout.is_empty() {
            return Err(format!(
                "{} has uncommitted changes (git status); patch a clean tree",
                tree.display()
            ));
        }
    }
    let scratch = match apply_in_scratch(tree, series.patches, false) {
        Ok(scratch) => scratch,
        Err(ApplyError {
            patch: None,
            message,
        }) => return Err(message),
        Err(ApplyError {
            patch: Some(name),
            message,
        }) => {
            if apply_in_scratch(tree, series.patches, true).is_ok() {
                return Err(format!(
                    "{} already has the {} series applied; start from a fresh extraction",
                    tree.display(),
                    series.minor
                ));
            }
            return Err(format!(
                "patch {name} of the {} series does not apply to CPython {full} in {} (strictly, no fuzz):\n{message}\n  \
                 the tree is modified, or this patch level changed the code the patch touches; \
                 the series was made against the versions named in cpython-patches/{}/series",
                series.minor,
                tree.display(),
                series.minor
            ));
        }
    };
    if check {
        return Ok(format!(
            "the {} series applies to CPython {full} in {}",
            series.minor,
            tree.display()
        ));
    }
    let mut rels: Vec<String> = series
        .patches
        .iter()
        .flat_map(|(_, text)| touched(text))
        .collect();
    rels.sort();
    rels.dedup();
    for rel in &rels {
        let from = scratch.path().join("files").join(rel);
        let to = tree.join(rel);
        if from.is_file() {
            std::fs::create_dir_all(to.parent().expect("relative path"))
                .map_err(|e| format!("{}: {e}", to.display()))?;
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        } else if to.exists() {
            std::fs::remove_file(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        }
    }
    install_tools(tree)?;
    std::fs::write(tree.join(MARKER), marker_text(series, &full))
        .map_err(|e| format!("{MARKER}: {e}"))?;
    Ok(format!(
        "applied the {} series ({} patches) to CPython {full} in {}",
        series.minor,
        series.patches.len(),
        tree.display()
    ))
}

/// Orders versions like `3.13.15-1` numerically by their upstream part (`3.13.5` < `3.13.15`).
fn version_key(version: &str) -> (Vec<u64>, String) {
    let (upstream, revision) = version.split_once('-').unwrap_or((version, ""));
    let numbers = upstream
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (numbers, revision.to_string())
}

/// The versions of a source package that apt lists, newest first.
fn listed_versions(package: &str) -> Vec<String> {
    let out = Command::new("apt-cache")
        .args(["showsrc", package])
        .output();
    let mut versions: Vec<String> = match out {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("Version: "))
            .map(|v| v.trim().to_string())
            .collect(),
        Err(_) => Vec::new(),
    };
    versions.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
    versions.dedup();
    versions
}

/// Finds in `cache/sources`, or downloads with `apt-get source --download-only`, the pristine
/// upstream tarball of `python3.X`: the given Debian version, or else the newest one that the
/// archive actually serves (some listed versions are not: 404).
pub fn fetch(minor: &str, cache: &Path, debian_version: Option<&str>) -> Result<PathBuf, String> {
    let dir = cache.join("sources");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let package = format!("python{minor}");
    let cached = |version: &str| -> Option<PathBuf> {
        let upstream = version.split('-').next().unwrap_or(version);
        [".gz", ".xz", ".bz2"]
            .iter()
            .map(|ext| dir.join(format!("{package}_{upstream}.orig.tar{ext}")))
            .find(|p| p.is_file())
    };
    let download = |version: &str| -> Result<PathBuf, String> {
        let spec = format!("{package}={version}");
        eprintln!(
            "pyfreeze: downloading the source of {spec} (Debian source package) into {}",
            dir.display()
        );
        let out = Command::new("apt-get")
            .args(["source", "--download-only", "-q", &spec])
            .current_dir(&dir)
            .output()
            .map_err(|e| {
                format!("cannot run apt-get: {e}; CPython sources come from Debian source packages")
            })?;
        if !out.status.success() {
            return Err(format!(
                "apt-get source {spec} failed:\n{}",
                String::from_utf8_lossy(&out.stderr).trim_end()
            ));
        }
        cached(version).ok_or_else(|| {
            format!(
                "apt-get source {spec} ran but left no .orig tarball in {}",
                dir.display()
            )
        })
    };
    // A pinned version already downloaded needs no look-up.
    if let Some(path) = debian_version.and_then(cached) {
        return Ok(path);
    }
    let listed = listed_versions(&package);
    if listed.is_empty() && debian_version.is_none() {
        return Err(format!(
            "apt lists no source package {package}\n  hint: run ci/enable-deb-src.sh (as root) to enable Debian's source packages"
        ));
    }
    let wanted: Vec<String> = match debian_version {
        Some(v) => vec![v.to_string()],
        None => listed.clone(),
    };
    let mut failures = Vec::new();
    for version in &wanted {
        if let Some(path) = cached(version) {
            return Ok(path);
        }
        match download(version) {
            Ok(path) => return Ok(path),
            Err(e) if debian_version.is_some() => {
                return Err(format!(
                    "{e}\n  hint: apt lists {}; check the version, or enable Debian's source packages with ci/enable-deb-src.sh",
                    if listed.is_empty() { "no version".to_string() } else { listed.join(", ") }
                ))
            }
            Err(_) => {
                eprintln!("pyfreeze: {package} {version} is listed but not served; trying an older one");
                failures.push(version.clone());
            }
        }
    }
    Err(format!(
        "no listed version of {package} could be downloaded (tried {})",
        failures.join(", ")
    ))
}

/// Runs one build step with its output in a log file, printing its name and duration.
fn step(name: &str, log: &Path, cmd: &mut Command) -> Result<(), String> {
    let started = Instant::now();
    eprint!("pyfreeze: {name} ... ");
    let _ = std::io::stderr().flush();
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = cmd
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !status.success() {
        eprintln!("failed");
        let tail: Vec<String> = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(15)
            .map(String::from)
            .collect();
        let tail: Vec<String> = tail.into_iter().rev().collect();
        return Err(format!(
            "{name} failed ({status}); the whole log is {}; its end:\n{}",
            log.display(),
            tail.join("\n")
        ));
    }
    eprintln!("done in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

pub struct BuildArgs<'a> {
    pub minor: &'a str,
    pub prefix: &'a Path,
    pub cache: &'a Path,
    pub debian_version: Option<&'a str>,
    pub jobs: usize,
    pub configure_args: &'a [String],
    /// Build the source as it is, without the series (a baseline to compare with).
    pub plain: bool,
    /// Build the stdlib's extension modules into libpython (`Modules/Setup.local`), their C
    /// libraries linked statically; in a build tree of its own.
    pub static_extensions: bool,
    /// With `static_extensions`: a module that cannot be built in stays shared (or unbuilt)
    /// with a warning instead of failing the build.
    pub allow_shared_extensions: bool,
    /// A spec whose roots join the stdlib in the extended table.
    pub spec: Option<&'a Path>,
    /// `make install DESTDIR=...`.
    pub destdir: Option<&'a Path>,
    /// A pristine upstream tarball to build instead of Debian's source package.
    pub source: Option<&'a Path>,
    /// Compile through ccache, sharing objects between build trees (see [`Ccache`]).
    pub ccache: bool,
}

/// `--ccache`: make runs with `CC="ccache <configured CC>"` (on make's command line, so the
/// installed sysconfig still names the configured compiler), `CCACHE_BASEDIR` at the tree (its
/// paths hash as relative ones) and `CCACHE_NOHASHDIR` (the compiler's working folder is not
/// hashed): the same source compiled with the same flags in another tree (the unpatched build
/// and the patched one, a `--static-extensions` build's core objects, a re-extracted tree) is a
/// cache hit. Where ccache keeps its files is its own configuration (`CCACHE_DIR`...). The
/// price of sharing: an object's debug information names the folder of the tree that first
/// compiled it.
struct Ccache;

impl Ccache {
    /// Fails, saying what to install, when ccache cannot run.
    fn check() -> Result<(), String> {
        match Command::new("ccache").arg("--version").output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "--ccache: `ccache --version` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            )),
            Err(e) => Err(format!(
                "--ccache: cannot run ccache ({e})\n  hint: install it (Debian: apt-get install \
                 ccache) or leave out --ccache"
            )),
        }
    }

    /// The make variable that puts ccache in front of `cc`, the tree's configured compiler
    /// (none when it already is ccache).
    fn make_var(cc: &str) -> Option<String> {
        let first = cc.split_whitespace().next()?;
        let name = Path::new(first).file_name()?;
        (name != "ccache").then(|| format!("CC=ccache {}", cc.trim()))
    }

    fn env(cmd: &mut Command, tree: &Path) -> Result<(), String> {
        // ccache compares the base folder with real paths.
        let base = std::fs::canonicalize(tree).map_err(|e| format!("{}: {e}", tree.display()))?;
        cmd.env("CCACHE_BASEDIR", base).env("CCACHE_NOHASHDIR", "1");
        Ok(())
    }
}

/// The CPython version a source tarball holds, from its top folder (`Python-3.11.2/`), checked
/// against the version asked for.
fn tarball_version(tarball: &Path, minor: &str) -> Result<String, String> {
    let shown = tarball.display();
    if !tarball.is_file() {
        return Err(format!("--source {shown}: no such file"));
    }
    let out = Command::new("tar")
        .arg("-tf")
        .arg(tarball)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let top = listing
        .lines()
        .next()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    let version = match top.strip_prefix("Python-") {
        Some(v) if out.status.success() && !v.is_empty() => v.to_string(),
        _ => {
            return Err(format!(
                "--source {shown}: not a CPython source tarball (its top folder should be \
                 Python-X.Y.Z/){}\n  hint: pass the pristine tarball from python.org \
                 (Python-X.Y.Z.tar.xz) or a Debian .orig tarball",
                if out.status.success() {
                    String::new()
                } else {
                    format!(": {}", String::from_utf8_lossy(&out.stderr).trim_end())
                }
            ))
        }
    };
    let holds_minor = version
        .strip_prefix(minor)
        .is_some_and(|rest| rest.starts_with('.'));
    if !holds_minor {
        return Err(format!(
            "--source {shown} holds CPython {version}, not {minor}\n  hint: pass --version {}",
            version.split('.').take(2).collect::<Vec<_>>().join(".")
        ));
    }
    Ok(version)
}

/// Where the build's spec is written in a patched tree: make's `PYFREEZE_SPEC`.
const BUILD_SPEC: &str = "Tools/pyfreeze/build.toml";

/// The spec the build freezes: the stdlib (`Tools/pyfreeze/stdlib.toml`) with, from `user`,
/// more roots (its lists add up, its single values override). Checked here, so a bad spec
/// fails before make runs, naming its file.
fn build_spec(user: Option<&Path>) -> Result<String, String> {
    let stdlib_text = TOOLS
        .iter()
        .find(|(name, _)| *name == "stdlib.toml")
        .map(|(_, text)| *text)
        .expect("stdlib.toml is one of the tools");
    let Some(user) = user else {
        return Ok(stdlib_text.to_string());
    };
    let stdlib = pyfreeze_gen::SpecBuilder::from_toml(
        stdlib_text,
        Path::new(""),
        pyfreeze_gen::Source::File(PathBuf::from("Tools/pyfreeze/stdlib.toml")),
    )
    .map_err(|e| e.to_string())?;
    let layer = pyfreeze_gen::SpecBuilder::from_file(user).map_err(|e| e.to_string())?;
    let spec = pyfreeze_gen::Spec::from_layers(&[&stdlib, &layer]).map_err(|e| e.to_string())?;
    if !spec.stdlib() || !spec.runtime() {
        return Err(format!(
            "{}: a CPython build freezes the stdlib with pyfreeze's runtime; remove `stdlib = false` \
             and `runtime = false` (the spec only adds roots)",
            user.display()
        ));
    }
    if !spec.embed_bytecode() {
        return Err(format!(
            "{}: `embed_bytecode` is the build's to set (it leaves the marshalled code out when \
             it deep-freezes, and must keep it otherwise); remove it",
            user.display()
        ));
    }
    let table = toml::to_string(&spec.to_toml()).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Written by `pyfreeze cpython build`: the stdlib (Tools/pyfreeze/stdlib.toml) and\n\
         # the spec {}.\n{table}",
        user.display()
    ))
}

/// fetch → extract → patch (unless plain) → configure → make → make install.
pub fn build(args: &BuildArgs<'_>) -> Result<(), String> {
    let version = PythonVersion::parse(args.minor).ok_or_else(|| {
        format!(
            "--version {}: not a supported CPython version (supported: {})",
            args.minor,
            pyfreeze_gen::versions::supported_list()
        )
    })?;
    series_for(version)?;
    if args.ccache {
        Ccache::check()?;
    }
    if args.allow_shared_extensions && !args.static_extensions {
        return Err("--allow-shared-extensions only applies with --static-extensions".into());
    }
    if args.plain && args.spec.is_some() {
        return Err(
            "--spec needs the patch series: an unpatched build has no extended table".into(),
        );
    }
    // Checked before anything is fetched or built.
    let spec_text = if args.plain {
        None
    } else {
        Some(build_spec(args.spec)?)
    };
    let started = Instant::now();
    let (tarball, upstream) = match args.source {
        Some(path) => {
            let version = tarball_version(path, args.minor)?;
            let path = pyfreeze_gen::normalize_path(path).map_err(|e| e.to_string())?;
            (path, version)
        }
        None => {
            let tarball = fetch(args.minor, args.cache, args.debian_version)?;
            let stem = tarball
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let upstream = stem
                .split('_')
                .nth(1)
                .and_then(|s| s.split(".orig").next())
                .unwrap_or("unknown")
                .to_string();
            (tarball, upstream)
        }
    };
    let flavour = format!(
        "{}{}",
        if args.plain { "-plain" } else { "" },
        if args.static_extensions {
            "-static"
        } else {
            ""
        }
    );
    let work = args
        .cache
        .join("build")
        .join(format!("cpython-{upstream}{flavour}"));
    let tree = work.join(format!("Python-{upstream}"));
    // Builds sharing a cache (parallel test runs, two terminals) take turns on a tree.
    let builds = args.cache.join("build");
    std::fs::create_dir_all(&builds).map_err(|e| format!("{}: {e}", builds.display()))?;
    let lock_path = builds.join(format!("cpython-{upstream}{flavour}.lock"));
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        eprintln!(
            "pyfreeze: waiting for another build in {} to finish",
            work.display()
        );
        lock.lock()
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    }
    let logs = work.join("logs");
    let prefix = pyfreeze_gen::normalize_path(args.prefix).map_err(|e| e.to_string())?;
    let self_exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the pyfreeze binary: {e}"))?;
    let mut what = if args.plain {
        "unpatched".to_string()
    } else {
        format!("with the {} series", args.minor)
    };
    if args.static_extensions {
        what.push_str(", extension modules built in");
    }
    eprintln!(
        "pyfreeze: building CPython {upstream} {what} into {}",
        prefix.display()
    );

    // A tree prepared by an earlier run is reused (make is incremental); anything else, such as
    // a tree patched with another series, is extracted afresh.
    let prepared = if args.plain {
        work.join(".extracted")
    } else {
        tree.join(MARKER)
    };
    let reusable = if args.plain {
        prepared.exists()
    } else {
        std::fs::read_to_string(&prepared).ok()
            == Some(marker_text(series_for(version)?, &upstream))
    };
    if !reusable {
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
        step(
            "extracting the source",
            &logs.join("extract.log"),
            Command::new("tar")
                .arg("xf")
                .arg(&tarball)
                .arg("-C")
                .arg(&work),
        )?;
        if args.plain {
            std::fs::write(&prepared, "").map_err(|e| format!("{}: {e}", prepared.display()))?;
        } else {
            let msg = patch(&tree, false)?;
            eprintln!("pyfreeze: {msg}");
        }
    } else {
        std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
        eprintln!("pyfreeze: reusing the prepared tree {}", tree.display());
        if !args.plain {
            // This pyfreeze's build integration, so that make picks up its changes.
            install_tools(&tree)?;
        }
    }
    // configure runs again when its arguments change: they are recorded beside the tree once
    // it succeeds. A tree configured before the record existed is kept when its prefix is the
    // one asked for, no argument was added, and `--static-extensions` did not define
    // PYFREEZE_STATIC_EXTENSIONS for every object (`CFLAGS_NODIST`; Setup.local now gives it
    // to getpath.o alone).
    let configure_line: Vec<String> = [
        format!("--prefix={}", prefix.display()),
        "--with-ensurepip=no".to_string(),
    ]
    .into_iter()
    .chain(args.configure_args.iter().cloned())
    .collect();
    let record = work.join("configured");
    let record_text: String = configure_line.iter().map(|a| format!("{a}\n")).collect();
    let configured = match std::fs::read_to_string(tree.join("config.status")) {
        Err(_) => false,
        Ok(status) => match std::fs::read_to_string(&record) {
            Ok(text) => text == record_text,
            Err(_) => {
                status.contains(&configure_line[0])
                    && args.configure_args.is_empty()
                    && !status.contains(static_ext::STATIC_DEFINE)
            }
        },
    };
    if !configured {
        step(
            "configure",
            &logs.join("configure.log"),
            Command::new("./configure")
                .args(&configure_line)
                .current_dir(&tree),
        )?;
    }
    pyfreeze_gen::write_if_changed(&record, record_text.as_bytes())
        .map_err(|e| format!("{}: {e}", record.display()))?;
    let plan = if args.static_extensions {
        Some(static_extensions(&tree, &logs, args)?)
    } else {
        None
    };
    let mut make_vars = vec![format!("PYFREEZE={}", self_exe.display())];
    if let Some(text) = &spec_text {
        // Always written (only when its bytes change): a build without --spec after one with
        // it refreezes the stdlib alone.
        let path = tree.join(BUILD_SPEC);
        pyfreeze_gen::write_if_changed(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        make_vars.push(format!("PYFREEZE_SPEC={}", path.display()));
    }
    let destdir = args
        .destdir
        .map(pyfreeze_gen::normalize_path)
        .transpose()
        .map_err(|e| e.to_string())?;
    let installed = match &destdir {
        Some(dir) => dir.join(prefix.strip_prefix("/").unwrap_or(&prefix)),
        None => prefix.clone(),
    };
    if args.ccache {
        let cc = tree_make_vars(&tree, &["CC"])?.remove(0);
        make_vars.extend(Ccache::make_var(&cc));
    }
    let make = |target: Option<&str>| {
        let mut cmd = Command::new("make");
        match target {
            Some(target) => cmd.arg(target),
            None => cmd.arg(format!("-j{}", args.jobs)),
        };
        cmd.args(&make_vars).current_dir(&tree);
        if args.ccache {
            Ccache::env(&mut cmd, &tree)?;
        }
        Ok::<_, String>(cmd)
    };
    step(
        &format!("make -j{}", args.jobs),
        &logs.join("make.log"),
        &mut make(None)?,
    )?;
    let mut install = make(Some("install"))?;
    if let Some(dir) = &destdir {
        install.arg(format!("DESTDIR={}", dir.display()));
    }
    step("make install", &logs.join("install.log"), &mut install)?;
    if let Some(plan) = &plan {
        check_built_in(&installed, args.minor, plan)?;
    }
    install_build_tree_archives(&tree, destdir.as_deref())?;
    let record = installed.join(format!("lib/python{}/pyfreeze-build.txt", args.minor));
    let mut text = format!(
        "CPython {upstream} built by pyfreeze {} {what}\nsource: {}\n",
        env!("CARGO_PKG_VERSION"),
        tarball.file_name().unwrap_or_default().to_string_lossy()
    );
    if let Some(spec) = args.spec {
        text.push_str(&format!("spec: {}\n", spec.display()));
    }
    let text = match &plan {
        Some(plan) => format!("{text}built in: {}\n", plan.built_in.join(" ")),
        None => text,
    };
    std::fs::write(&record, text).map_err(|e| format!("{}: {e}", record.display()))?;
    if !args.plain {
        report_sizes(&tree, &installed, args.minor)?;
    }
    eprintln!(
        "pyfreeze: CPython {upstream} installed in {} ({:.0}s); recorded in {}",
        installed.display(),
        started.elapsed().as_secs_f64(),
        record.display()
    );
    Ok(())
}

/// Writes `lib/pythonX.Y/pyfreeze-sizes.tsv` of an install: what the table linked into it
/// holds, by top-level package (bytecode, source, data, deep-frozen code objects), and prints
/// the totals.
fn report_sizes(tree: &Path, installed: &Path, minor: &str) -> Result<(), String> {
    let rows = crate::sizes::of_cpython_tree(&tree.join("Python/frozen_ext"))?;
    let (text, total) = crate::sizes::table(&rows, true);
    let path = installed.join(format!("lib/python{minor}/pyfreeze-sizes.tsv"));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mb = |n: usize| match n {
        0 => "0".to_string(),
        1..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    };
    eprintln!(
        "pyfreeze: the table in the binary: {} for {} modules (bytecode {}, source {}, data {}, \
         deep-frozen code objects {}); by package in {}",
        mb(total.total()),
        total.modules,
        mb(total.code),
        mb(total.source),
        mb(total.data),
        mb(total.deep),
        path.display()
    );
    Ok(())
}

/// Plans and writes (when its bytes change) `Modules/Setup.local` of a configured tree, and
/// says what is built in and what is not.
fn static_extensions(
    tree: &Path,
    logs: &Path,
    args: &BuildArgs<'_>,
) -> Result<static_ext::Plan, String> {
    let pre = tree.join("Makefile.pre");
    let vars = static_ext::make_vars(
        &std::fs::read_to_string(&pre).map_err(|e| format!("{}: {e}", pre.display()))?,
    );
    let cc = vars
        .get("CC")
        .and_then(|cc| cc.split_whitespace().next())
        .unwrap_or("cc");
    let plan = static_ext::plan(
        tree,
        args.minor,
        args.allow_shared_extensions,
        &static_ext::Archives::new(cc),
    )?;
    let setup_local = tree.join("Modules/Setup.local");
    let changed = pyfreeze_gen::write_if_changed(&setup_local, plan.setup_local.as_bytes())
        .map_err(|e| format!("{}: {e}", setup_local.display()))?;
    if changed {
        // The Makefile from the Setup files, by Makefile.pre's own rule: make would read the
        // old Makefile first, and one made from a bad Setup.local cannot be read at all.
        step(
            "makesetup (Modules/Setup.local changed)",
            &logs.join("makesetup.log"),
            Command::new("make")
                .args(["-f", "Makefile.pre", "Makefile"])
                .current_dir(tree),
        )?;
    }
    eprintln!(
        "pyfreeze: {} extension modules built into libpython ({}); left out: {}",
        plan.built_in.len(),
        setup_local.display(),
        plan.excluded
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (_, why) in &plan.not_built_in {
        eprintln!("pyfreeze: warning: not built in (--allow-shared-extensions): {why}");
    }
    Ok(plan)
}

/// The installed interpreter must list every planned module in `sys.builtin_module_names`.
fn check_built_in(prefix: &Path, minor: &str, plan: &static_ext::Plan) -> Result<(), String> {
    let python = prefix.join(format!("bin/python{minor}"));
    let out = Command::new(&python)
        .args([
            "-I",
            "-S",
            "-c",
            "import sys; print(' '.join(sys.builtin_module_names))",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} does not start:\n{}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let built: Vec<&str> = text.split_whitespace().collect();
    let absent: Vec<&str> = plan
        .built_in
        .iter()
        .map(String::as_str)
        .filter(|m| !built.contains(m))
        .collect();
    if !absent.is_empty() {
        return Err(format!(
            "{}: planned as built-in but not in sys.builtin_module_names: {}; see the tree's Modules/Setup.local and the make log",
            python.display(),
            absent.join(" ")
        ));
    }
    Ok(())
}

/// Installs the files of CPython's build tree that `MODLIBS` names (relative paths: a static
/// build's `Modules/_decimal/libmpdec/libmpdec.a`, `Modules/expat/libexpat.a`, 3.12+'s
/// `Modules/_hacl/libHacl_Hash_SHA2.a`) under `LIBPL`, at the same relative path: the static
/// libraries of built-in modules, which `make install` leaves behind, so that a program linking
/// the installed `libpythonX.Y.a` finds them (`pyfreeze.mk` and pyfreeze-build look for such a
/// word under `LIBPL`). Each file is written only when its bytes change. The values come from
/// the tree's Makefile (as make expands them), so nothing of the install has to run.
fn install_build_tree_archives(tree: &Path, destdir: Option<&Path>) -> Result<(), String> {
    let vars = tree_make_vars(tree, &["LIBPL", "MODLIBS"])?;
    let (libpl, modlibs) = (&vars[0], &vars[1]);
    if libpl.is_empty() {
        return Err(format!("{}: the Makefile has no LIBPL", tree.display()));
    }
    let libpl = match destdir {
        Some(dir) => dir.join(
            Path::new(libpl)
                .strip_prefix("/")
                .unwrap_or(Path::new(libpl)),
        ),
        None => PathBuf::from(libpl),
    };
    for word in modlibs.split_whitespace().filter(|w| build_tree_file(w)) {
        if Path::new(word)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!(
                "MODLIBS names {word}, a path outside the build tree's folders; it cannot be installed under LIBPL"
            ));
        }
        let from = tree.join(word);
        let bytes = std::fs::read(&from).map_err(|e| {
            format!(
                "MODLIBS names {word}, a file of the build tree: {}: {e}",
                from.display()
            )
        })?;
        let to = libpl.join(word);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        pyfreeze_gen::write_if_changed(&to, &bytes)
            .map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(())
}

/// The values of Makefile variables of a configured tree, as make expands them.
fn tree_make_vars(tree: &Path, names: &[&str]) -> Result<Vec<String>, String> {
    let rule: String = names.iter().map(|n| format!("$(info $({n}))")).collect();
    let mut child = Command::new("make")
        .args(["-s", "--no-print-directory", "-f", "Makefile", "-f", "-"])
        .arg("pyfreeze-print-vars")
        .current_dir(tree)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run make in {}: {e}", tree.display()))?;
    let script = format!("pyfreeze-print-vars:\n\t{rule}@:\n");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())
        .map_err(|e| format!("make in {}: {e}", tree.display()))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("make in {}: {e}", tree.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let values: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    if !out.status.success() || values.len() != names.len() {
        return Err(format!(
            "cannot read {} from {}/Makefile:\n{}",
            names.join(", "),
            tree.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(values)
}

/// A word of `MODLIBS` that names a file of the build tree (the stray `\` of a multi-line list
/// names none).
fn build_tree_file(word: &str) -> bool {
    word != "\\" && pyfreeze_gen::python::names_build_tree_file(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ccache_goes_in_front_of_the_configured_compiler_once() {
        assert_eq!(Ccache::make_var("gcc").as_deref(), Some("CC=ccache gcc"));
        assert_eq!(
            Ccache::make_var("gcc -pthread ").as_deref(),
            Some("CC=ccache gcc -pthread")
        );
        assert_eq!(Ccache::make_var("ccache gcc"), None);
        assert_eq!(Ccache::make_var("/usr/bin/ccache clang"), None);
        assert_eq!(Ccache::make_var(""), None);
    }

    #[test]
    fn relative_paths_of_modlibs_are_build_tree_files() {
        let modlibs = "-lm Modules/_decimal/libmpdec/libmpdec.a /usr/lib/x86_64-linux-gnu/libz.a \\ -ldl Modules/_hacl/libHacl_Hash_SHA2.a Modules/x.o -Wl,-Bstatic libfoo.a";
        let found: Vec<&str> = modlibs
            .split_whitespace()
            .filter(|w| build_tree_file(w))
            .collect();
        assert_eq!(
            found,
            [
                "Modules/_decimal/libmpdec/libmpdec.a",
                "Modules/_hacl/libHacl_Hash_SHA2.a",
                "Modules/x.o"
            ]
        );
    }

    #[test]
    fn make_expands_the_trees_variables() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::write(
            tree.path().join("Makefile"),
            "prefix=/opt/py\nVERSION=3.13\nLIBPL=$(prefix)/lib/python$(VERSION)/config\n\
             LOCALMODLIBS=Modules/expat/libexpat.a -lm\nMODLIBS=$(LOCALMODLIBS) $(BASEMODLIBS)\n\
             all:\n\tfalse\n",
        )
        .unwrap();
        let vars = tree_make_vars(tree.path(), &["LIBPL", "MODLIBS"]).unwrap();
        assert_eq!(
            vars,
            [
                "/opt/py/lib/python3.13/config",
                "Modules/expat/libexpat.a -lm"
            ]
        );
        let e = tree_make_vars(&tree.path().join("none"), &["LIBPL"]).unwrap_err();
        assert!(e.contains("none"), "{e}");
    }

    #[test]
    fn build_spec_adds_the_roots_of_a_spec_to_the_stdlib() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("site/pkg")).unwrap();
        std::fs::write(tmp.path().join("site/pkg/__init__.py"), "").unwrap();
        let spec = tmp.path().join("extra.toml");
        std::fs::write(
            &spec,
            "origin_map = [\"site=/opt/py/lib/python3.13/site-packages\"]\n\
             [[root]]\npath = \"site\"\n",
        )
        .unwrap();
        let text = build_spec(Some(&spec)).unwrap();
        let merged: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(merged["stdlib"].as_bool(), Some(true));
        assert_eq!(merged["runtime"].as_bool(), Some(true));
        let root = &merged["root"].as_array().unwrap()[0]["path"];
        assert_eq!(
            root.as_str(),
            Some(&*tmp.path().join("site").to_string_lossy())
        );
        assert!(
            text.contains("/opt/py/lib/python3.13/site-packages"),
            "{text}"
        );
        // Without a spec: the stdlib's own file, byte for byte.
        assert_eq!(
            build_spec(None).unwrap(),
            include_str!("../../../build-support/cpython-stdlib.toml")
        );
    }

    #[test]
    fn build_spec_refuses_a_spec_that_drops_the_stdlib_or_is_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = tmp.path().join("extra.toml");
        std::fs::write(&spec, "stdlib = false\n[[root]]\npath = \".\"\n").unwrap();
        let err = build_spec(Some(&spec)).unwrap_err();
        assert!(
            err.contains("extra.toml") && err.contains("stdlib = false"),
            "{err}"
        );
        std::fs::write(&spec, "embed_bytecode = false\n").unwrap();
        let err = build_spec(Some(&spec)).unwrap_err();
        assert!(
            err.contains("extra.toml") && err.contains("`embed_bytecode` is the build's"),
            "{err}"
        );
        std::fs::write(&spec, "no_such_key = 1\n").unwrap();
        let err = build_spec(Some(&spec)).unwrap_err();
        assert!(
            err.contains("extra.toml") && err.contains("no_such_key"),
            "{err}"
        );
        let err = build_spec(Some(&tmp.path().join("missing.toml"))).unwrap_err();
        assert!(err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn every_patch_has_its_header() {
        for s in SERIES {
            for (name, text) in s.patches {
                assert!(
                    text.contains("\nDescription: ") || text.starts_with("Description: "),
                    "{name}: no Description header"
                );
                assert!(text.contains("\nWhy: "), "{name}: no Why header");
                assert!(text.contains("\nTouches: "), "{name}: no Touches header");
            }
        }
    }

    #[test]
    fn versions_order_numerically() {
        let mut v = vec!["3.13.5-2+deb13u5", "3.13.18-1", "3.13.15-1"];
        v.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
        assert_eq!(v, vec!["3.13.18-1", "3.13.15-1", "3.13.5-2+deb13u5"]);
    }

    #[test]
    fn every_series_belongs_to_the_version_that_names_it() {
        let named: Vec<&str> = pyfreeze_gen::versions::SUPPORTED
            .iter()
            .filter_map(|v| v.patch_series)
            .collect();
        let embedded: Vec<&str> = SERIES.iter().map(|s| s.minor).collect();
        assert_eq!(
            named, embedded,
            "versions.rs patch_series vs cpython-patches/*/series"
        );
        for s in SERIES {
            assert!(PythonVersion::parse(s.minor).is_some(), "{}", s.minor);
        }
    }

    #[test]
    fn every_patch_file_is_in_its_series() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cpython-patches");
        for s in SERIES {
            let listed = series_names(s.series_file);
            let dir = root.join(s.minor);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name != "series")
                .collect();
            files.sort();
            for file in &files {
                assert!(
                    listed.contains(&file.as_str()),
                    "{}/{file} is not listed in its series file",
                    dir.display()
                );
            }
            assert_eq!(files.len(), listed.len(), "{}: {listed:?}", dir.display());
        }
    }
}
