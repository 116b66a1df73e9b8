//! The chart, drawn from the JSON result alone (never from the run's memory), so that the same
//! numbers always give the same SVG and a recorded run (`--chart-from`) can be drawn again.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config::ConfigId;
use super::svg;

/// The colour of a configuration's bars.
fn color(id: ConfigId) -> &'static str {
    match id {
        ConfigId::PathFinder => "#7f7f7f",
        ConfigId::FrozenOff => "#b3b3b3",
        ConfigId::ZipImport => "#b07aa1",
        ConfigId::Embed => "#4e79a7",
        ConfigId::Pack => "#76b7b2",
        ConfigId::Plain => "#c9b28f",
        ConfigId::Patched => "#59a14f",
        ConfigId::Unmarshal => "#edc948",
        ConfigId::Exec => "#f5dd9b",
    }
}

/// The colour of a configuration a recorded result names (grey for one this version does not
/// know).
fn color_of(id: &str) -> &'static str {
    ConfigId::parse(id).map_or("#888888", color)
}

/// The chart, from the JSON alone (so that the same numbers always give the same SVG, and a
/// recorded run can be drawn again): start-up and imports, one bar per configuration.
pub fn chart(j: &Value) -> Result<svg::Chart, String> {
    let bad = |what: &str| format!("not a pyfreeze bench result: no {what}");
    let configs = j["configurations"]
        .as_array()
        .ok_or_else(|| bad("configurations"))?;
    let list = j["modules"]["listed"]
        .as_u64()
        .ok_or_else(|| bad("modules"))?;
    let loaded = j["modules"]["loaded_by_the_loop"].as_u64().unwrap_or(0);
    let panel = |id: &str, title: String| -> Result<svg::Panel, String> {
        let results = &j["workloads"][id]["results"];
        let mut bars = Vec::new();
        for c in configs {
            let cid = c["id"].as_str().ok_or_else(|| bad("configuration id"))?;
            let r = &results[cid];
            if r.is_null() {
                continue;
            }
            let num = |key: &str| {
                r[key]
                    .as_f64()
                    .ok_or_else(|| bad(&format!("{key} of {cid}")))
            };
            bars.push(svg::Bar {
                id: cid.into(),
                label: c["label"].as_str().unwrap_or(cid).into(),
                median: num("median_ms")?,
                min: num("min_ms")?,
                max: num("max_ms")?,
                ratio: r[ConfigId::REFERENCE.ratio_key()].as_f64(),
                color: color_of(cid).into(),
                dashed: !c["floor"].is_null(),
            });
        }
        Ok(svg::Panel {
            id: id.into(),
            title,
            unit: "ms".into(),
            bars,
        })
    };
    let m = &j["machine"];
    let load = |key: &str| {
        m[key].as_array().map_or("unknown".into(), |l| {
            l.iter()
                .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let s = &j["settings"];
    Ok(svg::Chart {
        title: format!(
            "pyfreeze bench: CPython {}, {} CPUs",
            j["python"]["version"].as_str().ok_or_else(|| bad("python"))?,
            m["cpus"].as_u64().unwrap_or(0)
        ),
        notes: vec![
            "bar: median of rounds; line: min–max of single runs (▸: beyond the axis)".into(),
            format!(
                "×: median of per-round ratios to PathFinder; {} start-up and {} import rounds, configurations alternating",
                s["startup_rounds"].as_u64().unwrap_or(0),
                s["rounds"].as_u64().unwrap_or(0)
            ),
            format!(
                "load average when measuring started {}, at the end {}; other processes used {} CPUs",
                load("load_before_measuring"),
                load("load_after_measuring"),
                m["other_processes_cpus"]
                    .as_f64()
                    .map_or("?".into(), |o| format!("{o:.2}"))
            ),
        ],
        panels: if j["app"].is_object() {
            vec![
                panel(
                    "startup",
                    "start-up: the whole process, importing the app".into(),
                )?,
                panel(
                    "imports",
                    format!(
                        "import the app: {list} modules listed, {loaded} loaded, in one process"
                    ),
                )?,
            ]
        } else {
            vec![
                panel("startup", "start-up: the whole process, empty script".into())?,
                panel(
                    "imports",
                    format!(
                        "import the pure stdlib: {list} modules listed, {loaded} loaded, in one process"
                    ),
                )?,
            ]
        },
    })
}

/// `pyfreeze-bench-X.Y.svg` next to nothing else: the chart of a recorded JSON result.
/// Draws the chart of a recorded result into `out`, and writes its pyperf files beside it;
/// returns what it wrote.
pub fn chart_from_file(json: &Path, out: &Path) -> Result<Vec<PathBuf>, String> {
    let text = std::fs::read_to_string(json)
        .map_err(|e| format!("cannot read {}: {e}", json.display()))?;
    let j: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    let minor = j["python"]["minor"]
        .as_str()
        .ok_or_else(|| format!("{}: not a pyfreeze bench result", json.display()))?;
    let chart = chart(&j).map_err(|e| format!("{}: {e}", json.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let stem = super::report::stem(minor, j["app"].is_object());
    let path = out.join(format!("{stem}.svg"));
    std::fs::write(&path, svg::render(&chart))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let pyperf = super::pyperf::write(&j, &super::pyperf::folder(out, &stem))
        .map_err(|e| format!("{}: {e}", json.display()))?;
    Ok(vec![path, pyperf])
}
