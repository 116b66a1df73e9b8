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

    /// Decodes what [`bytes_literal`] wrote, as a C compiler would.
    fn decode(lit: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lit.lines() {
            let body = line
                .trim()
                .strip_prefix('"')
                .unwrap()
                .strip_suffix('"')
                .unwrap()
                .as_bytes();
            let mut i = 0;
            while i < body.len() {
                if body[i] == b'\\' {
                    match body[i + 1] {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'\\' | b'"' | b'?' => out.push(body[i + 1]),
                        _ => {
                            let oct = std::str::from_utf8(&body[i + 1..i + 4]).unwrap();
                            out.push(u8::from_str_radix(oct, 8).unwrap());
                            i += 2;
                        }
                    }
                    i += 2;
                } else {
                    out.push(body[i]);
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).chain(b"??=1\\\"\n7".iter().copied()).collect();
        let mut s = String::new();
        bytes_literal(&mut s, &all);
        assert_eq!(decode(&s), all);
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
