//! Golden tests of the emitter: one folder per case under `tests/golden/`, holding a
//! `spec.toml` (its `version` picks the pyenv interpreter; 3.14 and later, which pyenv does
//! not have here, take the interpreter of that version listed in `PYFREEZE_TEST_PYTHONS`: an
//! ignored test that ci/test.sh runs in the sid root), an `input/` tree, and the
//! `expected/` output. Names, flags, origins, sources and data are compared byte for byte;
//! bytecode, which belongs to the interpreter's patch level, is masked in the comparison
//! and checked instead: read as bytes from the output's code file (`code.bin`, at the
//! manifest's offsets), found rendered exactly so in each module's C, and loaded back with the
//! target interpreter.
//!
//! After an intended change: `PYFREEZE_OVERWRITE_EXPECTED=1 cargo test -p pyfreeze-tests --test golden`
//! (and for 3.14+, `ci/in-sid.sh env PYFREEZE_OVERWRITE_EXPECTED=1
//! PYFREEZE_TEST_PYTHONS=/usr/bin/python3.14:/usr/bin/python3.15 cargo test -p pyfreeze-tests
//! --test golden -- --ignored`), then review the diff of `tests/golden/*/expected`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_gen::{codefile, emit, generate, schema, spec, stdlib, NoProgress, SpecBuilder};
use pyfreeze_tests::{listed_pythons, python, repo, run_ok, snapshot};

const OVERWRITE: &str = "PYFREEZE_OVERWRITE_EXPECTED";

fn overwrite() -> bool {
    std::env::var_os(OVERWRITE).is_some_and(|v| v == "1")
}

/// Each module's marshalled code, read as bytes from the output's code file at the offsets
/// that `manifest.json` gives (each slice checked against its size and SHA-256, the file
/// against their total), by module name.
fn code_by_module(files: &BTreeMap<&str, &[u8]>, case: &str) -> BTreeMap<String, Vec<u8>> {
    let manifest: serde_json::Value = serde_json::from_slice(files["manifest.json"]).unwrap();
    let code_file = manifest["code_file"]
        .as_str()
        .expect("manifest names code_file");
    let bytes = files[code_file];
    let mut code = BTreeMap::new();
    let mut end = 0;
    for m in manifest["modules"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let offset = m["code_offset"].as_u64().unwrap() as usize;
        let size = m["code_size"].as_u64().unwrap() as usize;
        assert_eq!(
            offset, end,
            "case {case}: {name} does not follow the previous module"
        );
        let slice = &bytes[offset..offset + size];
        assert_eq!(
            m["code_sha256"].as_str().unwrap(),
            emit::sha256_hex(slice),
            "case {case}: {name}: {code_file} does not hold the code of manifest.json"
        );
        code.insert(name.to_string(), slice.to_vec());
        end = offset + size;
    }
    assert_eq!(
        end,
        bytes.len(),
        "case {case}: {code_file} has bytes no module owns"
    );
    code
}

/// Replaces each module's `<symbol>_code[N] = ...;` array with a placeholder. The array is
/// rendered from the code file's bytes and must appear exactly so: the C holds the same code.
fn mask_code_array(text: &str, name: &str, code: &[u8]) -> String {
    let symbol = format!("{}_code", emit::module_symbol(name));
    let mut array = String::new();
    emit::array(&mut array, &symbol, code);
    assert!(
        text.contains(&array),
        "the C of {name} does not hold its code as in the code file"
    );
    text.replace(
        &array,
        &format!("const unsigned char {symbol}[N] = <bytecode>;\n"),
    )
}

/// Replaces the number after each `key` in `text` with `N` (keeping a leading minus).
fn mask_numbers_after(text: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find(key) {
        out.push_str(&rest[..pos + key.len()]);
        rest = &rest[pos + key.len()..];
        let sign = rest.starts_with('-');
        if sign {
            out.push('-');
            rest = &rest[1..];
        }
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        out.push_str(if digits > 0 { "N" } else { "" });
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn mask_manifest(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let comma = if trimmed.ends_with(',') { "," } else { "" };
        if trimmed.starts_with("\"code_sha256\":") {
            out.push_str(&format!("{indent}\"code_sha256\": \"<sha256>\"{comma}\n"));
        } else if trimmed.starts_with("\"python\":") {
            out.push_str(&format!("{indent}\"python\": \"<patch level>\"{comma}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    ["\"code_offset\": ", "\"code_size\": ", "\"code_bytes\": "]
        .iter()
        .fold(out, |text, key| mask_numbers_after(&text, key))
}

/// The output with everything that depends on the interpreter's patch level masked; `code`
/// is each module's code, `c_files` each module C file's module.
fn normalize(
    path: &str,
    bytes: &[u8],
    code: &BTreeMap<String, Vec<u8>>,
    c_files: &BTreeMap<String, String>,
) -> Vec<u8> {
    if path == codefile::CODE_FILE {
        let names: Vec<&str> = code.keys().map(String::as_str).collect();
        return format!("<marshalled code of {}>\n", names.join(", ")).into_bytes();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let text = match path {
        "manifest.json" => mask_manifest(text),
        "pyfreeze_table.c" => mask_numbers_after(text, ".code_size = "),
        "pyfreeze_stock.c" => mask_numbers_after(text, ".size = "),
        p if p.starts_with("modules/") => {
            let name = &c_files[p];
            mask_code_array(text, name, &code[name])
        }
        _ => text.to_string(),
    };
    text.into_bytes()
}

/// Loads every module's bytecode (as read from the code file) back with the target
/// interpreter: it must be a code object with `co_filename` = origin, equal to compiling the
/// source there.
fn check_bytecode(
    python: &Path,
    generated: &pyfreeze_gen::Generated,
    code: &BTreeMap<String, Vec<u8>>,
    case: &str,
) {
    assert_eq!(
        code.len(),
        generated.modules.len(),
        "case {case}: the manifest lists other modules"
    );
    let items: Vec<_> = generated
        .modules
        .iter()
        .map(|m| {
            let source = match &m.path {
                Some(p) if p.is_file() => std::fs::read(p).unwrap(),
                Some(_) => Vec::new(),
                None => m.source.clone().unwrap(),
            };
            serde_json::json!({
                "name": m.name,
                "origin": m.origin,
                "code": code[&m.name].iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "source": source.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            })
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("items.json");
    std::fs::write(&data, serde_json::to_string(&items).unwrap()).unwrap();
    let script = r#"
import json, marshal, sys
bad = []
for it in json.load(open(sys.argv[1])):
    code = marshal.loads(bytes.fromhex(it["code"]))
    if type(code).__name__ != "code":
        bad.append(it["name"] + ": not a code object")
        continue
    if code.co_filename != it["origin"]:
        bad.append(it["name"] + ": co_filename " + code.co_filename)
    expect = compile(bytes.fromhex(it["source"]), it["origin"], "exec", dont_inherit=True)
    if code != expect:
        bad.append(it["name"] + ": differs from compiling its source")
print("\n".join(bad))
"#;
    let out = run_ok(Command::new(python).args(["-I", "-c", script]).arg(&data));
    assert!(
        out.trim().is_empty(),
        "case {case}: bytecode check failed:\n{out}"
    );
}

fn diff_summary(expected: &[u8], actual: &[u8]) -> String {
    let (e, a) = (
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    );
    let mut out = String::new();
    let (el, al): (Vec<_>, Vec<_>) = (e.lines().collect(), a.lines().collect());
    let mut shown = 0;
    for i in 0..el.len().max(al.len()) {
        let (x, y) = (el.get(i), al.get(i));
        if x != y {
            out.push_str(&format!(
                "  line {}:\n    - {}\n    + {}\n",
                i + 1,
                x.unwrap_or(&"<none>"),
                y.unwrap_or(&"<none>")
            ));
            shown += 1;
            if shown == 8 {
                out.push_str("  ...\n");
                break;
            }
        }
    }
    out
}

/// The minor version a case's spec pins.
fn case_minor(dir: &Path) -> u32 {
    let spec = SpecBuilder::from_file(&dir.join("spec.toml"))
        .unwrap()
        .build()
        .unwrap();
    u32::from(spec.version().expect("golden specs pin a version").minor)
}

/// Versions pyenv provides on this machine kind (3.10-3.13); later ones come from the list.
const PYENV_NEWEST_MINOR: u32 = 13;

/// Runs one case with `interpreter`; returns its problems.
fn run_case(dir: &Path, interpreter: &Path) -> Vec<String> {
    let case = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut layer = SpecBuilder::from_file(&dir.join("spec.toml")).unwrap();
    let spec = layer.python(interpreter).build().unwrap();
    let generated = generate(&spec, &NoProgress).unwrap_or_else(|e| panic!("case {case}: {e}"));
    let files: BTreeMap<&str, &[u8]> = generated
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.bytes.as_slice()))
        .collect();
    let code = code_by_module(&files, &case);
    check_bytecode(spec.python(), &generated, &code, &case);
    let manifest: serde_json::Value = serde_json::from_slice(files["manifest.json"]).unwrap();
    let c_files: BTreeMap<String, String> = manifest["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["c_file"].as_str().unwrap().into(),
                m["name"].as_str().unwrap().into(),
            )
        })
        .collect();

    let actual: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, bytes)| (path.to_string(), normalize(path, bytes, &code, &c_files)))
        .collect();
    let expected_dir = dir.join("expected");
    if overwrite() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for (path, bytes) in &actual {
            let p = expected_dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        return Vec::new();
    }
    let expected = snapshot(&expected_dir);
    let mut problems = Vec::new();
    for (path, bytes) in &actual {
        match expected.get(path) {
            None => problems.push(format!("{case}: unexpected file {path}")),
            Some(e) if e != bytes => problems.push(format!(
                "{case}: {path} differs:\n{}",
                diff_summary(e, bytes)
            )),
            _ => {}
        }
    }
    for path in expected.keys().filter(|p| !actual.contains_key(*p)) {
        problems.push(format!("{case}: missing file {path}"));
    }
    problems
}

/// Every case folder under `tests/golden/`, sorted.
fn cases() -> Vec<PathBuf> {
    let root = repo().join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("spec.toml").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 7,
        "golden cases missing under {}",
        root.display()
    );
    cases
}

fn assert_no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended, regenerate with {OVERWRITE}=1 cargo test -p pyfreeze-tests --test golden and review the diff.",
        problems.join("\n")
    );
}

#[test]
fn golden_cases() {
    let problems: Vec<String> = cases()
        .iter()
        .filter(|c| case_minor(c) <= PYENV_NEWEST_MINOR)
        .flat_map(|c| run_case(c, &python(case_minor(c))))
        .collect();
    assert_no_problems(&problems);
}

/// The cases of the versions pyenv lacks (3.14, 3.15), each with the listed interpreter of its
/// version (Debian sid's, in the sid root): every such case must have one, and every listed
/// interpreter of such a version a case.
#[test]
#[ignore = "needs PYFREEZE_TEST_PYTHONS with 3.14+; ci/test.sh runs it in the sid root"]
fn golden_cases_on_the_listed_system_interpreters() {
    let listed = listed_pythons();
    let later: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|c| case_minor(c) > PYENV_NEWEST_MINOR)
        .collect();
    let mut problems = Vec::new();
    for case in &later {
        let minor = case_minor(case);
        let (python, _) = listed
            .iter()
            .find(|(_, m)| *m == minor)
            .unwrap_or_else(|| panic!("{}: no 3.{minor} in PYFREEZE_TEST_PYTHONS", case.display()));
        problems.extend(run_case(case, python));
    }
    for (python, minor) in listed.iter().filter(|(_, m)| *m > PYENV_NEWEST_MINOR) {
        assert!(
            later.iter().any(|c| case_minor(c) == *minor),
            "no golden case for {} (3.{minor}): add tests/golden/layout-3.{minor}",
            python.display()
        );
    }
    assert_no_problems(&problems);
}

/// A generated block of a doc page must match what the code declares.
fn check_doc_block(page: &str, block: &str, content: &str) {
    let path = repo().join(page);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let begin = format!("<!-- BEGIN generated: {block} -->\n");
    let end = format!("<!-- END generated: {block} -->");
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        panic!(
            "{page} lacks the markers `{}` and `{end}`",
            begin.trim_end()
        );
    };
    let current = &text[b + begin.len()..e];
    if current == content {
        return;
    }
    if overwrite() {
        let new = format!("{}{}{}", &text[..b + begin.len()], content, &text[e..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    panic!(
        "{page}: the `{block}` block is out of date:\n{}\nRegenerate with {OVERWRITE}=1 cargo test -p pyfreeze-tests --test golden",
        diff_summary(current.as_bytes(), content.as_bytes())
    );
}

#[test]
fn docs_match_the_code() {
    check_doc_block(
        "docs/table-format.md",
        "table schema",
        &schema::markdown_reference(),
    );
    check_doc_block(
        "docs/table-format.md",
        "pack format",
        &schema::markdown_pack_reference(),
    );
    check_doc_block("docs/spec.md", "options", &spec::markdown());
    check_doc_block("docs/spec.md", "stdlib exclusions", &stdlib::markdown());
    check_doc_block(
        "docs/appliance.md",
        "static extension modules",
        &pyfreeze_gen::static_modules::markdown(),
    );
    let mut versions = String::from("| version | magic | `struct _frozen` | default excepthook reads files only | patch series |\n|---|---|---|---|---|\n");
    for v in pyfreeze_gen::versions::SUPPORTED {
        versions.push_str(&format!(
            "| {} | {} | {:?} | {} | {} |\n",
            v.name(),
            v.magic,
            v.stock_layout,
            if v.c_excepthook { "yes" } else { "no" },
            v.patch_series
                .map_or("none".to_string(), |s| format!("`cpython-patches/{s}/`")),
        ));
    }
    check_doc_block("docs/versions.md", "supported versions", &versions);
}

/// The example `pyfreeze.toml` of docs/spec.md is a valid spec, and every flag its comments
/// name is a flag of the declaration: the page cannot drift from the options.
#[test]
fn the_spec_example_in_the_docs_is_valid() {
    let page = std::fs::read_to_string(repo().join("docs/spec.md")).unwrap();
    let start = page
        .find("```toml\n")
        .expect("docs/spec.md has a toml example")
        + 8;
    let example = &page[start..start + page[start..].find("```").unwrap()];
    pyfreeze_gen::Spec::from_toml(example, Path::new("/w"), "docs/spec.md example")
        .unwrap_or_else(|e| panic!("{e}"));
    let flags: Vec<String> = spec::OPTIONS
        .iter()
        .flat_map(|o| {
            let short = o.short.map(|c| format!("-{c}"));
            [Some(format!("--{}", o.flag)), short]
        })
        .flatten()
        .collect();
    for o in spec::OPTIONS {
        let written = if o.toml_table {
            format!("[[{}]]", o.key)
        } else {
            format!("{} = ", o.key)
        };
        assert!(
            example.lines().any(|l| l.starts_with(&written)),
            "the docs/spec.md example lacks `{}`",
            o.key
        );
    }
    for comment in example
        .lines()
        .filter_map(|l| l.split_once("# ").map(|(_, c)| c))
    {
        let named = comment.split([' ', ':']).next().unwrap();
        if named.starts_with('-') {
            assert!(
                flags.iter().any(|f| f == named),
                "docs/spec.md names an unknown flag {named}"
            );
        }
    }
}
