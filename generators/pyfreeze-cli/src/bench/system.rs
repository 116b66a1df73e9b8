//! What the bench reports about the machine: load average, CPU used by other processes while
//! measuring, CPU model. Linux `/proc` only; on other systems the facts are missing, not wrong.

/// The three load averages of `/proc/loadavg`.
pub fn loadavg() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// CPU time counters, in clock ticks: all CPUs' busy and total time (`/proc/stat`), and the time
/// used by this process and its waited-for children (`/proc/self/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
    pub own: u64,
}

impl CpuTimes {
    pub fn now() -> Option<CpuTimes> {
        let (busy, total) = parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let own = parse_self_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(CpuTimes { busy, total, own })
    }

    /// CPUs kept busy by other processes between `self` and `later`, on average (0.5: half a
    /// core all the time). `cpus` is the number of CPUs `/proc/stat` counts.
    pub fn others_between(&self, later: &CpuTimes, cpus: usize) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        if total == 0 {
            return None;
        }
        let busy = later.busy.saturating_sub(self.busy);
        let own = later.own.saturating_sub(self.own);
        Some(busy.saturating_sub(own) as f64 / total as f64 * cpus as f64)
    }
}

/// `(busy, total)` ticks of the aggregate `cpu` line.
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already
    // counted in user and nice.
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// utime + stime + cutime + cstime of `/proc/self/stat`.
pub fn parse_self_stat(text: &str) -> Option<u64> {
    // The command name (field 2) may contain spaces: fields are counted after its `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14.
    let get = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(get(14)? + get(15)? + get(16)? + get(17)?)
}

/// What this process's waited-for children have used so far (`/proc/self/stat`): CPU time in
/// clock ticks, split by the kernel into user and system time, and page faults. The bench reads
/// it around each start-up run, whose difference is that run's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildUsage {
    pub user_ticks: u64,
    pub system_ticks: u64,
    /// Faults served without reading from disk (a page-cache hit, a copy on write, a zeroed
    /// page), and those that read.
    pub minor_faults: u64,
    pub major_faults: u64,
}

impl ChildUsage {
    pub fn now() -> Option<ChildUsage> {
        parse_children_usage(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// What was used between `self` and `later`.
    pub fn until(&self, later: &ChildUsage) -> ChildUsage {
        ChildUsage {
            user_ticks: later.user_ticks.saturating_sub(self.user_ticks),
            system_ticks: later.system_ticks.saturating_sub(self.system_ticks),
            minor_faults: later.minor_faults.saturating_sub(self.minor_faults),
            major_faults: later.major_faults.saturating_sub(self.major_faults),
        }
    }

    pub fn add(&mut self, other: &ChildUsage) {
        self.user_ticks += other.user_ticks;
        self.system_ticks += other.system_ticks;
        self.minor_faults += other.minor_faults;
        self.major_faults += other.major_faults;
    }
}

/// cminflt, cmajflt, cutime and cstime of `/proc/self/stat`.
pub fn parse_children_usage(text: &str) -> Option<ChildUsage> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(ChildUsage {
        minor_faults: get(11)?,
        major_faults: get(13)?,
        user_ticks: get(16)?,
        system_ticks: get(17)?,
    })
}

/// Clock ticks per second, the unit of `/proc`'s CPU times (`getconf CLK_TCK`; 100, Linux's
/// USER_HZ, when it cannot be asked).
pub fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t: &u64| t > 0)
            .unwrap_or(100)
    })
}

/// The CPU model name, when `/proc/cpuinfo` has one.
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

pub fn kernel() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| format!("Linux {}", s.trim()))
}

pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(
            parse_loadavg("0.52 0.61 0.70 1/234 5678\n"),
            Some([0.52, 0.61, 0.70])
        );
        assert_eq!(parse_loadavg("garbage"), None);
        let stat = "cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n";
        assert_eq!(parse_proc_stat(stat), Some((160, 980)));
        let own = "4242 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 20 0";
        assert_eq!(parse_self_stat(own), Some(11 + 12 + 13 + 14));
        let children = parse_children_usage(own).unwrap();
        assert_eq!(
            children,
            ChildUsage {
                user_ticks: 13,
                system_ticks: 14,
                minor_faults: 8,
                major_faults: 10,
            }
        );
        let later = ChildUsage {
            user_ticks: 20,
            system_ticks: 15,
            minor_faults: 108,
            major_faults: 10,
        };
        let mut sum = children.until(&later);
        assert_eq!(
            (sum.user_ticks, sum.system_ticks, sum.minor_faults),
            (7, 1, 100)
        );
        sum.add(&sum.clone());
        assert_eq!(sum.minor_faults, 200);
        assert_eq!(parse_children_usage("4242 (x) S 1 2"), None);
    }

    #[test]
    fn other_processes_share() {
        let a = CpuTimes {
            busy: 1000,
            total: 10_000,
            own: 400,
        };
        // 2 CPUs, 1000 ticks of wall time each: we used 500, others 300 of the 800 busy.
        let b = CpuTimes {
            busy: 1800,
            total: 12_000,
            own: 900,
        };
        let others = a.others_between(&b, 2).unwrap();
        assert!((others - 0.3).abs() < 1e-9, "{others}");
        assert_eq!(a.others_between(&a, 2), None);
    }
}
