//! Cgroup ids to paths: the `cgroup` label.
//!
//! The module reports a process's cgroup v2 id, which is the inode number of the cgroup's
//! directory in the cgroup2 file system. A path is found by walking that file system (its mount
//! point from `/proc/self/mountinfo`, or `--cgroup-root`) and matching each directory's inode
//! number. The map is cached; an id not in it triggers a new walk, at most once per
//! [`REWALK_EVERY`], so a host creating cgroups quickly (a container per job) costs one walk per
//! 10 s, not one per scrape. Ids are never reused while the system runs, so a cached path stays
//! right; each walk replaces the whole map, which drops the cgroups removed since.
//!
//! An id that no walk finds (removed already, or 0: unknown to the module) is labelled `id:N`.
//! This file reads the file system only; it never writes.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The shortest time between two walks of the cgroup tree.
pub const REWALK_EVERY: Duration = Duration::from_secs(10);

/// Directories visited in one walk at most, so a pathological tree cannot stall a scrape.
const MAX_DIRS: usize = 200_000;

/// Cgroup ids resolved to paths relative to the cgroup2 root (`/`, `/system.slice/ssh.service`).
#[derive(Debug)]
pub struct CgroupPaths {
    root: Option<PathBuf>,
    by_id: HashMap<u64, String>,
    last_walk: Option<Instant>,
}

impl CgroupPaths {
    /// Resolves against the cgroup2 file system at `root`, or, when `None`, wherever
    /// `/proc/self/mountinfo` says it is mounted (no cgroup2 mount: every id is `id:N`).
    pub fn new(root: Option<PathBuf>) -> Self {
        let root = root.or_else(|| {
            fs::read_to_string("/proc/self/mountinfo")
                .ok()
                .and_then(|m| cgroup2_mount(&m))
        });
        Self {
            root,
            by_id: HashMap::new(),
            last_walk: None,
        }
    }

    /// The cgroup2 root used, if any.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Makes sure every id of `ids` that can be resolved is: walks again when one is unknown
    /// and the last walk is at least [`REWALK_EVERY`] old (or there was none).
    pub fn refresh(&mut self, ids: impl IntoIterator<Item = u64>, now: Instant) {
        let unknown = ids
            .into_iter()
            .any(|id| id != 0 && !self.by_id.contains_key(&id));
        let due = self
            .last_walk
            .is_none_or(|t| now.saturating_duration_since(t) >= REWALK_EVERY);
        if unknown && due {
            if let Some(root) = &self.root {
                self.by_id = walk(root);
            }
            self.last_walk = Some(now);
        }
    }

    /// The label for `id`: its path, or `id:N` when it is not known.
    pub fn label(&self, id: u64) -> String {
        match self.by_id.get(&id) {
            Some(p) => p.clone(),
            None => format!("id:{id}"),
        }
    }

    /// The cgroup's `memory.max` in bytes; `None` for `max` (no limit), an unresolved id, or a
    /// cgroup without the file (the root, or the memory controller not enabled).
    pub fn memory_max(&self, id: u64) -> Option<u64> {
        let root = self.root.as_ref()?;
        let rel = self.by_id.get(&id)?;
        let text = fs::read_to_string(root.join(rel.trim_start_matches('/')).join("memory.max"));
        text.ok()?.trim().parse().ok()
    }
}

/// Every directory under `root` by inode number, as a path relative to `root` starting with `/`.
///
/// Uses the inode numbers `readdir` reports (no `stat` per directory); symbolic links are not
/// followed. Unreadable directories are skipped.
pub fn walk(root: &Path) -> HashMap<u64, String> {
    let mut by_id = HashMap::new();
    let Ok(meta) = fs::metadata(root) else {
        return by_id;
    };
    by_id.insert(meta.ino(), "/".to_owned());
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let path = format!("{rel}/{}", e.file_name().to_string_lossy());
            by_id.insert(e.ino(), path.clone());
            if by_id.len() >= MAX_DIRS {
                return by_id;
            }
            stack.push((e.path(), path));
        }
    }
    by_id
}

/// The mount point of the first cgroup2 file system in a `/proc/self/mountinfo` text.
///
/// A line is `id parent major:minor root mount-point options [optional...] - type source
/// super-options`; the mount point has spaces and other special bytes as octal escapes (`\040`).
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        if after.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mount_point = before.split_whitespace().nth(4)?;
        Some(PathBuf::from(unescape_octal(mount_point)))
    })
}

/// Undoes mountinfo's `\NNN` octal escapes.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |v, b| v * 8 + u32::from(b - b'0')));
        match octal.and_then(|v| u8::try_from(v).ok()) {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ino(p: &Path) -> u64 {
        fs::metadata(p).unwrap().ino()
    }

    #[test]
    fn the_cgroup2_mount_is_found_in_mountinfo() {
        let m = "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n\
                 29 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(cgroup2_mount(m), Some(PathBuf::from("/sys/fs/cgroup")));
        let m = "29 24 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw\n";
        assert_eq!(cgroup2_mount(m), Some(PathBuf::from("/mnt/my cgroups")));
        assert_eq!(
            cgroup2_mount("24 1 0:22 / /sys rw - sysfs sysfs rw\n"),
            None
        );
    }

    #[test]
    fn ids_resolve_to_paths_by_inode_number() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = tmp.path().join("system.slice/ssh.service");
        fs::create_dir_all(&svc).unwrap();
        fs::write(svc.join("memory.max"), "1073741824\n").unwrap();
        fs::write(tmp.path().join("system.slice/memory.max"), "max\n").unwrap();
        let mut paths = CgroupPaths::new(Some(tmp.path().to_owned()));
        let (root_id, slice_id, svc_id) = (
            ino(tmp.path()),
            ino(&tmp.path().join("system.slice")),
            ino(&svc),
        );
        paths.refresh([svc_id], Instant::now());
        assert_eq!(paths.label(root_id), "/");
        assert_eq!(paths.label(slice_id), "/system.slice");
        assert_eq!(paths.label(svc_id), "/system.slice/ssh.service");
        assert_eq!(paths.label(0), "id:0");
        assert_eq!(paths.memory_max(svc_id), Some(1 << 30));
        assert_eq!(paths.memory_max(slice_id), None, "max: no limit");
        assert_eq!(paths.memory_max(root_id), None, "no memory.max file");
    }

    #[test]
    fn an_unknown_id_walks_again_at_most_every_ten_seconds() {
        let tmp = tempfile::tempdir().unwrap();
        let mut paths = CgroupPaths::new(Some(tmp.path().to_owned()));
        let t0 = Instant::now();
        paths.refresh([1], t0);
        let new = tmp.path().join("new.scope");
        fs::create_dir(&new).unwrap();
        let id = ino(&new);
        paths.refresh([id], t0 + Duration::from_secs(3));
        assert_eq!(
            paths.label(id),
            format!("id:{id}"),
            "walked 3 s ago: not yet"
        );
        paths.refresh([id], t0 + REWALK_EVERY);
        assert_eq!(paths.label(id), "/new.scope");
        // Known ids never walk: removing the directory keeps its cached path.
        fs::remove_dir(&new).unwrap();
        paths.refresh([id], t0 + 3 * REWALK_EVERY);
        assert_eq!(paths.label(id), "/new.scope");
    }

    #[test]
    fn without_a_cgroup2_root_every_id_is_unresolved() {
        let mut paths = CgroupPaths {
            root: None,
            by_id: HashMap::new(),
            last_walk: None,
        };
        paths.refresh([42], Instant::now());
        assert_eq!(paths.label(42), "id:42");
        assert_eq!(paths.memory_max(42), None);
    }
}
