//! `importlib.metadata` from the table: real PyPI distributions (attrs, which reads its own
//! version through `importlib.metadata`, and pyflakes, whose console script is an entry point)
//! installed into a folder with pip, frozen with their `*.dist-info` into `examples/embed-c`
//! (stock libpython) on 3.10-3.13, and run with that folder gone. What the frozen program sees
//! must be what the same script sees with the folder on `sys.path`.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{
    copy_tree, make_example, pyfreeze_bin, pypi_wheels, python, repo, run, run_ok,
};
use serde_json::Value;

const WHEELS: &[&str] = &["attrs==25.3.0", "pyflakes==3.2.0"];

/// `pip install --target` of the cached wheels into `site` (offline).
fn install_site(minor: u32, site: &Path) {
    let wheels = pypi_wheels(&python(minor), WHEELS);
    run_ok(
        Command::new(python(minor))
            .args(["-m", "pip", "install", "--no-deps", "--no-index", "-q"])
            .arg("--target")
            .arg(site)
            .args(&wheels),
    );
}

/// Runs `tests/support/check_metadata.py` with `cmd` (the script path and its arguments are
/// added) in an empty folder and returns its report.
fn report(mut cmd: Command, args: &[&Path]) -> Value {
    let empty = tempfile::tempdir().unwrap();
    let script = empty.path().join("check_metadata.py");
    std::fs::copy(repo().join("tests/support/check_metadata.py"), &script).unwrap();
    let out = run(cmd.arg(&script).args(args).current_dir(empty.path()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_metadata.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("bad report ({e}): {stdout}"))
}

/// The embed-c example with `site` frozen as a second root (selected by include patterns, so
/// each metadata folder is kept because its RECORD lists frozen files).
fn build_embed_c(minor: u32, dir: &Path) -> PathBuf {
    copy_tree(&repo().join("examples/embed-c"), dir);
    let _ = std::fs::remove_dir_all(dir.join("build"));
    install_site(minor, &dir.join("site"));
    let spec = dir.join("pyfreeze.toml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "origin_map = [\"app=/embed-c/app\"]",
        "origin_map = [\"app=/embed-c/app\", \"site=/embed-c/site\"]",
    );
    std::fs::write(
        &spec,
        text + "\n[[root]]\npath = \"site\"\ninclude = [\"attr\", \"attrs\", \"pyflakes\"]\n",
    )
    .unwrap();
    run_ok(&mut make_example(dir, minor));
    dir.join(format!("build/3.{minor}/embed-c"))
}

fn check(minor: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("embed-c");
    let binary = build_embed_c(minor, &dir);
    // The reference: the same script with the installed folder on sys.path.
    let site = dir.join("site");
    let mut plain = Command::new(python(minor));
    plain.args(["-I", "-S"]);
    let from_files = report(plain, &[&site]);
    // Frozen, with the installed folder out of reach.
    std::fs::rename(&site, dir.join("site.moved")).unwrap();
    let mut embedded = Command::new(&binary);
    embedded.arg("--run");
    let frozen = report(embedded, &[]);

    let label = format!("3.{minor}");
    let (f, p) = (frozen.as_object().unwrap(), from_files.as_object().unwrap());
    for (key, value) in p {
        if ["dist_class", "init_located", "attr_file", "loader"].contains(&key.as_str()) {
            continue;
        }
        assert_eq!(
            f.get(key),
            Some(value),
            "{label}: {key} frozen and from files"
        );
    }
    assert_eq!(f.len(), p.len(), "{label}: {frozen} / {from_files}");
    // What the files say, so that agreeing on nothing cannot pass.
    assert_eq!(p["attr_version"], "25.3.0");
    assert_eq!(
        p["version"],
        serde_json::json!({"attrs": "25.3.0", "pyflakes": "3.2.0"})
    );
    assert_eq!(p["distributions"], serde_json::json!(["attrs", "pyflakes"]));
    // 3.10 reads only `top_level.txt`, which attrs' wheel lacks; 3.11+ infer from `files`.
    let packages = match minor {
        10 => serde_json::json!({"pyflakes": ["pyflakes"]}),
        _ => serde_json::json!({"attr": ["attrs"], "attrs": ["attrs"], "pyflakes": ["pyflakes"]}),
    };
    assert_eq!(p["packages_distributions"], packages, "{label}");
    assert_eq!(p["entry_point_target"], "pyflakes.api.main");
    assert_eq!(p["pyflakes_exit"], true);
    assert_eq!(p["pyflakes_said"], "SAMPLE:1:1: 'os' imported but unused\n");
    assert!(p["requires"]["attrs"].as_array().unwrap().len() > 5);
    assert!(p["files"]["pyflakes"]
        .as_array()
        .unwrap()
        .contains(&"pyflakes/api.py".into()));
    assert_eq!(p["dist_class"], "PathDistribution", "{label}");
    // Frozen: the table's distributions, whose files locate to the frozen origins.
    assert_eq!(f["dist_class"], "PyfreezeDistribution", "{label}");
    assert_eq!(f["attr_file"], "/embed-c/site/attr/__init__.py", "{label}");
    assert_eq!(f["init_located"], f["attr_file"], "{label}");
    assert_eq!(f["loader"], "PyfreezeLoader", "{label}");
    assert_eq!(p["init_exists"], true, "{label}");
    assert_eq!(p["init_head"], "# SPDX-License-Identifier: MIT", "{label}");
    assert_eq!(p["metadata_file_head"], "Metadata-Version: 2.1", "{label}");
}

#[test]
fn metadata_of_pypi_distributions_frozen_3_10() {
    check(10);
}

#[test]
fn metadata_of_pypi_distributions_frozen_3_11() {
    check(11);
}

#[test]
fn metadata_of_pypi_distributions_frozen_3_12() {
    check(12);
}

#[test]
fn metadata_of_pypi_distributions_frozen_3_13() {
    check(13);
}

/// `pyfreeze list` shows the metadata folders a root's modules own: with include patterns, a
/// folder whose RECORD lists none of the frozen files stays out; `--no-metadata` drops all.
#[test]
fn list_shows_the_distributions_of_the_frozen_modules() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    install_site(11, &site);
    let list = |args: &[&str]| {
        run_ok(
            Command::new(pyfreeze_bin())
                .args(["list", "--python"])
                .arg(python(11))
                .arg("--root")
                .arg(&site)
                .args(args),
        )
    };
    let kinds = |text: &str, kind: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.split('\t').nth(1) == Some(kind))
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    let all = list(&[]);
    assert_eq!(
        kinds(&all, "distribution"),
        ["attrs-25.3.0.dist-info", "pyflakes-3.2.0.dist-info"],
        "{all}"
    );
    let origin = format!("{}/attrs-25.3.0.dist-info", site.display());
    assert!(
        all.lines()
            .any(|l| l == format!("attrs-25.3.0.dist-info\tdistribution\t{origin}")),
        "{all}"
    );
    let metadata = kinds(&all, "metadata");
    for file in ["METADATA", "RECORD", "licenses/LICENSE"] {
        assert!(
            metadata.contains(&format!("attrs-25.3.0.dist-info/{file}")),
            "{all}"
        );
    }
    let only_pyflakes = list(&["--include", "pyflakes"]);
    assert_eq!(
        kinds(&only_pyflakes, "distribution"),
        ["pyflakes-3.2.0.dist-info"],
        "{only_pyflakes}"
    );
    let off = list(&["--no-metadata"]);
    assert!(kinds(&off, "distribution").is_empty(), "{off}");
    assert!(kinds(&off, "module").contains(&"attr.validators".to_string()));
}
