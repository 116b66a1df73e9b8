//! Property tests of the emitter and the C writer, checked by a real C compiler: any bytes,
//! any valid module names (non-ASCII identifiers included) and any data-file names give C
//! that gcc compiles without a warning and that reads back equal. Each case is one gcc run
//! over a batch of inputs, so a few dozen cases cover thousands of values quickly.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use pyfreeze_gen::emit::{module_c, module_symbol, stored_source, try_emit, EmitOptions};
use pyfreeze_gen::schema::StockLayout;
use pyfreeze_gen::schema::{FLAG_NAMESPACE, FLAG_PACKAGE};
use pyfreeze_gen::versions::SUPPORTED;
use pyfreeze_gen::{FrozenModule, FrozenResource, Kind};

/// `-std=c11` also turns trigraphs on, so a `??x` the writer failed to escape would show.
const GCC: &[&str] = &["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror"];

/// Compiles `c_files` (with `dir` on the include path) into a program, runs it, returns its
/// standard output.
fn compile_and_run(dir: &Path, c_files: &[PathBuf]) -> Vec<u8> {
    let exe = dir.join("check");
    let out = Command::new(GCC[0])
        .args(&GCC[1..])
        .arg("-I")
        .arg(dir)
        .arg("-o")
        .arg(&exe)
        .args(c_files)
        .output()
        .expect("gcc runs (install it with `apt-get install gcc`)");
    assert!(
        out.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{}: {:?}", exe.display(), run.status);
    run.stdout
}

fn hex(bytes: &[u8]) -> String {
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.push(' ');
    s
}

/// The C side of [`hex`], and `hexs` for NUL-terminated strings.
const C_HEX: &str = "#include <stdio.h>\n#include <string.h>\n\
    static void hex(const unsigned char *p, unsigned long n) {\n\
        for (unsigned long i = 0; i < n; i++) printf(\"%02x\", p[i]);\n\
        putchar(' ');\n}\n\
    static inline void hexs(const char *s) { hex((const unsigned char *)s, strlen(s)); }\n";

fn module(
    name: String,
    kind: Kind,
    origin: String,
    code: Vec<u8>,
    source: Option<Vec<u8>>,
) -> FrozenModule {
    FrozenModule {
        name,
        kind,
        origin,
        path: None,
        code,
        source,
        resources: 0..0,
    }
}

/// Any bytes, and text-like bytes (which the writer splits at newlines) with the characters
/// that need care in C: quotes, backslashes, `?` runs (trigraphs), digits after escapes.
fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..200),
        "[ -~\n\t?\\\\\"0-7é]{0,300}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes, as one module's C (source and code arrays), compile and read back equal.
    #[test]
    fn any_bytes_round_trip_through_a_c_compiler(batch in vec((data(), proptest::option::of(data())), 1..40)) {
        let (read_back, expected) = round_trip(&batch);
        prop_assert_eq!(read_back, expected);
    }
}

/// Every byte value, and every trigraph (`??=` ... `??-`) with the characters around escapes
/// that need care, read back equal: the cases a random batch may miss.
#[test]
fn every_byte_and_every_trigraph_round_trip() {
    let all: Vec<u8> = (0..=255u8).collect();
    let trigraphs: Vec<u8> = b"??=??(??/??)??'??<??!??>??-???\\\"\n7\x00001".to_vec();
    let (read_back, expected) = round_trip(&[(all, Some(trigraphs))]);
    assert_eq!(read_back, expected);
}

/// Compiles each `(code, source)` as one module's C with a program that prints every array
/// back in hex: returns what it printed and what it should have.
fn round_trip(batch: &[(Vec<u8>, Option<Vec<u8>>)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut main = String::from(C_HEX);
    let mut expected = String::new();
    let mut unit = String::new();
    for (i, (code, source)) in batch.iter().enumerate() {
        let name = format!("m{i}");
        let sym = module_symbol(&name);
        let stored = source.as_deref().map(|s| stored_source(s, false));
        unit.push_str(&module_c(
            &module(
                name,
                Kind::Module,
                format!("/o/{i}*/"),
                code.clone(),
                source.clone(),
            ),
            stored.as_ref(),
            true,
        ));
        let _ = writeln!(
            main,
            "extern const unsigned char {sym}_code[{}];",
            code.len().max(1)
        );
        let mut body = format!("hex({sym}_code, {});", code.len());
        let _ = write!(expected, "{}", hex(code));
        if let Some(src) = source {
            let _ = writeln!(
                main,
                "extern const unsigned char {sym}_source[{}];",
                src.len().max(1)
            );
            let _ = write!(body, " hex({sym}_source, {});", src.len());
            let _ = write!(expected, "{}", hex(src));
        }
        let _ = writeln!(main, "static void show{i}(void) {{ {body} }}");
    }
    main.push_str("int main(void) {\n");
    for i in 0..batch.len() {
        let _ = writeln!(main, "    show{i}();");
    }
    main.push_str("    return 0;\n}\n");
    std::fs::write(dir.path().join("unit.c"), unit).unwrap();
    std::fs::write(dir.path().join("main.c"), main).unwrap();
    let out = compile_and_run(
        dir.path(),
        &[dir.path().join("unit.c"), dir.path().join("main.c")],
    );
    (String::from_utf8(out).unwrap(), expected)
}

/// Marshalled code: any bytes, never none (a code object marshals to at least its type).
fn code() -> impl Strategy<Value = Vec<u8>> {
    data().prop_map(|mut code| {
        if code.is_empty() {
            code.push(0xe3);
        }
        code
    })
}

/// One component of a module name: a Python identifier, non-ASCII letters included, long
/// enough at times to pass the 48 characters a C symbol keeps.
const IDENT: &str = "[a-zA-Z_\u{e0}-\u{f6}\u{3b1}-\u{3c9}\u{4e00}-\u{4e10}][a-zA-Z0-9_\u{e0}-\u{f6}\u{3b1}-\u{3c9}\u{4e00}-\u{4e10}]{0,30}";

/// Any file name a data file can have: every character but `/` and NUL (names that are not
/// UTF-8 reach the emitter as U+FFFD), in up to three folders.
const DATA_NAME: &str = "[^/\u{0}]{1,12}(/[^/\u{0}]{1,12}){0,2}";

fn module_names() -> impl Strategy<Value = Vec<String>> {
    btree_set(vec(IDENT, 1..4).prop_map(|parts| parts.join(".")), 1..12)
        .prop_map(|names| names.into_iter().collect())
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Module),
        Just(Kind::Package),
        Just(Kind::Namespace)
    ]
}

/// Modules with the given names (sorted, as `generate` sorts them) and data files of their
/// packages, sorted by (package, path) with each package's rows recorded on it.
fn table_input() -> impl Strategy<Value = (Vec<FrozenModule>, Vec<FrozenResource>)> {
    module_names()
        .prop_flat_map(|names| {
            let n = names.len();
            (
                Just(names),
                vec(
                    (
                        kind(),
                        "[^\u{0}]{0,40}",
                        code(),
                        proptest::option::of(data()),
                    ),
                    n,
                ),
                vec((0..n, DATA_NAME, data()), 0..16),
            )
        })
        .prop_map(|(names, shapes, files)| {
            let mut modules: Vec<FrozenModule> = names
                .into_iter()
                .zip(shapes)
                .map(|(name, (kind, origin, code, source))| {
                    module(name, kind, origin, code, source)
                })
                .collect();
            let mut resources: Vec<FrozenResource> = files
                .into_iter()
                .filter(|(i, _, _)| modules[*i].kind != Kind::Module)
                .map(|(i, rel, data)| FrozenResource {
                    package: modules[i].name.clone(),
                    path: PathBuf::from(format!("/app/{}/{rel}", modules[i].name)),
                    rel,
                    data,
                })
                .collect();
            resources.sort_by(|a, b| (&a.package, &a.rel).cmp(&(&b.package, &b.rel)));
            resources.dedup_by(|a, b| (&a.package, &a.rel) == (&b.package, &b.rel));
            for m in &mut modules {
                let start = resources.partition_point(|r| r.package < m.name) as u32;
                let end = resources.partition_point(|r| r.package <= m.name) as u32;
                m.resources = start..end;
            }
            (modules, resources)
        })
}

fn flags(kind: Kind) -> u32 {
    match kind {
        Kind::Module => 0,
        Kind::Package => FLAG_PACKAGE,
        Kind::Namespace => FLAG_PACKAGE | FLAG_NAMESPACE,
    }
}

/// A program that prints every row of the extended and stock tables, field by field.
const TABLE_MAIN: &str = "#include \"pyfreeze.h\"\n\
    int main(void) {\n\
        printf(\"%lu\\n\", (unsigned long)pyfreeze_modules_count);\n\
        for (uint32_t i = 0; i < pyfreeze_modules_count; i++) {\n\
            const struct pyfreeze_module *m = &pyfreeze_modules[i];\n\
            hexs(m->name); hexs(m->origin);\n\
            printf(\"%lu %lu %lu %lu \", (unsigned long)m->flags, (unsigned long)m->code_size,\n\
                   (unsigned long)m->resources_start, (unsigned long)m->resources_count);\n\
            hex(m->code, m->code_size);\n\
            if (m->source) hex(m->source, m->source_size); else printf(\"- \");\n\
            printf(\"\\n\");\n\
        }\n\
        if (pyfreeze_modules[pyfreeze_modules_count].name) return 3;\n\
        printf(\"%lu\\n\", (unsigned long)pyfreeze_resources_count);\n\
        for (uint32_t i = 0; i < pyfreeze_resources_count; i++) {\n\
            const struct pyfreeze_resource *r = &pyfreeze_resources[i];\n\
            hexs(r->package); hexs(r->path); hex(r->data, r->size); printf(\"\\n\");\n\
        }\n\
        if (pyfreeze_resources[pyfreeze_resources_count].package) return 4;\n\
        for (const struct pyfreeze_frozen *f = pyfreeze_frozen_modules; f->name; f++) {\n\
            hexs(f->name);\n\
    #if PYFREEZE_TARGET_MINOR >= 11\n\
            printf(\"%ld %d\\n\", (long)f->size, (int)f->is_package);\n\
    #else\n\
            printf(\"%ld %d\\n\", (long)f->size, f->size < 0);\n\
    #endif\n\
        }\n\
        return 0;\n\
    }\n";

/// What [`TABLE_MAIN`] prints for these modules and resources, for a target whose stock
/// table is `layout`.
fn expected_table(
    modules: &[FrozenModule],
    resources: &[FrozenResource],
    layout: StockLayout,
) -> String {
    let mut s = format!("{}\n", modules.len());
    for m in modules {
        let _ = write!(
            s,
            "{}{}{} {} {} {} {}",
            hex(m.name.as_bytes()),
            hex(m.origin.as_bytes()),
            flags(m.kind),
            m.code.len(),
            m.resources.start,
            m.resources.len(),
            hex(&m.code)
        );
        s.push_str(&m.source.as_deref().map_or("- ".into(), hex));
        s.push('\n');
    }
    let _ = writeln!(s, "{}", resources.len());
    for r in resources {
        let _ = writeln!(
            s,
            "{}{}{}",
            hex(r.package.as_bytes()),
            hex(r.rel.as_bytes()),
            hex(&r.data)
        );
    }
    for m in modules {
        let package = m.kind != Kind::Module;
        // Before 3.11 a negative size is what marks a package.
        let sign = if layout == StockLayout::V310 && package {
            "-"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{}{sign}{} {}",
            hex(m.name.as_bytes()),
            m.code.len(),
            u8::from(package)
        );
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any valid module names and data-file names give tables that compile and whose names,
    /// flags, sizes and bytes read back equal.
    #[test]
    fn any_names_give_a_table_that_compiles_and_reads_back(
        (modules, resources) in table_input(),
        version in 0..SUPPORTED.len(),
    ) {
        let version = &SUPPORTED[version];
        let opts = EmitOptions {
            version,
            python_version: "3.x",
            embed_source: true,
            compress_source: false,
            embed_bytecode: true,
            optimize: 0,
            runtime: None,
        };
        let files = try_emit(&modules, &resources, &[], &[], &opts).expect("random names do not clash");
        let dir = tempfile::tempdir().unwrap();
        let mut c_files = Vec::new();
        for f in &files {
            let path = dir.path().join(&f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &f.bytes).unwrap();
            if f.path.ends_with(".c") {
                c_files.push(path);
            }
        }
        let main = dir.path().join("main.c");
        std::fs::write(&main, format!("{C_HEX}{TABLE_MAIN}")).unwrap();
        c_files.push(main);
        let out = compile_and_run(dir.path(), &c_files);
        prop_assert_eq!(
            String::from_utf8(out).unwrap(),
            expected_table(&modules, &resources, version.stock_layout)
        );
    }
}
