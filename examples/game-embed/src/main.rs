//! game-embed: a small game whose rules are Python scripts, frozen into this binary with the
//! part of the stdlib they use (see build.rs). It runs from any folder: CPython's `sys.path`
//! holds only its extension-module folder, every pure module comes from the frozen table.
//!
//! ```text
//! game-embed [--level NAME] [--ticks N]   play: one line per tick, computed by the scripts
//! game-embed --crash                      play the `trap` level, whose script raises
//! game-embed --list-scripts               list the frozen game modules and data (no Python)
//! game-embed --info                       where modules come from, as JSON
//! game-embed --exec CODE                  run CODE in the game's interpreter (a debug
//!                                         console; the appliance test's checks)
//! game-embed --mod PACK ...                first loads the mod PACK (`pyfreeze pack` of the
//!                                         scripts it changes) into memory: its modules and
//!                                         data win over the frozen ones (can repeat)
//! ```

use std::process::ExitCode;

include!(concat!(env!("OUT_DIR"), "/pyfreeze.rs"));

mod python;

use python::{PyErr, Python};

const USAGE: &str = "usage: game-embed [--mod PACK]... [--level NAME] [--ticks N] | --crash | --list-scripts | --info | --exec CODE";

enum Mode {
    Play { level: String, ticks: i64 },
    ListScripts,
    Info,
    Exec(String),
}

fn parse_args(args: &[String]) -> Result<Mode, String> {
    let mut level = "meadow".to_string();
    let mut ticks = 3;
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--list-scripts" => return Ok(Mode::ListScripts),
            "--info" => return Ok(Mode::Info),
            "--exec" => return Ok(Mode::Exec(it.next().ok_or("--exec needs code")?.clone())),
            "--crash" => {
                level = "trap".into();
                ticks = 5;
            }
            "--level" => level = it.next().ok_or("--level needs a name")?.clone(),
            "--ticks" => {
                let n = it.next().ok_or("--ticks needs a number")?;
                ticks = n
                    .parse()
                    .map_err(|_| format!("--ticks: `{n}` is not a number"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Mode::Play { level, ticks })
}

/// Lists the game's modules and data files from the table itself, without starting Python:
/// what a mod loader or a `--list-scripts` flag needs.
fn list_scripts() {
    let game: Vec<_> = pyfreeze::modules()
        .iter()
        .filter(|m| m.name() == "game" || m.name().starts_with("game."))
        .collect();
    for m in &game {
        let kind = if m.is_package() { "package" } else { "module" };
        let source = m.source_len();
        println!(
            "{:<16} {kind:<8} {:>6} B code {:>6} B source  {}",
            m.name(),
            m.code().len(),
            source,
            m.origin()
        );
        for r in m.resources() {
            println!(
                "{:<16} data     {:>6} B          {}",
                "",
                r.data().len(),
                r.path()
            );
        }
    }
    let stdlib = pyfreeze::modules().len() - game.len();
    println!(
        "{} game modules, {stdlib} other modules (stdlib and runtime), {} data files; CPython {}",
        game.len(),
        pyfreeze::resources().len(),
        pyfreeze::PYTHON_FULL_VERSION
    );
}

fn play(py: &Python, level: &str, ticks: i64) -> Result<(), PyErr> {
    let game = py.import("game")?;
    let world = game.getattr("new_world")?.call(vec![py.str(level)?])?;
    println!("{}", world.getattr("describe")?.call(vec![])?.text()?);
    let tick = world.getattr("tick")?;
    for n in 1..=ticks {
        println!("{}", tick.call(vec![py.int(n)?])?.text()?);
    }
    Ok(())
}

fn info(py: &Python) -> Result<(), PyErr> {
    println!(
        "{}",
        py.import("game")?.getattr("info")?.call(vec![])?.text()?
    );
    Ok(())
}

/// `exec(code, {"__name__": "__main__"})`, as `python -c` runs it.
fn exec(py: &Python, code: &str) -> Result<(), PyErr> {
    let builtins = py.import("builtins")?;
    let globals = builtins.getattr("dict")?.call(vec![])?;
    globals
        .getattr("__setitem__")?
        .call(vec![py.str("__name__")?, py.str("__main__")?])?;
    builtins
        .getattr("exec")?
        .call(vec![py.str(code)?, globals])?;
    Ok(())
}

/// Loads each `--mod PACK` into memory, as a game does with a mod it downloaded, and hands it
/// to the runtime; returns the other arguments.
fn load_mods(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut rest = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg != "--mod" {
            rest.push(arg);
            continue;
        }
        let path = it.next().ok_or("--mod needs a pack file")?;
        let data = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        pyfreeze::add_pack_memory(Box::leak(data.into_boxed_slice()), &path)
            .map_err(|e| e.to_string())?;
    }
    Ok(rest)
}

fn main() -> ExitCode {
    let args = match load_mods(std::env::args().collect()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("game-embed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mode = match parse_args(&args) {
        Ok(mode) => mode,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("game-embed: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Mode::ListScripts = mode {
        list_scripts();
        return ExitCode::SUCCESS;
    }
    // Installs the table and starts CPython: isolated, sys.path = [lib-dynload],
    // sys.argv = the program's arguments. Finalised when `interpreter` is dropped.
    let interpreter = match pyfreeze::Interpreter::builder().start() {
        Ok(interpreter) => interpreter,
        Err(e) => {
            eprintln!("game-embed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let py = Python::attach(&interpreter);
    let result = match mode {
        Mode::Play { level, ticks } => play(&py, &level, ticks),
        Mode::Info => info(&py),
        Mode::Exec(code) => exec(&py, &code),
        Mode::ListScripts => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("game-embed: a script raised an exception:");
            e.print();
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rust_view_of_the_table_matches_the_c_compiler() {
        if let Err(e) = super::pyfreeze::layout::check() {
            panic!("layout mismatch:\n{e}");
        }
    }

    #[test]
    fn the_table_holds_the_scripts_and_their_data() {
        let game = super::pyfreeze::find("game").expect("game is frozen");
        assert!(game.is_package());
        assert_eq!(game.origin(), "/game-embed/scripts/game/__init__.py");
        let data: Vec<&str> = game.resources().iter().map(|r| r.path()).collect();
        assert_eq!(data, ["levels/meadow.json", "levels/trap.json"]);
        assert!(super::pyfreeze::find("json.decoder").is_some());
        assert!(super::pyfreeze::find("email").is_none());
    }

    /// build.rs links GCC's unwinder statically (`static_libgcc`): a panic must still unwind
    /// to `catch_unwind` (a broken unwinder aborts the test process).
    #[test]
    fn panics_unwind_through_the_static_unwinder() {
        let caught = std::panic::catch_unwind(|| panic!("a caught panic"));
        let message = caught.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"a caught panic"));
    }
}
