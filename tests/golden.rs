//! Golden tests of the emitter: one folder per case under `tests/golden/`, holding a
//! `spec.toml` (its `version` picks the pyenv interpreter), an `input/` tree, and the
//! `expected/` output. Names, flags, origins, sources and data are compared byte for byte;
//! bytecode, which belongs to the interpreter's patch level, is masked in the comparison
//! and checked instead by loading it back with the target interpreter.
//!
//! After an intended change: `PYFREEZE_OVERWRITE_EXPECTED=1 cargo test -p pyfreeze-tests --test golden`,
//! then review the diff of `tests/golden/*/expected`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_gen::{generate, schema, spec, stdlib, NoProgress, SpecBuilder};
use pyfreeze_tests::{python, repo, run_ok, snapshot};

const OVERWRITE: &str = "PYFREEZE_OVERWRITE_EXPECTED";

fn overwrite() -> bool {
    std::env::var_os(OVERWRITE).is_some_and(|v| v == "1")
}

/// Replaces the body of every `..._code[N] = ...;` array with a placeholder.
fn mask_code_arrays(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if skipping {
            if line.ends_with(';') {
                skipping = false;
            }
            continue;
        }
        if let Some(pos) = line.find("_code[") {
            if line.starts_with("const unsigned char ") && line.ends_with("] =") {
                out.push_str(&line[..pos]);
                out.push_str("_code[N] = <bytecode>;\n");
                skipping = true;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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
    mask_numbers_after(
        &mask_numbers_after(&out, "\"code_size\": "),
        "\"code_bytes\": ",
    )
}

/// The output with everything that depends on the interpreter's patch level masked.
fn normalize(path: &str, bytes: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let text = match path {
        "manifest.json" => mask_manifest(text),
        "pyfreeze_table.c" => mask_numbers_after(text, ".code_size = "),
        "pyfreeze_stock.c" => mask_numbers_after(text, ".size = "),
        p if p.starts_with("modules/") => mask_code_arrays(text),
        _ => text.to_string(),
    };
    text.into_bytes()
}

/// Loads every module's bytecode back with the target interpreter: it must be a code object
/// with `co_filename` = origin, equal to compiling the source there.
fn check_bytecode(python: &Path, generated: &pyfreeze_gen::Generated, case: &str) {
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
                "code": m.code.iter().map(|b| format!("{b:02x}")).collect::<String>(),
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

fn run_case(dir: &Path) -> Vec<String> {
    let case = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut layer = SpecBuilder::from_file(&dir.join("spec.toml")).unwrap();
    let pinned = layer.build().unwrap().version();
    let minor = pinned.expect("golden specs pin a version").minor;
    let spec = layer.python(python(u32::from(minor))).build().unwrap();
    let generated = generate(&spec, &NoProgress).unwrap_or_else(|e| panic!("case {case}: {e}"));
    check_bytecode(spec.python(), &generated, &case);

    let actual: BTreeMap<String, Vec<u8>> = generated
        .files
        .iter()
        .map(|f| (f.path.clone(), normalize(&f.path, &f.bytes)))
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

#[test]
fn golden_cases() {
    let root = repo().join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("spec.toml").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "golden cases missing under {}",
        root.display()
    );
    let problems: Vec<String> = cases.iter().flat_map(|c| run_case(c)).collect();
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended, regenerate with {OVERWRITE}=1 cargo test -p pyfreeze-tests --test golden and review the diff.",
        problems.join("\n")
    );
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
    check_doc_block("docs/spec.md", "options", &spec::markdown());
    check_doc_block("docs/spec.md", "stdlib exclusions", &stdlib::markdown());
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
