//! The bench's runs in pyperf's JSON format (file format 1.0), one file per configuration,
//! so that `python -m pyperf compare_to pathfinder.json embed.json` and `pyperf stats` read
//! them. Made from the recorded result (`pyfreeze-bench-X.Y.json`), so `--chart-from` writes
//! them again from a recorded run.
//!
//! pyperf's model is a benchmark (a name, a unit) made of runs (worker processes), each with
//! values. Every measured process of the bench is one run with one value, in seconds; the run
//! carries its round (`pyfreeze_round`), since the bench alternates configurations round by
//! round. Workloads map to benchmark names: `startup`, `startup-site`, `import-stdlib`; for
//! `--app`, `app-startup`, `app-startup-site`, `import-app`.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// The bench's workload keys and the pyperf benchmark names they become.
const BENCHMARKS: [(&str, &str); 3] = [
    ("startup", "startup"),
    ("startup_site", "startup-site"),
    ("imports", "import-stdlib"),
];

/// The folder of the pyperf files beside the result `stem.json`.
pub fn folder(out: &Path, stem: &str) -> PathBuf {
    out.join(format!("{stem}.pyperf"))
}

/// One pyperf file per configuration of the result `j`, as `(config id, file text)`, in the
/// result's configuration order; a configuration without samples gets no file.
pub fn suites(j: &Value) -> Result<Vec<(String, String)>, String> {
    let configs = j["configurations"]
        .as_array()
        .ok_or("the result has no configurations")?;
    let mut files = Vec::new();
    for cfg in configs {
        let id = cfg["id"].as_str().ok_or("a configuration has no id")?;
        let app = j["app"].is_object();
        let benchmarks: Vec<Value> = BENCHMARKS
            .iter()
            .filter_map(|(key, name)| {
                let name = match (app, *name) {
                    (true, "import-stdlib") => "import-app".to_string(),
                    (true, other) => format!("app-{other}"),
                    (false, other) => other.to_string(),
                };
                benchmark(&j["workloads"][key], id, &name)
            })
            .collect();
        if benchmarks.is_empty() {
            continue;
        }
        let suite = json!({
            "version": "1.0",
            "metadata": suite_metadata(j, cfg),
            "benchmarks": benchmarks,
        });
        let text = serde_json::to_string_pretty(&suite).expect("serializable") + "\n";
        files.push((id.to_string(), text));
    }
    Ok(files)
}

/// Writes the files of [`suites`] into `dir` (each only when its bytes change) and removes the
/// `.json` files an earlier run left there for configurations this one did not measure;
/// returns `dir`.
pub fn write(j: &Value, dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (id, text) in suites(j)? {
        let path = dir.join(format!("{id}.json"));
        pyfreeze_gen::write_if_changed(&path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|x| x == "json") && !written.contains(&path) {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(dir.to_path_buf())
}

/// The benchmark `name` of configuration `id` in one workload of the result, or `None` when
/// the configuration did not run it.
fn benchmark(workload: &Value, id: &str, name: &str) -> Option<Value> {
    let rounds = workload["results"][id]["rounds_ms"].as_array()?;
    let runs: Vec<Value> = rounds
        .iter()
        .enumerate()
        .flat_map(|(round, values)| {
            values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                // pyperf refuses values that are not strictly positive.
                .filter(|ms| *ms > 0.0)
                .map(move |ms| {
                    json!({
                        "metadata": {"pyfreeze_round": round},
                        "values": [ms / 1e3],
                    })
                })
        })
        .collect();
    if runs.is_empty() {
        return None;
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("unit".into(), json!("second"));
    metadata.insert("loops".into(), json!(1));
    if let Some(what) = one_line(&workload["what"]) {
        metadata.insert("description".into(), json!(what));
    }
    Some(json!({"metadata": metadata, "runs": runs}))
}

/// What every benchmark of a configuration's file shares: the interpreter, the machine, the
/// bench command (pyperf refuses empty values and line breaks, so those are left out).
fn suite_metadata(j: &Value, cfg: &Value) -> Value {
    let machine = &j["machine"];
    let mut m = Map::new();
    let mut put = |key: &str, value: &Value| {
        if let Some(text) = one_line(value) {
            m.insert(key.into(), json!(text));
        }
    };
    put("python_implementation", &json!("cpython"));
    put(
        "python_version",
        if cfg["version"].is_string() {
            &cfg["version"]
        } else {
            &j["python"]["version"]
        },
    );
    put("python_executable", &cfg["executable"]);
    put("cpu_model_name", &machine["cpu_model"]);
    put("platform", &machine["kernel"]);
    put("pyfreeze_config", &cfg["id"]);
    put("pyfreeze_config_description", &cfg["description"]);
    put("pyfreeze_command", &cfg["command"]);
    put("pyfreeze_bench_command", &j["command"]);
    if let Some(cpus) = machine["cpus"].as_u64().filter(|n| *n > 0) {
        m.insert("cpu_count".into(), json!(cpus));
    }
    Value::Object(m)
}

/// A string value that pyperf accepts as metadata: trimmed, not empty, on one line.
fn one_line(value: &Value) -> Option<String> {
    let text = value.as_str()?.trim();
    (!text.is_empty() && !text.contains(['\n', '\r'])).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> Value {
        json!({
            "command": "pyfreeze bench --python 3.11 --quick",
            "python": {"version": "3.11.7"},
            "machine": {"cpus": 2, "cpu_model": "AMD EPYC", "kernel": "Linux 6.18"},
            "configurations": [
                {"id": "pathfinder", "command": "python3.11 -I -S -B", "description": "stock",
                 "version": "3.11.7", "executable": "/py/bin/python3.11"},
                {"id": "exec", "command": "python3.11 -I -S -B", "description": "floor\nexec",
                 "version": null, "executable": null},
                {"id": "never-ran", "command": "x"},
            ],
            "workloads": {
                "startup": {"what": "wall time", "results": {
                    "pathfinder": {"rounds_ms": [[10.5, 11.0], [9.5]]},
                }},
                "imports": {"what": "the loop", "results": {
                    "pathfinder": {"rounds_ms": [[300.0]]},
                    "exec": {"rounds_ms": [[120.0], [0.0]]},
                }},
                "startup_site": null,
            },
        })
    }

    #[test]
    fn one_file_per_configuration_that_ran_with_one_run_per_process() {
        let files = suites(&result()).unwrap();
        let ids: Vec<&str> = files.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["pathfinder", "exec"]);
        let pf: Value = serde_json::from_str(&files[0].1).unwrap();
        assert_eq!(pf["version"], "1.0");
        let benchmarks = pf["benchmarks"].as_array().unwrap();
        let names: Vec<&str> = benchmarks
            .iter()
            .map(|b| b["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["startup", "import-stdlib"]);
        assert_eq!(benchmarks[0]["metadata"]["unit"], "second");
        assert_eq!(
            benchmarks[0]["runs"],
            json!([
                {"metadata": {"pyfreeze_round": 0}, "values": [0.0105]},
                {"metadata": {"pyfreeze_round": 0}, "values": [0.011]},
                {"metadata": {"pyfreeze_round": 1}, "values": [0.0095]},
            ])
        );
        assert_eq!(pf["metadata"]["python_version"], "3.11.7");
        assert_eq!(pf["metadata"]["cpu_count"], 2);
    }

    #[test]
    fn values_and_metadata_pyperf_would_refuse_are_left_out() {
        let files = suites(&result()).unwrap();
        let exec: Value = serde_json::from_str(&files[1].1).unwrap();
        // The zero run is dropped; the floor has no start-up benchmark.
        assert_eq!(exec["benchmarks"][0]["runs"].as_array().unwrap().len(), 1);
        assert_eq!(exec["benchmarks"].as_array().unwrap().len(), 1);
        // A description with a line break, and missing values, are not metadata; the
        // version falls back to the stock interpreter's.
        let meta = exec["metadata"].as_object().unwrap();
        assert!(!meta.contains_key("pyfreeze_config_description"));
        assert!(!meta.contains_key("python_executable"));
        assert_eq!(meta["python_version"], "3.11.7");
    }
}
