//! `pyfreeze cpython`: fetch CPython's source (Debian source packages), apply pyfreeze's patch
//! series strictly, and build an interpreter whose whole pure stdlib is frozen.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use pyfreeze_gen::PythonVersion;

/// One patch series, embedded so the binary works outside a checkout.
pub struct Series {
    pub minor: &'static str,
    /// `series` file as in the repository.
    pub series_file: &'static str,
    pub patches: &'static [(&'static str, &'static str)],
}

macro_rules! patch {
    ($minor:literal, $name:literal) => {
        (
            $name,
            include_str!(concat!("../../../cpython-patches/", $minor, "/", $name)),
        )
    };
}

pub const SERIES: &[Series] = &[Series {
    minor: "3.11",
    series_file: include_str!("../../../cpython-patches/3.11/series"),
    patches: &[
        patch!("3.11", "0001-extended-frozen-table.patch"),
        patch!("3.11", "0002-frozen-importer-origin-source-resources.patch"),
        patch!("3.11", "0003-traceback-source-lines.patch"),
        patch!("3.11", "0004-build-extended-table.patch"),
    ],
}];

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
];

const MARKER: &str = "Tools/pyfreeze/PATCHED";

/// The names listed in a `series` file, in order.
pub fn series_names(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn series_for(version: &PythonVersion) -> Result<&'static Series, String> {
    let name = version.name();
    SERIES.iter().find(|s| s.minor == name).ok_or_else(|| {
        let have: Vec<_> = SERIES.iter().map(|s| s.minor).collect();
        format!(
            "pyfreeze has no patch series for CPython {name} (series exist for {}); use the stock-libpython mode for it",
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

fn git_apply(tree: &Path, args: &[&str], patches: &[PathBuf]) -> std::process::Output {
    let ceiling = tree.parent().unwrap_or(tree);
    Command::new("git")
        .arg("apply")
        .args(args)
        .args(patches)
        .current_dir(tree)
        // Never let git discover a repository above the tree and re-root the paths.
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .output()
        .unwrap_or_else(|e| {
            eprintln!("error: cannot run git (needed to apply patches strictly): {e}");
            std::process::exit(1)
        })
}

/// Applies (or with `check`, only checks) the series for the tree's version. Leaves the tree
/// untouched on any failure.
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
    let git_status = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(tree)
        .env("GIT_CEILING_DIRECTORIES", tree.parent().unwrap_or(tree))
        .output();
    if let Ok(out) = git_status {
        if out.status.success() && !out.stdout.is_empty() {
            return Err(format!(
                "{} has uncommitted changes (git status); patch a clean tree",
                tree.display()
            ));
        }
    }
    let tmp = tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let mut files = Vec::new();
    for (name, text) in series.patches {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push(path);
    }
    let all = git_apply(tree, &["--check"], &files);
    if !all.status.success() {
        // Already applied? Then the reverse applies.
        if git_apply(tree, &["--check", "--reverse"], &files)
            .status
            .success()
        {
            return Err(format!(
                "{} already has the {} series applied; start from a fresh extraction",
                tree.display(),
                series.minor
            ));
        }
        // Name the first patch that fails, on top of the ones before it.
        for n in 1..=files.len() {
            let out = git_apply(tree, &["--check"], &files[..n]);
            if !out.status.success() {
                return Err(format!(
                    "patch {} of the {} series does not apply to CPython {full} in {} (strictly, no fuzz):\n{}\n  \
                     the tree is modified, or this patch level changed the code the patch touches; \
                     the series was made against the versions named in cpython-patches/{}/series",
                    series.patches[n - 1].0,
                    series.minor,
                    tree.display(),
                    String::from_utf8_lossy(&out.stderr).trim_end(),
                    series.minor
                ));
            }
        }
    }
    if check {
        return Ok(format!(
            "the {} series applies to CPython {full} in {}",
            series.minor,
            tree.display()
        ));
    }
    let out = git_apply(tree, &[], &files);
    if !out.status.success() {
        return Err(format!(
            "git apply failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    let tools = tree.join("Tools/pyfreeze");
    std::fs::create_dir_all(&tools).map_err(|e| format!("{}: {e}", tools.display()))?;
    for (name, text) in TOOLS {
        std::fs::write(tools.join(name), text)
            .map_err(|e| format!("{}: {e}", tools.join(name).display()))?;
    }
    let marker = format!(
        "CPython {full}, pyfreeze {} series {}:\n{}\n",
        env!("CARGO_PKG_VERSION"),
        series.minor,
        series_names(series.series_file).join("\n")
    );
    std::fs::write(tree.join(MARKER), marker).map_err(|e| format!("{MARKER}: {e}"))?;
    Ok(format!(
        "applied the {} series ({} patches) to CPython {full} in {}",
        series.minor,
        series.patches.len(),
        tree.display()
    ))
}

/// Finds (or downloads with `apt-get source`) the pristine upstream tarball of `python3.X`.
pub fn fetch(minor: &str, cache: &Path, debian_version: Option<&str>) -> Result<PathBuf, String> {
    let dir = cache.join("sources");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let package = format!("python{minor}");
    let upstream = debian_version.map(|v| v.split('-').next().unwrap_or(v).to_string());
    let find = || -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                name.starts_with(&format!("{package}_"))
                    && name.contains(".orig.tar.")
                    && upstream
                        .as_ref()
                        .is_none_or(|u| name.starts_with(&format!("{package}_{u}.orig")))
            })
            .collect();
        found.sort();
        found.pop()
    };
    if let Some(path) = find() {
        return Ok(path);
    }
    let spec = match debian_version {
        Some(v) => format!("{package}={v}"),
        None => package.clone(),
    };
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
        let err = String::from_utf8_lossy(&out.stderr);
        let hint = if err.contains("deb-src") || err.contains("Unable to find a source package") {
            "run ci/enable-deb-src.sh (as root) to enable Debian's source packages"
        } else {
            "check the version with `apt-cache showsrc` and the network access to the package archive"
        };
        return Err(format!(
            "apt-get source {spec} failed:\n{}\n  hint: {hint}",
            err.trim_end()
        ));
    }
    find().ok_or_else(|| {
        format!(
            "apt-get source {spec} ran but left no .orig tarball in {}",
            dir.display()
        )
    })
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
}

/// fetch → extract → patch → configure → make → make install.
pub fn build(args: &BuildArgs<'_>) -> Result<(), String> {
    let version = PythonVersion::parse(args.minor)
        .ok_or_else(|| format!("--version {}: not a supported CPython version", args.minor))?;
    series_for(version)?;
    let started = Instant::now();
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
    let work = args.cache.join("build").join(format!("cpython-{upstream}"));
    let tree = work.join(format!("Python-{upstream}"));
    let logs = work.join("logs");
    let prefix = pyfreeze_gen::normalize_path(args.prefix).map_err(|e| e.to_string())?;
    let self_exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the pyfreeze binary: {e}"))?;
    eprintln!(
        "pyfreeze: building CPython {upstream} with the {} series into {}",
        args.minor,
        prefix.display()
    );

    // A tree patched by an earlier run is reused (make is incremental); anything else is
    // extracted afresh.
    if !tree.join(MARKER).exists() {
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
        let msg = patch(&tree, false)?;
        eprintln!("pyfreeze: {msg}");
    } else {
        std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
        eprintln!("pyfreeze: reusing the patched tree {}", tree.display());
    }
    let configured = std::fs::read_to_string(tree.join("config.status"))
        .map(|s| s.contains(&format!("--prefix={}", prefix.display())))
        .unwrap_or(false);
    if !configured {
        step(
            "configure",
            &logs.join("configure.log"),
            Command::new("./configure")
                .arg(format!("--prefix={}", prefix.display()))
                .arg("--with-ensurepip=no")
                .args(args.configure_args)
                .current_dir(&tree),
        )?;
    }
    let make_vars = [format!("PYFREEZE={}", self_exe.display())];
    step(
        &format!("make -j{}", args.jobs),
        &logs.join("make.log"),
        Command::new("make")
            .arg(format!("-j{}", args.jobs))
            .args(&make_vars)
            .current_dir(&tree),
    )?;
    step(
        "make install",
        &logs.join("install.log"),
        Command::new("make")
            .arg("install")
            .args(&make_vars)
            .current_dir(&tree),
    )?;
    let record = prefix.join(format!("lib/python{}/pyfreeze-build.txt", args.minor));
    let text = format!(
        "CPython {upstream} built by pyfreeze {} with the {} patch series\nsource: {}\n",
        env!("CARGO_PKG_VERSION"),
        args.minor,
        tarball.file_name().unwrap_or_default().to_string_lossy()
    );
    std::fs::write(&record, text).map_err(|e| format!("{}: {e}", record.display()))?;
    eprintln!(
        "pyfreeze: CPython {upstream} installed in {} ({:.0}s); recorded in {}",
        prefix.display(),
        started.elapsed().as_secs_f64(),
        record.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_series_match_the_series_files() {
        for s in SERIES {
            let names: Vec<&str> = s.patches.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                series_names(s.series_file),
                "cpython-patches/{}/series",
                s.minor
            );
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
    fn every_series_belongs_to_a_supported_version() {
        for s in SERIES {
            assert!(PythonVersion::parse(s.minor).is_some(), "{}", s.minor);
        }
    }
}
