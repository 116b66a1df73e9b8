//! The docs' walkthroughs, run word for word in a fresh folder outside the repository, as a
//! newcomer would: README's quick start, docs/embedding-c.md and docs/embedding-rust.md's
//! PyO3 program.
//!
//! A walkthrough is the fenced blocks of a Markdown file that follow a marker comment:
//!
//! - `<!-- walkthrough: file PATH -->`: the block is written to `PATH` in the folder;
//! - `<!-- walkthrough: run -->`: the block runs in bash (`set -euo pipefail`) in the folder;
//!   `run in checkout` runs it in the repository instead (where the docs say "from this
//!   checkout");
//! - `<!-- walkthrough: output -->`: the block must appear in what the last `run` printed
//!   (stdout and stderr together, as a terminal shows them).
//!
//! All steps share one shell, so variables set in one step are seen by the next, as in a
//! terminal. The environment is a newcomer's: pyenv's `bin` on `PATH`, `PYFREEZE_HOME` naming
//! the checkout (the docs say to set it), `cargo install` installing into the test's own
//! folder, which comes first on `PATH`. `CARGO_TARGET_DIR` is the repository's for the C
//! walkthroughs, so installing pyfreeze reuses the release build `ci/test.sh` made instead of
//! compiling it again, and a folder of its own for a new crate, kept between runs.

use std::process::Command;

use pyfreeze_tests::{repo, run};

#[derive(Debug, PartialEq)]
enum Step {
    File { path: String, text: String },
    Run { in_checkout: bool, text: String },
    Output(String),
}

/// The steps of `markdown`, in order. A marker must be followed by a fenced block.
fn steps(markdown: &str, doc: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(marker) = line
            .strip_prefix("<!-- walkthrough: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().map(|(_, l)| l).unwrap_or("");
        assert!(
            fence.starts_with("```"),
            "{doc}:{}: a walkthrough marker must be followed by a fenced block",
            n + 1
        );
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        steps.push(match marker.split_once(' ') {
            Some(("file", path)) => Step::File {
                path: path.to_string(),
                text,
            },
            None if marker == "run" => Step::Run {
                in_checkout: false,
                text,
            },
            Some(("run", "in checkout")) => Step::Run {
                in_checkout: true,
                text,
            },
            None if marker == "output" => Step::Output(text),
            _ => panic!("{doc}:{}: unknown walkthrough marker `{marker}`", n + 1),
        });
    }
    steps
}

/// Runs the walkthrough of `doc` (relative to the repository) in a fresh folder, with Cargo
/// building in `target` (relative to the repository).
fn walk(doc: &str, target: &str) {
    let markdown = std::fs::read_to_string(repo().join(doc)).unwrap();
    let steps = steps(&markdown, doc);
    assert!(
        steps.iter().any(|s| matches!(s, Step::Run { .. })),
        "{doc} has no walkthrough"
    );
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("walkthrough");
    let cargo_root = dir.path().join("cargo");
    std::fs::create_dir_all(&folder).unwrap();

    // One script: each run step's output is delimited, to be matched by the next output step.
    let mut script = String::from("set -euo pipefail\nexec 2>&1\n");
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::File { path, text } => {
                script += &format!(
                    "cd \"$WALKTHROUGH\" && mkdir -p \"$(dirname '{path}')\" && \
                     cat > '{path}' <<'PYFREEZE_WALKTHROUGH_EOF'\n{text}PYFREEZE_WALKTHROUGH_EOF\n"
                );
            }
            Step::Run { in_checkout, text } => {
                let at = if *in_checkout {
                    "$PYFREEZE_HOME"
                } else {
                    "$WALKTHROUGH"
                };
                script += &format!("cd \"{at}\"\necho '@@ step {i}'\n{text}");
            }
            Step::Output(_) => {}
        }
    }
    let pyenv_root =
        pyfreeze_gen::pyenv::root(std::env::var_os("PYENV_ROOT"), std::env::var_os("HOME"))
            .expect("pyenv's root");
    let path = std::env::join_paths(
        [cargo_root.join("bin"), pyenv_root.join("bin")]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = run(Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&folder)
        .env("PATH", path)
        .env("PYENV_ROOT", &pyenv_root)
        .env("WALKTHROUGH", &folder)
        .env("PYFREEZE_HOME", repo())
        .env("CARGO_INSTALL_ROOT", &cargo_root)
        .env("CARGO_TARGET_DIR", repo().join(target))
        .env_remove("PYFREEZE_PYTHON")
        .env_remove("PYFREEZE")
        .env_remove("CC")
        .env_remove("CFLAGS"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{doc}: the walkthrough failed ({}):\n--- script\n{script}\n--- output\n{stdout}",
        out.status
    );
    // Each output step against what the run step before it printed.
    let mut printed = "";
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Run { .. } => {
                let from = stdout
                    .find(&format!("@@ step {i}\n"))
                    .map(|at| at + format!("@@ step {i}\n").len())
                    .unwrap_or(stdout.len());
                let rest = &stdout[from..];
                printed = &rest[..rest.find("@@ step ").unwrap_or(rest.len())];
            }
            Step::Output(expected) => assert!(
                printed.contains(expected.as_str()),
                "{doc}: step {i} expects\n{expected}\nbut the step before printed\n{printed}"
            ),
            Step::File { .. } => {}
        }
    }
}

#[test]
fn markers_are_read_in_order() {
    let md = "text\n<!-- walkthrough: file a/b.py -->\n```python\nx = 1\n```\n\
              <!-- walkthrough: run in checkout -->\n```sh\nmake\n```\n\
              <!-- walkthrough: output -->\n```\nok\n```\n";
    assert_eq!(
        steps(md, "t.md"),
        [
            Step::File {
                path: "a/b.py".into(),
                text: "x = 1\n".into()
            },
            Step::Run {
                in_checkout: true,
                text: "make\n".into()
            },
            Step::Output("ok\n".into()),
        ]
    );
}

#[test]
fn readme_quick_start() {
    walk("README.md", "target");
}

#[test]
fn embedding_c() {
    walk("docs/embedding-c.md", "target");
}

#[test]
fn embedding_rust_with_pyo3() {
    walk("docs/embedding-rust.md", "target/walkthrough");
}
