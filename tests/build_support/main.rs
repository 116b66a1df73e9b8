//! The fixture program of tests/build_support.rs: checks the Rust view of the table
//! against the C compiler, then prints the table as it reads it through the bindings;
//! `--source NAME` prints the embedded source of one module; `--start` prints what
//! `pyfreeze::Interpreter` says to bad starts (the fixture freezes no stdlib, so CPython
//! itself cannot start).
//! `build.rs` is written by each test.

include!(concat!(env!("OUT_DIR"), "/pyfreeze.rs"));

use pyfreeze::{Interpreter, StartErrorKind};

/// One line per start: the error's kind and message.
fn bad_starts() {
    let show = |what: &str, result: Result<Interpreter, pyfreeze::StartError>| {
        let e = result.expect_err("the fixture cannot start CPython");
        println!("{what}: {:?}: {e}", e.kind());
        e.kind()
    };
    let relative = Interpreter::builder().path("lib/python").start();
    assert_eq!(show("relative path", relative), StartErrorKind::Setting);
    let nul = Interpreter::builder().argv(["fixture", "a\0b"]).start();
    assert_eq!(show("NUL in argv", nul), StartErrorKind::Setting);
    let sys_path = Interpreter::builder().path("/opt/extra").sys_path();
    println!("sys.path: {sys_path:?}");
    assert_eq!(
        show(
            "no encodings",
            Interpreter::builder().dynload(false).start()
        ),
        StartErrorKind::Python
    );
    assert_eq!(
        show("twice", Interpreter::builder().start()),
        StartErrorKind::AlreadyStarted
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--start") {
        bad_starts();
        return;
    }
    if let [_, flag, name] = &args[..] {
        assert_eq!(flag, "--source");
        let source = pyfreeze::find(name)
            .and_then(|m| m.source())
            .unwrap_or_default();
        print!("{}", String::from_utf8_lossy(&source));
        return;
    }
    if let Err(e) = pyfreeze::layout::check() {
        eprintln!("layout mismatch:\n{e}");
        std::process::exit(1);
    }
    println!("python {}", pyfreeze::PYTHON_VERSION);
    for m in pyfreeze::modules() {
        let kind = match (m.is_package(), m.is_namespace()) {
            (_, true) => "namespace",
            (true, false) => "package",
            (false, false) => "module",
        };
        let source = m.source().map_or(-1, |s| s.len() as i64);
        assert_eq!(m.source_len() as i64, source.max(0), "{}", m.name());
        println!(
            "module {} {kind} {} {source} {}",
            m.name(),
            m.code().len(),
            m.origin()
        );
        for r in m.resources() {
            assert_eq!(r.package(), m.name());
        }
    }
    for r in pyfreeze::resources() {
        println!("resource {} {} {}", r.package(), r.path(), r.data().len());
    }
    let first = &pyfreeze::modules()[0];
    assert!(std::ptr::eq(pyfreeze::find(first.name()).unwrap(), first));
    assert!(pyfreeze::find("no.such.module").is_none());
}
