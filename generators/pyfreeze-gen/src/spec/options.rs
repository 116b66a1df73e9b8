//! The spec's options, each declared once.
//!
//! [`for_each_spec_option!`] holds the declaration: field, kind of value, default, TOML key,
//! command-line flag, `pyfreeze_build::Build` method, an example value and the doc line.
//! Everything else is derived from it: the fields and getters of [`super::Spec`], the
//! setters of [`super::SpecBuilder`] and of `pyfreeze_build::Build`, reading a spec file,
//! the `pyfreeze` flags, writing a spec back out (`pyfreeze spec`, the round-trip tests) and
//! the options table of docs/spec.md. Adding an option is one entry here plus its
//! behaviour in the generator.
//!
//! Each entry reads
//!
//! ```text
//! /// Doc line.
//! field: CARD Kind = default, key "toml_key", flag "long-flag" [short 'c'] value "NAME",
//!     build METHOD, example "text";
//! ```
//!
//! - `CARD` is `one` (a value with a default; a later source overrides an earlier one), `opt`
//!   (no value unless given) or `many` (a list; sources add to it);
//! - `Kind` is a marker type of [`super::kinds`], which says how the value is read and
//!   resolved;
//! - `default` is the value's text (`-` for `opt` and `many`);
//! - `METHOD` is the `Build` method generated for it, `(name)` for a method that
//!   pyfreeze-build writes by hand (its behaviour differs), or `-` for none;
//! - `example` is a valid, non-default value (the docs and the round-trip tests use it).
//!
//! The `patterns` section declares `include` and `exclude`, which belong to the roots of the
//! source that gives them (see [`super::Spec::from_layers`]).

/// Calls `$callback! { $extra options { ... } patterns { ... } }` with the declaration of
/// every spec option (`$callback` is a path in brackets, `$extra` one optional token tree
/// passed through). Used by this crate only; other crates use [`__build_setters!`]. Not a
/// stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_spec_option {
    ([$($callback:tt)+] $($extra:tt)?) => {
        $($callback)+! {
            $($extra)?
            options {
                /// The target interpreter, which compiles the bytecode: a path, or a command
                /// name looked up on `PATH`.
                python: one Command = "python3", key "python", flag "python" value "PYTHON",
                    build (interpreter), example "bin/python3.11";
                /// Refuse any interpreter but CPython `X.Y`, wherever it comes from (for a build
                /// script, `PYFREEZE_PYTHON` included).
                version: opt Version = -, key "version", flag "target-version" value "X.Y",
                    build version, example "3.11";
                /// A source root (relative to the spec file's folder, the current folder, or a
                /// build script's package folder): its top-level `.py` files and packages
                /// become modules, other files inside packages package data.
                roots: many RootDir = -, key "root", flag "root" value "DIR",
                    build root, example "src";
                /// A site-packages folder (a venv's, or `pip install --target`'s): every
                /// pure-Python distribution in it is frozen with its metadata, as its
                /// `RECORD` lists it; distributions with extension modules, editable installs
                /// and `.pth` files are reported and stay on disk. A path, or a table like
                /// `[[root]]`'s.
                site_packages: many SiteDir = -, key "site_packages", flag "site-packages"
                    value "DIR", build site_packages, example "venv/lib/python3.11/site-packages";
                /// Freeze the target interpreter's pure-Python stdlib, minus the exclusions listed in
                /// docs/spec.md.
                stdlib: one Switch = "false", key "stdlib", flag "stdlib" value "",
                    build stdlib, example "true";
                /// Take the stdlib from this folder instead of the interpreter's (a CPython
                /// build tree's `Lib`).
                stdlib_dir: opt Dir = -, key "stdlib_dir", flag "stdlib-dir" value "DIR",
                    build stdlib_dir, example "cpython/Lib";
                /// Restrict the stdlib to modules matching these patterns. A program embedding
                /// the table has no stdlib folder on `sys.path`: select everything it imports.
                stdlib_include: many Pattern = -, key "stdlib_include", flag "stdlib-include"
                    value "GLOB", build stdlib_include, example "json";
                /// Leave out more of the stdlib, on top of the default exclusions.
                stdlib_exclude: many Pattern = -, key "stdlib_exclude", flag "stdlib-exclude"
                    value "GLOB", build stdlib_exclude, example "xmlrpc";
                /// When `stdlib_include` restricts the stdlib, fail on an app module's import of
                /// a stdlib module it leaves out (only warn for one guarded by `try`/`except
                /// ImportError`).
                check_imports: one Switch = "true", key "check_imports", flag "no-check-imports"
                    value "", build check_imports, example "false";
                /// Embed each module's source, for `get_source()`, `inspect` and tracebacks
                /// with source lines.
                embed_source: one Switch = "true", key "embed_source", flag "no-source" value "",
                    build embed_source, example "false";
                /// Store each embedded source compressed (raw DEFLATE, about a quarter of its
                /// size), decoded when `get_source()`, `inspect` or a traceback asks for it.
                compress_source: one Switch = "true", key "compress_source",
                    flag "no-compress-source" value "", build compress_source, example "false";
                /// Embed each module's marshalled code. Off only for a CPython 3.11 patched by
                /// pyfreeze that deep-freezes the table (its build turns it off; a deep-frozen
                /// 3.13 keeps the bytecode, which its sub-interpreters unmarshal): the modules'
                /// code is then static objects, the rows hold none (`code` NULL), and the stock
                /// table and the runtime's C half are an `#error` saying so.
                embed_bytecode: one Switch = "true", key "embed_bytecode", flag "no-bytecode"
                    value "", build -, example "false";
                /// Embed the non-Python files inside packages, for `importlib.resources`.
                package_data: one Switch = "true", key "package_data", flag "no-data" value "",
                    build package_data, example "false";
                /// Freeze the distribution metadata (`*.dist-info`, `*.egg-info` folders) found
                /// at the top of a root beside the modules it freezes, for `importlib.metadata`.
                metadata: one Switch = "true", key "metadata", flag "no-metadata" value "",
                    build metadata, example "false";
                /// Rewrite origins (`__file__`, tracebacks) under `FROM` to start with `TO`,
                /// like gcc's `-fdebug-prefix-map`; the longest `FROM` wins.
                origin_map: many Mapping = -, key "origin_map", flag "origin-map"
                    value "FROM=TO", build origin_map, example ".=/app";
                /// `compile()`'s optimization level: 0, 1 (no asserts) or 2 (no docstrings).
                optimize: one Level = "0", key "optimize", flag "optimize" value "0|1|2",
                    build optimize, example "2";
                /// Add the runtime a stock libpython needs; leave it out only for a CPython
                /// patched to boot from the table.
                runtime: one Switch = "true", key "runtime", flag "no-runtime" value "",
                    build runtime, example "false";
                /// Interpreter processes compiling bytecode; 0 is one per core.
                jobs: one Count = "0", key "jobs", flag "jobs" short 'j' value "N",
                    build jobs, example "3";
                /// The output folder.
                out_dir: opt Dir = -, key "out", flag "out" short 'o' value "DIR",
                    build -, example "frozen";
            }
            patterns {
                /// Select modules of the roots by glob: dotted names (`app.**`) or, with a
                /// `/`, root-relative paths. Applies to the roots given by the same source (or,
                /// without any, to the spec file's); a pattern matching nothing is an error.
                include: key "include", flag "include" value "GLOB",
                    build include, example "game.**";
                /// Leave out modules (and data) of the roots; excludes win over includes.
                exclude: key "exclude", flag "exclude" value "GLOB",
                    build exclude, example "*.tests";
            }
        }
    };
}

/// Generates `impl $Self` with one setter per option that the declaration gives a `Build`
/// method (`(name)`: hand-written by the caller; `-`: none), each storing into the
/// [`crate::SpecBuilder`] that `$builder` (an expression of `$this: &mut $Self`) reaches.
/// pyfreeze-build calls it for `Build`, so the grammar of the declaration is known only in
/// this crate: here and in `define_spec` (define.rs), whose matchers must stay alike
/// (`macro_rules` cannot share one; a mismatch does not compile). Not a stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __build_setters {
    (@one -, $($rest:tt)*) => {};
    (@one ($custom:ident), $($rest:tt)*) => {};
    (@one $method:ident, $field:ident, $kind:ident, $(#[$m:meta])+ -> $Self:ty, $new:literal,
     |$this:ident| $builder:expr) => {
        $crate::__spec_setter!($kind, $(#[$m])+ $method -> $Self, $new,
            |$this, given| { ($builder).given().$field(given); },);
    };
    (
        [$Self:ty, $new:literal, |$this:ident| $builder:expr]
        options {$(
            $(#[doc = $doc:literal])+
            $field:ident: $card:ident $kind:ident = $default:tt, key $key:literal,
                flag $flag:literal $(short $short:literal)? value $vname:literal,
                build $build:tt, example $example:literal;
        )*}
        patterns {$(
            $(#[doc = $pdoc:literal])+
            $pfield:ident: key $pkey:literal, flag $pflag:literal value $pvname:literal,
                build $pbuild:tt, example $pexample:literal;
        )*}
    ) => {
        impl $Self {
            $($crate::__build_setters!(@one $build, $field, $kind, $(#[doc = $doc])+
                -> $Self, $new, |$this| $builder);)*
            $($crate::__build_setters!(@one $pbuild, $pfield, Pattern, $(#[doc = $pdoc])+
                -> $Self, $new, |$this| $builder);)*
        }
    };
    ($Self:ty, $new:literal, |$this:ident| $builder:expr) => {
        $crate::for_each_spec_option!([$crate::__build_setters] [$Self, $new, |$this| $builder]);
    };
}

/// How many values an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// One value with a default; a later source overrides an earlier one.
    One,
    /// One value or none.
    Opt,
    /// A list; sources add to it.
    Many,
}

/// What the declaration says about one option, for the command line and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptionInfo {
    /// The field of [`super::Spec`] (and setter of [`super::SpecBuilder`]).
    pub field: &'static str,
    /// The key in `pyfreeze.toml`.
    pub key: &'static str,
    /// The long flag of `pyfreeze freeze`, without `--`.
    pub flag: &'static str,
    pub short: Option<char>,
    /// The flag's value name; empty for a switch.
    pub value_name: &'static str,
    /// For a switch, the value the flag sets (the opposite of the default).
    pub switch_sets: Option<bool>,
    pub card: Card,
    /// The default's text; empty for `opt` and `many`.
    pub default: &'static str,
    /// The `pyfreeze_build::Build` method, if there is one.
    pub build: Option<&'static str>,
    /// Whether that method is generated from this declaration (else pyfreeze-build writes it
    /// by hand, with behaviour of its own).
    pub build_generated: bool,
    /// The [`super::SpecBuilder`] setter: the generated `Build` method's name, else the field.
    pub setter: &'static str,
    /// A spec file writes it as an array of tables (`[[root]]`).
    pub toml_table: bool,
    pub example: &'static str,
    pub doc: &'static str,
}

/// Whether the `Build` method token names a generated method (`name`, not `(name)` or `-`).
pub(crate) const fn build_generated(token: &'static str) -> bool {
    let bytes = token.as_bytes();
    !(bytes[0] == b'(' || (bytes.len() == 1 && bytes[0] == b'-'))
}

/// `(name)` and `name` are `Build` methods; `-` is none.
pub(crate) const fn build_method(token: &'static str) -> Option<&'static str> {
    let bytes = token.as_bytes();
    if bytes.len() == 1 && bytes[0] == b'-' {
        return None;
    }
    if bytes[0] == b'(' {
        // `stringify!((name))` is `(name)`.
        let (_, rest) = bytes.split_at(1);
        let (name, _) = rest.split_at(rest.len() - 1);
        return match std::str::from_utf8(name) {
            Ok(name) => Some(name),
            Err(_) => None,
        };
    }
    Some(token)
}

/// Joins the lines of a doc comment into one paragraph.
pub(crate) fn doc_text(lines: &[&str]) -> String {
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

/// Generates a setter for an option of kind `$kind`, with the parameters a caller expects for
/// it (`on: bool`, `pattern: &str`, `path: impl AsRef<Path>`..., as `Build` always took), turning them
/// into the kind's `Given` value `$given` and running `$body` with `$this` (`&mut Self`); the
/// doc gets an example call on `$new`. The one home of the setters' signatures, for
/// `SpecBuilder` and `pyfreeze_build::Build`. Not a stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __spec_setter {
    (@sig $(#[$m:meta])* $name:ident -> $Self:ty, $new:literal, |$this:ident, $given:ident| $body:block,
     ($($param:ident: $pty:ty),*) => $make:expr, $sample:literal) => {
        $(#[$m])*
        ///
        /// ```
        #[doc = concat!("let _ = ", $new, ".", stringify!($name), $sample, ";")]
        /// ```
        pub fn $name(&mut self, $($param: $pty),*) -> &mut $Self {
            let $this = &mut *self;
            let $given = $make;
            $body
            self
        }
    };
    (Switch, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)* (on: bool) => on, "(true)");
    };
    (Level, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)* (level: u8) => level, "(2)");
    };
    (Count, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)* (count: usize) => count, "(2)");
    };
    (Pattern, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (pattern: &str) => pattern.to_string(),
            "(\"json.**\")");
    };
    (Version, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (version: &str) => version.to_string(),
            "(\"3.11\")");
    };
    (Dir, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (path: impl ::std::convert::AsRef<::std::path::Path>) => path.as_ref().to_path_buf(),
            "(\"lib\")");
    };
    (Command, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (python: impl ::std::convert::AsRef<::std::path::Path>) => python.as_ref().to_path_buf(),
            "(\"python3.11\")");
    };
    (SiteDir, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (dir: impl ::std::convert::AsRef<::std::path::Path>)
                => $crate::spec::Root::site_packages(dir.as_ref()),
            "(\"venv/lib/python3.11/site-packages\")");
    };
    (RootDir, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (dir: impl ::std::convert::AsRef<::std::path::Path>)
                => $crate::spec::Root::new(dir.as_ref()),
            "(\"scripts\")");
    };
    (Mapping, $($rest:tt)*) => {
        $crate::__spec_setter!(@sig $($rest)*
            (from: impl ::std::convert::AsRef<::std::path::Path>,
             to: &str)
                => (from.as_ref().to_path_buf(), to.to_string()),
            "(\"vendor\", \"/site-packages\")");
    };
}
