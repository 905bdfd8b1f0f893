//! Where a path is inside its filesystem, whichever mount shows it
//! (Linux's `/proc/self/mountinfo`); elsewhere nothing is known.

use std::path::{Path, PathBuf};

struct Mount {
    device: String,
    /// The folder of the filesystem the mount shows: `/` for a plain
    /// mount, the source folder for a bind mount.
    root: PathBuf,
    mount_point: PathBuf,
}

pub(super) struct Table(Vec<Mount>);

impl Table {
    #[cfg(target_os = "linux")]
    pub(super) fn read() -> Table {
        let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Table(text.lines().filter_map(parse).collect())
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn read() -> Table {
        Table(Vec::new())
    }

    /// The device and the path inside it of an absolute, resolved
    /// path: the mount with the longest mount point holding it, the
    /// last mounted if several (it hides the others).
    pub(super) fn filesystem_path(&self, path: &Path) -> Option<(String, PathBuf)> {
        let mount = self
            .0
            .iter()
            .filter(|m| path.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.components().count())?;
        let rest = path.strip_prefix(&mount.mount_point).ok()?;
        Some((mount.device.clone(), mount.root.join(rest)))
    }
}

/// `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw`
#[cfg(target_os = "linux")]
fn parse(line: &str) -> Option<Mount> {
    let mut fields = line.split(' ');
    let device = fields.nth(2)?.to_string();
    let root = PathBuf::from(unescape(fields.next()?));
    let mount_point = PathBuf::from(unescape(fields.next()?));
    Some(Mount {
        device,
        root,
        mount_point,
    })
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style
/// octal escapes.
#[cfg(target_os = "linux")]
fn unescape(field: &str) -> String {
    use std::os::unix::ffi::OsStringExt;
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok().and_then(|d| u8::from_str_radix(d, 8).ok()));
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    std::ffi::OsString::from_vec(out).to_string_lossy().into_owned()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_bind_mount_maps_back_to_its_source_folder() {
        let table = Table(
            [
                "22 1 8:1 / / rw - ext4 /dev/sda1 rw",
                "40 22 8:1 /srv/estate/SRV/CAP_AB1 /mnt/my\\040alias rw - ext4 /dev/sda1 rw",
            ]
            .into_iter()
            .filter_map(parse)
            .collect(),
        );
        assert_eq!(
            table.filesystem_path(Path::new("/mnt/my alias/clicomp.box")),
            Some(("8:1".into(), PathBuf::from("/srv/estate/SRV/CAP_AB1/clicomp.box")))
        );
        assert_eq!(
            table.filesystem_path(Path::new("/srv/estate")),
            Some(("8:1".into(), PathBuf::from("/srv/estate")))
        );
        assert_eq!(unescape("a\\134b\\011"), "a\\b\t");
    }
}
