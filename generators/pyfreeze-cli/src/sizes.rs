//! Size reports, by top-level package: `pyfreeze list --sizes` (what a table would hold) and
//! `lib/pythonX.Y/pyfreeze-sizes.tsv` of a CPython built by `pyfreeze cpython build` (what its
//! binary holds, deep-frozen code objects included).

use std::collections::BTreeMap;
use std::path::Path;

/// The bytes one package puts in the binary.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub modules: usize,
    /// Marshalled code in the table's rows (none when the build deep-freezes instead).
    pub code: usize,
    /// Source as stored (compressed or not).
    pub source: usize,
    /// Package data and distribution metadata.
    pub data: usize,
    /// Deep-frozen code objects (their compiled objects' allocated sections).
    pub deep: usize,
}

impl Row {
    pub fn total(&self) -> usize {
        self.code + self.source + self.data + self.deep
    }

    fn add(&mut self, other: &Row) {
        self.modules += other.modules;
        self.code += other.code;
        self.source += other.source;
        self.data += other.data;
        self.deep += other.deep;
    }
}

/// The top-level package of a dotted name.
pub fn top(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// A tab-separated table: a header line, one line per package, largest first (then by name),
/// and `<total>` last. `deep` adds the DEEP column.
pub fn table(rows: &BTreeMap<String, Row>, deep: bool) -> (String, Row) {
    let mut sorted: Vec<(&String, &Row)> = rows.iter().collect();
    sorted.sort_by(|(a, x), (b, y)| y.total().cmp(&x.total()).then_with(|| a.cmp(b)));
    let deep_head = if deep { "\tDEEP" } else { "" };
    let mut out = format!("PACKAGE\tMODULES\tBYTECODE\tSOURCE\tDATA{deep_head}\tTOTAL\n");
    let line = |out: &mut String, name: &str, r: &Row| {
        let deep_col = if deep {
            format!("\t{}", r.deep)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{name}\t{}\t{}\t{}\t{}{deep_col}\t{}\n",
            r.modules,
            r.code,
            r.source,
            r.data,
            r.total()
        ));
    };
    let mut total = Row::default();
    for (name, r) in sorted {
        total.add(r);
        line(&mut out, name, r);
    }
    line(&mut out, "<total>", &total);
    (out, total)
}

/// The rows of a table as its `manifest.json` describes it: modules (their bytecode only when
/// the rows hold it, `embed_bytecode`), stored source, package data, and distribution metadata
/// as `<metadata>`.
pub fn of_manifest(manifest: &serde_json::Value) -> BTreeMap<String, Row> {
    let embedded = manifest["options"]["embed_bytecode"]
        .as_bool()
        .unwrap_or(true);
    let field = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap_or(0) as usize;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for m in manifest["modules"].as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let row = rows.entry(top(name).to_string()).or_default();
        row.modules += 1;
        if embedded {
            row.code += field(m, "code_size");
        }
        row.source += field(m, "source_stored_size");
    }
    for r in manifest["resources"].as_array().into_iter().flatten() {
        let package = r["package"].as_str().unwrap_or_default();
        rows.entry(top(package).to_string()).or_default().data += field(r, "size");
    }
    let metadata: usize = manifest["distributions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["files"].as_array().into_iter().flatten())
        .map(|f| field(f, "size"))
        .sum();
    if metadata > 0 {
        rows.entry("<metadata>".into()).or_default().data += metadata;
    }
    rows
}

/// The bytes a compiled deep-frozen object file puts in the program; `None` when it was not
/// compiled.
fn deep_object_bytes(object: &Path) -> Result<Option<usize>, String> {
    let Ok(bytes) = std::fs::read(object) else {
        return Ok(None);
    };
    let size = elf_allocated_bytes(&bytes)
        .ok_or_else(|| format!("{}: not a 64-bit ELF object", object.display()))?;
    Ok(Some(size as usize))
}

/// The rows of the table that a patched CPython tree links (`Python/frozen_ext`: its
/// `manifest.json`, and the deep-frozen objects compiled into `obj/deep/modules/`, the
/// strings that its modules share in a row of their own, `<shared strings>`).
pub fn of_cpython_tree(frozen_ext: &Path) -> Result<BTreeMap<String, Row>, String> {
    let path = frozen_ext.join("manifest.json");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = of_manifest(&manifest);
    for m in manifest["modules"].as_array().into_iter().flatten() {
        let c_file = m["c_file"].as_str().unwrap_or_default();
        let object = frozen_ext
            .join("obj/deep")
            .join(Path::new(c_file).with_extension("o"));
        if let Some(size) = deep_object_bytes(&object)? {
            let name = m["name"].as_str().unwrap_or_default();
            rows.entry(top(name).to_string()).or_default().deep += size;
        }
    }
    // The identifier-like strings every module shares (one object per text); none without
    // deep-freezing, where strings.o is empty and gets no row.
    let strings = frozen_ext.join("obj/deep/strings.o");
    if let Some(size @ 1..) = deep_object_bytes(&strings)? {
        rows.entry("<shared strings>".into()).or_default().deep += size;
    }
    Ok(rows)
}

/// The `<total>` row of a [`table`] with the DEEP column (an install's `pyfreeze-sizes.tsv`);
/// None when the text is not one.
pub fn read_totals(tsv: &str) -> Option<Row> {
    let header: Vec<&str> = tsv.lines().next()?.split('\t').collect();
    let total: Vec<&str> = tsv.lines().last()?.split('\t').collect();
    if total.first() != Some(&"<total>") || total.len() != header.len() {
        return None;
    }
    let column = |name: &str| -> Option<usize> {
        let at = header.iter().position(|h| *h == name)?;
        total[at].parse().ok()
    };
    Some(Row {
        modules: column("MODULES")?,
        code: column("BYTECODE")?,
        source: column("SOURCE")?,
        data: column("DATA")?,
        deep: column("DEEP")?,
    })
}

/// The bytes a 64-bit little-endian ELF object puts in a program: the sizes of its sections
/// that are allocated and have contents (code, data, read-only data; not `.bss`, not debug
/// information or symbols). None when the bytes are not such an object.
pub fn elf_allocated_bytes(elf: &[u8]) -> Option<u64> {
    const SHF_ALLOC: u64 = 0x2;
    const SHT_NOBITS: u32 = 8;
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?));
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    if shentsize < 0x40 {
        return None;
    }
    let mut total = 0u64;
    for i in 0..shnum {
        let sh = shoff.checked_add(i.checked_mul(shentsize)?)?;
        let (kind, flags, size) = (u32_at(sh + 4)?, u64_at(sh + 8)?, u64_at(sh + 0x20)?);
        if flags & SHF_ALLOC != 0 && kind != SHT_NOBITS {
            total = total.checked_add(size)?;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn an_objects_allocated_bytes_are_its_code_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("x.c");
        std::fs::write(
            &c,
            "char big[100000] = {1};\nconst char ro[5000] = {2};\nchar zero[7000];\n\
             int f(void) { return big[0] + ro[0] + zero[0]; }\n",
        )
        .unwrap();
        let o = dir.path().join("x.o");
        let status = Command::new("cc")
            .args(["-O2", "-g", "-c", "-o"])
            .arg(&o)
            .arg(&c)
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(&o).unwrap();
        let n = elf_allocated_bytes(&bytes).unwrap();
        // Both arrays and a little code; not .bss (zero), not the debug information.
        assert!((105_000..106_000).contains(&n), "{n}");
        assert!(
            (bytes.len() as u64) > n + 1000,
            "debug sections are left out"
        );
        assert_eq!(elf_allocated_bytes(b"#!/bin/sh\n"), None);
        assert_eq!(elf_allocated_bytes(&bytes[..0x30]), None, "truncated");
    }

    #[test]
    fn the_table_sorts_by_size_and_totals() {
        let rows = BTreeMap::from([
            (
                "a".to_string(),
                Row {
                    modules: 1,
                    source: 10,
                    deep: 5,
                    ..Row::default()
                },
            ),
            (
                "b".to_string(),
                Row {
                    modules: 2,
                    code: 30,
                    ..Row::default()
                },
            ),
        ]);
        let (text, total) = table(&rows, true);
        assert_eq!(
            text,
            "PACKAGE\tMODULES\tBYTECODE\tSOURCE\tDATA\tDEEP\tTOTAL\n\
             b\t2\t30\t0\t0\t0\t30\n\
             a\t1\t0\t10\t0\t5\t15\n\
             <total>\t3\t30\t10\t0\t5\t45\n"
        );
        assert_eq!(total.total(), 45);
        assert_eq!(read_totals(&text), Some(total));
        assert_eq!(read_totals(&table(&rows, false).0), None, "no DEEP column");
        assert!(table(&rows, false)
            .0
            .starts_with("PACKAGE\tMODULES\tBYTECODE\tSOURCE\tDATA\tTOTAL\n"));
    }
}
