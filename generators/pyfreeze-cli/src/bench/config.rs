//! The configurations the bench compares: each one's typed id, what it runs, and the rules
//! its loaders must satisfy before its numbers count (docs/benchmarks.md describes them).

use std::fmt;
use std::path::{Path, PathBuf};

use super::harness::stock_args;
use super::setup::{Embed, Stock, ZipPrefix};

/// A configuration. Its text form ([`ConfigId::as_str`]) is the id in the JSON, the chart's
/// `data-config` and the terminal report; the enum is what the code compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigId {
    /// The stock interpreter: PathFinder over warm `.pyc`, CPython's own frozen modules on.
    PathFinder,
    /// The stock interpreter with `-X frozen_modules=off`.
    FrozenOff,
    /// The stock binary in a prefix whose stdlib is a stored zip of `.pyc`.
    ZipImport,
    /// `examples/embed-c`: pyfreeze's table in a stock static libpython.
    Embed,
    /// embed-c with the stdlib as a pack (`pyfreeze pack`) it adds from C, no linked stdlib.
    Pack,
    /// The patched build's source built unpatched.
    Plain,
    /// pyfreeze's patched CPython.
    Patched,
    /// Floor: unmarshalling the bytecode only.
    Unmarshal,
    /// Floor: executing module bodies from code objects only.
    Exec,
}

impl ConfigId {
    pub const ALL: [ConfigId; 9] = [
        ConfigId::PathFinder,
        ConfigId::FrozenOff,
        ConfigId::ZipImport,
        ConfigId::Embed,
        ConfigId::Pack,
        ConfigId::Plain,
        ConfigId::Patched,
        ConfigId::Unmarshal,
        ConfigId::Exec,
    ];

    /// What every ratio is given against.
    pub const REFERENCE: ConfigId = ConfigId::PathFinder;

    /// The id as the JSON, the chart and the terminal report spell it (the one place).
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigId::PathFinder => "pathfinder",
            ConfigId::FrozenOff => "frozen-off",
            ConfigId::ZipImport => "zipimport",
            ConfigId::Embed => "embed",
            ConfigId::Pack => "pack",
            ConfigId::Plain => "plain",
            ConfigId::Patched => "patched",
            ConfigId::Unmarshal => "unmarshal",
            ConfigId::Exec => "exec",
        }
    }

    /// The id of a recorded result (`--chart-from`).
    pub fn parse(text: &str) -> Option<ConfigId> {
        ConfigId::ALL.into_iter().find(|id| id.as_str() == text)
    }

    /// The JSON key of a ratio to this configuration: `ratio_to_pathfinder`.
    pub fn ratio_key(self) -> String {
        format!("ratio_to_{self}")
    }
}

impl fmt::Display for ConfigId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<11}` aligns the report's columns.
        f.pad(self.as_str())
    }
}

/// What `sys.path` must look like in a configuration's probe run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysPath {
    /// Anything.
    Any,
    /// Its first entry is the zip (zipimport).
    ZipFirst,
    /// Only the stock interpreter's extension-module folder (embed-c).
    OnlyDynload,
    /// A pack file (`.pyfz`), then only the extension-module folder (embed-c --path).
    PackThenDynload,
}

/// Which loader kinds (as `harness.py` names them) a configuration may serve modules with.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// For the listed modules the import loop loads.
    pub listed: &'static [&'static str],
    /// For the listed modules already loaded at start-up.
    pub startup: &'static [&'static str],
    /// Kinds no module at all may have.
    pub forbidden: &'static [&'static str],
    /// `(module, kind)`: allowed besides the above.
    pub exceptions: &'static [(&'static str, &'static str)],
    /// For the modules of the app (`--app`): the kinds allowed instead of the above.
    pub app: &'static [&'static str],
    /// No module may be compiled from source while importing (the `.pyc` must be warm).
    pub warm_pyc: bool,
    /// No `.py`/`.pyc` file may be opened while importing.
    pub no_py_files: bool,
    /// Every listed module must be in the interpreter's frozen table (`_pyfreeze.modules()`
    /// or `_imp._frozen_ext_modules()`).
    pub in_table: bool,
    pub sys_path: SysPath,
}

/// What a floor measures instead of imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    Unmarshal,
    Exec,
}

impl Floor {
    /// As the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Floor::Unmarshal => "unmarshal",
            Floor::Exec => "exec",
        }
    }
}

/// One configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub id: ConfigId,
    pub label: String,
    pub what: String,
    pub program: PathBuf,
    /// Arguments before the script (`-I -S -B`, or embed-c's `--run`).
    pub pre_args: Vec<String>,
    /// The app's folder, put first on `sys.path` (`--app`, for configurations that import it
    /// from files).
    pub path: Option<PathBuf>,
    pub floor: Option<Floor>,
    pub rules: Rules,
    /// The reference its ratio is also given against (patched: plain).
    pub also_against: Option<ConfigId>,
}

impl Config {
    pub fn shown_command(&self) -> String {
        let mut parts = vec![self.program.display().to_string()];
        parts.extend(self.pre_args.iter().cloned());
        parts.join(" ")
    }
}

const STOCK_RULES: Rules = Rules {
    listed: &["source", "frozen"],
    startup: &["source", "frozen"],
    forbidden: &["sourceless", "zip", "pyfreeze", "frozen-ext", "memory"],
    exceptions: &[],
    app: &["source"],
    warm_pyc: true,
    no_py_files: false,
    in_table: false,
    sys_path: SysPath::Any,
};

/// The configurations, in report order. `patched` and `plain` are the prefixes given; `app`
/// the folder of `--app`, which the configurations that import it from files get on
/// `sys.path` (embed-c freezes it, the zip holds it).
pub fn configurations(
    stock: &Stock,
    zip: &ZipPrefix,
    embed: &Embed,
    pack: &Embed,
    patched: Option<&Path>,
    plain: Option<&Path>,
    app: Option<&Path>,
) -> Vec<Config> {
    let path = app.map(Path::to_path_buf);
    let py = format!("python{}", stock.minor);
    let mut v = vec![Config {
        id: ConfigId::PathFinder,
        label: "PathFinder, warm .pyc".into(),
        what: format!(
            "stock {py} {} (shared libpython), CPython's own frozen modules on (the default)",
            stock.version
        ),
        program: stock.python.clone(),
        pre_args: stock_args(),
        path: path.clone(),
        floor: None,
        rules: STOCK_RULES,
        also_against: None,
    }];
    // -X frozen_modules exists from 3.11 on; 3.10 freezes only importlib's bootstrap.
    if stock.interp.version.minor >= 11 {
        v.push(Config {
            id: ConfigId::FrozenOff,
            label: "PathFinder, -X frozen_modules=off".into(),
            what: format!("stock {py} with CPython's own frozen stdlib modules off"),
            program: stock.python.clone(),
            pre_args: ["-I", "-S", "-B", "-X", "frozen_modules=off"]
                .map(String::from)
                .to_vec(),
            path: path.clone(),
            floor: None,
            rules: Rules {
                listed: &["source"],
                startup: &["source"],
                // zipimport is one of the modules CPython always keeps frozen.
                exceptions: &[("zipimport", "frozen")],
                ..STOCK_RULES
            },
            also_against: None,
        });
    }
    v.push(Config {
        id: ConfigId::ZipImport,
        label: "zipimport, stored zip of .pyc".into(),
        what: format!(
            "stock {py} binary in a prefix whose stdlib is {} (stored, .pyc only)",
            zip.zip.file_name().unwrap_or_default().to_string_lossy()
        ),
        program: zip.python.clone(),
        pre_args: stock_args(),
        path: None,
        floor: None,
        rules: Rules {
            listed: &["zip", "frozen"],
            startup: &["zip", "frozen"],
            forbidden: &["source", "sourceless", "pyfreeze", "frozen-ext", "memory"],
            exceptions: &[],
            app: &["zip"],
            warm_pyc: false,
            no_py_files: true,
            in_table: false,
            sys_path: SysPath::ZipFirst,
        },
        also_against: None,
    });
    v.push(Config {
        id: ConfigId::Embed,
        label: "pyfreeze, stock libpython (embed-c)".into(),
        what: "examples/embed-c: stdlib in pyfreeze's table, stock static libpython, sys.path = [lib-dynload]".into(),
        program: embed.binary.clone(),
        pre_args: vec!["--run".into()],
        path: None,
        floor: None,
        rules: Rules {
            listed: &["pyfreeze"],
            startup: &["pyfreeze"],
            forbidden: &["source", "sourceless", "zip", "frozen-ext", "memory"],
            exceptions: &[],
            app: &["pyfreeze"],
            warm_pyc: false,
            no_py_files: true,
            in_table: true,
            sys_path: SysPath::OnlyDynload,
        },
        also_against: None,
    });
    if let Some(file) = &pack.pack {
        v.push(Config {
            id: ConfigId::Pack,
            label: "pyfreeze pack, stock libpython".into(),
            what: format!(
                "examples/embed-c with only its app linked: the stdlib is {} (`pyfreeze pack`), first on sys.path (`--path`)",
                file.display()
            ),
            program: pack.binary.clone(),
            pre_args: vec![
                "--path".into(),
                file.display().to_string(),
                "--run".into(),
            ],
            path: None,
            floor: None,
            rules: Rules {
                // CPython's own frozen modules (os, site...) come before sys.path, as they do
                // for PathFinder's configuration.
                listed: &["pyfreeze", "frozen"],
                startup: &["pyfreeze", "frozen"],
                forbidden: &["source", "sourceless", "zip", "frozen-ext", "memory"],
                exceptions: &[],
                app: &["pyfreeze"],
                warm_pyc: false,
                no_py_files: true,
                in_table: false,
                sys_path: SysPath::PackThenDynload,
            },
            also_against: Some(ConfigId::Embed),
        });
    }
    if let Some(prefix) = plain {
        v.push(Config {
            id: ConfigId::Plain,
            label: "unpatched build, warm .pyc".into(),
            what: format!(
                "{} built by `pyfreeze cpython build --plain` (static libpython)",
                prefix.display()
            ),
            program: prefix.join(format!("bin/{py}")),
            pre_args: stock_args(),
            path: path.clone(),
            floor: None,
            rules: STOCK_RULES,
            also_against: None,
        });
    }
    if let Some(prefix) = patched {
        v.push(Config {
            id: ConfigId::Patched,
            label: "pyfreeze, patched CPython".into(),
            what: format!(
                "{} built by `pyfreeze cpython build`: stdlib in the extended frozen table",
                prefix.display()
            ),
            program: prefix.join(format!("bin/{py}")),
            pre_args: stock_args(),
            path: path.clone(),
            floor: None,
            rules: Rules {
                listed: &["frozen-ext"],
                startup: &["frozen-ext"],
                forbidden: &["source", "sourceless", "zip", "pyfreeze", "memory"],
                // CPython's bootstrap table (importlib._bootstrap*, zipimport) comes before the
                // extended table in the lookup: zipimport is CPython's own frozen copy.
                exceptions: &[("zipimport", "frozen")],
                // From its table when the build froze the app, else from the app's folder.
                app: &["frozen-ext", "source"],
                warm_pyc: false,
                no_py_files: true,
                in_table: true,
                sys_path: SysPath::Any,
            },
            also_against: plain.map(|_| ConfigId::Plain),
        });
    }
    let floor_rules = Rules {
        listed: &["memory"],
        startup: &["source", "frozen"],
        forbidden: &["sourceless", "zip", "pyfreeze", "frozen-ext"],
        exceptions: &[],
        app: &["memory"],
        warm_pyc: false,
        no_py_files: false,
        in_table: false,
        sys_path: SysPath::Any,
    };
    v.push(Config {
        id: ConfigId::Unmarshal,
        label: "floor: unmarshal only".into(),
        what: "marshal.loads of every loaded module's bytecode, already in memory".into(),
        program: stock.python.clone(),
        pre_args: stock_args(),
        path: path.clone(),
        floor: Some(Floor::Unmarshal),
        rules: floor_rules,
        also_against: None,
    });
    v.push(Config {
        id: ConfigId::Exec,
        label: "floor: exec only".into(),
        what: "module bodies executed from code objects already in memory".into(),
        program: stock.python.clone(),
        pre_args: stock_args(),
        path,
        floor: Some(Floor::Exec),
        rules: floor_rules,
        also_against: None,
    });
    v
}

/// The two CPython builds (`plain` and `patched`) with `site` imported, as `python -I -c pass`
/// runs; empty unless both are configured.
pub fn with_site(configs: &[Config]) -> Vec<Config> {
    let builds: Vec<Config> = configs
        .iter()
        .filter(|c| matches!(c.id, ConfigId::Plain | ConfigId::Patched))
        .map(|c| Config {
            pre_args: c.pre_args.iter().filter(|a| *a != "-S").cloned().collect(),
            ..c.clone()
        })
        .collect();
    if builds.len() == 2 {
        builds
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text() {
        for id in ConfigId::ALL {
            assert_eq!(ConfigId::parse(id.as_str()), Some(id));
        }
        assert_eq!(ConfigId::parse("PathFinder"), None);
        assert_eq!(ConfigId::REFERENCE.ratio_key(), "ratio_to_pathfinder");
        assert_eq!(format!("[{:<11}]", ConfigId::Embed), "[embed      ]");
        assert_eq!(ConfigId::Pack.as_str(), "pack");
    }
}
