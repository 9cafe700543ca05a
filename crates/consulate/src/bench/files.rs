//! The database files the bench runs on: the main one and the one of the 1-client bulk
//! create, in a temporary directory or beside the `--database` the user named.

use anyhow::{Context as _, ensure};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The two database files; on drop, removes the second one and any temporary directory.
pub(super) struct BenchFiles {
    pub(super) main: PathBuf,
    pub(super) single: PathBuf,
    /// The eligibility benchmark's tenant (deleted at the end, like `single`).
    pub(super) eligibility: PathBuf,
    pub(super) temp_dir: Option<PathBuf>,
}

impl BenchFiles {
    pub(super) fn prepare(database: Option<&Path>) -> anyhow::Result<Self> {
        match database {
            Some(main) => {
                let name = main
                    .file_name()
                    .context("--database must name a file")?
                    .to_string_lossy();
                let single = main.with_file_name(format!("{name}-1client"));
                let eligibility = main.with_file_name(format!("{name}-eligibility"));
                for p in [main, single.as_path(), eligibility.as_path()] {
                    ensure!(
                        !p.exists(),
                        "{} exists; the bench needs a new database file",
                        p.display()
                    );
                }
                Ok(BenchFiles {
                    main: main.to_path_buf(),
                    single,
                    eligibility,
                    temp_dir: None,
                })
            }
            None => {
                let dir = std::env::temp_dir().join(format!("consulate-bench-{}", Uuid::now_v7()));
                std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
                Ok(BenchFiles {
                    main: dir.join("bench.db"),
                    single: dir.join("bench-1client.db"),
                    eligibility: dir.join("bench-eligibility.db"),
                    temp_dir: Some(dir),
                })
            }
        }
    }

    /// The directory the databases are in.
    pub(super) fn dir(&self) -> PathBuf {
        match self.main.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

impl Drop for BenchFiles {
    fn drop(&mut self) {
        for file in [&self.single, &self.eligibility] {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = file.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
