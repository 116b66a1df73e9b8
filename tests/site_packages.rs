//! `site_packages`: real PyPI distributions installed with `pip install --target` into two
//! site-packages folders, frozen into `examples/embed-c` (stock libpython) on 3.11 and 3.13,
//! and run with those folders gone.
//!
//! - `site` (`precedence = "table"`, the default): attrs and pyflakes (pure), pytest-cov (pure,
//!   with a `.pth` file) and MarkupSafe (an extension module: reported, left out whole);
//! - `site-path` (`precedence = "path"`): packaging 24.2;
//! - `newer`, never frozen, put on `sys.path` at run time: attrs 25.4.0 and packaging 26.4.
//!
//! With `newer` on `sys.path` the table's attrs still imports (and `importlib.metadata` says
//! 25.3.0), while the installed packaging wins, its submodules and its metadata with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{
    build_embed_c_with, first_difference, pip_install_target, pyfreeze_bin, pypi_wheels, python,
    run, run_ok, script_report, snapshot,
};
use serde_json::{json, Value};

const SITE: &[&str] = &[
    "attrs==25.3.0",
    "pyflakes==3.2.0",
    "pytest-cov==5.0.0",
    "markupsafe==3.0.2",
];
const SITE_PATH: &[&str] = &["packaging==24.2"];
const NEWER: &[&str] = &["attrs==25.4.0", "packaging==26.4"];

/// `pip install --target` of the cached wheels into `dir` (offline).
fn install(minor: u32, dir: &Path, requirements: &[&str]) {
    pip_install_target(&python(minor), dir, requirements);
}

/// The embed-c example with both folders frozen.
fn build_embed_c(minor: u32, dir: &Path) -> PathBuf {
    install(minor, &dir.join("site"), SITE);
    install(minor, &dir.join("site-path"), SITE_PATH);
    build_embed_c_with(
        minor,
        dir,
        "[\"app=/embed-c/app\", \"site=/embed-c/site\", \"site-path=/embed-c/site-path\"]",
        "[[site_packages]]\npath = \"site\"\n\n\
         [[site_packages]]\npath = \"site-path\"\nprecedence = \"path\"\n",
    )
}

/// Runs `tests/support/check_site.py` with `cmd` in an empty folder, `folders` first on
/// `sys.path`, and returns its report.
fn report(cmd: Command, folders: &[&Path]) -> Value {
    script_report(cmd, "check_site.py", folders)
}

/// What `pyfreeze list` says of the two folders: distributions frozen, and what is skipped.
fn check_list(minor: u32, dir: &Path) {
    let list = run_ok(
        Command::new(pyfreeze_bin())
            .arg("list")
            .arg("--spec")
            .arg(dir.join("pyfreeze.toml"))
            .arg("--python")
            .arg(python(minor)),
    );
    let of_kind = |kind: &str| -> Vec<&str> {
        list.lines()
            .filter(|l| l.split('\t').nth(1) == Some(kind))
            .map(|l| l.split('\t').next().unwrap())
            .collect()
    };
    assert_eq!(
        of_kind("distribution"),
        [
            "attrs-25.3.0.dist-info",
            "packaging-24.2.dist-info",
            "pyflakes-3.2.0.dist-info",
            "pytest_cov-5.0.0.dist-info"
        ],
        "{list}"
    );
    let site = dir.join("site");
    let skipped: Vec<(&str, &str, &str)> = list
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("skipped"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0], f[2], f[3])
        })
        .collect();
    let names: Vec<&str> = skipped.iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        ["MarkupSafe-3.0.2.dist-info", "bin", "pytest-cov.pth"],
        "{list}"
    );
    let (_, path, why) = skipped[0];
    assert_eq!(
        path,
        site.join("MarkupSafe-3.0.2.dist-info")
            .display()
            .to_string()
    );
    assert!(
        why.starts_with(&format!(
            "has extension modules (`markupsafe/_speedups.cpython-3{minor}-x86_64-linux-gnu.so`): \
             not frozen, neither its pure modules nor its data or metadata, so the distribution \
             stays whole on disk"
        )),
        "{why}"
    );
    assert!(
        skipped[2]
            .2
            .starts_with("a `.pth` file (installed by pytest_cov-5.0.0.dist-info): not run"),
        "{list}"
    );
    let modules = of_kind("package");
    for name in ["attr", "attrs", "pyflakes", "pytest_cov", "packaging"] {
        assert!(modules.contains(&name), "{name} not frozen:\n{list}");
    }
    assert!(
        !list.lines().any(|l| l.starts_with("markupsafe")),
        "no part of MarkupSafe is frozen:\n{list}"
    );
    // The data and metadata of a pure distribution come along.
    assert!(of_kind("data").contains(&"attr/py.typed"), "{list}");
    assert!(
        of_kind("metadata").contains(&"pytest_cov-5.0.0.dist-info/entry_points.txt"),
        "{list}"
    );
}

fn module<'a>(report: &'a Value, name: &str) -> &'a Value {
    &report["modules"][name]
}

fn check(minor: u32) {
    let label = format!("3.{minor}");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("embed-c");
    let binary = build_embed_c(minor, &dir);
    check_list(minor, &dir);
    let newer = tmp.path().join("newer");
    install(minor, &newer, NEWER);

    // The reference: the same script with the installed folders on sys.path.
    let (site, site_path) = (dir.join("site"), dir.join("site-path"));
    let mut plain = Command::new(python(minor));
    plain.args(["-I", "-S"]);
    let from_files = report(plain, &[&site, &site_path]);
    let versions = json!({
        "attrs": "25.3.0", "pyflakes": "3.2.0", "pytest-cov": "5.0.0",
        "MarkupSafe": "3.0.2", "packaging": "24.2",
    });
    assert_eq!(from_files["versions"], versions, "{label}");

    // Frozen, with both folders out of reach.
    let moved = dir.join("site.moved");
    std::fs::rename(&site, &moved).unwrap();
    std::fs::remove_dir_all(&site_path).unwrap();
    let embedded = || {
        let mut cmd = Command::new(&binary);
        cmd.arg("--run");
        cmd
    };
    let frozen = report(embedded(), &[]);
    let mut without_markupsafe = versions.clone();
    without_markupsafe["MarkupSafe"] = Value::Null;
    assert_eq!(frozen["versions"], without_markupsafe, "{label}: {frozen}");
    for name in [
        "attr",
        "attr.validators",
        "pyflakes",
        "pytest_cov",
        "packaging",
        "packaging.version",
    ] {
        assert_eq!(
            module(&frozen, name)["loader"],
            "PyfreezeLoader",
            "{label}: {name}"
        );
        assert_eq!(
            module(&frozen, name)["version"],
            module(&from_files, name)["version"],
            "{label}: {name}"
        );
    }
    assert_eq!(
        module(&frozen, "packaging")["file"],
        "/embed-c/site-path/packaging/__init__.py"
    );
    // MarkupSafe stayed on disk, whole: gone with its folder.
    assert_eq!(
        module(&frozen, "markupsafe")["error"],
        "ModuleNotFoundError"
    );
    assert_eq!(
        frozen["distributions"],
        json!(["attrs", "packaging", "pyflakes", "pytest-cov"])
    );
    assert_eq!(frozen["pth_ran"], false);
    assert_eq!(frozen["packaging_parse"], "1.0.post1");

    // Newer copies on sys.path: the table's attrs still wins; the installed packaging wins,
    // its submodule and its metadata too.
    let both = report(embedded(), &[&newer]);
    assert_eq!(
        module(&both, "attr")["version"],
        "25.3.0",
        "{label}: {both}"
    );
    assert_eq!(module(&both, "attr")["loader"], "PyfreezeLoader");
    assert_eq!(module(&both, "attr.validators")["loader"], "PyfreezeLoader");
    assert_eq!(both["versions"]["attrs"], "25.3.0", "{label}");
    assert_eq!(
        both["distribution_class"]["attrs"], "PyfreezeDistribution",
        "{label}"
    );
    let newer_text = newer.display().to_string();
    for name in ["packaging", "packaging.version"] {
        let m = module(&both, name);
        assert_eq!(m["loader"], "SourceFileLoader", "{label}: {name}: {both}");
        assert!(
            m["file"].as_str().unwrap().starts_with(&newer_text),
            "{label}: {name}: {m}"
        );
    }
    assert_eq!(module(&both, "packaging")["version"], "26.4", "{label}");
    assert_eq!(both["versions"]["packaging"], "26.4", "{label}");
    assert_eq!(
        both["distribution_class"]["packaging"], "PathDistribution",
        "{label}"
    );
    assert_eq!(both["packaging_parse"], "1.0.post1");

    // Newer copies put on sys.path once the table's are imported: the loaded modules stay,
    // and the metadata describes them, not the newer files.
    let then = newer.as_os_str();
    let late = script_report(embedded(), "check_site.py", &["--then".as_ref(), then]);
    assert_eq!(
        late["versions_then"],
        json!({"attrs": "25.3.0", "packaging": "24.2"}),
        "{label}: {late}"
    );
    assert_eq!(late["packaging_then"]["loader"], "PyfreezeLoader");

    // The folder with MarkupSafe back on sys.path: it imports from there, with its extension
    // module, and its metadata; the pure distributions still come from the table.
    let with_site = report(embedded(), &[&moved]);
    let markupsafe = module(&with_site, "markupsafe");
    assert_eq!(
        markupsafe["loader"], "SourceFileLoader",
        "{label}: {with_site}"
    );
    assert!(markupsafe["file"]
        .as_str()
        .unwrap()
        .starts_with(&moved.display().to_string()));
    assert_eq!(with_site["versions"]["MarkupSafe"], "3.0.2", "{label}");
    assert_eq!(module(&with_site, "attr")["loader"], "PyfreezeLoader");
}

#[test]
fn site_packages_frozen_with_both_precedences_3_11() {
    check(11);
}

#[test]
fn site_packages_frozen_with_both_precedences_3_13() {
    check(13);
}

/// Copies a folder tree creating each folder's entries in reverse byte order, so that a walk
/// in the file system's order would meet them otherwise than in the original.
fn copy_tree_reversed(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from).unwrap().flatten().collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
    for e in entries {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree_reversed(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// `--site-packages` gives what the spec key gives, and the output does not depend on the
/// order in which the folder's entries were made; a folder that is not there is an error
/// naming it and the flag, and writes nothing.
#[test]
fn the_site_packages_flag_freezes_the_same_bytes_from_any_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    install(11, &site, SITE);
    let copy = tmp.path().join("copy");
    copy_tree_reversed(&site, &copy);
    let freeze = |folder: &Path, out: &Path| {
        let mut map = folder.as_os_str().to_owned();
        map.push("=/site");
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["freeze", "--quiet", "--python"])
                .arg(python(11))
                .arg("--site-packages")
                .arg(folder)
                .arg("--origin-map")
                .arg(map)
                .arg("--out")
                .arg(out),
        );
        snapshot(out)
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (first, second) = (freeze(&site, &a), freeze(&copy, &b));
    assert_eq!(first_difference(&first, &second), None);
    let manifest: Value = serde_json::from_slice(&first["manifest.json"]).unwrap();
    let dists: Vec<&str> = manifest["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        dists,
        [
            "attrs-25.3.0.dist-info",
            "pyflakes-3.2.0.dist-info",
            "pytest_cov-5.0.0.dist-info"
        ]
    );
    // The same as the key of a spec file.
    let spec = tmp.path().join("pyfreeze.toml");
    std::fs::write(
        &spec,
        "site_packages = \"site\"\norigin_map = [\"site=/site\"]\n",
    )
    .unwrap();
    let c = tmp.path().join("c");
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["freeze", "--quiet", "--spec"])
            .arg(&spec)
            .arg("--python")
            .arg(python(11))
            .arg("--out")
            .arg(&c),
    );
    assert_eq!(first_difference(&first, &snapshot(&c)), None);

    let missing = tmp.path().join("no-such-site");
    let out = run(Command::new(pyfreeze_bin())
        .args(["freeze", "--python"])
        .arg(python(11))
        .arg("--site-packages")
        .arg(&missing)
        .arg("--out")
        .arg(tmp.path().join("d")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "site-packages folder {} is not a folder; check the path in the spec or \
             --site-packages",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(!tmp.path().join("d").exists());
}

/// `pyfreeze trace` puts the site-packages folders on `sys.path`, as it does the roots: an app
/// importing its dependencies traces (attrs imports `inspect`, which start-up does not).
#[test]
fn trace_imports_from_the_site_packages_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    install(11, &site, &["attrs==25.3.0"]);
    let list = run_ok(
        Command::new(pyfreeze_bin())
            .args(["trace", "--quiet", "--python"])
            .arg(python(11))
            .arg("--site-packages")
            .arg(&site)
            .args(["--import", "attr"]),
    );
    assert!(list.contains("    \"inspect\",\n"), "{list}");
    assert!(!list.contains("attr"), "{list}");
}

/// A venv's site-packages, as `python -m venv` and pip make it: pip and setuptools (with its
/// `distutils-precedence.pth`), attrs and wheel from PyPI wheels, and an editable install of
/// a project built by setuptools (PEP 660: an `__editable__` `.pth` and finder). The editable
/// install and the `.pth` files are reported, not frozen; what an exclude pattern leaves
/// out takes its metadata along.
#[test]
fn a_venv_with_an_editable_install() {
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    run_ok(Command::new(python(11)).args(["-m", "venv"]).arg(&venv));
    let venv_python = venv.join("bin/python");
    let wheels = pypi_wheels(&python(11), &["attrs==25.3.0", "wheel==0.45.1"]);
    let pip = |args: &[&std::ffi::OsStr]| {
        run_ok(
            Command::new(&venv_python)
                .args(["-m", "pip", "install", "-q", "--no-index", "--no-deps"])
                .args(args),
        )
    };
    pip(&wheels.iter().map(|w| w.as_os_str()).collect::<Vec<_>>());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("projpkg")).unwrap();
    std::fs::write(project.join("projpkg/__init__.py"), "VALUE = 1\n").unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=64\"]\n\
         build-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"projpkg\"\nversion = \"0.1\"\n",
    )
    .unwrap();
    pip(&[
        "--no-build-isolation".as_ref(),
        "-e".as_ref(),
        project.as_os_str(),
    ]);
    let site = venv.join("lib/python3.11/site-packages");
    let list = run_ok(
        Command::new(pyfreeze_bin())
            .args(["list", "--python"])
            .arg(python(11))
            .arg("--site-packages")
            .arg(&site)
            .args(["--exclude", "pip", "--exclude", "setuptools"])
            .args(["--exclude", "pkg_resources"]),
    );
    let lines = |kind: &str| -> Vec<Vec<&str>> {
        list.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f[1] == kind)
            .collect()
    };
    let skipped = lines("skipped");
    let reason = |name: &str| -> &str {
        skipped
            .iter()
            .find(|f| f[0] == name)
            .unwrap_or_else(|| panic!("{name} is not reported:\n{list}"))[3]
    };
    assert!(
        reason("projpkg-0.1.dist-info").starts_with("an editable install (`__editable__"),
        "{list}"
    );
    assert!(reason("__editable__.projpkg-0.1.pth")
        .starts_with("a `.pth` file (installed by projpkg-0.1.dist-info): not run"));
    let setuptools_pth = reason("distutils-precedence.pth");
    assert!(
        setuptools_pth.starts_with("a `.pth` file (installed by setuptools-"),
        "{setuptools_pth}"
    );
    let modules: Vec<&str> = ["module", "package", "namespace"]
        .iter()
        .flat_map(|kind| lines(kind))
        .map(|f| f[0])
        .collect();
    assert!(
        modules.contains(&"attr") && modules.contains(&"wheel"),
        "{list}"
    );
    assert!(modules.contains(&"_distutils_hack"), "{list}");
    assert!(
        !modules.iter().any(|m| m.starts_with("projpkg")
            || m.starts_with("__editable__")
            || m.starts_with("pip")),
        "{list}"
    );
    let dists: Vec<&str> = lines("distribution").iter().map(|f| f[0]).collect();
    assert!(dists.contains(&"attrs-25.3.0.dist-info"), "{dists:?}");
    assert!(dists.contains(&"wheel-0.45.1.dist-info"), "{dists:?}");
    assert!(!dists
        .iter()
        .any(|d| d.starts_with("pip-") || d.starts_with("projpkg")));
}
