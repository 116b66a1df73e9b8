//! The reading of stored sources (pyfreeze_source.c: `pyfreeze_source_size`,
//! `pyfreeze_source_read` and their DEFLATE decoder), compiled alone with the address and
//! undefined-behaviour sanitizers, over what the generator stores (`emit::stored_source`): it
//! must give back every source at every compression level, and read and write only inside
//! its buffers whatever corrupt bytes it is given.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;
use pyfreeze_gen::emit::stored_source;
use pyfreeze_gen::schema;

/// A program that reads records `[u32 flags][u32 stored size][stored bytes]` from the file
/// named by argv[1] and writes, per record, `[u8 status][decoded bytes if status is 0]`.
const HARNESS: &str = r#"
#include <stdio.h>
#include <stdlib.h>
static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *in = fopen(argv[1], "rb");
    unsigned char head[8];
    while (in && fread(head, 1, 8, in) == 8) {
        struct pyfreeze_module m = {0};
        m.flags = u32(head);
        m.source_size = u32(head + 4);
        /* Exact-size buffers, so that the sanitizer sees any access past them. */
        unsigned char *stored = malloc(m.source_size ? m.source_size : 1);
        if (fread(stored, 1, m.source_size, in) != m.source_size)
            return 2;
        m.source = stored;
        size_t size = pyfreeze_source_size(&m);
        unsigned char *out = malloc(size ? size : 1);
        int status = pyfreeze_source_read(&m, out);
        putchar(status == 0 ? 0 : 1);
        if (status == 0)
            fwrite(out, 1, size, stdout);
        free(stored);
        free(out);
    }
    return 0;
}
"#;

fn harness() -> &'static Path {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, exe) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // pyfreeze_source.c as the generator writes it, with the schema's header.
        let header = format!(
            "#include <stdint.h>\n{}{}\nuint32_t pyfreeze_source_size(const struct pyfreeze_module *m);\n\
             int pyfreeze_source_read(const struct pyfreeze_module *m, unsigned char *out);\n",
            schema::c_flag_defines(),
            schema::MODULE.c_declaration()
        );
        std::fs::write(dir.path().join("pyfreeze.h"), header).unwrap();
        std::fs::write(dir.path().join("pyfreeze_source.c"), pyfreeze_gen::emit::SOURCE_C).unwrap();
        let c = dir.path().join("harness.c");
        std::fs::write(&c, format!("#include \"pyfreeze.h\"\n{HARNESS}")).unwrap();
        let exe = dir.path().join("inflate");
        let out = Command::new("cc")
            .args(["-O1", "-g", "-Wall", "-Wextra", "-Werror"])
            .args([
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-o",
            ])
            .arg(&exe)
            .arg(&c)
            .arg(dir.path().join("pyfreeze_source.c"))
            .output()
            .expect("a C compiler (cc)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, exe)
    });
    exe
}

/// Reads back `records`: `Some(bytes)` where the runtime succeeded, as many as the record's
/// header says (or all its bytes when it is stored plain).
fn read_back_sized(records: &[(u32, Vec<u8>)]) -> Vec<Option<Vec<u8>>> {
    let mut input = tempfile::NamedTempFile::new().unwrap();
    for (flags, stored) in records {
        input.write_all(&flags.to_le_bytes()).unwrap();
        input
            .write_all(&(stored.len() as u32).to_le_bytes())
            .unwrap();
        input.write_all(stored).unwrap();
    }
    input.flush().unwrap();
    let out = Command::new(harness()).arg(input.path()).output().unwrap();
    assert!(
        out.status.success(),
        "the decoder crashed or a sanitizer stopped it:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rest = &out.stdout[..];
    records
        .iter()
        .map(|(flags, stored)| {
            let size = if flags & schema::FLAG_SOURCE_DEFLATE == 0 {
                stored.len()
            } else if stored.len() < 4 {
                0
            } else {
                u32::from_le_bytes(stored[..4].try_into().unwrap()) as usize
            };
            let (status, after) = rest.split_first().expect("a status per record");
            rest = after;
            (*status == 0).then(|| {
                let (bytes, after) = rest.split_at(size);
                rest = after;
                bytes.to_vec()
            })
        })
        .collect()
}

/// The stored form of `source` at compression `level` (as `stored_source` at its own level).
fn stored_at(source: &[u8], level: u8) -> (u32, Vec<u8>) {
    let mut bytes = (source.len() as u32).to_le_bytes().to_vec();
    bytes.extend(miniz_oxide::deflate::compress_to_vec(source, level));
    (schema::FLAG_SOURCE_DEFLATE, bytes)
}

fn python_like() -> impl Strategy<Value = Vec<u8>> {
    // Source-like text (repetitive, for long matches and dynamic blocks) or any bytes.
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![
                Just(&b"def "[..]),
                Just(&b"return self."[..]),
                Just(&b"\n    "[..]),
                Just(&b"import os\n"[..]),
                Just(&b"x"[..]),
                Just(&b"0123456789"[..]),
            ],
            0..2000
        )
        .prop_map(|parts| parts.concat()),
        proptest::collection::vec(any::<u8>(), 0..3000),
    ]
}

#[test]
fn large_text_round_trips_at_every_level_and_as_the_generator_stores_it() {
    // The runtime itself, many times: ~300 kB of C with long matches.
    let text: Vec<u8> = pyfreeze_gen::emit::RUNTIME_C.as_bytes().repeat(20);
    let mut records: Vec<(u32, Vec<u8>)> =
        (0..=10u8).map(|level| stored_at(&text, level)).collect();
    let stored = stored_source(&text, true);
    assert!(stored.compressed);
    records.push((schema::FLAG_SOURCE_DEFLATE, stored.bytes));
    records.push((0, text.clone())); // stored plain
    for (i, got) in read_back_sized(&records).into_iter().enumerate() {
        assert!(got.as_deref() == Some(&text[..]), "record {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reads_back_what_the_generator_stores(batch in proptest::collection::vec((python_like(), 0..=10u8), 1..16)) {
        let mut records = Vec::new();
        for (data, level) in &batch {
            records.push(stored_at(data, *level));
            let stored = stored_source(data, true);
            let flags = if stored.compressed { schema::FLAG_SOURCE_DEFLATE } else { 0 };
            records.push((flags, stored.bytes));
        }
        let got = read_back_sized(&records);
        for (i, (data, _)) in batch.iter().enumerate() {
            prop_assert_eq!(got[2 * i].as_deref(), Some(&data[..]));
            prop_assert_eq!(got[2 * i + 1].as_deref(), Some(&data[..]));
        }
    }

    #[test]
    fn corrupt_stored_sources_are_errors_or_what_a_reference_decoder_reads(
        data in python_like(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (flags, good) = stored_at(&data, 10);
        let mut bad = good.clone();
        // The stream's bytes, not the decoded size before them: the runtime allocates what
        // the (trusted, generated) size says.
        for (at, byte) in &flips {
            let i = 4 + at.index(bad.len() - 4);
            bad[i] ^= byte | 1;
        }
        let truncated = good[..cut.index(good.len())].to_vec();
        // The memory checks are the harness's; here, what a corrupt stream may decode to.
        let got = read_back_sized(&[(flags, bad.clone()), (flags, truncated)]);
        if let Some(out) = &got[0] {
            // Accepted: then it is what miniz_oxide reads from the same stream.
            if let Ok(reference) = miniz_oxide::inflate::decompress_to_vec(&bad[4..]) {
                prop_assert_eq!(out, &reference);
            }
        }
        // A stream cut short never decodes (its end-of-block code is gone).
        prop_assert!(got[1].is_none());
    }
}
