//! `--instructions`: the work each configuration does, counted by valgrind's callgrind (one run
//! each, after the timed rounds): start-up (the start-up workload's whole process) and the
//! import loop (a run importing the list less a run importing nothing, harness mode `count`).
//! A count does not depend on how busy the machine is, so it compares configurations on a
//! shared or virtual machine whose clock cannot; it leaves out the kernel's work (file system
//! calls, page faults), of which PathFinder needs more than a frozen table.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use super::config::{Config, ConfigId};
use super::harness::{command, run_harness, tail, Work};

/// What one configuration executed, in instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub startup: u64,
    pub imports: u64,
}

/// The clear error for a machine without valgrind, before anything is built.
pub fn check_valgrind() -> Result<(), String> {
    match Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("--instructions: `valgrind --version` failed ({s})")),
        Err(e) => Err(format!(
            "--instructions: cannot run valgrind ({e})\n\
             hint: install it (Debian: apt-get install valgrind) or leave out --instructions"
        )),
    }
}

/// Counts every configuration but the floors, one after the other.
pub fn count_all(configs: &[Config], work: &Work) -> Result<BTreeMap<ConfigId, Counts>, String> {
    let mut counts = BTreeMap::new();
    let real: Vec<&Config> = configs.iter().filter(|c| c.floor.is_none()).collect();
    for (i, cfg) in real.iter().enumerate() {
        eprintln!(
            "pyfreeze bench: instructions: {} ({}/{})",
            cfg.id.as_str(),
            i + 1,
            real.len()
        );
        counts.insert(cfg.id, count(cfg, work)?);
    }
    Ok(counts)
}

fn count(cfg: &Config, work: &Work) -> Result<Counts, String> {
    let out = work.cwd.join("callgrind.out");
    let startup = {
        let mut cmd = command(Path::new("valgrind"), &work.cwd);
        cmd.args(under_callgrind(cfg, &out)?)
            .arg(work.startup_script_for(cfg))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let result = cmd
            .output()
            .map_err(|e| format!("{}: cannot run valgrind: {e}", cfg.id))?;
        if !result.status.success() {
            return Err(format!(
                "{}: start-up under callgrind failed ({}):\n{}",
                cfg.id,
                result.status,
                tail(&String::from_utf8_lossy(&result.stderr), 20)
            ));
        }
        total(&out, cfg.id)?
    };
    let loop_run = |list: &Path| -> Result<u64, String> {
        run_harness(
            cfg.id.as_str(),
            Path::new("valgrind"),
            &under_callgrind(cfg, &out)?,
            cfg.path.as_deref(),
            work,
            "count",
            &[list],
        )?;
        total(&out, cfg.id)
    };
    let with = loop_run(&work.list)?;
    let without = loop_run(&work.empty_list)?;
    Ok(Counts {
        startup,
        imports: with.saturating_sub(without),
    })
}

/// valgrind's arguments running `cfg` (its program and arguments before the script) under
/// callgrind into `out`, removed first so that a run writing nothing is an error rather than
/// the previous run's count.
fn under_callgrind(cfg: &Config, out: &Path) -> Result<Vec<String>, String> {
    match std::fs::remove_file(out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", out.display())),
    }
    let mut args = vec![
        "--tool=callgrind".to_string(),
        "--quiet".into(),
        format!("--callgrind-out-file={}", out.display()),
        cfg.program.display().to_string(),
    ];
    args.extend(cfg.pre_args.iter().cloned());
    Ok(args)
}

/// The instructions a callgrind output file counts (its `totals:` or `summary:` line).
fn total(out: &Path, id: ConfigId) -> Result<u64, String> {
    let text = std::fs::read_to_string(out)
        .map_err(|e| format!("{id}: callgrind wrote no {} ({e})", out.display()))?;
    parse_total(&text).ok_or_else(|| format!("{id}: no instruction total in {}", out.display()))
}

fn parse_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::parse_total;

    #[test]
    fn the_total_comes_from_the_totals_or_summary_line() {
        let file = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfl=(1) a.c\nfn=(1) f\n3 10\n\ntotals: 996436330\n";
        assert_eq!(parse_total(file), Some(996_436_330));
        assert_eq!(parse_total("events: Ir\nsummary: 42\n"), Some(42));
        assert_eq!(parse_total("events: Ir\n"), None);
    }
}
