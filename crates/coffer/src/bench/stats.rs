//! Units, latency summaries and the process sampler (RSS, CPU time) of `coffer bench`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// Parses a byte size: a plain number of bytes, or a number with a unit, binary (`KiB`,
/// `MiB`, `GiB`, also `K`, `M`, `G`) or decimal (`kB`, `MB`, `GB`). Case-insensitive;
/// decimal fractions are allowed (`1.5MiB`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 4KiB, 64MiB, 1GiB, 4096)"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => MIB,
        "g" | "gib" => 1024 * MIB,
        "kb" => 1000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    let bytes = number * multiplier as f64;
    if !bytes.is_finite() || !(0.0..=1e15).contains(&bytes) {
        return Err(format!("size {s:?} out of range"));
    }
    Ok(bytes.round() as u64)
}

/// Parses a duration: `10s`, `500ms`, `2m`, `1.5s`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 10s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        other => return Err(format!("unknown duration unit {other:?} in {s:?}")),
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 86_400.0 {
        return Err(format!("duration {s:?} out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A byte size for humans: `4 KiB`, `64 MiB`, `1 GiB`, `1000 B`.
pub fn format_size(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", KIB)] {
        if bytes >= size && (bytes / size) * size == bytes {
            return format!("{} {unit}", bytes / size);
        }
    }
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} B")
    }
}

/// Latency percentiles of a set of samples (nanoseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Largest, milliseconds.
    pub max_ms: f64,
    /// Mean, milliseconds.
    pub mean_ms: f64,
}

impl Latency {
    /// Summarises `samples` (nanoseconds; sorted in place). Nearest-rank percentiles.
    pub fn of(samples: &mut [u64]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let n = samples.len();
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            samples.get(i).copied().unwrap_or(0)
        };
        let ms = |ns: u64| ns as f64 / 1e6;
        let sum: u128 = samples.iter().map(|s| u128::from(*s)).sum();
        Latency {
            p50_ms: ms(rank(0.50)),
            p99_ms: ms(rank(0.99)),
            max_ms: ms(samples.last().copied().unwrap_or(0)),
            mean_ms: sum as f64 / samples.len() as f64 / 1e6,
        }
    }
}

/// CPU time (user + system) of a process so far, in seconds, from `/proc/<pid>/stat`
/// (`utime` + `stime`, in USER_HZ = 100 ticks per second on Linux).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields resume after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': field 3 is at index 0, so utime (14) is index 11 and stime (15) index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// CPU time all processes of the machine spent busy so far, in seconds, from the first line
/// of `/proc/stat` (user, nice, system, irq, softirq, steal; USER_HZ = 100).
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| fields.get(*i))
        .sum();
    Some(busy as f64 / 100.0)
}

/// A `/proc/<pid>/status` field in KiB, e.g. `VmRSS`, `VmHWM`.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// `PF_KTHREAD` in the `flags` field of `/proc/<pid>/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;

/// CPU seconds of every user-space process (kernel threads left out) but those in
/// `exclude`, by pid.
pub fn process_cpu(exclude: &[u32]) -> HashMap<u32, f64> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if exclude.contains(&pid) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 1..)) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        // After ')': flags (field 9) is index 6, utime (14) index 11, stime (15) index 12.
        let (Some(flags), Some(utime), Some(stime)) = (number(6), number(11), number(12)) else {
            continue;
        };
        if flags & PF_KTHREAD != 0 {
            continue;
        }
        out.insert(pid, (utime + stime) as f64 / 100.0);
    }
    out
}

/// What the [`Sampler`] saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sampled {
    /// Largest VmRSS of the server, MiB.
    pub server_rss_peak_mib: Option<f64>,
    /// The server's VmHWM at the end, MiB.
    pub server_hwm_mib: Option<f64>,
    /// CPU seconds used by every other user-space process (neither the server nor this
    /// one): the neighbours that disturb a measurement.
    pub neighbours_cpu_s: f64,
}

/// Samples, every 100 ms while a phase runs, the server's resident set and the CPU time of
/// every other user-space process.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<Sampled>>,
}

impl Sampler {
    /// Starts sampling; `server` is the server's pid, if known.
    pub fn start(server: Option<u32>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let mut exclude = vec![std::process::id()];
        exclude.extend(server);
        let baseline = process_cpu(&exclude);
        let handle = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("bench-sampler".into())
                .spawn(move || {
                    let mut peak_kib = 0u64;
                    let mut last: HashMap<u32, f64> = HashMap::new();
                    loop {
                        let stopping = stop.load(Ordering::Relaxed);
                        if let Some(kib) = server.and_then(|pid| status_kib(pid, "VmRSS")) {
                            peak_kib = peak_kib.max(kib);
                        }
                        last.extend(process_cpu(&exclude));
                        if stopping {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    let mib = |kib: u64| kib as f64 / 1024.0;
                    let neighbours_cpu_s = last
                        .iter()
                        .map(|(pid, cpu)| {
                            (cpu - baseline.get(pid).copied().unwrap_or(0.0)).max(0.0)
                        })
                        .sum();
                    Sampled {
                        server_rss_peak_mib: server.map(|_| mib(peak_kib)),
                        server_hwm_mib: server.and_then(|pid| status_kib(pid, "VmHWM")).map(mib),
                        neighbours_cpu_s,
                    }
                })
                .ok()
        };
        Sampler { stop, handle }
    }

    /// Stops sampling (after one last sample).
    pub fn finish(mut self) -> Sampled {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5MiB"), Ok(3 << 19));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("4 parsecs").is_err());
        assert!(parse_size("KiB").is_err());
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1536), "1.5 KiB");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1h").is_err());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().map(|i| i * 1_000_000).collect();
        let l = Latency::of(&mut samples);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(l.mean_ms, 50.5);
        assert_eq!(Latency::of(&mut []), Latency::default());
        let mut one = [7_000_000];
        assert_eq!(Latency::of(&mut one).p99_ms, 7.0);
    }

    #[test]
    fn proc_parsing_on_ourselves() {
        let pid = std::process::id();
        assert!(status_kib(pid, "VmRSS").unwrap() > 0);
        assert!(cpu_seconds(&pid.to_string()).is_some());
        assert!(machine_busy_seconds().is_some());
        let others = process_cpu(&[pid]);
        assert!(!others.contains_key(&pid));
        assert_eq!(status_kib(pid, "NoSuchField"), None);
    }
}
