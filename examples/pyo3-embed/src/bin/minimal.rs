//! The program of docs/embedding-rust.md's "PyO3" section, word for word (built with the
//! example, so the page's code compiles): `cargo run -p pyo3-embed --bin minimal`.

use pyo3::prelude::*;

include!(concat!(env!("OUT_DIR"), "/pyfreeze.rs"));

fn main() {
    let python = pyfreeze::Interpreter::builder()
        .start()
        .expect("start Python");
    Python::attach(|py| {
        let calc = py.import("calc")?; // frozen, from memory
        let n: u64 = calc.getattr("fib")?.call1((30,))?.extract()?;
        println!("fib(30) = {n}");
        if let Err(e) = calc.getattr("mean")?.call1((Vec::<f64>::new(),)) {
            e.print(py); // traceback with the frozen source lines
        }
        PyResult::Ok(())
    })
    .expect("Python raised");
    python.finalize().expect("finalize Python");
}
