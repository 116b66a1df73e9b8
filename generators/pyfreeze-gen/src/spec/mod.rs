//! What to freeze: the spec, from a `pyfreeze.toml` file, from flags, or built in code.

use std::path::{Path, PathBuf};

mod define;
pub mod kinds;
pub mod options;

pub use define::{doc_line, markdown, Given, Spec, SpecBuilder, OPTIONS};
pub use options::{Card, OptionInfo};

use crate::error::{Error, Result};
use kinds::ValueKind;

/// A source root: a folder whose top-level `.py` files and packages become modules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Root {
    pub path: PathBuf,
    /// Glob patterns selecting modules; empty means everything under the root.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Whose copy of the root's modules (and distributions) imports when `sys.path` holds one
    /// too: the table's (the default) or the installed one.
    pub precedence: Precedence,
    /// A site-packages folder (`site_packages`): frozen by distribution, from each metadata
    /// folder's list of files (docs/spec.md, "Site-packages").
    pub site_packages: bool,
}

/// Which copy of a root's modules wins when a module of the same name is also installed on
/// `sys.path` (stock runtime; the stdlib always comes from the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precedence {
    /// The table's copy, always (what the table's place in `sys.meta_path` gives).
    #[default]
    Table,
    /// A copy found on `sys.path` (a regular package or module, not a namespace portion)
    /// wins, with its distribution's metadata; the table's serves when there is none.
    Path,
}

impl Precedence {
    /// The value's text in a spec file.
    pub fn as_str(self) -> &'static str {
        match self {
            Precedence::Table => "table",
            Precedence::Path => "path",
        }
    }

    /// Parses `"table"` or `"path"`.
    pub fn parse(text: &str) -> std::result::Result<Precedence, String> {
        match text {
            "table" => Ok(Precedence::Table),
            "path" => Ok(Precedence::Path),
            _ => Err(format!("must be \"table\" or \"path\", not `{text}`")),
        }
    }
}

/// `FROM=TO`: an origin path under `FROM` is rewritten to start with `TO` (as gcc's
/// `-fdebug-prefix-map`). The longest matching `FROM` wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginMap {
    pub from: PathBuf,
    pub to: String,
}

impl OriginMap {
    /// Parses `FROM=TO`; a relative `FROM` is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> std::result::Result<Self, String> {
        let given = kinds::Mapping::parse_text(text).map_err(|e| format!("origin map {e}"))?;
        kinds::Mapping::resolve(&given, base)
    }
}

/// Where a spec's values come from, to name them in errors: a key of a file, a flag, a
/// `Build` method.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A `pyfreeze.toml`.
    File(PathBuf),
    /// `pyfreeze` flags.
    Flags,
    /// `pyfreeze_build::Build`.
    Build,
    /// A program using this library.
    Code,
}

impl Source {
    /// How an option is written in this source.
    pub fn name(&self, o: &OptionInfo) -> String {
        match self {
            Source::File(_) => format!("`{}`", o.key),
            Source::Flags => format!("`--{}`", o.flag),
            Source::Build => format!("`Build::{}`", o.build.unwrap_or(o.field)),
            Source::Code => format!("`SpecBuilder::{}`", o.setter),
        }
    }

    /// The source as errors name it.
    fn origin(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Flags => "command line".into(),
            // pyfreeze-build's report names itself.
            Source::Build => String::new(),
            Source::Code => "spec".into(),
        }
    }

    fn error(&self, message: String) -> Error {
        Error::Spec {
            origin: self.origin(),
            message,
            hint: None,
        }
    }

    fn error_with_hint(&self, message: String, hint: String) -> Error {
        Error::Spec {
            origin: self.origin(),
            message,
            hint: Some(hint),
        }
    }

    fn option_error(&self, o: &OptionInfo, message: String) -> Error {
        self.error(format!("{} {message}", self.name(o)))
    }
}

impl Spec {
    /// The `[[root]]`s, then the `site_packages` folders: every folder of modules besides the
    /// stdlib, in the order they are walked.
    pub fn all_roots(&self) -> impl Iterator<Item = &Root> {
        self.roots().iter().chain(self.site_packages())
    }

    /// Reads a `pyfreeze.toml`; its relative paths are relative to its folder.
    pub fn from_file(path: &Path) -> Result<Spec> {
        SpecBuilder::from_file(path)?.build()
    }

    /// Parses spec text; relative paths are resolved against `base`; `origin` names the
    /// text in errors.
    pub fn from_toml(text: &str, base: &Path, origin: &str) -> Result<Spec> {
        SpecBuilder::from_toml(text, base, Source::File(PathBuf::from(origin)))?.build()
    }

    /// Checks what can be checked without touching the disk: that there is something to
    /// freeze. `source` names the options in the hint.
    pub fn validate(&self, source: &Source) -> Result<()> {
        if self.roots().is_empty() && self.site_packages().is_empty() && !self.stdlib() {
            let name = |field| source.name(define::info(field));
            return Err(source.error_with_hint(
                "nothing to freeze".into(),
                format!(
                    "add a folder of modules with {}, a site-packages folder with {}, or the \
                     stdlib with {}",
                    name("roots"),
                    name("site_packages"),
                    name("stdlib")
                ),
            ));
        }
        if !self.runtime() {
            if let Some(root) = self.all_roots().find(|r| r.precedence == Precedence::Path) {
                let name = |field| source.name(define::info(field));
                return Err(source.error_with_hint(
                    format!(
                        "the root {} has precedence = \"path\", which the runtime applies, but \
                         {} leaves the runtime out (a CPython patched by pyfreeze always serves \
                         the table first)",
                        root.path.display(),
                        name("runtime")
                    ),
                    format!(
                        "drop `precedence` from that root, or keep the runtime ({} = true)",
                        name("runtime")
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<Spec> {
        Spec::from_toml(text, Path::new("/w"), "my.toml")
    }

    #[test]
    fn toml_paths_resolve_against_the_spec_folder() {
        let spec = file(
            r#"
python = "bin/python3.11"
version = "3.11"
out = "frozen"
origin_map = [".=/app"]
exclude = ["*.tests"]
[[root]]
path = "src"
include = ["game.**"]
"#,
        )
        .unwrap();
        assert_eq!(spec.python(), Path::new("/w/bin/python3.11"));
        assert_eq!(spec.version().unwrap().minor, 11);
        assert_eq!(spec.out_dir(), Some(Path::new("/w/frozen")));
        assert_eq!(spec.origin_map()[0].from, PathBuf::from("/w/."));
        assert_eq!(spec.roots()[0].path, PathBuf::from("/w/src"));
        assert_eq!(spec.roots()[0].include, vec!["game.**"]);
        assert_eq!(spec.roots()[0].exclude, vec!["*.tests"]);
    }

    #[test]
    fn stdlib_options_without_the_stdlib_are_errors_naming_the_source() {
        let e = file("stdlib_include = [\"json\"]\n[[root]]\npath = \"app\"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "my.toml: `stdlib_include` is given but the stdlib is not frozen, so it would do \
             nothing\n  hint: freeze the stdlib with `stdlib`, or drop `stdlib_include`"
        );
        let mut layer = SpecBuilder::with_source(Source::Build, "/pkg");
        layer.root("scripts").stdlib_dir("cpython/Lib");
        let e = layer.build().unwrap_err();
        assert_eq!(
            (e.message(), e.hint()),
            (
                "`Build::stdlib_dir` is given but the stdlib is not frozen, so it would do nothing"
                    .to_string(),
                Some("freeze the stdlib with `Build::stdlib`, or drop `Build::stdlib_dir`")
            )
        );
        // The stdlib may be turned on by another source.
        let file = SpecBuilder::from_toml(
            "stdlib_exclude = [\"xmlrpc\"]",
            Path::new("/w"),
            Source::File("f".into()),
        )
        .unwrap();
        let mut flags = SpecBuilder::with_source(Source::Flags, "/w");
        flags.stdlib(true);
        assert!(Spec::from_layers(&[&file, &flags]).is_ok());
    }

    #[test]
    fn a_bare_interpreter_name_stays_a_name() {
        let spec = file("python = \"python3.13\"\nstdlib = true").unwrap();
        assert_eq!(spec.python(), Path::new("python3.13"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_naming_the_file_and_key() {
        let e = file("stdlb = true").unwrap_err().to_string();
        assert!(e.starts_with("my.toml: "), "{e}");
        assert!(e.contains("`stdlb`; did you mean `stdlib`?"), "{e}");
        let e = file("version = \"3.9\"\nstdlib = true")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`version` `3.9` is not a supported") && e.contains("3.11"),
            "{e}"
        );
        let e = file("optimize = 3\nstdlib = true").unwrap_err().to_string();
        assert_eq!(e, "my.toml: `optimize` is 3, out of range (0, 1 or 2)");
        let e = file("stdlib = \"yes\"").unwrap_err().to_string();
        assert_eq!(e, "my.toml: `stdlib` must be true or false, not string");
        let e = file("[[root]]\npath = \"a\"\nexclud = []")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`root` has an item that has an unknown key `exclud`"),
            "{e}"
        );
        let e = file("[root]\npath = \"a\"").unwrap_err().to_string();
        assert!(
            e.ends_with(
                "`root` is a single table: write it with two brackets (`[[...]]`), once per item"
            ),
            "{e}"
        );
        let e = file("").unwrap_err();
        assert_eq!(e.message(), "my.toml: nothing to freeze");
        assert_eq!(
            e.hint(),
            Some(
                "add a folder of modules with `root`, a site-packages folder with \
                 `site_packages`, or the stdlib with `stdlib`"
            )
        );
    }

    #[test]
    fn patterns_without_any_root_are_an_error_naming_the_source() {
        let e = file("stdlib = true\ninclude = [\"x\"]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`include` and `exclude` patterns need a root"),
            "{e}"
        );
        let mut flags = SpecBuilder::with_source(Source::Flags, "");
        flags.stdlib(true).exclude("x");
        let e = flags.build().unwrap_err().to_string();
        assert!(
            e.ends_with(
                "`--include` and `--exclude` patterns need a root to apply to\n  \
                 hint: add the folder of the modules with `--root` (or `--site-packages`), or \
                 drop the patterns"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_later_source_overrides_values_adds_lists_and_refines_earlier_roots() {
        let file = SpecBuilder::from_toml(
            "jobs = 4\nstdlib_exclude = [\"a\"]\n[[root]]\npath = \"src\"\ninclude = [\"game\"]",
            Path::new("/w"),
            Source::File("/w/pyfreeze.toml".into()),
        )
        .unwrap();
        let mut flags = SpecBuilder::with_source(Source::Flags, "/cwd");
        flags
            .jobs(2)
            .stdlib(true)
            .stdlib_exclude("b")
            .exclude("game.tests");
        let spec = Spec::from_layers(&[&file, &flags]).unwrap();
        assert_eq!(spec.jobs(), 2);
        assert_eq!(spec.stdlib_exclude(), ["a", "b"]);
        assert_eq!(spec.roots().len(), 1);
        assert_eq!(spec.roots()[0].include, ["game"]);
        assert_eq!(spec.roots()[0].exclude, ["game.tests"]);
        // With roots of their own, a source's patterns stay with them.
        flags.root("tools");
        let spec = Spec::from_layers(&[&file, &flags]).unwrap();
        assert_eq!(spec.roots()[0].exclude, Vec::<String>::new());
        assert_eq!(spec.roots()[1].path, Path::new("/cwd/tools"));
        assert_eq!(spec.roots()[1].exclude, ["game.tests"]);
    }

    #[test]
    fn site_packages_is_a_path_a_list_or_tables_with_a_precedence() {
        let one = file("site_packages = \"venv/site\"").unwrap();
        assert_eq!(one.site_packages(), [Root::site_packages("/w/venv/site")]);
        assert!(one.roots().is_empty());
        let list = file("site_packages = [\"a\", \"b\"]").unwrap();
        assert_eq!(list.site_packages().len(), 2);
        let tables = file(
            "exclude = [\"*.tests\"]\n[[site_packages]]\npath = \"a\"\nprecedence = \"path\"\n\
             [[root]]\npath = \"src\"\nprecedence = \"path\"",
        )
        .unwrap();
        let site = &tables.site_packages()[0];
        assert!(site.site_packages && site.precedence == Precedence::Path);
        // The file's patterns apply to its site-packages folders as to its roots.
        assert_eq!(site.exclude, ["*.tests"]);
        assert_eq!(tables.roots()[0].precedence, Precedence::Path);
        assert!(!tables.roots()[0].site_packages);
        let again = Spec::from_toml(
            &toml::to_string(&tables.to_toml()).unwrap(),
            Path::new("/elsewhere"),
            "printed",
        )
        .unwrap();
        assert_eq!(again, tables);
        let e = file("runtime = false\n[[root]]\npath = \"a\"\nprecedence = \"path\"").unwrap_err();
        assert_eq!(
            e.message(),
            "my.toml: the root /w/a has precedence = \"path\", which the runtime applies, but \
             `runtime` leaves the runtime out (a CPython patched by pyfreeze always serves the \
             table first)"
        );
        let e = file("[[root]]\npath = \"a\"\nprecedence = \"disk\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("`precedence` must be \"table\" or \"path\", not `disk`"),
            "{e}"
        );
    }

    /// A source with every option at its example value.
    fn examples(source: Source) -> SpecBuilder {
        let mut layer = SpecBuilder::with_source(source, "/w");
        for o in OPTIONS {
            layer.set_text(o.field, o.example).unwrap();
        }
        layer
    }

    #[test]
    fn every_option_has_a_valid_non_default_example() {
        let mut base = SpecBuilder::with_source(Source::Code, "/w");
        base.root("base");
        // The options that refine the stdlib are compared with a spec that freezes it.
        let mut with_stdlib = base.clone();
        with_stdlib.stdlib(true);
        let written = toml::to_string(&examples(Source::Code).to_toml()).unwrap();
        for o in OPTIONS {
            let mut one = match o.field.starts_with("stdlib_") {
                true => with_stdlib.clone(),
                false => base.clone(),
            };
            let baseline = one.build().unwrap();
            one.set_text(o.field, o.example).unwrap();
            let spec = one.build().unwrap_or_else(|e| panic!("{}: {e}", o.field));
            assert_ne!(
                spec, baseline,
                "the example of `{}` is its default",
                o.field
            );
            assert!(written.contains(o.key), "`{}` is not written back", o.key);
        }
    }

    #[test]
    fn toml_round_trips() {
        let layer = examples(Source::File("/w/pyfreeze.toml".into()));
        let text = toml::to_string(&layer.to_toml()).unwrap();
        let again = SpecBuilder::from_toml(
            &text,
            Path::new("/w"),
            Source::File("/w/pyfreeze.toml".into()),
        )
        .unwrap();
        assert_eq!(again, layer, "{text}");
        assert_eq!(again.build().unwrap(), layer.build().unwrap());
    }

    #[test]
    fn a_spec_round_trips_through_its_toml() {
        let spec = examples(Source::Code).build().unwrap();
        let text = toml::to_string(&spec.to_toml()).unwrap();
        let again = Spec::from_toml(&text, Path::new("/elsewhere"), "printed").unwrap();
        assert_eq!(again, spec, "{text}");
    }

    #[test]
    fn flags_round_trip_through_texts() {
        let layer = examples(Source::Flags);
        let mut again = SpecBuilder::with_source(Source::Flags, "/w");
        for (field, texts) in layer.texts() {
            for text in texts {
                again.set_text(field, &text).unwrap();
            }
        }
        assert_eq!(again, layer);
    }
}
