//! The per-module C files exist so that a build farm's compiler cache can share their objects:
//! the same app frozen in a second checkout, at another path, must hit ccache for every module
//! and data object. CI installs ccache (`ci/setup-cpython-build.sh`); a machine without it
//! fails this test rather than skipping it.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyfreeze_tests::{pyfreeze_bin, python, run, run_ok, write_tree, APP};

/// A ccache with its own cache and no user configuration, so the test neither reads nor
/// fills the machine's cache.
struct Ccache {
    dir: PathBuf,
}

impl Ccache {
    fn new(dir: &Path) -> Ccache {
        let found = run(Command::new("ccache").arg("--version"))
            .status
            .success();
        assert!(
            found,
            "ccache is not installed: run `ci/setup-cpython-build.sh` as root (or `apt-get install ccache`)"
        );
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("ccache.conf"), "").unwrap();
        Ccache {
            dir: dir.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("ccache");
        cmd.env("CCACHE_DIR", &self.dir)
            .env("CCACHE_CONFIGPATH", self.dir.join("ccache.conf"))
            .env_remove("CCACHE_DISABLE")
            .env_remove("CCACHE_RECACHE");
        cmd
    }

    /// One counter of `ccache --print-stats` (tab-separated `name value` lines).
    fn stat(&self, name: &str) -> u64 {
        let stats = run_ok(self.command().arg("--print-stats"));
        stats
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in ccache --print-stats:\n{stats}"))
    }

    /// Compiles each C file with debug information, as a build farm would: absolute paths,
    /// `CCACHE_BASEDIR` at the checkout so they hash as relative ones, and the checkout mapped
    /// out of the debug information (which also keeps the working folder out of the hash).
    fn compile(&self, checkout: &Path, c_files: &[PathBuf]) {
        let objects = checkout.join("obj");
        std::fs::create_dir_all(&objects).unwrap();
        for (i, c) in c_files.iter().enumerate() {
            run_ok(
                self.command()
                    .env("CCACHE_BASEDIR", checkout)
                    .current_dir(checkout)
                    .args(["gcc", "-O2", "-g"])
                    .arg(format!("-fdebug-prefix-map={}=.", checkout.display()))
                    .arg("-c")
                    .arg(c)
                    .arg("-o")
                    .arg(objects.join(format!("{i}.o"))),
            );
        }
    }
}

/// Freezes the app in `checkout` with its path mapped away, and lists the module and data C
/// files, absolute.
fn freeze(checkout: &Path) -> Vec<PathBuf> {
    write_tree(checkout, APP);
    let map = format!("{}=/src", checkout.display());
    run_ok(
        Command::new(pyfreeze_bin())
            .arg("freeze")
            .arg("--python")
            .arg(python(11))
            .args(["--root", "app", "--out", "out", "-q", "--origin-map", &map])
            .current_dir(checkout),
    );
    let mut c_files = Vec::new();
    for sub in ["modules", "resources"] {
        for e in std::fs::read_dir(checkout.join("out").join(sub)).unwrap() {
            c_files.push(e.unwrap().path());
        }
    }
    c_files.sort();
    c_files
}

#[test]
fn a_second_checkout_hits_the_compiler_cache_for_every_module() {
    let tmp = tempfile::tempdir().unwrap();
    let ccache = Ccache::new(&tmp.path().join("ccache"));
    let first = tmp.path().join("a");
    let second = tmp.path().join("elsewhere/deeper/b");

    let c_files = freeze(&first);
    ccache.compile(&first, &c_files);
    assert_eq!(ccache.stat("cache_miss"), c_files.len() as u64);

    run_ok(ccache.command().arg("--zero-stats"));
    let c_files = freeze(&second);
    assert!(c_files.len() >= 5, "{c_files:?}"); // 4 modules (one is the runtime) and data
    ccache.compile(&second, &c_files);
    let hits = ccache.stat("direct_cache_hit") + ccache.stat("preprocessed_cache_hit");
    assert_eq!(
        (hits, ccache.stat("cache_miss")),
        (c_files.len() as u64, 0),
        "the second checkout's objects were not all cache hits"
    );
}
