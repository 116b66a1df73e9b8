//! Reading an output folder back, for `pyfreeze pack --from OUT`: a pack of exactly what a
//! `pyfreeze freeze` output holds (to compare a pack with the linked table it came from). The
//! folder's `manifest.json` lists the modules, package data and distribution files; their bytes
//! come from `code.bin` and from the arrays of the C files (`cwriter`'s literals, read back by
//! [`c_array`]), each checked against the manifest's size and SHA-256, so that a folder changed
//! by hand or left half-written by a killed run is an error, never another pack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::emit::{dist_file_symbol, resource_symbol, sha256_hex, FORMAT};
use crate::{
    FrozenDistribution, FrozenModule, FrozenResource, Kind, APP_RUNTIME_MODULE, RUNTIME_MODULE,
};

#[derive(Deserialize)]
struct Manifest {
    format: u32,
    target: Target,
    options: Options,
    code_file: String,
    modules: Vec<ManifestModule>,
    resources: Vec<ManifestResource>,
    distributions: Vec<ManifestDistribution>,
}

#[derive(Deserialize)]
struct Target {
    magic: u16,
    python: String,
}

#[derive(Deserialize)]
struct Options {
    compress_source: bool,
    embed_bytecode: bool,
}

#[derive(Deserialize)]
struct ManifestModule {
    name: String,
    kind: String,
    origin: String,
    c_file: String,
    symbol: String,
    code_offset: usize,
    code_size: usize,
    code_sha256: String,
    source_sha256: Option<String>,
    source_stored_size: Option<usize>,
    source_compressed: bool,
}

#[derive(Deserialize)]
struct ManifestResource {
    package: String,
    path: String,
    c_file: String,
    size: usize,
    sha256: String,
}

#[derive(Deserialize)]
struct ManifestDistribution {
    name: String,
    origin: String,
    c_file: String,
    files: Vec<ManifestDistFile>,
}

#[derive(Deserialize)]
struct ManifestDistFile {
    path: String,
    size: usize,
    sha256: String,
}

/// What an output folder holds, as [`crate::pack::write_pack`] takes it.
#[derive(Debug)]
pub struct OutputFolder {
    /// The target's bytecode magic number.
    pub magic: u16,
    /// The target's `sys.hexversion`, from the version the manifest records.
    pub hexversion: u32,
    /// Whether the folder stores sources compressed (`compress_source`).
    pub compress_source: bool,
    pub modules: Vec<FrozenModule>,
    pub resources: Vec<FrozenResource>,
    pub distributions: Vec<FrozenDistribution>,
}

/// Reads the output folder `dir` back; an error names the file at fault and what to do.
pub fn read_output(dir: &Path) -> Result<OutputFolder, String> {
    let regenerate = "run the `pyfreeze freeze` that wrote it again";
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read(&manifest_path).map_err(|e| {
        format!(
            "{}: {e}; give the folder a `pyfreeze freeze` wrote",
            manifest_path.display()
        )
    })?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| format!("{}: {e}; {regenerate}", manifest_path.display()))?;
    if m.format != FORMAT {
        return Err(format!(
            "{}: format {} where this pyfreeze writes {FORMAT}; {regenerate} with this pyfreeze",
            manifest_path.display(),
            m.format
        ));
    }
    if !m.options.embed_bytecode {
        return Err(format!(
            "{}: the folder holds no bytecode (embed_bytecode = false), which a pack is imported \
             from; freeze without --no-bytecode",
            dir.display()
        ));
    }
    let hexversion = hexversion_of(&m.target.python).ok_or_else(|| {
        format!(
            "{}: target version {:?} is not a CPython version",
            manifest_path.display(),
            m.target.python
        )
    })?;
    let code_path = dir.join(&m.code_file);
    let code = std::fs::read(&code_path)
        .map_err(|e| format!("{}: {e}; {regenerate}", code_path.display()))?;
    let mut files = CFiles::new(dir);

    let mut resources = Vec::with_capacity(m.resources.len());
    let mut rows_of: BTreeMap<&str, std::ops::Range<u32>> = BTreeMap::new();
    for (i, r) in m.resources.iter().enumerate() {
        let symbol = resource_symbol(&r.package, &r.path);
        let data = files.array(&r.c_file, &symbol, r.size, Some(&r.sha256))?;
        let i = i as u32;
        let rows = rows_of.entry(&r.package).or_insert(i..i);
        if rows.end != i {
            return Err(format!(
                "{}: the data files of {} are not together; {regenerate}",
                manifest_path.display(),
                r.package
            ));
        }
        rows.end = i + 1;
        resources.push(FrozenResource {
            package: r.package.clone(),
            rel: r.path.clone(),
            path: PathBuf::from(&r.path),
            data,
        });
    }

    let mut modules = Vec::with_capacity(m.modules.len());
    for mm in &m.modules {
        let bad = |what: &str| {
            format!(
                "{}: module {}: {what}; {regenerate}",
                manifest_path.display(),
                mm.name
            )
        };
        let kind = match mm.kind.as_str() {
            "module" => Kind::Module,
            "package" => Kind::Package,
            "namespace" => Kind::Namespace,
            other => return Err(bad(&format!("unknown kind {other:?}"))),
        };
        let module_code = code
            .get(mm.code_offset..mm.code_offset.saturating_add(mm.code_size))
            .ok_or_else(|| bad(&format!("its code is past the end of {}", m.code_file)))?;
        if sha256_hex(module_code) != mm.code_sha256 {
            return Err(bad(&format!(
                "its code in {} is not what the manifest says",
                m.code_file
            )));
        }
        let source = match (&mm.source_sha256, mm.source_stored_size) {
            (Some(sha), Some(stored_size)) => {
                let stored = files.array(
                    &mm.c_file,
                    &format!("{}_source", mm.symbol),
                    stored_size,
                    None,
                )?;
                let source = if mm.source_compressed {
                    decompress(&stored).ok_or_else(|| {
                        bad(&format!(
                            "the compressed source in {} does not decode",
                            mm.c_file
                        ))
                    })?
                } else {
                    stored
                };
                if sha256_hex(&source) != *sha {
                    return Err(bad(&format!(
                        "its source in {} is not what the manifest says",
                        mm.c_file
                    )));
                }
                Some(source)
            }
            _ => None,
        };
        let is_runtime = mm.name == RUNTIME_MODULE || mm.name == APP_RUNTIME_MODULE;
        modules.push(FrozenModule {
            name: mm.name.clone(),
            kind,
            origin: mm.origin.clone(),
            path: (!is_runtime).then(|| PathBuf::from(&mm.origin)),
            code: module_code.to_vec(),
            source,
            resources: rows_of.get(mm.name.as_str()).cloned().unwrap_or(0..0),
        });
    }

    let mut distributions = Vec::with_capacity(m.distributions.len());
    for d in &m.distributions {
        let mut dist_files = Vec::with_capacity(d.files.len());
        for f in &d.files {
            let symbol = dist_file_symbol(&d.name, &f.path);
            dist_files.push(FrozenResource {
                package: d.name.clone(),
                rel: f.path.clone(),
                path: PathBuf::from(&f.path),
                data: files.array(&d.c_file, &symbol, f.size, Some(&f.sha256))?,
            });
        }
        distributions.push(FrozenDistribution {
            name: d.name.clone(),
            origin: d.origin.clone(),
            path: PathBuf::from(&d.name),
            files: dist_files,
        });
    }
    Ok(OutputFolder {
        magic: m.target.magic,
        hexversion,
        compress_source: m.options.compress_source,
        modules,
        resources,
        distributions,
    })
}

/// The generated C files of a folder, each read once.
struct CFiles<'a> {
    dir: &'a Path,
    text: BTreeMap<String, String>,
}

impl<'a> CFiles<'a> {
    fn new(dir: &'a Path) -> Self {
        CFiles {
            dir,
            text: BTreeMap::new(),
        }
    }

    /// The bytes of array `symbol` in `c_file`: `size` of them, whose SHA-256 is `sha256` when
    /// given (a stored source is checked once decoded).
    fn array(
        &mut self,
        c_file: &str,
        symbol: &str,
        size: usize,
        sha256: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let path = self.dir.join(c_file);
        if !self.text.contains_key(c_file) {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "{}: {e}; run the `pyfreeze freeze` that wrote it again",
                    path.display()
                )
            })?;
            self.text.insert(c_file.to_string(), text);
        }
        let problem = |what: &str| {
            format!(
                "{}: {symbol}: {what}; run the `pyfreeze freeze` that wrote it again",
                path.display()
            )
        };
        let data = c_array(&self.text[c_file], symbol).ok_or_else(|| problem("no such array"))?;
        if data.len() != size {
            return Err(problem(&format!(
                "{} bytes where the manifest says {size}",
                data.len()
            )));
        }
        if sha256.is_some_and(|sha| sha256_hex(&data) != sha) {
            return Err(problem("not the bytes the manifest says"));
        }
        Ok(data)
    }
}

/// The bytes of `const unsigned char SYMBOL[N] = "..." "...";` in `text`, as
/// [`crate::emit::array`] writes it, or None.
pub fn c_array(text: &str, symbol: &str) -> Option<Vec<u8>> {
    let head = format!("const unsigned char {symbol}[");
    let start = text.find(&head)? + head.len();
    let rest = &text[start..];
    let body = &rest[rest.find("] =")? + 3..];
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        match bytes[i] {
            b';' => return Some(out),
            b'"' => i += 1,
            _ => return None,
        }
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    i += 1;
                    break;
                }
                b'\\' => {
                    let e = *bytes.get(i + 1)?;
                    i += 2;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'\\' | b'"' | b'?' => e,
                        b'0'..=b'7' => {
                            let digits = bytes.get(i - 1..i + 2)?;
                            i += 2;
                            let mut v = 0u32;
                            for &d in digits {
                                if !(b'0'..=b'7').contains(&d) {
                                    return None;
                                }
                                v = v * 8 + u32::from(d - b'0');
                            }
                            u8::try_from(v).ok()?
                        }
                        _ => return None,
                    });
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
    }
}

/// A stored compressed source (its decoded size, 4 bytes little-endian, then raw DEFLATE)
/// decoded, or None.
fn decompress(stored: &[u8]) -> Option<Vec<u8>> {
    let size = u32::from_le_bytes(stored.get(..4)?.try_into().ok()?) as usize;
    let data = miniz_oxide::inflate::decompress_to_vec(&stored[4..]).ok()?;
    (data.len() == size).then_some(data)
}

/// `sys.hexversion` of a version as `sys.version` starts (`3.13.15`, `3.14.0b2`, `3.15.0rc1`).
pub fn hexversion_of(version: &str) -> Option<u32> {
    let mut parts = version.splitn(3, '.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let micro: u32 = rest[..digits].parse().ok()?;
    let (level, serial) = match &rest[digits..] {
        "" | "+" => (0xf, 0),
        tail => {
            let (level, serial) = if let Some(s) = tail.strip_prefix("rc") {
                (0xc, s)
            } else if let Some(s) = tail.strip_prefix('a') {
                (0xa, s)
            } else if let Some(s) = tail.strip_prefix('b') {
                (0xb, s)
            } else {
                return None;
            };
            (level, serial.trim_end_matches('+').parse().ok()?)
        }
    };
    if major > 255 || minor > 255 || micro > 255 || serial > 15 {
        return None;
    }
    Some(major << 24 | minor << 16 | micro << 8 | level << 4 | serial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_arrays_read_back_what_the_writer_wrote() {
        let samples: [&[u8]; 5] = [
            b"",
            b"print('hi')\n\tx = \"a\\b\" ??= ??/\n",
            &[0, 1, 2, 0o377, b'7', b'?', b'?', b'?', 255, 10, 9],
            &[b'x'; 500],
            "caf\u{e9} \u{2603}\n".as_bytes(),
        ];
        for data in samples {
            let mut c = String::from("/* a comment */\n");
            crate::emit::array(&mut c, "pyfreeze_m_x_source", data);
            crate::emit::array(&mut c, "pyfreeze_m_x_code", b"other");
            assert_eq!(c_array(&c, "pyfreeze_m_x_source").unwrap(), data, "{c}");
            assert_eq!(c_array(&c, "pyfreeze_m_x_code").unwrap(), b"other");
        }
        assert_eq!(c_array("const unsigned char a[3] = \"ab", "a"), None);
        assert_eq!(c_array("const unsigned char a[3] = \"\\9\";", "a"), None);
        assert_eq!(c_array("nothing here", "a"), None);
    }

    #[test]
    fn hexversions() {
        for (hex, text) in [
            (0x030d0ff0, "3.13.15"),
            (0x030e00b2, "3.14.0b2"),
            (0x030f00c1, "3.15.0rc1"),
        ] {
            assert_eq!(crate::python::version_of_hex(hex), text);
            assert_eq!(hexversion_of(text), Some(hex));
        }
        assert_eq!(hexversion_of("3.13.15"), Some(0x030d0ff0));
        assert_eq!(hexversion_of("3.14.0b2"), Some(0x030e00b2));
        assert_eq!(hexversion_of("3.15.0rc1"), Some(0x030f00c1));
        assert_eq!(hexversion_of("3.11.2+"), Some(0x030b02f0));
        assert_eq!(hexversion_of("3.x"), None);
        assert_eq!(hexversion_of("3.13.1z"), None);
    }
}
