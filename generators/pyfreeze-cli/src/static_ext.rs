//! `--static-extensions`: plans the `Modules/Setup.local` that makes every stdlib extension
//! module the configured tree can build a built-in module of libpython (`*static*` lines,
//! read first by CPython's `makesetup`), with its C libraries linked from static archives.
//!
//! Read from the configured tree: `Modules/Setup.stdlib.in` (which modules CPython builds
//! through the Setup files), `Modules/Setup.stdlib` (their lines after configure) and
//! `Makefile.pre` (configure's verdict per module, `MODULE_<NAME>_STATE`, and its flags).
//! What is left out, and why, is declared in `pyfreeze_gen::static_modules`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pyfreeze_gen::static_modules::{self as decl, DeclaredModule};

/// The make variable (and C macro) that tells the series' getpath the interpreter needs no
/// folder next to the executable. `Setup.local` defines it (makesetup copies `NAME=value`
/// lines into the Makefile) and `Tools/pyfreeze/cpython.mk` passes it to `getpath.o` alone, so
/// that every other object is compiled as in a build without it (a compiler cache shares them).
pub const STATIC_DEFINE: &str = "PYFREEZE_STATIC_EXTENSIONS";

/// What the build does with the stdlib's extension modules.
#[derive(Debug, Default)]
pub struct Plan {
    /// Built into libpython, in `Setup.local` order.
    pub built_in: Vec<String>,
    /// Left as CPython configures them, with the declared reason.
    pub excluded: Vec<(String, &'static str)>,
    /// With `--allow-shared-extensions`: what could not be built in, and why (printed as
    /// warnings).
    pub not_built_in: Vec<(String, String)>,
    /// The text of `Modules/Setup.local`.
    pub setup_local: String,
}

/// `NAME=value` lines of a Makefile (the first line of each; continuation lines ignored).
pub fn make_vars(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// A module line of `Modules/Setup.stdlib.in`: `@MODULE_<UPPER>_TRUE@name sources...`.
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateModule {
    pub name: String,
    pub upper: String,
}

/// The modules `Setup.stdlib.in` builds through makesetup (lines commented out with `#@MODULE`
/// are built by 3.11's setup.py instead).
pub fn template_modules(text: &str) -> Vec<TemplateModule> {
    text.lines()
        .filter_map(|l| l.strip_prefix("@MODULE_"))
        .filter_map(|rest| {
            let (upper, line) = rest.split_once("_TRUE@")?;
            let name = line.split_whitespace().next()?;
            Some(TemplateModule {
                name: name.to_string(),
                upper: upper.to_string(),
            })
        })
        .collect()
}

/// The words after the module name on its line of the configured `Modules/Setup.stdlib`.
pub fn configured_line(setup_stdlib: &str, name: &str) -> Option<Vec<String>> {
    setup_stdlib.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next()? == name).then(|| words.map(String::from).collect())
    })
}

/// The words of a configured link flag value, a `$(NAME)` of the Makefile replaced by its
/// value (`$(LIBMPDEC_A)` by the bundled archive's path): makesetup would pass an unknown
/// `$(...)` to the compiler as well as to the linker.
fn expand(value: &str, vars: &BTreeMap<String, String>) -> Vec<String> {
    value
        .split_whitespace()
        .flat_map(|word| {
            let name = word.strip_prefix("$(").and_then(|w| w.strip_suffix(')'));
            match name.and_then(|n| vars.get(n)) {
                Some(value) => value.split_whitespace().map(String::from).collect(),
                None => vec![word.to_string()],
            }
        })
        .collect()
}

/// Whether makesetup takes `word` as a compiler or linker flag (not a source file): a line
/// with any of those gets no `$(MODULE_<NAME>_CFLAGS/LDFLAGS)` of its own.
fn is_flag(word: &str) -> bool {
    word.starts_with('-') || word.starts_with("$(") || word.ends_with(".a") || word.ends_with(".so")
}

/// Finds static archives with the C compiler's own search path.
pub struct Archives {
    cc: String,
}

impl Archives {
    pub fn new(cc: &str) -> Archives {
        Archives { cc: cc.to_string() }
    }

    /// The path of `libNAME.a`, if the compiler finds one.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        let out = Command::new(&self.cc)
            .arg(format!("-print-file-name=lib{name}.a"))
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        // Without a match the compiler prints the bare name back.
        if !out.status.success() || !path.is_absolute() {
            return None;
        }
        path.canonicalize().ok()
    }

    /// Whether `#include <header>` compiles with `cflags`.
    pub fn has_header(&self, header: &str, cflags: &[&str]) -> bool {
        let child = Command::new(&self.cc)
            .args(cflags)
            .args(["-E", "-x", "c", "-o", "/dev/null", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { return false };
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = writeln!(stdin, "#include <{header}>");
        }
        child.wait().is_ok_and(|s| s.success())
    }

    /// Link words with every `-lNAME` outside the C library turned into its archive's path
    /// (and the archives it needs after it); or what is missing.
    pub fn link_words(&self, module: &str, words: &[String]) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for word in words {
            match word.strip_prefix("-l") {
                Some(name) if !decl::C_RUNTIME.contains(&name) => {
                    names.push(name.to_string());
                    if let Some((_, after)) =
                        decl::STATIC_COMPANIONS.iter().find(|(lib, _)| *lib == name)
                    {
                        names.extend(after.iter().map(|s| s.to_string()));
                    }
                }
                _ => out.push(word.clone()),
            }
        }
        // A companion already named later stays at its later place.
        let mut ordered: Vec<String> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if !names[i + 1..].contains(name) {
                ordered.push(name.clone());
            }
        }
        let mut archives = Vec::new();
        for name in &ordered {
            match self.find(name) {
                Some(path) => archives.push(path.display().to_string()),
                None => {
                    let package = decl::library_package(name)
                        .map(|p| format!("install {p}"))
                        .unwrap_or_else(|| format!("install the package with lib{name}.a"));
                    return Err(format!(
                        "{module}: lib{name}.a not found (the C compiler {} searched for it); {package}",
                        self.cc
                    ));
                }
            }
        }
        // The archives first: the C library's flags (-lm, -ldl) after what needs them.
        archives.extend(out);
        Ok(archives)
    }
}

fn missing_message(module: &str, state: &str) -> String {
    match state {
        "missing" => {
            let hint = decl::module_package(module)
                .map(|p| format!("install {p} (ci/setup-cpython-build.sh installs it)"))
                .unwrap_or_else(|| "install its library's development package".to_string());
            format!("{module}: configure found no usable library or header for it; {hint}")
        }
        "disabled" => {
            format!("{module}: disabled by a configure option (--configure-arg); remove the option")
        }
        other => format!("{module}: configure says {other:?}"),
    }
}

/// Plans `Setup.local` for a configured tree of CPython `minor`. Every module that cannot be
/// built in is an error (all of them listed), unless `allow_shared`.
pub fn plan(
    tree: &Path,
    minor: &str,
    allow_shared: bool,
    archives: &Archives,
) -> Result<Plan, String> {
    let read = |rel: &str| {
        let path = tree.join(rel);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let vars = make_vars(&read("Makefile.pre")?);
    let template = template_modules(&read("Modules/Setup.stdlib.in")?);
    let configured = read("Modules/Setup.stdlib")?;
    let mut plan = Plan::default();
    let mut lines: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut refuse = |plan: &mut Plan, module: &str, why: String| {
        if allow_shared {
            plan.not_built_in.push((module.to_string(), why));
        } else {
            problems.push(why);
        }
    };
    for m in &template {
        if let Some(e) = decl::exclusion(minor, &m.name) {
            plan.excluded.push((m.name.clone(), e.reason));
            continue;
        }
        let state = vars
            .get(&format!("MODULE_{}_STATE", m.upper))
            .map(String::as_str)
            .unwrap_or("");
        match state {
            "yes" => {}
            "n/a" => continue,
            other => {
                let why = missing_message(&m.name, other);
                refuse(&mut plan, &m.name, why);
                continue;
            }
        }
        let Some(words) = configured_line(&configured, &m.name) else {
            let why = format!(
                "{}: configure enabled it but Modules/Setup.stdlib has no line for it",
                m.name
            );
            refuse(&mut plan, &m.name, why);
            continue;
        };
        let (sources, flags): (Vec<String>, Vec<String>) = if words.iter().any(|w| is_flag(w)) {
            (words, Vec::new())
        } else {
            let ldflags = vars
                .get(&format!("MODULE_{}_LDFLAGS", m.upper))
                .map(|v| expand(v, &vars))
                .unwrap_or_default();
            let mut flags = vec![format!("$(MODULE_{}_CFLAGS)", m.upper)];
            flags.extend::<Vec<String>>(ldflags);
            (words, flags)
        };
        // Link words may sit in the line itself (3.13's _sha2) or in the configured flags.
        let (links, rest): (Vec<String>, Vec<String>) = sources
            .into_iter()
            .chain(flags)
            .partition(|w| w.starts_with("-l"));
        match archives.link_words(&m.name, &links) {
            Ok(linked) => {
                let mut line = vec![m.name.clone()];
                line.extend(rest);
                line.extend(linked);
                lines.push(line.join(" "));
                plan.built_in.push(m.name.clone());
            }
            Err(why) => refuse(&mut plan, &m.name, why),
        }
    }
    for m in decl::SETUP_PY_MODULES.iter().filter(|m| m.minor == minor) {
        if let Some(e) = decl::exclusion(minor, m.name) {
            plan.excluded.push((m.name.to_string(), e.reason));
            continue;
        }
        match declared_line(m, archives) {
            Ok(line) => {
                lines.push(line);
                plan.built_in.push(m.name.to_string());
            }
            Err(why) => refuse(&mut plan, m.name, why),
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "--static-extensions: {} stdlib extension module(s) cannot be built into libpython:\n  {}\n  \
             hint: install what is named (ci/setup-cpython-build.sh), or pass --allow-shared-extensions \
             to leave them as shared objects (or unbuilt) with a warning",
            problems.len(),
            problems.join("\n  ")
        ));
    }
    plan.excluded.sort();
    plan.setup_local = format!(
        "# Written by `pyfreeze cpython build --static-extensions`; rewritten at every build.\n\
         # CPython {minor}'s stdlib extension modules built into libpython (makesetup reads this\n\
         # file first: the first rule for a module wins), C libraries from static archives.\n\
         # {STATIC_DEFINE}=1 reaches the series' getpath.o alone (Tools/pyfreeze/cpython.mk):\n\
         # it needs no folder beside the executable.\n\
         {STATIC_DEFINE}=1\n\
         *static*\n{}\n",
        lines.join("\n")
    );
    Ok(plan)
}

fn declared_line(m: &DeclaredModule, archives: &Archives) -> Result<String, String> {
    if !archives.has_header(m.header, m.cflags) {
        let package = decl::module_package(m.name).unwrap_or("its development package");
        return Err(format!(
            "{}: <{}> not found; install {package}",
            m.name, m.header
        ));
    }
    let libs: Vec<String> = m.libs.iter().map(|s| s.to_string()).collect();
    let linked = archives.link_words(m.name, &libs)?;
    let mut line = vec![m.name.to_string()];
    line.extend(m.sources.iter().map(|s| s.to_string()));
    line.extend(m.cflags.iter().map(|s| s.to_string()));
    line.extend(linked);
    Ok(line.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "\
*@MODULE_BUILDTYPE@*
@MODULE_ARRAY_TRUE@array arraymodule.c
#@MODULE__CTYPES_TRUE@_ctypes _ctypes/_ctypes.c
@MODULE__SHA2_TRUE@_sha2 sha2module.c -I$(srcdir)/Modules/_hacl/include Modules/_hacl/libHacl_Hash_SHA2.a
";

    #[test]
    fn the_template_names_makesetup_modules_only() {
        let names: Vec<String> = template_modules(TEMPLATE)
            .into_iter()
            .map(|m| format!("{} {}", m.name, m.upper))
            .collect();
        assert_eq!(names, ["array ARRAY", "_sha2 _SHA2"]);
    }

    #[test]
    fn configured_lines_skip_commented_ones() {
        let configured = "#_ssl _ssl.c\narray arraymodule.c\n";
        assert_eq!(configured_line(configured, "_ssl"), None);
        assert_eq!(
            configured_line(configured, "array"),
            Some(vec!["arraymodule.c".to_string()])
        );
    }

    #[test]
    fn link_flags_name_the_bundled_archives() {
        let vars = make_vars("LIBMPDEC_A= Modules/_decimal/libmpdec/libmpdec.a\n");
        assert_eq!(
            expand("-lm $(LIBMPDEC_A) $(UNKNOWN)", &vars),
            ["-lm", "Modules/_decimal/libmpdec/libmpdec.a", "$(UNKNOWN)"]
        );
    }

    #[test]
    fn make_vars_reads_assignments() {
        let vars =
            make_vars("MODULE__SSL_STATE=yes\nMODULE__SSL_LDFLAGS=  -lssl -lcrypto \n\tfoo=bar\n");
        assert_eq!(vars["MODULE__SSL_STATE"], "yes");
        assert_eq!(vars["MODULE__SSL_LDFLAGS"], "-lssl -lcrypto");
        assert!(!vars.contains_key("\tfoo"));
    }

    /// A configured tree in miniature (the three files `plan` reads, as configure writes them).
    fn tree(dir: &Path) {
        let files = [
            (
                "Makefile.pre",
                "MODULE_ZLIB_STATE=yes\nMODULE_ZLIB_LDFLAGS=-lz \nMODULE__SSL_STATE=missing\n\
                 MODULE__UUID_STATE=yes\nMODULE__UUID_LDFLAGS=-lno_such_library_here\n\
                 MODULE__TESTCAPI_STATE=yes\nMODULE__SCPROXY_STATE=n/a\n",
            ),
            (
                "Modules/Setup.stdlib.in",
                "*@MODULE_BUILDTYPE@*\n@MODULE_ZLIB_TRUE@zlib zlibmodule.c\n\
                 @MODULE__SSL_TRUE@_ssl _ssl.c\n@MODULE__UUID_TRUE@_uuid _uuidmodule.c\n\
                 @MODULE__SCPROXY_TRUE@_scproxy _scproxy.c\n\
                 @MODULE__TESTCAPI_TRUE@_testcapi _testcapimodule.c\n",
            ),
            (
                "Modules/Setup.stdlib",
                "*shared*\nzlib zlibmodule.c\n#_ssl _ssl.c\n_uuid _uuidmodule.c\n\
                 #_scproxy _scproxy.c\n_testcapi _testcapimodule.c\n",
            ),
        ];
        for (rel, text) in files {
            std::fs::create_dir_all(dir.join(rel).parent().unwrap()).unwrap();
            std::fs::write(dir.join(rel), text).unwrap();
        }
    }

    #[test]
    fn a_module_that_cannot_be_built_in_is_an_error_naming_the_package() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let archives = Archives::new("cc");
        let err = plan(dir.path(), "3.13", false, &archives).unwrap_err();
        assert!(err.contains("2 stdlib extension module(s)"), "{err}");
        assert!(
            err.contains(
                "_ssl: configure found no usable library or header for it; install libssl-dev"
            ),
            "{err}"
        );
        assert!(
            err.contains("_uuid: libno_such_library_here.a not found"),
            "{err}"
        );
        assert!(err.contains("--allow-shared-extensions"), "{err}");

        let plan = plan(dir.path(), "3.13", true, &archives).unwrap();
        assert_eq!(plan.built_in, ["zlib"]);
        let left: Vec<&str> = plan.not_built_in.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(left, ["_ssl", "_uuid"]);
        assert_eq!(plan.excluded.len(), 2, "{:?}", plan.excluded); // _scproxy, _testcapi
        let zlib = plan
            .setup_local
            .lines()
            .find(|l| l.starts_with("zlib "))
            .unwrap();
        assert!(
            zlib.starts_with("zlib zlibmodule.c $(MODULE_ZLIB_CFLAGS) /")
                && zlib.ends_with("/libz.a"),
            "{zlib}"
        );
        assert!(
            plan.setup_local.contains("\n*static*\n"),
            "{}",
            plan.setup_local
        );
    }

    /// Against this machine's compiler and archives (ci/setup-cpython-build.sh installs them).
    #[test]
    fn libraries_become_archives_and_the_c_library_stays_shared() {
        let archives = Archives::new("cc");
        let words: Vec<String> = ["-lgdbm_compat", "-ldl"].map(String::from).to_vec();
        let linked = archives.link_words("_dbm", &words).unwrap();
        assert_eq!(linked.len(), 3, "{linked:?}");
        assert!(linked[0].ends_with("/libgdbm_compat.a"), "{linked:?}");
        assert!(linked[1].ends_with("/libgdbm.a"), "{linked:?}");
        assert_eq!(linked[2], "-ldl");
        let missing = vec!["-lno_such_library_here".to_string()];
        let err = archives.link_words("_x", &missing).unwrap_err();
        assert!(
            err.contains("_x: libno_such_library_here.a not found"),
            "{err}"
        );
        assert!(archives.has_header("stdio.h", &[]));
        assert!(!archives.has_header("no/such/header.h", &[]));
    }
}
