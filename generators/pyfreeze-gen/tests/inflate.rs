//! The stock runtime's DEFLATE decoder (pyfreeze_runtime.c, `pf_inflate`), compiled alone with
//! the address and undefined-behaviour sanitizers: it must decode what the generator's
//! compressor (miniz_oxide) writes at every level, and read and write only inside its buffers
//! whatever corrupt stream it is given.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;

/// A program that decodes records `[u32 decoded size][u32 stream size][stream]` from the file
/// named by argv[1] and writes, per record, `[u8 status][decoded bytes if status is 0]`.
const HARNESS: &str = r#"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *in = fopen(argv[1], "rb");
    unsigned char head[8];
    while (in && fread(head, 1, 8, in) == 8) {
        size_t out_size = head[0] | head[1] << 8 | head[2] << 16 | (size_t)head[3] << 24;
        size_t in_size = head[4] | head[5] << 8 | head[6] << 16 | (size_t)head[7] << 24;
        /* Exact-size buffers, so that the sanitizer sees any access past them. */
        unsigned char *stream = malloc(in_size ? in_size : 1), *out = malloc(out_size ? out_size : 1);
        if (fread(stream, 1, in_size, in) != in_size)
            return 2;
        int status = pf_inflate(stream, in_size, out, out_size);
        putchar(status == 0 ? 0 : 1);
        if (status == 0)
            fwrite(out, 1, out_size, stdout);
        free(stream);
        free(out);
    }
    return 0;
}
"#;

/// The decoder's part of the runtime: from its section comment to the first function that
/// needs the table.
fn decoder_c() -> &'static str {
    let c = pyfreeze_gen::emit::RUNTIME_C;
    let start = c
        .find("/* ---- Compressed sources")
        .expect("the decoder's section");
    let end = c
        .find("uint32_t pyfreeze_source_size")
        .expect("the end of the decoder");
    &c[start..end]
}

fn harness() -> &'static Path {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, exe) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("inflate.c");
        let text = format!(
            "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n{}\n{HARNESS}",
            decoder_c()
        );
        std::fs::write(&c, text).unwrap();
        let exe = dir.path().join("inflate");
        let out = Command::new("cc")
            .args([
                "-O1",
                "-g",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsanitize=address,undefined",
            ])
            .args(["-fno-sanitize-recover=all", "-o"])
            .arg(&exe)
            .arg(&c)
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

/// Decodes each `(decoded size, stream)`; `Some(bytes)` where the decoder succeeded.
fn decode(records: &[(usize, Vec<u8>)]) -> Vec<Option<Vec<u8>>> {
    let mut input = tempfile::NamedTempFile::new().unwrap();
    for (size, stream) in records {
        input.write_all(&(*size as u32).to_le_bytes()).unwrap();
        input
            .write_all(&(stream.len() as u32).to_le_bytes())
            .unwrap();
        input.write_all(stream).unwrap();
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
        .map(|(size, _)| {
            let (status, after) = rest.split_first().expect("a status per record");
            rest = after;
            (*status == 0).then(|| {
                let (bytes, after) = rest.split_at(*size);
                rest = after;
                bytes.to_vec()
            })
        })
        .collect()
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
fn every_stdlib_sized_text_round_trips_at_every_level() {
    // The runtime itself, many times: ~300 kB of C with long matches.
    let text: Vec<u8> = pyfreeze_gen::emit::RUNTIME_C.as_bytes().repeat(15);
    let records: Vec<(usize, Vec<u8>)> = (0..=10u8)
        .map(|level| {
            (
                text.len(),
                miniz_oxide::deflate::compress_to_vec(&text, level),
            )
        })
        .collect();
    for (level, got) in decode(&records).into_iter().enumerate() {
        assert!(got.as_deref() == Some(&text[..]), "level {level}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decodes_what_the_compressor_writes(batch in proptest::collection::vec((python_like(), 0..=10u8), 1..16)) {
        let records: Vec<(usize, Vec<u8>)> = batch
            .iter()
            .map(|(data, level)| (data.len(), miniz_oxide::deflate::compress_to_vec(data, *level)))
            .collect();
        for ((data, _), got) in batch.iter().zip(decode(&records)) {
            prop_assert_eq!(got.as_deref(), Some(&data[..]));
        }
    }

    #[test]
    fn corrupt_streams_are_errors_not_crashes(
        data in python_like(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        size_delta in -3i64..3,
    ) {
        let stream = miniz_oxide::deflate::compress_to_vec(&data, 10);
        let mut bad = stream.clone();
        for (at, byte) in &flips {
            let i = at.index(bad.len().max(1)).min(bad.len().saturating_sub(1));
            if !bad.is_empty() {
                bad[i] ^= byte | 1;
            }
        }
        let truncated = stream[..cut.index(stream.len().max(1)).min(stream.len())].to_vec();
        let size = (data.len() as i64 + size_delta).max(0) as usize;
        // Whatever each decode returns, it must return (the harness checks memory accesses);
        // a truncated stream or a wrong size never decodes.
        let got = decode(&[(data.len(), bad), (data.len(), truncated.clone()), (size, stream)]);
        if truncated.len() < stream_len_without_padding(&data) {
            prop_assert!(got[1].is_none());
        }
        if size != data.len() {
            prop_assert!(got[2].is_none());
        }
    }
}

/// Streams shorter than this cannot hold `data` (a conservative bound: any stream ends with
/// at least one byte after its last literal).
fn stream_len_without_padding(data: &[u8]) -> usize {
    let full = miniz_oxide::deflate::compress_to_vec(data, 10).len();
    full.saturating_sub(1)
}
