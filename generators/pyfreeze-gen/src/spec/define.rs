//! [`super::Spec`] and [`super::SpecBuilder`], generated from the declaration in
//! [`super::options`].

use std::path::{Path, PathBuf};

use super::kinds::{self, ValueKind};
use super::options::{build_generated, build_method, doc_text, Card, OptionInfo};
use super::{Root, Source};

/// The type of a resolved option in [`super::Spec`].
macro_rules! value_ty {
    (one $k:ident) => { <kinds::$k as ValueKind>::Value };
    (opt $k:ident) => { Option<<kinds::$k as ValueKind>::Value> };
    (many $k:ident) => { Vec<<kinds::$k as ValueKind>::Value> };
}

/// What a getter of [`super::Spec`] returns.
macro_rules! ref_ty {
    (one $k:ident) => { <kinds::$k as ValueKind>::Ref<'_> };
    (opt $k:ident) => { Option<<kinds::$k as ValueKind>::Ref<'_>> };
    (many $k:ident) => { &[<kinds::$k as ValueKind>::Value] };
}

macro_rules! get {
    (one $k:ident, $e:expr) => {
        kinds::$k::get($e)
    };
    (opt $k:ident, $e:expr) => {
        $e.as_ref().map(kinds::$k::get)
    };
    (many $k:ident, $e:expr) => {
        $e
    };
}

/// An option's short flag, if the declaration gives one.
macro_rules! short {
    () => {
        None
    };
    ($short:literal) => {
        Some($short)
    };
}

/// How a [`super::SpecBuilder`] stores what a source gives.
macro_rules! given_ty {
    (one $k:ident) => { Option<<kinds::$k as ValueKind>::Given> };
    (opt $k:ident) => { Option<<kinds::$k as ValueKind>::Given> };
    (many $k:ident) => { Vec<<kinds::$k as ValueKind>::Given> };
}

macro_rules! card {
    (one) => {
        Card::One
    };
    (opt) => {
        Card::Opt
    };
    (many) => {
        Card::Many
    };
}

macro_rules! store {
    (one, $slot:expr, $v:expr) => {
        $slot = Some($v)
    };
    (opt, $slot:expr, $v:expr) => {
        $slot = Some($v)
    };
    (many, $slot:expr, $v:expr) => {
        $slot.push($v)
    };
}

/// The resolved value of an option when no source gives it.
macro_rules! default_value {
    (one $k:ident, $default:literal) => {
        kinds::$k::resolve(
            &kinds::$k::parse_text($default).expect("declared defaults parse"),
            Path::new(""),
        )
        .expect("declared defaults resolve")
    };
    (opt $k:ident, -) => {
        None
    };
    (many $k:ident, -) => {
        Vec::new()
    };
}

macro_rules! default_text {
    (-) => {
        ""
    };
    ($default:literal) => {
        $default
    };
}

/// Resolves what one source gives into the spec: `one`/`opt` override, `many` add.
macro_rules! resolve_into {
    (one $k:ident, $spec:expr, $given:expr, $base:expr, $err:expr) => {
        if let Some(g) = &$given {
            $spec = kinds::$k::resolve(g, $base).map_err($err)?;
        }
    };
    (opt $k:ident, $spec:expr, $given:expr, $base:expr, $err:expr) => {
        if let Some(g) = &$given {
            $spec = Some(kinds::$k::resolve(g, $base).map_err($err)?);
        }
    };
    (many $k:ident, $spec:expr, $given:expr, $base:expr, $err:expr) => {
        for g in &$given {
            $spec.push(kinds::$k::resolve(g, $base).map_err($err)?);
        }
    };
}

macro_rules! unresolve_into {
    (one $k:ident, $given:expr, $value:expr) => {
        $given = Some(kinds::$k::unresolve(&$value))
    };
    (opt $k:ident, $given:expr, $value:expr) => {
        $given = $value.as_ref().map(kinds::$k::unresolve)
    };
    (many $k:ident, $given:expr, $value:expr) => {
        $given = $value.iter().map(kinds::$k::unresolve).collect()
    };
}

/// Writes what a source gives back as TOML.
macro_rules! given_to_toml {
    (many $k:ident, $given:expr) => {
        (!$given.is_empty())
            .then(|| toml::Value::Array($given.iter().map(kinds::$k::to_toml).collect()))
    };
    ($card:ident $k:ident, $given:expr) => {
        $given.as_ref().map(kinds::$k::to_toml)
    };
}

macro_rules! given_from_toml {
    (many $k:ident, $value:expr) => {{
        let single = [$value.clone()];
        let items = match $value.as_array() {
            None if kinds::$k::SINGLE => Some(&single[..]),
            items => items.map(Vec::as_slice),
        };
        let items = items.ok_or_else(|| {
            if kinds::$k::TABLE && $value.is_table() {
                // `[root]` where `[[root]]` was meant.
                "is a single table: write it with two brackets (`[[...]]`), once per item"
                    .to_string()
            } else {
                format!(
                    "must be a list of {}, not {}",
                    kinds::$k::WHAT,
                    $value.type_str()
                )
            }
        })?;
        items
            .iter()
            .map(|v| kinds::$k::from_toml(v).map_err(|e| format!("has an item that {e}")))
            .collect::<Result<Vec<_>, String>>()?
    }};
    ($card:ident $k:ident, $value:expr) => {
        Some(kinds::$k::from_toml($value)?)
    };
}

macro_rules! given_texts {
    ($card:ident $k:ident, $given:expr) => {
        $given.iter().map(kinds::$k::to_text).collect::<Vec<_>>()
    };
}

macro_rules! define_spec {
    (
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
        /// Everything the generator needs, resolved: paths absolute (or relative to the
        /// current folder), versions parsed, patterns attached to their roots. Made by
        /// [`SpecBuilder::build`], [`Spec::from_file`] or [`Spec::from_layers`]; read with
        /// one getter per option (docs/spec.md lists them).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Spec {
            $($field: value_ty!($card $kind),)*
        }

        impl Default for Spec {
            /// Every option at its default; nothing to freeze yet.
            fn default() -> Spec {
                Spec { $($field: default_value!($card $kind, $default),)* }
            }
        }

        impl Spec {
            $(
                $(#[doc = $doc])+
                pub fn $field(&self) -> ref_ty!($card $kind) {
                    get!($card $kind, &self.$field)
                }
            )*

            /// The spec as a `pyfreeze.toml` table: every single value (defaults included),
            /// every list, absolute paths; reading it back gives the same spec.
            pub fn to_toml(&self) -> toml::Table {
                let mut layer = SpecBuilder::new();
                $(unresolve_into!($card $kind, layer.$field, self.$field);)*
                layer.to_toml()
            }

            /// Resolves the sources in order: single values of a later source override an
            /// earlier one's, lists add up. A source's `include`/`exclude` patterns apply to
            /// its own roots; a source without roots applies them to the roots of the
            /// sources before it (flags refining a spec file), and with none at all they
            /// are an error.
            pub fn from_layers(layers: &[&SpecBuilder]) -> crate::Result<Spec> {
                let mut spec = Spec::default();
                for layer in layers {
                    layer.resolve_into(&mut spec)?;
                }
                let last = layers.last().map_or(Source::Code, |l| l.source.clone());
                spec.validate(&last)?;
                if !spec.stdlib {
                    for layer in layers {
                        layer.check_stdlib_is_on()?;
                    }
                }
                Ok(spec)
            }
        }

        /// What one source gives: a spec file, flags, a build script, or code. Setters
        /// take `&mut self` and return it; values are checked and resolved against the
        /// source's folder by [`SpecBuilder::build`] (or [`Spec::from_layers`]).
        ///
        /// ```
        /// use pyfreeze_gen::SpecBuilder;
        /// let spec = SpecBuilder::new().python("python3.11").root("app").include("app.**").build()?;
        /// assert_eq!(spec.roots()[0].include, ["app.**"]);
        /// # Ok::<(), pyfreeze_gen::Error>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct SpecBuilder {
            source: Source,
            base: PathBuf,
            $($field: given_ty!($card $kind),)*
            $($pfield: Vec<String>,)*
        }

        impl SpecBuilder {
            /// A source that gives nothing yet, named `source` in errors, whose relative
            /// paths are relative to `base`.
            pub fn with_source(source: Source, base: impl Into<PathBuf>) -> SpecBuilder {
                SpecBuilder {
                    source,
                    base: base.into(),
                    $($field: Default::default(),)*
                    $($pfield: Vec::new(),)*
                }
            }

            $(
                setter!($build, $field, $kind, $(#[doc = $doc])+ -> SpecBuilder,
                    "pyfreeze_gen::SpecBuilder::new()",
                    |this, given| { this.given().$field(given); },);
            )*
            $(
                $crate::__spec_setter!(Pattern, $(#[doc = $pdoc])+ $pfield -> SpecBuilder,
                    "pyfreeze_gen::SpecBuilder::new()",
                    |this, given| { this.given().$pfield(given); },);
            )*

            /// Setters taking each option's `Given` value, for `pyfreeze_build::Build`'s
            /// generated setters. Not a stable interface.
            #[doc(hidden)]
            pub fn given(&mut self) -> Given<'_> {
                Given(self)
            }

            /// Sets the option whose field is `field` from its text, as a flag gives it (a
            /// switch's text is `true` or `false`).
            pub fn set_text(&mut self, field: &str, text: &str) -> Result<(), String> {
                match field {
                    $(stringify!($field) => {
                        store!($card, self.$field, kinds::$kind::parse_text(text)?);
                    })*
                    $(stringify!($pfield) => {
                        self.$pfield.push(kinds::Pattern::parse_text(text)?);
                    })*
                    _ => return Err(format!("unknown option `{field}`")),
                }
                Ok(())
            }

            /// Sets the option whose `pyfreeze.toml` key is `key` from its TOML value;
            /// `Ok(false)` when no option has that key.
            fn set_toml(&mut self, key: &str, value: &toml::Value) -> Result<bool, String> {
                match key {
                    $($key => {
                        let given = given_from_toml!($card $kind, value);
                        given_extend!($card, self.$field, given);
                    })*
                    $($pkey => {
                        let given = given_from_toml!(many Pattern, value);
                        self.$pfield.extend(given);
                    })*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            /// What this source gives, as a `pyfreeze.toml` table (paths as given).
            pub fn to_toml(&self) -> toml::Table {
                let mut table = toml::Table::new();
                $(
                    if let Some(value) = given_to_toml!($card $kind, self.$field) {
                        table.insert($key.into(), value);
                    }
                )*
                $(
                    if let Some(value) = given_to_toml!(many Pattern, self.$pfield) {
                        table.insert($pkey.into(), value);
                    }
                )*
                table
            }

            /// What this source gives, as `(field, texts)` in declaration order, for
            /// writing it back as flags.
            pub fn texts(&self) -> Vec<(&'static str, Vec<String>)> {
                vec![
                    $((stringify!($field), given_texts!($card $kind, self.$field)),)*
                    $((stringify!($pfield), given_texts!(many Pattern, self.$pfield)),)*
                ]
            }

            /// Resolves this source's values into `spec`, then attaches its patterns to
            /// roots (see [`Spec::from_layers`]).
            fn resolve_into(&self, spec: &mut Spec) -> crate::Result<()> {
                self.resolve_values(spec)?;
                self.attach_patterns(
                    spec,
                    (self.roots.len(), self.site_packages.len()),
                    &self.include,
                    &self.exclude,
                )
            }

            /// Resolves this source's values into `spec`.
            fn resolve_values(&self, spec: &mut Spec) -> crate::Result<()> {
                let base = self.base.as_path();
                $(
                    let err = |e: String| self.source.option_error(info(stringify!($field)), e);
                    resolve_into!($card $kind, spec.$field, self.$field, base, err);
                )*
                Ok(())
            }
        }

        /// See [`SpecBuilder::given`].
        #[doc(hidden)]
        pub struct Given<'a>(&'a mut SpecBuilder);

        #[allow(missing_docs)]
        impl Given<'_> {
            $(
                pub fn $field(self, given: <kinds::$kind as ValueKind>::Given) {
                    store!($card, self.0.$field, given);
                }
            )*
            $(
                pub fn $pfield(self, given: String) {
                    self.0.$pfield.push(given);
                }
            )*
        }

        /// Every option, in declaration order.
        pub const OPTIONS: &[OptionInfo] = &[
            $(OptionInfo {
                field: stringify!($field),
                key: $key,
                flag: $flag,
                short: short!($($short)?),
                value_name: $vname,
                switch_sets: if kinds::$kind::SWITCH {
                    Some(!matches!(default_text!($default).as_bytes(), b"true"))
                } else {
                    None
                },
                card: card!($card),
                default: default_text!($default),
                build: build_method(stringify!($build)),
                build_generated: build_generated(stringify!($build)),
                setter: setter_name(stringify!($build), stringify!($field)),
                toml_table: kinds::$kind::TABLE,
                example: $example,
                doc: concat!($($doc, "\n"),+),
            },)*
            $(OptionInfo {
                field: stringify!($pfield),
                key: $pkey,
                flag: $pflag,
                short: None,
                value_name: $pvname,
                switch_sets: None,
                card: Card::Many,
                default: "",
                build: build_method(stringify!($pbuild)),
                build_generated: build_generated(stringify!($pbuild)),
                setter: setter_name(stringify!($pbuild), stringify!($pfield)),
                toml_table: false,
                example: $pexample,
                doc: concat!($($pdoc, "\n"),+),
            },)*
        ];
    };
}

/// A [`SpecBuilder`] setter is named like the `Build` method when there is a generated
/// one (`root` for the field `roots`), else like the field.
macro_rules! setter {
    (- , $field:ident, $kind:ident, $($rest:tt)*) => {
        setter!(@named $field, $kind, $($rest)*);
    };
    (($custom:ident), $field:ident, $kind:ident, $($rest:tt)*) => {
        setter!(@named $field, $kind, $($rest)*);
    };
    (@named $name:ident, $kind:ident, $(#[$m:meta])+ -> $($rest:tt)*) => {
        $crate::__spec_setter!($kind, $(#[$m])+ $name -> $($rest)*);
    };
    ($method:ident, $field:ident, $kind:ident, $($rest:tt)*) => {
        setter!(@named $method, $kind, $($rest)*);
    };
}

macro_rules! given_extend {
    (many, $slot:expr, $given:expr) => {
        $slot.extend($given)
    };
    ($card:ident, $slot:expr, $given:expr) => {
        $slot = $given
    };
}

/// The [`SpecBuilder`] setter's name, as `setter!` picks it.
const fn setter_name(build: &'static str, field: &'static str) -> &'static str {
    if build_generated(build) {
        build
    } else {
        field
    }
}

crate::for_each_spec_option!([define_spec]);

/// The declaration of the option whose field is `field`.
pub(super) fn info(field: &str) -> &'static OptionInfo {
    OPTIONS
        .iter()
        .find(|o| o.field == field)
        .expect("fields are declared")
}

/// The option's doc comment as one paragraph.
pub fn doc_line(o: &OptionInfo) -> String {
    doc_text(&o.doc.lines().collect::<Vec<_>>())
}

fn unknown_key(key: &str) -> String {
    let near = OPTIONS
        .iter()
        .map(|o| o.key)
        .filter(|k| close(k, key))
        .collect::<Vec<_>>();
    match near.as_slice() {
        [] => format!("unknown key `{key}` (the keys are listed in docs/spec.md)"),
        [k, ..] => format!("unknown key `{key}`; did you mean `{k}`?"),
    }
}

/// Whether two keys differ by at most two edits (Levenshtein), for "did you mean".
fn close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

impl SpecBuilder {
    /// The same values, relative to another folder (a build script's package folder).
    pub fn relative_to(&self, base: impl Into<PathBuf>) -> SpecBuilder {
        SpecBuilder {
            base: base.into(),
            ..self.clone()
        }
    }

    /// A source for code (`Spec` built by a program), relative to the current folder.
    pub fn new() -> SpecBuilder {
        SpecBuilder::with_source(Source::Code, "")
    }

    /// Reads the text of a `pyfreeze.toml` as a source named `source`, relative to `base`.
    pub fn from_toml(text: &str, base: &Path, source: Source) -> crate::Result<SpecBuilder> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| source.error(e.to_string().trim_end().to_string()))?;
        let mut layer = SpecBuilder::with_source(source, base);
        let mut problems = Vec::new();
        for (key, value) in &table {
            match layer.set_toml(key, value) {
                Ok(true) => {}
                Ok(false) => problems.push(unknown_key(key)),
                Err(e) => problems.push(format!("`{key}` {e}")),
            }
        }
        if !problems.is_empty() {
            return Err(layer.source.error(problems.join("; ")));
        }
        Ok(layer)
    }

    /// Reads a `pyfreeze.toml` file; its relative paths are relative to its folder.
    pub fn from_file(path: &Path) -> crate::Result<SpecBuilder> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::Error::io(path, "read spec file", e))?;
        // Absolute, so that a resolved spec (and `pyfreeze spec`) holds no paths relative
        // to the current folder.
        let base = crate::normalize_path(path)?
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf);
        SpecBuilder::from_toml(&text, &base, Source::File(path.to_path_buf()))
    }

    /// Checks every value this source gives on its own (not the rules across sources).
    pub fn check(&self) -> crate::Result<()> {
        self.resolve_values(&mut Spec::default())
    }

    /// Refuses options that only refine the stdlib when the spec freezes none: they would be
    /// dropped without a word, and the program would die at start-up for want of them.
    fn check_stdlib_is_on(&self) -> crate::Result<()> {
        let given = [
            ("stdlib_include", !self.stdlib_include.is_empty()),
            ("stdlib_exclude", !self.stdlib_exclude.is_empty()),
            ("stdlib_dir", self.stdlib_dir.is_some()),
        ];
        match given.iter().find(|(_, given)| *given) {
            None => Ok(()),
            Some((field, _)) => {
                let name = |field| self.source.name(info(field));
                Err(self.source.error_with_hint(
                    format!(
                        "{} is given but the stdlib is not frozen, so it would do nothing",
                        name(field)
                    ),
                    format!(
                        "freeze the stdlib with {}, or drop {}",
                        name("stdlib"),
                        name(field)
                    ),
                ))
            }
        }
    }

    /// Resolves this source alone into a [`Spec`].
    pub fn build(&self) -> crate::Result<Spec> {
        Spec::from_layers(&[self])
    }

    /// Attaches this source's `include`/`exclude` patterns: to its own roots (the last `own`
    /// `[[root]]`s and site-packages folders of `spec`), before their own patterns, as a spec
    /// file writes its top-level patterns first; else after the patterns of every root so far
    /// (flags refining a file).
    fn attach_patterns(
        &self,
        spec: &mut Spec,
        own: (usize, usize),
        include: &[String],
        exclude: &[String],
    ) -> crate::Result<()> {
        if include.is_empty() && exclude.is_empty() {
            return Ok(());
        }
        if own != (0, 0) {
            let (first_root, first_site) =
                (spec.roots.len() - own.0, spec.site_packages.len() - own.1);
            let roots = spec.roots[first_root..].iter_mut();
            for root in roots.chain(&mut spec.site_packages[first_site..]) {
                root.include.splice(0..0, include.iter().cloned());
                root.exclude.splice(0..0, exclude.iter().cloned());
            }
            return Ok(());
        }
        if spec.roots.is_empty() && spec.site_packages.is_empty() {
            let name = |field| self.source.name(info(field));
            return Err(self.source.error_with_hint(
                format!(
                    "{} and {} patterns need a root to apply to",
                    name("include"),
                    name("exclude")
                ),
                format!(
                    "add the folder of the modules with {} (or {}), or drop the patterns",
                    name("roots"),
                    name("site_packages")
                ),
            ));
        }
        for root in spec.roots.iter_mut().chain(&mut spec.site_packages) {
            root.include.extend(include.iter().cloned());
            root.exclude.extend(exclude.iter().cloned());
        }
        Ok(())
    }
}

impl Default for SpecBuilder {
    fn default() -> Self {
        SpecBuilder::new()
    }
}

impl Root {
    /// A root with no patterns of its own.
    pub fn new(path: impl Into<PathBuf>) -> Root {
        Root {
            path: path.into(),
            ..Root::default()
        }
    }

    /// A site-packages folder with no patterns of its own.
    pub fn site_packages(path: impl Into<PathBuf>) -> Root {
        Root {
            site_packages: true,
            ..Root::new(path)
        }
    }
}

/// The options table of docs/spec.md (a test keeps the page current).
pub fn markdown() -> String {
    let mut out = String::from(
        "| key | flag | `Build` method | default | meaning |\n|---|---|---|---|---|\n",
    );
    for o in OPTIONS {
        let flag = match (o.short, o.value_name) {
            (Some(c), "") => format!("`-{c}`, `--{}`", o.flag),
            (Some(c), v) => format!("`-{c}`, `--{} {v}`", o.flag),
            (None, "") => format!("`--{}`", o.flag),
            (None, v) => format!("`--{} {v}`", o.flag),
        };
        let default = match (o.card, o.default) {
            (Card::Many, _) => "none".to_string(),
            (Card::Opt, _) => "unset".to_string(),
            (Card::One, d) if o.switch_sets.is_some() => d.to_string(),
            (Card::One, d) if d.parse::<f64>().is_ok() => d.to_string(),
            (Card::One, d) => format!("`\"{d}\"`"),
        };
        let key = match o.card {
            Card::Many if o.toml_table => format!("`[[{}]]`", o.key),
            Card::Many => format!("`{}` (list)", o.key),
            _ => format!("`{}`", o.key),
        };
        let build = o.build.map_or("—".to_string(), |m| format!("`{m}`"));
        let cell = |text: &str| text.replace('|', "\\|");
        out.push_str(&format!(
            "| {key} | {} | {build} | {default} | {} |\n",
            cell(&flag),
            cell(&doc_line(o))
        ));
    }
    out
}
