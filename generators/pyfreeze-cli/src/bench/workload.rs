//! The workload: which stdlib modules every configuration imports (pyfreeze's own `--stdlib`
//! selection, minus side effects and what fails in the stock interpreter), and the plan the
//! floors replay (the modules the import loop loads, with their bytecode).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyfreeze_gen::{Kind, NoProgress, SpecBuilder};

use super::app::App;
use super::harness::{run_harness, stock_args, write, Work};
use super::setup::Stock;

/// What every configuration imports, and why the rest of the selection does not count.
pub struct Workload {
    /// `pyfreeze list --stdlib`.
    pub selection: Vec<Selected>,
    /// The module list, in import order.
    pub list: Vec<String>,
    /// Excluded name → reason.
    pub excluded: BTreeMap<String, String>,
}

/// Selects the stdlib of `stock`, writes the selection and its package data into `work` (the
/// zip is made from them, with the app's when given) and keeps the modules that import cleanly
/// in the stock interpreter (`work.list`); with `--app`, the list is the app's modules instead,
/// each of which must import cleanly.
pub fn select(stock: &Stock, work: &Work, app: Option<&App>) -> Result<Workload, String> {
    let (selection, data) = select_stdlib(stock)?;
    let app_selection = app.map_or(&[][..], |a| &a.selection[..]);
    let selection_tsv: String = selection
        .iter()
        .chain(app_selection)
        .map(|m| format!("{}\t{}\t{}\n", m.name, m.kind.as_str(), m.origin.display()))
        .collect();
    write(&work.selection, selection_tsv.as_bytes())?;
    let app_data = app.map_or(&[][..], |a| &a.data[..]);
    let data_tsv: String = data
        .iter()
        .chain(app_data)
        .map(|(arc, path)| format!("{arc}\t{}\n", path.display()))
        .collect();
    write(&work.data, data_tsv.as_bytes())?;
    if let Some(app) = app {
        app_list(stock, app, work)?;
        eprintln!(
            "pyfreeze bench: app: {} modules in {}, importing {}",
            app.selection.len(),
            app.given.display(),
            app.modules.join(", ")
        );
        return Ok(Workload {
            selection,
            list: app.modules.clone(),
            excluded: BTreeMap::new(),
        });
    }
    let (list, excluded) = module_list(stock, &selection, work)?;
    eprintln!(
        "pyfreeze bench: {} modules selected by `pyfreeze list --stdlib`, {} excluded, {} imported by every configuration",
        selection.len(),
        excluded.len(),
        list.len()
    );
    Ok(Workload {
        selection,
        list,
        excluded,
    })
}

/// One module of the stdlib selection.
#[derive(Debug, Clone)]
pub struct Selected {
    pub name: String,
    pub kind: Kind,
    pub origin: PathBuf,
}

/// A package data file: its path in the zip, and the file.
pub type DataFile = (String, PathBuf);

/// The stdlib selection of `pyfreeze list --stdlib --python PY`, and its package data files
/// as `(archive path, file)` (the zip holds them, as the frozen table does).
fn select_stdlib(stock: &Stock) -> Result<(Vec<Selected>, Vec<DataFile>), String> {
    let spec = SpecBuilder::new()
        .python(&stock.python)
        .stdlib(true)
        .runtime(false)
        .package_data(true)
        .embed_source(false)
        .build()
        .map_err(|e| e.to_string())?;
    let generated = pyfreeze_gen::generate(&spec, &NoProgress).map_err(|e| e.to_string())?;
    Ok(selection_of(generated))
}

/// What a generator run selected, as the zip holds it: the modules with a file (namespace
/// packages have none), and the package data as `(archive path, file)`.
pub fn selection_of(generated: pyfreeze_gen::Generated) -> (Vec<Selected>, Vec<DataFile>) {
    let data = generated
        .resources
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r.package.replace('.', "/"), r.rel),
                r.path.clone(),
            )
        })
        .collect();
    let modules = generated
        .modules
        .into_iter()
        .filter_map(|m| {
            Some(Selected {
                name: m.name,
                kind: m.kind,
                origin: m.path?,
            })
        })
        .collect();
    (modules, data)
}

/// Why a selected module is left out of the workload, before any import is tried.
pub fn side_effect_exclusion(name: &str) -> Option<&'static str> {
    match name {
        "antigravity" => Some("side effect: opens a web browser"),
        "this" => Some("side effect: prints the Zen of Python"),
        _ if name == "__main__" || name.ends_with(".__main__") => {
            Some("side effect: a package's command-line entry point")
        }
        _ => None,
    }
}

/// The module list: the selection minus side effects minus what fails in the stock
/// interpreter. Returns (list, excluded name → reason).
fn module_list(
    stock: &Stock,
    selection: &[Selected],
    work: &Work,
) -> Result<(Vec<String>, BTreeMap<String, String>), String> {
    let mut excluded = BTreeMap::new();
    let mut candidates = Vec::new();
    for m in selection {
        match side_effect_exclusion(&m.name) {
            Some(reason) => {
                excluded.insert(m.name.clone(), reason.to_string());
            }
            None if m.kind == Kind::Namespace => {
                excluded.insert(
                    m.name.clone(),
                    "namespace package (no code to freeze)".to_string(),
                );
            }
            None => candidates.push(m.name.clone()),
        }
    }
    write(&work.list, (candidates.join("\n") + "\n").as_bytes())?;
    let check = run_harness(
        "module list",
        &stock.python,
        &stock_args(),
        None,
        work,
        "check",
        &[&work.list],
    )?;
    let errors = check["errors"].as_object().cloned().unwrap_or_default();
    for (name, err) in &errors {
        excluded.insert(
            name.clone(),
            format!(
                "fails in the stock interpreter: {}",
                err.as_str().unwrap_or("")
            ),
        );
    }
    let list: Vec<String> = candidates
        .into_iter()
        .filter(|n| !errors.contains_key(n))
        .collect();
    write(&work.list, (list.join("\n") + "\n").as_bytes())?;
    Ok((list, excluded))
}

/// The app's modules as the list; each must import in the stock interpreter.
fn app_list(stock: &Stock, app: &App, work: &Work) -> Result<(), String> {
    write(&work.list, (app.modules.join("\n") + "\n").as_bytes())?;
    let check = run_harness(
        "app",
        &stock.python,
        &stock_args(),
        Some(&app.root),
        work,
        "check",
        &[&work.list],
    )?;
    let errors = check["errors"].as_object().cloned().unwrap_or_default();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the app's modules must import in the stock interpreter {} (from {}, `-I -S`):\n{}",
        stock.python.display(),
        app.given.display(),
        errors
            .iter()
            .map(|(name, e)| format!("  {name}: {}", e.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// What the plan run found: the modules the import loop loads in the stock interpreter.
#[derive(Debug, Clone)]
pub struct Plan {
    pub modules: usize,
    pub pure: usize,
    pub bytecode_bytes: u64,
}

/// The plan run: the stock interpreter imports the list once and records, in `work.plan_tsv`
/// and `work.plan_bin`, every module the loop loads and its bytecode.
pub fn plan(stock: &Stock, work: &Work, app: Option<&App>) -> Result<Plan, String> {
    let planned = run_harness(
        "plan",
        &stock.python,
        &stock_args(),
        app.map(|a| a.root.as_path()),
        work,
        "plan",
        &[&work.list, &work.plan_tsv, &work.plan_bin],
    )?;
    let plan = Plan {
        modules: planned["modules"].as_u64().unwrap_or(0) as usize,
        pure: planned["pure"].as_u64().unwrap_or(0) as usize,
        bytecode_bytes: planned["bytecode_bytes"].as_u64().unwrap_or(0),
    };
    if plan.pure == 0 {
        return Err("the plan run found no pure module loaded by the import loop".into());
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_effect_exclusions() {
        assert!(side_effect_exclusion("antigravity").is_some());
        assert!(side_effect_exclusion("this").is_some());
        assert!(side_effect_exclusion("asyncio.__main__").is_some());
        assert!(side_effect_exclusion("json").is_none());
        assert!(side_effect_exclusion("thisisfine").is_none());
    }
}
