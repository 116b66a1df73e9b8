//! pyo3-embed: PyO3 over a CPython that pyfreeze-build froze and linked into this binary.
//! `pyfreeze::Interpreter` installs the frozen table and starts CPython (no C of our own,
//! PyO3's `auto-initialize` off); PyO3 then imports the frozen `calc` package and calls it.
//! It runs from any folder: `sys.path` holds only CPython's extension-module folder.
//!
//! ```text
//! pyo3-embed                 call frozen functions from Rust, print what they return
//! pyo3-embed --crash         a frozen function raises: its traceback, with source lines (status 1)
//! pyo3-embed --main [N]      run `calc` as __main__ (like `python -m calc`); exit status N
//! ```

use std::process::ExitCode;

use pyo3::prelude::*;

include!(concat!(env!("OUT_DIR"), "/pyfreeze.rs"));

const USAGE: &str = "usage: pyo3-embed [--crash | --main [STATUS]]";

/// Calls frozen Python and prints what it computed.
fn demo(py: Python<'_>) -> PyResult<()> {
    let calc = py.import("calc")?;
    let fib: u64 = calc.getattr("fib")?.call1((30,))?.extract()?;
    println!("calc.fib(30) = {fib}");
    let mean: f64 = calc
        .getattr("mean")?
        .call1((vec![1.0, 2.5, 4.0],))?
        .extract()?;
    println!("calc.mean([1.0, 2.5, 4.0]) = {mean}");
    let about = calc.getattr("about")?.call0()?;
    for key in [
        "python",
        "file",
        "loader",
        "sys_path",
        "isolated",
        "utf8_mode",
    ] {
        println!("{key}: {}", about.get_item(key)?.repr()?);
    }
    Ok(())
}

/// A frozen function raises: prints the traceback with PyO3's `PyErr::print` (through
/// `sys.excepthook`), then formats it into a Rust `String` with `traceback`. Status 1.
fn crash(py: Python<'_>) -> PyResult<i32> {
    let calc = py.import("calc")?;
    let err = match calc.getattr("mean")?.call1((Vec::<f64>::new(),)) {
        Ok(value) => panic!("calc.mean([]) returned {value}"),
        Err(err) => err,
    };
    eprintln!("pyo3-embed: calc.mean([]) raised; PyErr::print says:");
    err.clone_ref(py).print(py);
    let lines: Vec<String> = py
        .import("traceback")?
        .call_method1("format_exception", (err.value(py),))?
        .extract()?;
    println!("traceback.format_exception, in Rust:");
    print!("{}", lines.concat());
    Ok(1)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str);
    if !matches!(mode, None | Some("--crash" | "--main")) {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    // Installs the table, then starts CPython: isolated, sys.path = [lib-dynload],
    // sys.argv = args. Afterwards this thread does not hold the GIL; Python::attach takes it.
    let python = match pyfreeze::Interpreter::builder().argv(&args).start() {
        Ok(python) => python,
        Err(e) => {
            eprintln!("pyo3-embed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = match mode {
        Some("--main") => python.run_module("calc"),
        Some(_) => Python::attach(|py| crash(py).unwrap_or_else(|e| report(py, e))),
        None => Python::attach(|py| demo(py).map_or_else(|e| report(py, e), |()| 0)),
    };
    if let Err(e) = python.finalize() {
        eprintln!("pyo3-embed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}

/// An unexpected Python error: its traceback, and status 1.
fn report(py: Python<'_>, e: PyErr) -> i32 {
    eprintln!("pyo3-embed: unexpected Python error:");
    e.print(py);
    1
}
