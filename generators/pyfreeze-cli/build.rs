//! Embeds the CPython patch series into the `pyfreeze` binary, so that it works outside a
//! checkout: for every `cpython-patches/<X.Y>/series`, the series file and each patch it lists,
//! in its order (`OUT_DIR/series.rs`, included by `src/cpython.rs`). The `series` file is the
//! one list of a series' patches; a listed patch that does not exist fails the build here, and
//! a patch file that no series lists fails a test (`cpython::tests`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

#[path = "src/series_file.rs"]
mod series_file;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cpython-patches");
    let root = root
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    // A folder: Cargo reruns this when anything below it changes (a new patch, an edit).
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.expect("list cpython-patches").path())
        .filter(|dir| dir.join("series").is_file())
        .collect();
    dirs.sort();
    let mut out =
        String::from("/// Every patch series, from `cpython-patches/*/series` (build.rs).\n");
    out.push_str("pub const SERIES: &[Series] = &[\n");
    for dir in &dirs {
        let minor = dir
            .file_name()
            .unwrap()
            .to_str()
            .expect("UTF-8 folder name");
        let series = dir.join("series");
        let text = std::fs::read_to_string(&series)
            .unwrap_or_else(|e| panic!("{}: {e}", series.display()));
        let _ = writeln!(
            out,
            "    Series {{\n        minor: {minor:?},\n        series_file: include_str!({:?}),\n        patches: &[",
            series.display().to_string()
        );
        for name in series_file::series_names(&text) {
            let patch = dir.join(name);
            assert!(
                patch.is_file(),
                "{} lists {name}, which does not exist",
                series.display()
            );
            let _ = writeln!(
                out,
                "            ({name:?}, include_str!({:?})),",
                patch.display().to_string()
            );
        }
        out.push_str("        ],\n    },\n");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("Cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("series.rs"), out).expect("write OUT_DIR/series.rs");
}
