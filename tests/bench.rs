//! `pyfreeze bench`: a quick run on 3.11 through the CLI, asserting on the JSON and the SVG it
//! writes (structure, verification, counts; never on timings), and a configuration that does
//! not serve modules the way it claims making the bench fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use pyfreeze_tests::{pip_install_target, pyfreeze_bin, python, run, run_ok};
use serde_json::Value;

/// The ids of the configurations a stock run has, in report order: the JSON format's spelling
/// (`ConfigId::as_str` in generators/pyfreeze-cli/src/bench/config.rs), asserted as written.
const STOCK_CONFIGS: [&str; 5] = ["pathfinder", "frozen-off", "zipimport", "embed", "pack"];
/// The floors, after every importing configuration.
const FLOORS: [&str; 2] = ["unmarshal", "exec"];

/// The bench builds examples/embed-c into its cache: one bench at a time (and the machine has
/// two cores).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The tests' cache (`$PYFREEZE_TEST_CACHE`, default `~/.cache/pyfreeze`), shared with
/// tests/cpython.rs: CPython source trees and builds.
fn test_cache() -> PathBuf {
    match std::env::var_os("PYFREEZE_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME or PYFREEZE_TEST_CACHE"))
            .join(".cache/pyfreeze"),
    }
}

/// The bench's own cache, kept between test runs, so that embed-c is rebuilt incrementally.
fn cache() -> PathBuf {
    test_cache().join("bench-test")
}

fn bench(python: &str, extra: &[&str], out: &Path) -> Output {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run(Command::new(pyfreeze_bin())
        .args(["bench", "--python", python, "--quick", "--out"])
        .arg(out)
        .arg("--cache")
        .arg(cache())
        .args(extra))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The result's configurations by id.
fn configs_by_id(j: &Value) -> BTreeMap<&str, &Value> {
    j["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c))
        .collect()
}

fn count(v: &Value, kind: &str) -> u64 {
    v["modules_by_loader"][kind].as_u64().unwrap_or(0)
}

/// The bars of the SVG per panel, read by a real XML parser (the stock interpreter's).
fn svg_bars(svg: &Path) -> BTreeMap<String, Vec<String>> {
    let script = r#"
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
bars = {}
for g in root.iter(ns + "g"):
    if g.get("class") == "panel":
        bars[g.get("data-workload")] = [r.get("data-config") for r in g.iter(ns + "rect") if r.get("class") == "bar" and float(r.get("width")) >= 0]
print(json.dumps(bars))
"#;
    let out = run_ok(
        Command::new(python(11))
            .args(["-I", "-S", "-c", script])
            .arg(svg),
    );
    serde_json::from_str(&out).unwrap()
}

fn ids(results: &Value) -> Vec<String> {
    results.as_object().unwrap().keys().cloned().collect()
}

fn check_workload(w: &Value, expected: &[&str], rounds: usize, runs: usize) {
    let results = &w["results"];
    let mut got = ids(results);
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "{w}");
    for id in expected {
        let r = &results[id];
        let (median, min, max) = (
            r["median_ms"].as_f64().unwrap(),
            r["min_ms"].as_f64().unwrap(),
            r["max_ms"].as_f64().unwrap(),
        );
        assert!(median > 0.0 && min <= median && median <= max, "{id}: {r}");
        let per_round = r["rounds_ms"].as_array().unwrap();
        assert_eq!(per_round.len(), rounds, "{id}: {r}");
        assert!(
            per_round
                .iter()
                .all(|round| round.as_array().unwrap().len() == runs),
            "{id}: {r}"
        );
        assert!(r["ratio_to_pathfinder"].as_f64().unwrap() > 0.0, "{id}");
    }
    assert_eq!(results["pathfinder"]["ratio_to_pathfinder"], 1.0);
}

#[test]
fn quick_bench_3_11_verifies_every_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bench("3.11", &[], tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let j = read_json(&tmp.path().join("pyfreeze-bench-3.11.json"));
    assert_eq!(j["format"], 1);
    assert_eq!(j["python"]["minor"], "3.11");
    assert!(j["python"]["version"]
        .as_str()
        .unwrap()
        .starts_with("3.11."));
    assert!(
        j["command"]
            .as_str()
            .unwrap()
            .starts_with("pyfreeze bench --python 3.11 --quick --out "),
        "{}",
        j["command"]
    );
    assert!(j["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert_eq!(
        j["machine"]["load_before_measuring"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // The module list and its exclusions, written out and consistent.
    let m = &j["modules"];
    let list: Vec<&str> = m["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let excluded: BTreeMap<&str, &str> = m["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(m["listed"].as_u64().unwrap() as usize, list.len());
    assert_eq!(
        m["selected"].as_u64().unwrap() as usize,
        list.len() + excluded.len()
    );
    assert!(list.len() > 500, "{}", list.len());
    for name in ["json", "asyncio", "email.mime.text", "importlib.metadata"] {
        assert!(list.contains(&name), "{name} not listed");
    }
    for name in ["antigravity", "this", "asyncio.__main__"] {
        assert!(
            excluded[name].starts_with("side effect"),
            "{name}: {excluded:?}"
        );
        assert!(!list.contains(&name));
    }
    assert!(
        excluded["asyncio.windows_events"].starts_with("fails in the stock interpreter"),
        "{excluded:?}"
    );
    let loaded = m["loaded_by_the_loop"].as_u64().unwrap();
    let pure = m["pure_loaded_by_the_loop"].as_u64().unwrap();
    assert!(loaded > list.len() as u64 && pure <= loaded && pure > 500);
    assert!(m["bytecode_bytes"].as_u64().unwrap() > 1_000_000);

    // Every configuration verified how it served the modules, and the counts agree.
    let configs = configs_by_id(&j);
    let order: Vec<&str> = j["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [&STOCK_CONFIGS[..], &FLOORS[..]].concat());
    for (id, c) in &configs {
        assert_eq!(c["verified"], true, "{id}");
    }
    let real = STOCK_CONFIGS;
    for id in real {
        let c = configs[id];
        assert!(c["version"].as_str().unwrap().starts_with("3.11."), "{id}");
        assert!(
            c["rss_startup_kb"]["total"].as_u64().unwrap() > 1000,
            "{id}"
        );
        assert!(
            c["rss_after_imports_kb"]["total"].as_u64().unwrap()
                > c["rss_startup_kb"]["total"].as_u64().unwrap(),
            "{id}"
        );
        assert!(c["size"]["executable_bytes"].as_u64().unwrap() > 0, "{id}");
    }
    let (pf, off, zip, embed) = (
        configs["pathfinder"],
        configs["frozen-off"],
        configs["zipimport"],
        configs["embed"],
    );
    // The same modules, served by a file loader, from the zip, or from the table.
    assert!(
        count(pf, "source") > 500 && count(pf, "frozen") > 10,
        "{pf}"
    );
    assert_eq!(count(zip, "zip"), count(pf, "source"), "{zip}");
    assert_eq!(count(zip, "frozen"), count(pf, "frozen"));
    assert_eq!(count(zip, "source"), 0);
    // frozen_modules=off: CPython's frozen stdlib modules come from source too.
    assert_eq!(
        count(off, "source") + count(off, "frozen"),
        count(pf, "source") + count(pf, "frozen")
    );
    assert!(count(off, "frozen") < count(pf, "frozen"));
    // embed-c: every pure module, the start-up ones and pyfreeze's runtime included, from the
    // table; only importlib's two bootstrap modules stay CPython's own frozen ones.
    assert_eq!(count(embed, "frozen"), 2, "{embed}");
    assert_eq!(
        count(embed, "pyfreeze"),
        count(pf, "source") + count(pf, "frozen") - 2 + 1,
        "{embed}"
    );
    for kind in ["source", "sourceless", "zip"] {
        assert_eq!(count(embed, kind), 0, "{kind}: {embed}");
    }
    assert_eq!(embed["linking"], "static libpython");
    assert!(pf["linking"]
        .as_str()
        .unwrap()
        .starts_with("shared libpython"));
    let frozen = &embed["size"]["frozen"];
    assert!(frozen["bytecode_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(frozen["source_bytes"].as_u64().unwrap() > 1_000_000);
    assert_eq!(
        frozen["total_bytes"].as_u64().unwrap(),
        frozen["bytecode_bytes"].as_u64().unwrap()
            + frozen["source_bytes"].as_u64().unwrap()
            + frozen["data_bytes"].as_u64().unwrap()
    );
    // The pack configuration: the same modules as embed-c's table, from the stdlib pack first
    // on sys.path (with only embed-c's app linked) but for CPython's own frozen modules, which
    // come before sys.path as for PathFinder.
    let pack = configs["pack"];
    assert_eq!(count(pack, "frozen"), count(pf, "frozen"), "{pack}");
    assert_eq!(
        count(pack, "pyfreeze") + count(pack, "frozen"),
        count(embed, "pyfreeze") + count(embed, "frozen"),
        "{pack}"
    );
    for kind in ["source", "sourceless", "zip"] {
        assert_eq!(count(pack, kind), 0, "{kind}: {pack}");
    }
    assert!(pack["size"]["pack_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(pack["size"]["frozen"].is_null());
    // Its executable lacks the linked stdlib (about 12 MB of bytecode and 3 MB of source).
    assert!(
        pack["size"]["executable_bytes"].as_u64().unwrap() + 10_000_000
            < embed["size"]["executable_bytes"].as_u64().unwrap()
    );
    assert!(zip["size"]["zip_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(pf["size"]["stdlib_pyc_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(configs["exec"]["size"].is_null());

    // Workloads: --quick is 3 rounds × 2 runs of start-up, 2 rounds × 1 run of imports.
    check_workload(&j["workloads"]["startup"], &real, 3, 2);
    // A start-up run is the whole process: what it used per run, CPU time and page faults (a
    // Python start-up touches a few hundred pages at least); the printed report has them too.
    for id in &real {
        let r = &j["workloads"]["startup"]["results"][id];
        assert!(r["page_faults"].as_f64().unwrap() > 100.0, "{id}: {r}");
        assert!(r["major_faults"].as_f64().unwrap() >= 0.0, "{id}: {r}");
        let cpu = r["cpu_user_ms"].as_f64().unwrap() + r["cpu_system_ms"].as_f64().unwrap();
        assert!(cpu > 0.0 && cpu < 1000.0, "{id}: {r}");
    }
    assert!(j["workloads"]["imports"]["results"]["pathfinder"]["page_faults"].is_null());
    assert!(
        stdout.contains("per run, the mean of all runs: CPU time (user + system"),
        "{stdout}"
    );
    let all: Vec<&str> = order.clone();
    check_workload(&j["workloads"]["imports"], &all, 2, 1);
    let breakdown = j["breakdown"].as_array().unwrap();
    assert_eq!(breakdown.len(), list.len());
    for entry in breakdown {
        let mut got = ids(&entry["median_ms"]);
        got.sort();
        let mut want: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{entry}");
    }

    // The chart: well-formed, a bar per configuration in each panel.
    let bars = svg_bars(&tmp.path().join("pyfreeze-bench-3.11.svg"));
    assert_eq!(bars["startup"], real);
    assert_eq!(bars["imports"], all);

    // The chart depends only on the numbers: drawn again from the JSON, it is the same file.
    let again = tmp.path().join("again");
    // A file an earlier run left for a configuration this one did not measure goes.
    std::fs::create_dir_all(again.join("pyfreeze-bench-3.11.pyperf")).unwrap();
    std::fs::write(again.join("pyfreeze-bench-3.11.pyperf/gone.json"), "{}").unwrap();
    run_ok(
        Command::new(pyfreeze_bin())
            .args(["bench", "--chart-from"])
            .arg(tmp.path().join("pyfreeze-bench-3.11.json"))
            .arg("--out")
            .arg(&again),
    );
    assert_eq!(
        std::fs::read(again.join("pyfreeze-bench-3.11.svg")).unwrap(),
        std::fs::read(tmp.path().join("pyfreeze-bench-3.11.svg")).unwrap()
    );

    // pyperf's files: one per configuration, the same again from the JSON, and read by pyperf.
    let pyperf = tmp.path().join("pyfreeze-bench-3.11.pyperf");
    for id in &all {
        let file = format!("pyfreeze-bench-3.11.pyperf/{id}.json");
        assert_eq!(
            std::fs::read(again.join(&file)).unwrap(),
            std::fs::read(tmp.path().join(&file)).unwrap(),
            "{file}"
        );
    }
    assert!(!again.join("pyfreeze-bench-3.11.pyperf/gone.json").exists());
    let lib = tmp.path().join("pyperf-lib");
    pip_install_target(&python(11), &lib, &["pyperf==2.11.0"]);
    let pyperf_cmd = |args: &[&str]| {
        let mut cmd = Command::new(python(11));
        cmd.env("PYTHONPATH", &lib)
            .args(["-m", "pyperf"])
            .args(args)
            .current_dir(&pyperf);
        run_ok(&mut cmd)
    };
    // -v: every benchmark, significant or not (a quick run rarely is).
    let compared = pyperf_cmd(&["compare_to", "-v", "pathfinder.json", "embed.json"]);
    for name in ["startup", "import-stdlib"] {
        let section = format!(
            "{name}\n{}\n\nMean +- std dev: [pathfinder] ",
            "=".repeat(name.len())
        );
        assert!(compared.contains(&section), "{name} missing:\n{compared}");
    }
    assert!(compared.contains(" -> [embed] "), "{compared}");
    // Every measured process is one run: 3 rounds × 2 of start-up, 2 × 1 of imports.
    let stats = pyperf_cmd(&["stats", "embed.json"]);
    let runs: Vec<&str> = stats
        .lines()
        .filter(|l| l.starts_with("Number of run with values:"))
        .collect();
    assert_eq!(
        runs,
        [
            "Number of run with values: 6",
            "Number of run with values: 2"
        ],
        "{stats}"
    );

    // The terminal report.
    for line in [
        "command: pyfreeze bench --python 3.11 --quick",
        "start-up: wall time of the process running an empty script, 3 rounds × 2 runs",
        "import the stdlib:",
        "where the time goes:",
        "size and memory",
        "load average at start",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    assert!(
        stderr.contains("hint: to include pyfreeze's patched CPython"),
        "{stderr}"
    );
}

#[test]
fn a_configuration_that_serves_modules_from_files_fails_the_bench() {
    // A "patched" prefix whose python is the stock one: it imports from files, so its
    // verification must fail, naming it and the modules.
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("fake-patched");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::os::unix::fs::symlink(python(11), prefix.join("bin/python3.11")).unwrap();
    let out = bench(
        python(11).to_str().unwrap(),
        &["--patched", prefix.to_str().unwrap()],
        &tmp.path().join("out"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("configuration `patched` (pyfreeze, patched CPython) did not serve the modules the way it claims"),
        "{stderr}"
    );
    assert!(
        stderr.contains(": served by `source`, expected frozen-ext\n"),
        "{stderr}"
    );
    assert!(stderr.contains(" more"), "the list is cut short: {stderr}");
    assert!(!tmp.path().join("out/pyfreeze-bench-3.11.json").exists());
}

/// CPython 3.11 built with pyfreeze's patch series by `pyfreeze cpython build`: the very
/// build and prefix tests/cpython.rs uses (same `--cache`, same `--prefix`, so neither
/// reconfigures the other's tree; the command locks it and rebuilds it incrementally with
/// the code under test). A fresh machine builds the patched 3.11 once, not twice. Nothing
/// here changes the prefix.
fn install_patched() -> PathBuf {
    let prefix = test_cache().join("test-install/3.11-patched");
    run_ok(&mut pyfreeze_tests::cpython_build("3.11", &prefix));
    prefix
}

#[test]
fn patched_build_with_a_plain_comparator() {
    let patched = {
        let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        install_patched()
    };
    // The plain configuration only needs a CPython 3.11 that imports from warm .pyc files:
    // the stock one stands in for the unpatched build (which tests/cpython.rs builds).
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(plain.join("bin")).unwrap();
    std::os::unix::fs::symlink(python(11), plain.join("bin/python3.11")).unwrap();
    let out = bench(
        "3.11",
        &[
            "--patched",
            patched.to_str().unwrap(),
            "--plain",
            plain.to_str().unwrap(),
            "--rounds",
            "1",
        ],
        &tmp.path().join("out"),
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let j = read_json(&tmp.path().join("out/pyfreeze-bench-3.11.json"));
    let configs = configs_by_id(&j);
    let p = configs["patched"];
    assert_eq!(p["verified"], true);
    assert!(count(p, "frozen-ext") > 500, "{p}");
    for kind in ["source", "sourceless", "zip", "pyfreeze"] {
        assert_eq!(count(p, kind), 0, "{kind}: {p}");
    }
    assert_eq!(p["linking"], "static libpython");
    // Its size, from the install's report: deep-frozen objects instead of bytecode.
    let frozen = &p["size"]["frozen"];
    assert_eq!(frozen["bytecode_bytes"], 0, "{frozen}");
    assert!(
        frozen["deep_frozen_bytes"].as_u64().unwrap() > 10_000_000,
        "{frozen}"
    );
    assert!(
        frozen["source_bytes"].as_u64().unwrap() > 1_000_000,
        "{frozen}"
    );
    let pl = configs["plain"];
    assert!(count(pl, "source") > 500, "{pl}");
    assert_eq!(count(pl, "frozen-ext"), 0, "{pl}");
    assert!(p["version"].as_str().unwrap().starts_with("3.11."));
    let imports = &j["workloads"]["imports"]["results"];
    assert!(imports["patched"]["ratio_to_plain"].as_f64().unwrap() > 0.0);
    let bars = svg_bars(&tmp.path().join("out/pyfreeze-bench-3.11.svg"));
    assert_eq!(
        bars["startup"],
        [&STOCK_CONFIGS[..], &["plain", "patched"]].concat()
    );
    assert!(bars["imports"].contains(&"patched".to_string()));
}

/// Real PyPI code as "the user's program": pytest and its dependencies, installed with
/// `pip install --target` into one folder.
const APP_WHEELS: &[&str] = &[
    "pytest==9.2.0",
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
];

#[test]
fn app_bench_measures_the_users_program_in_every_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("pytest-app");
    pip_install_target(&python(11), &site, APP_WHEELS);
    let before = std::fs::read_dir(site.join("pytest")).unwrap().count();
    let out = bench(
        "3.11",
        &[
            "--app-root",
            site.to_str().unwrap(),
            "--import",
            "pytest",
            "--import",
            "pygments.lexers.python",
            "--instructions",
        ],
        &tmp.path().join("out"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The user's folder is left as it was: compiled in the bench's copy, not in place.
    assert_eq!(
        std::fs::read_dir(site.join("pytest")).unwrap().count(),
        before
    );
    let j = read_json(&tmp.path().join("out/pyfreeze-bench-3.11-app.json"));
    assert_eq!(
        j["app"]["modules"],
        serde_json::json!(["pytest", "pygments.lexers.python"])
    );
    assert!(
        j["app"]["modules_in_root"].as_u64().unwrap() > 300,
        "{}",
        j["app"]
    );
    assert_eq!(j["modules"]["list"], j["app"]["modules"]);
    let configs = configs_by_id(&j);
    // pytest's graph (_pytest, pluggy, iniconfig, packaging, pygments and their stdlib):
    // from files for PathFinder, from the zip for zipimport, from the table for embed-c.
    assert!(
        count(configs["pathfinder"], "source") > 150,
        "{}",
        configs["pathfinder"]
    );
    assert!(
        count(configs["zipimport"], "zip") > 150,
        "{}",
        configs["zipimport"]
    );
    assert_eq!(count(configs["zipimport"], "source"), 0);
    for id in ["embed", "pack"] {
        let c = configs[id];
        assert!(count(c, "pyfreeze") > 150, "{id}: {c}");
        for kind in ["source", "sourceless", "zip"] {
            assert_eq!(count(c, kind), 0, "{id} {kind}: {c}");
        }
    }
    // Both workloads are the app's, in every configuration (floors: imports only).
    for (workload, ids) in [
        ("startup", &STOCK_CONFIGS[..]),
        ("imports", &[&STOCK_CONFIGS[..], &FLOORS[..]].concat()[..]),
    ] {
        let results = &j["workloads"][workload]["results"];
        for id in ids {
            assert!(
                results[id]["median_ms"].as_f64().unwrap() > 0.0,
                "{workload} {id}"
            );
        }
    }
    assert!(
        j["workloads"]["startup"]["what"]
            .as_str()
            .unwrap()
            .contains("imports the app's modules"),
        "{}",
        j["workloads"]["startup"]
    );
    for line in [
        "start-up: wall time of the process starting and importing the app",
        "import the app: 2 modules in one process",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    let pyperf: Value = read_json(
        &tmp.path()
            .join("out/pyfreeze-bench-3.11-app.pyperf/embed.json"),
    );
    let names: Vec<&str> = pyperf["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app-startup", "import-app"]);

    // --instructions: callgrind's count of every configuration but the floors (which have
    // none), start-up and the import loop (pytest's graph: tens of millions).
    let counted = &j["instructions"]["results"];
    for id in STOCK_CONFIGS {
        let c = &counted[id];
        assert!(c["startup"].as_u64().unwrap() > 1_000_000, "{id}: {c}");
        assert!(c["imports"].as_u64().unwrap() > 10_000_000, "{id}: {c}");
        assert!(
            c["imports_ratio_to_pathfinder"].as_f64().unwrap() > 0.0,
            "{id}: {c}"
        );
    }
    for id in FLOORS {
        assert!(counted[id].is_null(), "{id}: {}", counted[id]);
    }
    assert_eq!(counted["pathfinder"]["imports_ratio_to_pathfinder"], 1.0);
    assert!(
        stdout.contains("instructions (valgrind's callgrind, one run each"),
        "{stdout}"
    );
}

/// `--instructions` without valgrind: the error names the fix, before anything is built.
#[test]
fn instructions_without_valgrind_say_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(Command::new(pyfreeze_bin())
        .args(["bench", "--python", "3.11", "--instructions", "--out"])
        .arg(tmp.path().join("out"))
        .env("PATH", &empty));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--instructions: cannot run valgrind")
            && err.contains("apt-get install valgrind"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

#[test]
fn app_arguments_that_cannot_work_are_refused_with_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("prog");
    std::fs::create_dir_all(root.join("game")).unwrap();
    std::fs::write(root.join("game/__init__.py"), "import json\n").unwrap();
    std::fs::write(root.join("notes.txt"), "not Python\n").unwrap();
    std::fs::write(root.join("broken.py"), "import no_such_module_here\n").unwrap();
    let refused = |extra: &[&str]| {
        let out = bench("3.11", extra, &tmp.path().join("out"));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(!tmp.path().join("out").exists(), "nothing written");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let root_arg = root.to_str().unwrap();
    let err = refused(&["--app-root", root_arg, "--import", "other"]);
    assert!(
        err.contains("--import other: not a module of the app root")
            && err.contains("(its top-level modules: broken, game)"),
        "{err}"
    );
    let err = refused(&["--app-root", root_arg, "--import", "game-2"]);
    assert!(err.contains("--import game-2: not a module name"), "{err}");
    let err = refused(&["--app", root.join("notes.txt").to_str().unwrap()]);
    assert!(err.contains("notes.txt: not a Python file"), "{err}");
    let err = refused(&["--app", root.join("broken.py").to_str().unwrap()]);
    assert!(
        err.contains("the app's modules must import in the stock interpreter")
            && err.contains("broken: ModuleNotFoundError: No module named 'no_such_module_here'"),
        "{err}"
    );
}
