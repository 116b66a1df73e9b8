//! The `series` file of a CPython patch series (`cpython-patches/X.Y/series`): the one list of
//! the series' patches, in the order they apply. Read by `build.rs`, which embeds each listed
//! patch into the binary, and by `cpython.rs`.

/// The patch names a `series` file lists, in order: one per line; blank lines and `#`
/// comments are skipped.
pub fn series_names(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}
