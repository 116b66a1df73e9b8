//! Verification: how each configuration served the modules (the loader of every module, files
//! opened or compiled, its frozen table, `sys.path`), checked against its [`Rules`] in the
//! probe run and in every measured run. A configuration that does not serve the modules the
//! way it claims fails the bench, naming the modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::app::App;
use super::config::{Config, ConfigId, Floor, Rules, SysPath};
use super::harness::{run_harness, Work};
use super::setup::Stock;
use super::workload::Plan;

/// Probes (and so verifies) every configuration that imports, printing what served the
/// modules; the probe run doubles as each one's warm-up.
pub fn probe_all(
    configs: &[Config],
    stock: &Stock,
    list: &[String],
    work: &Work,
    app: Option<&App>,
) -> Result<BTreeMap<ConfigId, Probe>, String> {
    let mut probes = BTreeMap::new();
    for cfg in configs.iter().filter(|c| c.floor.is_none()) {
        let p = probe(cfg, stock, list, work, app)?;
        eprintln!(
            "pyfreeze bench: {:<11} verified: {} ({})",
            cfg.id,
            p.kinds
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            p.linking()
        );
        probes.insert(cfg.id, p);
    }
    Ok(probes)
}

/// A name → kind map from a harness result.
fn kind_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("?").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the loader of every module against the configuration's rules. `startup`: the kinds
/// at start-up (None when unknown: then the listed modules loaded at start-up are not told
/// apart, and must satisfy either rule). `is_app`: whether a module is the app's (`--app`),
/// checked against `rules.app` instead. Returns the problems, one line each.
pub fn check_kinds(
    rules: &Rules,
    list: &[String],
    startup: Option<&BTreeMap<String, String>>,
    after: &BTreeMap<String, String>,
    is_app: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let allowed_for = |name: &str, kind: &str, set: &[&str]| {
        kind == "alias" || set.contains(&kind) || rules.exceptions.contains(&(name, kind))
    };
    for (name, kind) in after.iter().filter(|(name, _)| is_app(name)) {
        if kind != "namespace" && !allowed_for(name, kind, rules.app) {
            problems.push(format!(
                "{name}: served by `{kind}`, expected {} (a module of the app)",
                rules.app.join(" or ")
            ));
        }
    }
    for name in list {
        let Some(kind) = after.get(name) else {
            problems.push(format!("{name}: not in sys.modules after the import loop"));
            continue;
        };
        if is_app(name) {
            continue;
        }
        let at_startup = startup.map(|s| s.contains_key(name));
        let ok = match at_startup {
            Some(true) => allowed_for(name, kind, rules.startup),
            Some(false) => allowed_for(name, kind, rules.listed),
            None => allowed_for(name, kind, rules.listed) || allowed_for(name, kind, rules.startup),
        };
        if !ok {
            let expected = if at_startup == Some(true) {
                rules.startup
            } else {
                rules.listed
            };
            problems.push(format!(
                "{name}: served by `{kind}`, expected {}{}",
                expected.join(" or "),
                if at_startup == Some(true) {
                    " (loaded at start-up)"
                } else {
                    ""
                }
            ));
        }
    }
    for (name, kind) in after.iter().filter(|(name, _)| !is_app(name)) {
        if rules.forbidden.contains(&kind.as_str()) && !rules.exceptions.contains(&(name, kind)) {
            problems.push(format!(
                "{name}: served by `{kind}`, which this configuration must not use"
            ));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// Fails with a message naming the configuration and (a few of) the offending modules.
fn fail_if(cfg: &Config, what: &str, problems: &[String]) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 25;
    let mut text = format!(
        "configuration `{}` ({}) did not serve the modules the way it claims ({what}): {} problem(s)",
        cfg.id,
        cfg.label,
        problems.len()
    );
    for p in problems.iter().take(SHOWN) {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if problems.len() > SHOWN {
        text.push_str(&format!("\n  ... and {} more", problems.len() - SHOWN));
    }
    Err(text)
}

/// Facts a configuration reported about itself (probe run).
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub version: String,
    pub executable: String,
    pub libpython: Vec<String>,
    pub sys_path: Vec<String>,
    /// VmRSS, RssAnon, RssFile (kB) when the script starts and after the import loop.
    pub rss_startup: Rss,
    pub rss_imports: Rss,
    pub kinds: BTreeMap<String, usize>,
    pub startup_modules: usize,
    pub loaded_by_loop: usize,
}

/// Resident memory in kB, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    pub total: Option<u64>,
    pub anon: Option<u64>,
    pub file: Option<u64>,
}

impl Rss {
    fn from_json(v: &Value) -> Rss {
        Rss {
            total: v["VmRSS"].as_u64(),
            anon: v["RssAnon"].as_u64(),
            file: v["RssFile"].as_u64(),
        }
    }
}

impl Probe {
    pub fn linking(&self) -> String {
        match self.libpython.first() {
            Some(lib) => format!("shared libpython ({lib})"),
            None => "static libpython".into(),
        }
    }
}

fn count_kinds(kinds: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for k in kinds.values() {
        *counts.entry(k.clone()).or_insert(0) += 1;
    }
    counts
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The predicate of [`check_kinds`]: whether a module is the app's.
pub fn app_owns(app: Option<&App>) -> impl Fn(&str) -> bool + '_ {
    move |name| app.is_some_and(|a| a.owns(name))
}

/// Runs the probe of a (non-floor) configuration and verifies it. Doubles as the warm-up run.
fn probe(
    cfg: &Config,
    stock: &Stock,
    list: &[String],
    work: &Work,
    app: Option<&App>,
) -> Result<Probe, String> {
    let v = run_harness(
        cfg.id.as_str(),
        &cfg.program,
        &cfg.pre_args,
        cfg.path.as_deref(),
        work,
        "probe",
        &[&work.list],
    )?;
    let startup = kind_map(&v["startup_kinds"]);
    let after = kind_map(&v["kinds"]);
    let is_app = app_owns(app);
    fail_if(
        cfg,
        "loader per module",
        &check_kinds(&cfg.rules, list, Some(&startup), &after, &is_app),
    )?;
    let mut problems = Vec::new();
    let version = v["version"].as_str().unwrap_or("").to_string();
    let minor_of = |full: &str| full.split('.').take(2).collect::<Vec<_>>().join(".");
    if minor_of(&version) != stock.minor {
        problems.push(format!(
            "runs CPython {version}, not {} like the stock interpreter",
            stock.minor
        ));
    }
    if cfg.rules.warm_pyc {
        for file in strings(&v["compiled"]) {
            problems.push(format!(
                "{file}: compiled from source while importing (no valid .pyc next to it: run `python -m compileall` on the stdlib)"
            ));
        }
    }
    if cfg.rules.no_py_files {
        // The app's own files, when the configuration imports it from its folder.
        let app_file = |f: &str| {
            cfg.path
                .as_ref()
                .is_some_and(|p| Path::new(f).starts_with(p))
        };
        for file in strings(&v["opened"]).into_iter().filter(|f| !app_file(f)) {
            problems.push(format!("{file}: opened while importing"));
        }
    }
    if cfg.rules.in_table {
        let table: BTreeSet<String> = strings(&v["table"]).into_iter().collect();
        if table.is_empty() {
            problems.push(
                "no frozen table found (_pyfreeze.modules() / _imp._frozen_ext_modules())".into(),
            );
        } else {
            // An alias is another module under a second name (3.13.x's collections.abc is
            // _collections_abc, installed by collections): that module is the one checked.
            // The app may come from its folder (a patched build that did not freeze it).
            let missing = list.iter().filter(|n| {
                let kind = after.get(*n).map(String::as_str);
                !table.contains(*n)
                    && kind != Some("alias")
                    && !(is_app(n) && kind.is_some_and(|k| k == "source"))
            });
            for name in missing {
                problems.push(format!("{name}: not in the frozen table"));
            }
        }
    }
    let sys_path = strings(&v["path"]);
    match cfg.rules.sys_path {
        SysPath::Any => {}
        SysPath::ZipFirst => {
            if !sys_path.first().is_some_and(|p| p.ends_with(".zip")) {
                problems.push(format!(
                    "sys.path does not start with the zip: {sys_path:?}"
                ));
            }
        }
        SysPath::OnlyDynload => {
            if sys_path != [stock.dynload.display().to_string()] {
                problems.push(format!(
                    "sys.path should be only {}: {sys_path:?}",
                    stock.dynload.display()
                ));
            }
        }
        SysPath::PackThenDynload => {
            let dynload = stock.dynload.display().to_string();
            if !(sys_path.len() == 2 && sys_path[0].ends_with(".pyfz") && sys_path[1] == dynload) {
                problems.push(format!(
                    "sys.path should be a pack, then {dynload}: {sys_path:?}"
                ));
            }
        }
    }
    fail_if(cfg, "probe", &problems)?;
    Ok(Probe {
        version,
        executable: v["executable"].as_str().unwrap_or("").to_string(),
        libpython: strings(&v["libpython"]),
        sys_path,
        rss_startup: Rss::from_json(&v["rss_startup_kb"]),
        rss_imports: Rss::from_json(&v["rss_imports_kb"]),
        kinds: count_kinds(&after),
        startup_modules: startup.len(),
        loaded_by_loop: strings(&v["new"]).len(),
    })
}

/// Verifies one measured run of the import workload (or a floor) and returns its total and
/// per-entry times in ns.
pub fn check_import_run(
    cfg: &Config,
    v: &Value,
    list: &[String],
    plan: &Plan,
    app: Option<&App>,
) -> Result<(u64, Vec<u64>), String> {
    let is_app = app_owns(app);
    let total = v["total_ns"]
        .as_u64()
        .ok_or_else(|| format!("{}: no total_ns in the harness result", cfg.id))?;
    let mut entries: Vec<u64> = v["entry_ns"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_u64().unwrap_or(0)).collect())
        .unwrap_or_default();
    entries.resize(list.len(), 0);
    match cfg.floor {
        Some(Floor::Unmarshal) => {
            let n = v["unmarshalled"].as_u64().unwrap_or(0) as usize;
            if n != plan.pure {
                fail_if(
                    cfg,
                    "module count",
                    &[format!(
                        "unmarshalled {n} modules, the plan has {} pure modules",
                        plan.pure
                    )],
                )?;
            }
        }
        Some(Floor::Exec) => {
            let mut problems = check_kinds(&cfg.rules, list, None, &kind_map(&v["kinds"]), &is_app);
            for name in strings(&v["not_executed"]) {
                problems.push(format!("{name}: in the plan but its body never ran"));
            }
            let executed = v["executed"].as_u64().unwrap_or(0) as usize;
            if executed != plan.pure {
                problems.push(format!(
                    "executed {executed} module bodies, the plan has {}",
                    plan.pure
                ));
            }
            fail_if(cfg, "module bodies executed", &problems)?;
        }
        None => {
            fail_if(
                cfg,
                "loader per module, measured run",
                &check_kinds(&cfg.rules, list, None, &kind_map(&v["kinds"]), &is_app),
            )?;
        }
    }
    Ok((total, entries))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn kinds(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    const EMBED: Rules = Rules {
        listed: &["pyfreeze"],
        startup: &["pyfreeze"],
        forbidden: &["source", "sourceless", "zip"],
        exceptions: &[],
        app: &["pyfreeze"],
        warm_pyc: false,
        no_py_files: true,
        in_table: true,
        sys_path: SysPath::OnlyDynload,
    };

    #[test]
    fn kinds_that_match_pass() {
        let after = kinds(&[
            ("json", "pyfreeze"),
            ("codecs", "pyfreeze"),
            ("importlib._bootstrap", "alias"),
            ("_json", "extension"),
            ("sys", "builtin"),
        ]);
        let startup = kinds(&[("codecs", "pyfreeze"), ("sys", "builtin")]);
        let l = list(&["json", "codecs", "importlib._bootstrap"]);
        assert!(check_kinds(&EMBED, &l, Some(&startup), &after, &|_| false).is_empty());
        assert!(check_kinds(&EMBED, &l, None, &after, &|_| false).is_empty());
    }

    #[test]
    fn a_module_from_a_file_loader_is_named() {
        let after = kinds(&[
            ("json", "source"),
            ("json.decoder", "pyfreeze"),
            ("mod_outside_list", "sourceless"),
        ]);
        let problems = check_kinds(
            &EMBED,
            &list(&["json", "json.decoder"]),
            None,
            &after,
            &|_| false,
        );
        assert_eq!(
            problems,
            [
                "json: served by `source`, expected pyfreeze",
                "json: served by `source`, which this configuration must not use",
                "mod_outside_list: served by `sourceless`, which this configuration must not use",
            ]
        );
    }

    #[test]
    fn missing_modules_and_startup_rules() {
        let rules = Rules {
            listed: &["memory"],
            startup: &["source", "frozen"],
            forbidden: &[],
            exceptions: &[("zipimport", "frozen")],
            app: &["memory"],
            warm_pyc: false,
            no_py_files: false,
            in_table: false,
            sys_path: SysPath::Any,
        };
        let after = kinds(&[
            ("codecs", "frozen"),
            ("json", "frozen"),
            ("zipimport", "frozen"),
        ]);
        let startup = kinds(&[("codecs", "frozen")]);
        let problems = check_kinds(
            &rules,
            &list(&["codecs", "json", "zipimport", "gone"]),
            Some(&startup),
            &after,
            &|_| false,
        );
        assert_eq!(
            problems,
            [
                "gone: not in sys.modules after the import loop",
                "json: served by `frozen`, expected memory",
            ]
        );
        let problems = check_kinds(
            &rules,
            &list(&["codecs"]),
            Some(&kinds(&[])),
            &after,
            &|_| false,
        );
        assert_eq!(problems, ["codecs: served by `frozen`, expected memory"]);
    }

    #[test]
    fn the_app_modules_follow_the_app_rule_wherever_they_are() {
        // A patched build that did not freeze the app: the app from its folder, the stdlib
        // from the table, and a stdlib module from a file is still caught.
        let rules = Rules {
            listed: &["frozen-ext"],
            forbidden: &["source"],
            app: &["frozen-ext", "source"],
            ..EMBED
        };
        let after = kinds(&[
            ("game", "source"),
            ("game.world", "frozen-ext"),
            ("game.assets", "namespace"),
            ("game.cache", "sourceless"),
            ("json", "frozen-ext"),
            ("csv", "source"),
        ]);
        let is_app = |n: &str| n == "game" || n.starts_with("game.");
        let problems = check_kinds(&rules, &list(&["game"]), None, &after, &is_app);
        assert_eq!(
            problems,
            [
                "csv: served by `source`, which this configuration must not use",
                "game.cache: served by `sourceless`, expected frozen-ext or source (a module of the app)",
            ]
        );
    }

    #[test]
    fn failures_name_the_configuration_and_modules() {
        let cfg = Config {
            id: ConfigId::Embed,
            label: "pyfreeze".into(),
            what: String::new(),
            program: PathBuf::from("/x"),
            pre_args: vec![],
            path: None,
            floor: None,
            rules: EMBED,
            also_against: None,
        };
        assert!(fail_if(&cfg, "x", &[]).is_ok());
        let many: Vec<String> = (0..30).map(|i| format!("m{i}: bad")).collect();
        let err = fail_if(&cfg, "loader per module", &many).unwrap_err();
        assert!(err.starts_with("configuration `embed` (pyfreeze) did not serve"));
        assert!(
            err.contains("\n  m0: bad") && err.contains("... and 5 more"),
            "{err}"
        );
    }
}
