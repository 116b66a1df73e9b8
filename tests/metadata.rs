//! `importlib.metadata` from the table: real PyPI distributions (attrs, which reads its own
//! version through `importlib.metadata`, and pyflakes, whose console script is an entry point)
//! installed into a folder with pip, frozen with their `*.dist-info` into `examples/embed-c`
//! (stock libpython) on 3.10-3.13, and run with that folder gone. What the frozen program sees
//! must be what the same script sees with the folder on `sys.path`.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{
    assert_metadata_agrees, build_embed_c_with, metadata_report, pip_install_target, pyfreeze_bin,
    python, run_ok, MetadataExpectations, METADATA_WHEELS,
};

/// `pip install --target` of the cached wheels into `site` (offline).
fn install_site(minor: u32, site: &Path) {
    pip_install_target(&python(minor), site, METADATA_WHEELS);
}

/// The embed-c example with `site` frozen as a second root (selected by include patterns, so
/// each metadata folder is kept because its RECORD lists frozen files).
fn build_embed_c(minor: u32, dir: &Path) -> PathBuf {
    install_site(minor, &dir.join("site"));
    build_embed_c_with(
        minor,
        dir,
        "[\"app=/embed-c/app\", \"site=/embed-c/site\"]",
        "[[root]]\npath = \"site\"\ninclude = [\"attr\", \"attrs\", \"pyflakes\"]\n",
    )
}

fn check(minor: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("embed-c");
    let binary = build_embed_c(minor, &dir);
    // The reference: the same script with the installed folder on sys.path.
    let site = dir.join("site");
    let mut plain = Command::new(python(minor));
    plain.args(["-I", "-S"]);
    let from_files = metadata_report(plain, &[&site]);
    // Frozen, with the installed folder out of reach.
    std::fs::rename(&site, dir.join("site.moved")).unwrap();
    let mut embedded = Command::new(&binary);
    embedded.arg("--run");
    let frozen = metadata_report(embedded, &[]);

    let expect = MetadataExpectations {
        minor,
        dist_class: "PyfreezeDistribution",
        loader: "PyfreezeLoader",
        attr_file: "/embed-c/site/attr/__init__.py",
    };
    assert_metadata_agrees(&frozen, &from_files, &expect);
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
