//! C string-literal encoding. gcc compiles long string literals much faster than arrays of
//! integers, so bytes are emitted as adjacent literals: printable ASCII as itself, the rest
//! as three-digit octal escapes (a fixed width, so a following digit is never absorbed).
//! Text is split after each newline so generated files read like the source they hold.

use std::fmt::Write;

/// Bytes per literal piece for binary data, and the longest piece for text.
const BINARY_PIECE: usize = 40;
const TEXT_PIECE: usize = 160;

fn push_escaped(out: &mut String, byte: u8, prev: Option<u8>) {
    match byte {
        b'\\' => out.push_str("\\\\"),
        b'"' => out.push_str("\\\""),
        b'\n' => out.push_str("\\n"),
        b'\t' => out.push_str("\\t"),
        // `??x` can be a trigraph in strict ISO modes.
        b'?' if prev == Some(b'?') => out.push_str("\\?"),
        0x20..=0x7e => out.push(byte as char),
        _ => {
            let _ = write!(out, "\\{byte:03o}");
        }
    }
}

/// Whether bytes look like text (no NUL, mostly printable), so they are split at newlines.
pub fn looks_like_text(data: &[u8]) -> bool {
    if data.contains(&0) {
        return false;
    }
    let printable = data
        .iter()
        .filter(|&&b| {
            (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t' || b == b'\r' || b >= 0x80
        })
        .count();
    printable * 10 >= data.len() * 9
}

/// Appends `data` as one or more adjacent string literals, each on its own line, indented.
pub fn bytes_literal(out: &mut String, data: &[u8]) {
    if data.is_empty() {
        out.push_str("    \"\"");
        return;
    }
    let text = looks_like_text(data);
    let mut first = true;
    let mut start = 0;
    while start < data.len() {
        let end = if text {
            let limit = (start + TEXT_PIECE).min(data.len());
            data[start..limit]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| start + p + 1)
                .unwrap_or(limit)
        } else {
            (start + BINARY_PIECE).min(data.len())
        };
        if !first {
            out.push('\n');
        }
        first = false;
        out.push_str("    \"");
        let mut prev = None;
        for &b in &data[start..end] {
            push_escaped(out, b, prev);
            prev = Some(b);
        }
        out.push('"');
        start = end;
    }
}

/// A NUL-terminated C string literal (for names and paths).
pub fn c_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut prev = None;
    for &b in s.as_bytes() {
        push_escaped(&mut out, b, prev);
        prev = Some(b);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // That every byte reads back equal is checked by a C compiler, not by a decoder of our
    // own: tests/emit_props.rs.

    #[test]
    fn no_trigraph_survives() {
        let mut s = String::new();
        bytes_literal(&mut s, b"??=??(??/??)??'??<??!??>??-???");
        assert!(!s.contains("??"), "trigraph left in {s}");
    }

    #[test]
    fn text_is_split_after_newlines() {
        let mut s = String::new();
        bytes_literal(&mut s, b"import os\nx = 1\n");
        assert_eq!(s, "    \"import os\\n\"\n    \"x = 1\\n\"");
    }

    #[test]
    fn octal_escapes_are_three_digits_wide() {
        let mut s = String::new();
        bytes_literal(&mut s, &[0, b'1', 0, 0, 0, 0]);
        assert!(s.contains("\\0001"), "{s}");
    }
}
