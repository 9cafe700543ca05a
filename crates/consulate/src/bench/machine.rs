//! Facts the report states about where it ran: the machine and toolchain, the filesystem
//! and `fdatasync` latency under the databases, and the resident memory of the process.

use super::files::BenchFiles;
use super::stats::Samples;
use anyhow::Context as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

pub(super) struct Machine {
    pub(super) cpus: usize,
    pub(super) cpu_model: String,
    pub(super) kernel: String,
    pub(super) rustc: String,
    pub(super) profile: &'static str,
}

impl Machine {
    pub(super) fn probe() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.into());
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
            rustc,
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// Where the databases are and how long the disk takes to make a write durable.
pub(super) struct Storage {
    pub(super) location: String,
    pub(super) filesystem: String,
    pub(super) fsync: Samples,
}

impl Storage {
    pub(super) fn probe(files: &BenchFiles) -> anyhow::Result<Self> {
        let dir = files.dir();
        Ok(Storage {
            location: match &files.temp_dir {
                Some(d) => format!(
                    "a new temporary directory ({}), deleted at the end",
                    d.display()
                ),
                None => format!("{} (kept)", files.main.display()),
            },
            filesystem: filesystem_of(&dir),
            fsync: fsync_latency(&dir)?,
        })
    }
}

/// The type and device of the filesystem holding `dir`, from `/proc/mounts`.
fn filesystem_of(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.next()?, f.next()?))
        })
        .filter(|(_, mount_point, _)| dir.starts_with(mount_point))
        .max_by_key(|(_, mount_point, _)| mount_point.len())
        .map(|(device, mount_point, fs)| format!("{fs} ({device} on {mount_point})"))
        .unwrap_or_else(|| "unknown".into())
}

/// Times 50 appends of 4 KiB, each followed by `fdatasync`, in `dir`.
fn fsync_latency(dir: &Path) -> anyhow::Result<Samples> {
    let path = dir.join(".consulate-bench-fsync-probe");
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let block = [0x5a_u8; 4096];
    let mut times = Vec::with_capacity(50);
    for _ in 0..50 {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(t.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(Samples::new(times))
}

/// VmRSS of the process, in KiB, at three points of the run.
pub(super) struct Memory {
    pub(super) start: Option<u64>,
    pub(super) seeded: Option<u64>,
    pub(super) end: Option<u64>,
}

/// VmRSS of this process in KiB (Linux only).
pub(super) fn vm_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
