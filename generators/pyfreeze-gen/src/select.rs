//! Include/exclude patterns.
//!
//! A pattern without `/` matches dotted module names, with `.` as the separator: `*` stays
//! within one name component and `**` crosses them (`email.*`, `json.**`, `*.tests`). A
//! pattern with `/` matches paths relative to the root (`app/tests/**`, `**/*.txt`).
//! Either kind also selects everything beneath what it matches, so `exclude = ["test"]`
//! drops the whole `test` package and its data.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// A compiled list of patterns.
#[derive(Debug, Clone)]
pub struct Patterns {
    raw: Vec<String>,
    names: GlobSet,
    name_index: Vec<usize>,
    paths: GlobSet,
    path_index: Vec<usize>,
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

impl Patterns {
    pub fn new(patterns: &[String]) -> Result<Patterns, String> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        let (mut name_index, mut path_index) = (Vec::new(), Vec::new());
        for (i, p) in patterns.iter().enumerate() {
            let bad = |e: globset::Error| format!("invalid pattern `{p}`: {}", e.kind());
            if p.is_empty() {
                return Err("empty pattern".into());
            }
            if p.contains('/') {
                paths.add(glob(p.trim_end_matches('/')).map_err(bad)?);
                path_index.push(i);
            } else {
                names.add(glob(&p.replace('.', "/")).map_err(bad)?);
                name_index.push(i);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| format!("invalid pattern: {e}"));
        Ok(Patterns {
            raw: patterns.to_vec(),
            names: build(names)?,
            name_index,
            paths: build(paths)?,
            path_index,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn raw(&self) -> &[String] {
        &self.raw
    }

    /// Indexes (into the pattern list) of every pattern matching the module `name` (dotted)
    /// or the root-relative `path`, or anything above them.
    pub fn matching(&self, name: Option<&str>, path: &str) -> Vec<usize> {
        let mut hits = Vec::new();
        if let Some(name) = name {
            let slashed = name.replace('.', "/");
            for prefix in ancestors(&slashed) {
                hits.extend(
                    self.names
                        .matches(prefix)
                        .into_iter()
                        .map(|i| self.name_index[i]),
                );
            }
        }
        for prefix in ancestors(path) {
            hits.extend(
                self.paths
                    .matches(prefix)
                    .into_iter()
                    .map(|i| self.path_index[i]),
            );
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    /// Whether a pattern matches the module `name` or its `path` itself, not as part of a
    /// subtree: a selection by name.
    pub fn names(&self, name: &str, path: &str) -> bool {
        self.names.is_match(name.replace('.', "/")) || self.paths.is_match(path)
    }

    pub fn matches(&self, name: Option<&str>, path: &str) -> bool {
        !self.matching(name, path).is_empty()
    }
}

/// `a/b/c` → `a`, `a/b`, `a/b/c`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(move |(i, _)| &path[..i])
        .chain(std::iter::once(path))
        .filter(|p| !p.is_empty())
}

/// Include and exclude lists of one root.
#[derive(Debug, Clone)]
pub struct Selector {
    pub include: Patterns,
    pub exclude: Patterns,
}

impl Selector {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Selector, String> {
        Ok(Selector {
            include: Patterns::new(include)?,
            exclude: Patterns::new(exclude)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Patterns {
        Patterns::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn name_patterns_select_subtrees_and_star_stays_in_a_component() {
        let p = pats(&["email.*"]);
        assert!(p.matches(Some("email.mime"), "email/mime/__init__.py"));
        assert!(p.matches(Some("email.mime.text"), "email/mime/text.py"));
        assert!(!p.matches(Some("email"), "email/__init__.py"));
        assert!(!p.matches(Some("emailx.y"), "emailx/y.py"));
        let p = pats(&["test"]);
        assert!(p.matches(Some("test.support.os_helper"), "test/support/os_helper.py"));
        assert!(!p.matches(Some("tests"), "tests.py"));
        let p = pats(&["**.tests"]);
        assert!(p.matches(Some("lib2to3.tests.data"), "lib2to3/tests/data/__init__.py"));
        assert!(p.matches(Some("tests"), "tests/__init__.py"));
    }

    #[test]
    fn path_patterns_match_relative_paths_and_their_folders() {
        let p = pats(&["app/tests/", "**/*.txt"]);
        assert!(p.matches(None, "app/tests/data/x.bin"));
        assert!(p.matches(Some("a.b"), "a/b/notes.txt"));
        assert!(!p.matches(Some("app.main"), "app/main.py"));
    }

    #[test]
    fn matching_reports_which_patterns_hit() {
        let p = pats(&["json", "x/**", "json.decoder"]);
        assert_eq!(
            p.matching(Some("json.decoder"), "json/decoder.py"),
            vec![0, 2]
        );
        assert_eq!(p.matching(Some("x.y"), "x/y.py"), vec![1]);
    }

    #[test]
    fn invalid_patterns_are_reported() {
        let e = Patterns::new(&["a[".to_string()]).unwrap_err();
        assert!(e.contains("a["), "{e}");
    }
}
