//! `code.bin`: every module's marshalled code as bytes, for the steps after the generator
//! (CPython's deep-freeze step, the golden tests) that need the code itself rather than C.
//!
//! The modules' code is concatenated in table order (sorted by name) with no header or
//! padding; `manifest.json` gives each module's `code_offset`, `code_size` and `code_sha256`
//! and names the file (`code_file`). One file rather than one per module: it is written in
//! one piece (only when some module's code changed) and a reader opens it once and reads the
//! slices it needs, while the per-module C files stay the unit of recompilation. Its bytes
//! are the same as the `_code` literals of `modules/*.c`, so nothing downstream parses C.

use crate::FrozenModule;

/// Its path in the output folder (also recorded in the manifest as `code_file`).
pub const CODE_FILE: &str = "code.bin";

/// The concatenated code of `modules` and each module's offset in it.
pub struct CodeFile {
    pub bytes: Vec<u8>,
    pub offsets: Vec<usize>,
}

pub fn concatenate(modules: &[FrozenModule]) -> CodeFile {
    let mut bytes = Vec::with_capacity(modules.iter().map(|m| m.code.len()).sum());
    let offsets = modules
        .iter()
        .map(|m| {
            let offset = bytes.len();
            bytes.extend_from_slice(&m.code);
            offset
        })
        .collect();
    CodeFile { bytes, offsets }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn module(name: &str, code: &[u8]) -> FrozenModule {
        FrozenModule {
            name: name.into(),
            kind: Kind::Module,
            origin: format!("/{name}.py"),
            path: None,
            code: code.to_vec(),
            source: None,
            resources: 0..0,
        }
    }

    #[test]
    fn modules_follow_each_other_without_padding() {
        let f = concatenate(&[module("a", b"xyz"), module("b", b""), module("c", b"\0q")]);
        assert_eq!(f.bytes, b"xyz\0q");
        assert_eq!(f.offsets, vec![0, 3, 3]);
    }
}
