//! The kinds of values a spec option takes: how each is read from a flag or a TOML value,
//! written back (for the round trip and `pyfreeze spec`), and resolved against the folder
//! its source is relative to.
//!
//! A kind separates what a source *gives* (`Given`: the text of a flag, the value of a TOML
//! key, the argument of a setter) from what the spec *holds* (`Value`: a path made absolute
//! against the source's folder, a parsed version). Resolution happens once, in
//! [`super::SpecBuilder::build`], so a flag, a key and a setter follow the same rules.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use super::{OriginMap, Precedence, Root};
use crate::versions::PythonVersion;

/// One kind of option value. Implemented by the marker types of this module.
pub trait ValueKind {
    /// As a source gives it.
    type Given: Clone + Debug + PartialEq;
    /// As the resolved [`super::Spec`] holds it.
    type Value: Clone + Debug + PartialEq;
    /// What a getter of the spec returns.
    type Ref<'a>
    where
        Self: 'a;
    /// An on/off flag: a command-line switch without a value, which sets the opposite of
    /// the default.
    const SWITCH: bool = false;
    /// A spec file writes it as a table (`[[root]]` for a list).
    const TABLE: bool = false;
    /// A list that a spec file may also give as one value (`site_packages = "DIR"`).
    const SINGLE: bool = false;
    /// What the value is, for messages: "a boolean", "a path"...
    const WHAT: &'static str;

    fn parse_text(text: &str) -> Result<Self::Given, String>;
    fn from_toml(value: &toml::Value) -> Result<Self::Given, String> {
        match value.as_str() {
            Some(text) => Self::parse_text(text),
            None => Err(format!("must be {}, not {}", Self::WHAT, value.type_str())),
        }
    }
    fn to_text(given: &Self::Given) -> String;
    fn to_toml(given: &Self::Given) -> toml::Value {
        toml::Value::String(Self::to_text(given))
    }
    fn resolve(given: &Self::Given, base: &Path) -> Result<Self::Value, String>;
    /// A resolved value as a source would give it (resolving it again changes nothing).
    fn unresolve(value: &Self::Value) -> Self::Given;
    fn get(value: &Self::Value) -> Self::Ref<'_>;
}

/// On or off.
pub struct Switch;
/// `compile()`'s optimization level, 0 to 2.
pub struct Level;
/// A count (of workers).
pub struct Count;
/// A module pattern (see docs/spec.md, "Patterns").
pub struct Pattern;
/// A folder or file, relative to the source's folder.
pub struct Dir;
/// An interpreter: a bare command name stays a name (looked up on `PATH` when run);
/// anything with a separator is a path relative to the source's folder.
pub struct Command;
/// A supported CPython `X.Y`.
pub struct Version;
/// An origin map `FROM=TO`; `FROM` is relative to the source's folder.
pub struct Mapping;
/// A source root: a folder, with patterns of its own in a spec file's `[[root]]`.
pub struct RootDir;
/// A site-packages folder: a root frozen by distribution, given as a path or as a table like
/// `[[root]]`'s.
pub struct SiteDir;

fn text_of(value: &toml::Value, what: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("must be {what}, not {}", value.type_str()))
}

fn integer_of<T: TryFrom<i64>>(value: &toml::Value, what: &str) -> Result<T, String> {
    let n = value
        .as_integer()
        .ok_or_else(|| format!("must be {what}, not {}", value.type_str()))?;
    T::try_from(n).map_err(|_| format!("must be {what}, not {n}"))
}

fn absolute(path: &Path, base: &Path) -> PathBuf {
    base.join(path)
}

impl ValueKind for Switch {
    type Given = bool;
    type Value = bool;
    type Ref<'a> = bool;
    const SWITCH: bool = true;
    const WHAT: &'static str = "true or false";
    fn parse_text(text: &str) -> Result<bool, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("must be {}, not `{text}`", Self::WHAT)),
        }
    }
    fn from_toml(value: &toml::Value) -> Result<bool, String> {
        value
            .as_bool()
            .ok_or_else(|| format!("must be {}, not {}", Self::WHAT, value.type_str()))
    }
    fn to_text(given: &bool) -> String {
        given.to_string()
    }
    fn to_toml(given: &bool) -> toml::Value {
        toml::Value::Boolean(*given)
    }
    fn resolve(given: &bool, _: &Path) -> Result<bool, String> {
        Ok(*given)
    }
    fn unresolve(value: &bool) -> bool {
        *value
    }
    fn get(value: &bool) -> bool {
        *value
    }
}

/// Integers: read as numbers from TOML, as decimal text from a flag; `$check` says which
/// values are valid once resolved.
macro_rules! integer_kind {
    ($kind:ty, $int:ty, $what:literal, |$given:ident| $check:expr) => {
        impl ValueKind for $kind {
            type Given = $int;
            type Value = $int;
            type Ref<'a> = $int;
            const WHAT: &'static str = $what;
            fn parse_text(text: &str) -> Result<$int, String> {
                text.parse()
                    .map_err(|_| format!("must be {}, not `{text}`", Self::WHAT))
            }
            fn from_toml(value: &toml::Value) -> Result<$int, String> {
                integer_of(value, Self::WHAT)
            }
            fn to_text(given: &$int) -> String {
                given.to_string()
            }
            fn to_toml(given: &$int) -> toml::Value {
                toml::Value::Integer(i64::try_from(*given).unwrap_or(i64::MAX))
            }
            fn resolve($given: &$int, _: &Path) -> Result<$int, String> {
                $check.map(|()| *$given)
            }
            fn unresolve(value: &$int) -> $int {
                *value
            }
            fn get(value: &$int) -> $int {
                *value
            }
        }
    };
}

integer_kind!(Level, u8, "0, 1 or 2", |given| match given {
    0..=2 => Ok(()),
    _ => Err(format!("is {given}, out of range (0, 1 or 2)")),
});
integer_kind!(Count, usize, "a number of at least 0", |_given| Ok(()));

impl ValueKind for Pattern {
    type Given = String;
    type Value = String;
    type Ref<'a> = &'a str;
    const WHAT: &'static str = "a pattern (a string)";
    fn parse_text(text: &str) -> Result<String, String> {
        if text.is_empty() {
            return Err("is an empty pattern".into());
        }
        Ok(text.to_string())
    }
    fn to_text(given: &String) -> String {
        given.clone()
    }
    fn resolve(given: &String, _: &Path) -> Result<String, String> {
        Ok(given.clone())
    }
    fn unresolve(value: &String) -> String {
        value.clone()
    }
    fn get(value: &String) -> &str {
        value
    }
}

/// Paths are kept as given (not as UTF-8 text) until they are resolved.
macro_rules! path_kind {
    ($kind:ty, $what:literal, |$given:ident, $base:ident| $resolve:expr) => {
        impl ValueKind for $kind {
            type Given = PathBuf;
            type Value = PathBuf;
            type Ref<'a> = &'a Path;
            const WHAT: &'static str = $what;
            fn parse_text(text: &str) -> Result<PathBuf, String> {
                if text.is_empty() {
                    return Err("is an empty path".into());
                }
                Ok(PathBuf::from(text))
            }
            fn to_text(given: &PathBuf) -> String {
                given.to_string_lossy().into_owned()
            }
            fn resolve($given: &PathBuf, $base: &Path) -> Result<PathBuf, String> {
                Ok($resolve)
            }
            fn unresolve(value: &PathBuf) -> PathBuf {
                value.clone()
            }
            fn get(value: &PathBuf) -> &Path {
                value
            }
        }
    };
}

path_kind!(Dir, "a path (a string)", |given, base| absolute(
    given, base
));
path_kind!(
    Command,
    "an interpreter path or command name (a string)",
    |given, base| if given.components().count() > 1 {
        absolute(given, base)
    } else {
        given.clone()
    }
);

impl ValueKind for Version {
    type Given = String;
    type Value = &'static PythonVersion;
    type Ref<'a> = &'static PythonVersion;
    const WHAT: &'static str = "a CPython version `X.Y` (a string)";
    fn parse_text(text: &str) -> Result<String, String> {
        Ok(text.to_string())
    }
    fn to_text(given: &String) -> String {
        given.clone()
    }
    fn resolve(given: &String, _: &Path) -> Result<&'static PythonVersion, String> {
        PythonVersion::parse(given).ok_or_else(|| {
            format!(
                "`{given}` is not a supported CPython version (supported: {})",
                crate::versions::supported_list()
            )
        })
    }
    fn unresolve(value: &&'static PythonVersion) -> String {
        value.name()
    }
    fn get(value: &&'static PythonVersion) -> &'static PythonVersion {
        value
    }
}

impl ValueKind for Mapping {
    /// `FROM` as given, and `TO`.
    type Given = (PathBuf, String);
    type Value = OriginMap;
    type Ref<'a> = &'a OriginMap;
    const WHAT: &'static str = "`FROM=TO` (a string)";
    fn parse_text(text: &str) -> Result<(PathBuf, String), String> {
        let (from, to) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not of the form FROM=TO (e.g. `.=/app`)"))?;
        if from.is_empty() {
            return Err(format!("`{text}` has an empty FROM"));
        }
        Ok((PathBuf::from(from), to.to_string()))
    }
    fn to_text((from, to): &(PathBuf, String)) -> String {
        format!("{}={to}", from.display())
    }
    fn resolve((from, to): &(PathBuf, String), base: &Path) -> Result<OriginMap, String> {
        Ok(OriginMap {
            from: absolute(from, base),
            to: to.clone(),
        })
    }
    fn unresolve(value: &OriginMap) -> (PathBuf, String) {
        (value.from.clone(), value.to.clone())
    }
    fn get(value: &OriginMap) -> &OriginMap {
        value
    }
}

impl ValueKind for RootDir {
    /// The folder as given, with the patterns of a spec file's `[[root]]` table.
    type Given = Root;
    type Value = Root;
    type Ref<'a> = &'a Root;
    const TABLE: bool = true;
    const WHAT: &'static str = "a table with `path` and optional `include` and `exclude`";
    fn parse_text(text: &str) -> Result<Root, String> {
        Ok(Root::new(Dir::parse_text(text)?))
    }
    fn from_toml(value: &toml::Value) -> Result<Root, String> {
        root_from_table(value, Self::WHAT, "[[root]]")
    }
    fn to_text(given: &Root) -> String {
        Dir::to_text(&given.path)
    }
    fn to_toml(given: &Root) -> toml::Value {
        root_to_table(given)
    }
    fn resolve(given: &Root, base: &Path) -> Result<Root, String> {
        Ok(Root {
            path: absolute(&given.path, base),
            ..given.clone()
        })
    }
    fn unresolve(value: &Root) -> Root {
        value.clone()
    }
    fn get(value: &Root) -> &Root {
        value
    }
}

impl ValueKind for SiteDir {
    /// The folder as given, marked as site-packages, with a table's patterns and precedence.
    type Given = Root;
    type Value = Root;
    type Ref<'a> = &'a Root;
    const TABLE: bool = true;
    const SINGLE: bool = true;
    const WHAT: &'static str = "a path, or a table with `path` and optional `precedence`, \
                                `include` and `exclude`";
    fn parse_text(text: &str) -> Result<Root, String> {
        Ok(Root {
            site_packages: true,
            ..RootDir::parse_text(text)?
        })
    }
    fn from_toml(value: &toml::Value) -> Result<Root, String> {
        let root = match value.as_str() {
            Some(text) => RootDir::parse_text(text)?,
            None => root_from_table(value, Self::WHAT, "[[site_packages]]")?,
        };
        Ok(Root {
            site_packages: true,
            ..root
        })
    }
    fn to_text(given: &Root) -> String {
        Dir::to_text(&given.path)
    }
    fn to_toml(given: &Root) -> toml::Value {
        root_to_table(given)
    }
    fn resolve(given: &Root, base: &Path) -> Result<Root, String> {
        RootDir::resolve(given, base)
    }
    fn unresolve(value: &Root) -> Root {
        value.clone()
    }
    fn get(value: &Root) -> &Root {
        value
    }
}

/// A `[[root]]` (or `[[site_packages]]`) table: `path`, and optional `include`, `exclude`
/// and `precedence`.
fn root_from_table(value: &toml::Value, what: &str, table_name: &str) -> Result<Root, String> {
    let table = value
        .as_table()
        .ok_or_else(|| format!("must be {what}, not {}", value.type_str()))?;
    let mut root = Root::default();
    let mut path = None;
    for (key, value) in table {
        let in_key = |e: String| format!("`{key}` {e}");
        match key.as_str() {
            "path" => path = Some(PathBuf::from(text_of(value, Dir::WHAT).map_err(in_key)?)),
            "include" => root.include = patterns(value).map_err(in_key)?,
            "exclude" => root.exclude = patterns(value).map_err(in_key)?,
            "precedence" => {
                let text = text_of(value, "\"table\" or \"path\" (a string)").map_err(in_key)?;
                root.precedence = Precedence::parse(&text).map_err(in_key)?;
            }
            _ => {
                return Err(format!(
                    "has an unknown key `{key}` (a {table_name} has `path`, `include`, \
                     `exclude` and `precedence`)"
                ))
            }
        }
    }
    root.path = path.ok_or("lacks `path`, the folder of the root")?;
    Ok(root)
}

fn root_to_table(given: &Root) -> toml::Value {
    let mut table = toml::Table::new();
    table.insert("path".into(), Dir::to_toml(&given.path));
    for (key, list) in [("include", &given.include), ("exclude", &given.exclude)] {
        if !list.is_empty() {
            let items = list.iter().cloned().map(toml::Value::String).collect();
            table.insert(key.into(), toml::Value::Array(items));
        }
    }
    if given.precedence != Precedence::default() {
        table.insert(
            "precedence".into(),
            toml::Value::String(given.precedence.as_str().into()),
        );
    }
    toml::Value::Table(table)
}

fn patterns(value: &toml::Value) -> Result<Vec<String>, String> {
    let items = value.as_array().ok_or_else(|| {
        format!(
            "must be a list of patterns, not {} (write [\"...\"])",
            value.type_str()
        )
    })?;
    items
        .iter()
        .map(|v| Pattern::from_toml(v).map_err(|e| format!("has an item that {e}")))
        .collect()
}
