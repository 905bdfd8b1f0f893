//! Samba on loopback as a correctness check (issue #17): a real SMB server
//! (`smbd`) serves a copy of `sample-shares/`, smbnetfs (FUSE) mounts it, and
//! the audit of every share read over SMB must equal the audit of the same
//! folders read locally. smbnetfs serialises requests: this checks results,
//! not speed.
//!
//! Everything runs from a temp dir: smbd on 127.0.0.1 at a free port, its
//! state, locks and passdb in the temp dir, guest access only (the share user
//! is `nobody`), and smbnetfs with HOME pointing into the temp dir, so the
//! machine's /etc/samba and ~/.smb are not used or changed. No browsing and
//! no NetBIOS: nothing leaves loopback.
//!
//! The mount is undone, and smbd and smbnetfs (each started as a process
//! group of its own) are stopped by their ids when a test ends, failed or
//! not (the Drop of `Samba` and `Group`).
#![cfg(target_os = "linux")]

use crate::common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long smbd and smbnetfs get to come up, and to stop.
const START_LIMIT: Duration = Duration::from_secs(20);
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// Says why the test cannot run here: `common::require`'s rule.
pub(crate) fn unavailable(what: &str) {
    require_that(false, what);
}

/// A program on PATH, or in the sbin folders where Debian puts smbd (not on
/// every user's PATH).
pub(crate) fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// smbd, smbnetfs and the FUSE unmount tool, if all are here.
struct Programs {
    smbd: PathBuf,
    smbnetfs: PathBuf,
    fusermount: PathBuf,
}

fn programs() -> Option<Programs> {
    // smbd switches to the share user for each connection.
    if !require_root("for smbd to serve files as its share user") || !require_fuse("to mount the SMB share") {
        return None;
    }
    let found = |name: &str, package: &str| {
        let found = program(name);
        if found.is_none() {
            unavailable(&format!("{name} is not installed (Debian package {package})"));
        }
        found
    };
    Some(Programs {
        smbd: found("smbd", "samba")?,
        smbnetfs: found("smbnetfs", "smbnetfs")?,
        fusermount: found("fusermount3", "fuse3")?,
    })
}

/// A free TCP port on loopback (free when asked; smbd takes it right after).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The SMB share name for the sample folder `SERVER/SHARE`: one smbd serves
/// every server's shares, and three servers have a share named SMSLOGON.
fn share_name(server: &str, share: &str) -> String {
    format!("{server}_{share}")
}

/// A running smbd serving `SERVER/SHARE` folders, and smbnetfs mounting it.
struct Samba {
    dir: PathBuf,
    port: u16,
    mountpoint: PathBuf,
    fusermount: PathBuf,
    // Dropped in this order after the unmount: smbnetfs, smbd, the folder.
    smbnetfs: Option<Group>,
    smbd: Group,
    _temp: tempfile::TempDir,
}

impl Samba {
    /// Copies the `SERVER/SHARE` folders of `estate` into a temp dir, lets
    /// `prepare` change the served copy, serves each folder as a share and
    /// mounts the server through smbnetfs. `None` (after saying why) when
    /// the programs are missing and that is allowed.
    fn start(estate: &Path, prepare: impl FnOnce(&Path)) -> Option<Samba> {
        let programs = programs()?;
        let temp = tempfile::tempdir().unwrap();
        // The share user (nobody) must reach the served folders.
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = temp.path().to_path_buf();
        let served = dir.join("served");
        copy_tree(estate, &served);
        prepare(&served);

        let state = dir.join("smbd-state");
        for folder in STATE_FOLDERS {
            std::fs::create_dir_all(state.join(folder)).unwrap();
        }
        let shares = served_shares(&served);
        let (smbd, port) = start_smbd(&programs.smbd, &dir, &|port| server_conf(&state, port, &shares));
        let mountpoint = dir.join("mnt");
        std::fs::create_dir_all(&mountpoint).unwrap();
        let mut samba = Samba {
            dir,
            port,
            mountpoint,
            fusermount: programs.fusermount,
            smbnetfs: None,
            smbd,
            _temp: temp,
        };

        let home = samba.dir.join("home");
        let client = home.join(".smb");
        std::fs::create_dir_all(client.join("state")).unwrap();
        std::fs::write(client.join("smb.conf"), client_conf(&client.join("state"))).unwrap();
        // smbnetfs refuses a config holding `auth` that others can read.
        let smbnetfs_conf = client.join("smbnetfs.conf");
        std::fs::write(&smbnetfs_conf, SMBNETFS_CONF).unwrap();
        std::fs::set_permissions(&smbnetfs_conf, std::fs::Permissions::from_mode(0o600)).unwrap();
        samba.smbnetfs = Some(Group(
            Command::new(&programs.smbnetfs)
                .arg(&samba.mountpoint)
                .arg("-f")
                .env("HOME", &home)
                .stdin(Stdio::null())
                .stdout(log_file(&samba.dir, "smbnetfs.log"))
                .stderr(log_file(&samba.dir, "smbnetfs.log"))
                .process_group(0)
                .spawn()
                .unwrap(),
            None,
        ));
        samba.wait_for("smbnetfs to mount", |s| fuse_mounted(&s.mountpoint));
        let first = served_shares(&served).into_iter().next().expect("a share to serve");
        samba.wait_for("the first share to list through smbnetfs", |s| {
            std::fs::read_dir(s.share_path(&first.0, &first.1)).is_ok()
        });
        Some(samba)
    }

    /// Where smbnetfs shows a share: `<mount>/<host>:<port>/<share>`.
    fn share_path(&self, server: &str, share: &str) -> PathBuf {
        self.mountpoint
            .join(format!("127.0.0.1:{}", self.port))
            .join(share_name(server, share))
    }

    /// A root for the audit that ends in `SERVER/SHARE`, as smsaudit names
    /// a location from a path's last two components: a link to the share
    /// in the mount. A root may be a link; links below it are not followed.
    fn root(&self, server: &str, share: &str) -> PathBuf {
        let link = self.dir.join("roots").join(server).join(share);
        if !link.exists() {
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(self.share_path(server, share), &link).unwrap();
        }
        link
    }

    /// Polls `ready` until it holds; fails, with the logs, if a server exits
    /// or the start limit passes.
    fn wait_for(&mut self, what: &str, ready: impl Fn(&Samba) -> bool) {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if ready(self) {
                return;
            }
            let exited = [Some(&mut self.smbd), self.smbnetfs.as_mut()]
                .into_iter()
                .flatten()
                .any(|group| group.exited());
            if exited || Instant::now() > deadline {
                panic!(
                    "waiting for {what}: {}\n{}",
                    if exited { "a server exited" } else { "timed out" },
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        ["smbd.log", "smbnetfs.log"]
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
                format!("--- {name}\n{text}")
            })
            .join("\n")
    }
}

/// Starts smbd with the configuration `conf` gives for a free loopback
/// port, and waits until it listens there. The port was free when asked;
/// should something take it first, smbd cannot bind and exits, and another
/// port is tried.
pub(crate) fn start_smbd(smbd: &Path, dir: &Path, conf: &dyn Fn(u16) -> String) -> (Group, u16) {
    for _ in 0..3 {
        let port = free_port();
        std::fs::write(dir.join("smb.conf"), conf(port)).unwrap();
        let mut server = spawn_smbd(Command::new(smbd), dir);
        let deadline = Instant::now() + START_LIMIT;
        while !server.exited() && Instant::now() < deadline {
            // Listening, and still running: the listener is this smbd.
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && !server.exited() {
                return (server, port);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let log = std::fs::read_to_string(dir.join("smbd.log")).unwrap_or_default();
    panic!("smbd did not listen on loopback:\n{log}");
}

/// Starts `smbd` (the command that runs it) in the foreground with
/// `dir`'s smb.conf, logging to `dir`'s smbd.log, as the leader of its own
/// process group.
pub(crate) fn spawn_smbd(mut smbd: Command, dir: &Path) -> Group {
    let conf = dir.join("smb.conf");
    // The samba-dcerpcd smbd starts on demand is a daemon of its own, out
    // of smbd's process group: stopped by its pid file.
    let rpc_pid_file = std::fs::read_to_string(&conf)
        .unwrap()
        .lines()
        .find_map(|line| line.trim().strip_prefix("pid directory = ").map(str::to_string))
        .map(|pid_dir| Path::new(&pid_dir).join("samba-dcerpcd.pid"));
    let child = smbd
        .args(["--foreground", "--no-process-group", "--debug-stdout", "-s"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(log_file(dir, "smbd.log"))
        .stderr(log_file(dir, "smbd.log"))
        .process_group(0)
        .spawn()
        .unwrap();
    Group(child, rpc_pid_file)
}

impl Drop for Samba {
    fn drop(&mut self) {
        // Unmounted before smbnetfs stops, so nothing is left on a dead
        // mount; lazily if something still has it open.
        let unmount = |args: &[&str]| {
            Command::new(&self.fusermount)
                .args(args)
                .arg(&self.mountpoint)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !unmount(&["-u"]) && fuse_mounted(&self.mountpoint) {
            unmount(&["-u", "-z"]);
        }
        // smbnetfs and smbd are stopped as the fields drop.
    }
}

/// A child started as the leader of its own process group. Dropping it
/// stops the group, with every process the child forked (smbd forks one
/// per connection, smbnetfs one per server): SIGTERM, then SIGKILL when
/// the stop limit passes; then reaps the child. Then the daemon whose pid
/// file is the second field, if the child started one, and its children.
pub(crate) struct Group(pub(crate) Child, pub(crate) Option<PathBuf>);

impl Group {
    pub(crate) fn exited(&mut self) -> bool {
        !matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        use rustix::process::{kill_process_group, Pid, Signal};
        let child = &mut self.0;
        let group = Pid::from_raw(child.id() as i32).unwrap();
        let _ = kill_process_group(group, Signal::TERM);
        let deadline = Instant::now() + STOP_LIMIT;
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = kill_process_group(group, Signal::KILL);
        let _ = child.kill();
        let _ = child.wait();
        if let Some(daemon) = self.1.as_ref().and_then(|file| read_pid(file)) {
            stop_with_children(daemon);
        }
    }
}

/// Whether `pid` runs (a zombie has ended; its parent reaps it).
fn running(pid: rustix::process::Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero()))
        .ok()
        .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

fn read_pid(file: &Path) -> Option<rustix::process::Pid> {
    let text = std::fs::read_to_string(file).ok()?;
    rustix::process::Pid::from_raw(text.trim().parse().ok()?)
}

/// Stops `pid` and its children (SIGTERM, then SIGKILL when the stop limit
/// passes): children first, so none is left to init.
fn stop_with_children(pid: rustix::process::Pid) {
    use rustix::process::{kill_process, Signal};
    let children: Vec<rustix::process::Pid> = Command::new("pgrep")
        .args(["-P", &pid.as_raw_nonzero().to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| rustix::process::Pid::from_raw(line.trim().parse().ok()?))
        .collect();
    let all: Vec<_> = children.into_iter().chain([pid]).collect();
    for &process in &all {
        let _ = kill_process(process, Signal::TERM);
    }
    let deadline = Instant::now() + STOP_LIMIT;
    while all.iter().any(|&p| running(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &process in &all {
        let _ = kill_process(process, Signal::KILL);
    }
}

pub(crate) fn log_file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .unwrap()
}

/// Whether smbnetfs's file system is mounted on `dir`.
fn fuse_mounted(dir: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let dir = dir.to_string_lossy();
    mountinfo.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let fs_type = fields.iter().skip_while(|f| **f != "-").nth(1);
        fields.get(4) == Some(&&*dir) && fs_type.is_some_and(|t| t.starts_with("fuse"))
    })
}

/// The `SERVER/SHARE` folders under `served`, sorted.
pub(crate) fn served_shares(served: &Path) -> Vec<(String, String, PathBuf)> {
    let names = |dir: &Path| -> Vec<(String, PathBuf)> {
        let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| (e.file_name().into_string().unwrap(), e.path()))
            .collect();
        names.sort();
        names
    };
    names(served)
        .into_iter()
        .flat_map(|(server, server_dir)| {
            names(&server_dir)
                .into_iter()
                .map(move |(share, path)| (server.clone(), share, path))
        })
        .collect()
}

/// The folders smbd keeps its state in; it does not create them itself.
pub(crate) const STATE_FOLDERS: [&str; 7] = ["lock", "state", "cache", "private", "binddns", "pid", "ncalrpc"];

/// smbd's configuration: a standalone server on 127.0.0.1:`port` only,
/// every path it writes in `state`, guest access as `nobody`, read only.
fn server_conf(state: &Path, port: u16, shares: &[(String, String, PathBuf)]) -> String {
    let mut conf = global_conf(state, port);
    conf.push_str(
        "  map to guest = Bad User
  guest account = nobody
",
    );
    for (server, share, path) in shares {
        conf.push_str(&format!(
            "[{}]\n  path = {}\n  read only = yes\n  guest ok = yes\n  guest only = yes\n",
            share_name(server, share),
            path.display()
        ));
    }
    conf
}

/// The `[global]` section every test server shares: a standalone server on
/// 127.0.0.1:`port` only, no NetBIOS, no printers, every path it writes in
/// `state`, its users in a passdb there.
pub(crate) fn global_conf(state: &Path, port: u16) -> String {
    let state = state.display();
    format!(
        "[global]
  server role = standalone server
  workgroup = SMSAUDIT
  netbios name = SMSAUDITTEST
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {port}
  disable netbios = yes
  lock directory = {state}/lock
  state directory = {state}/state
  cache directory = {state}/cache
  private dir = {state}/private
  binddns dir = {state}/binddns
  pid directory = {state}/pid
  ncalrpc dir = {state}/ncalrpc
  passdb backend = tdbsam:{state}/private/passdb.tdb
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
"
    )
}

/// libsmbclient's configuration for smbnetfs: SMB2 or later, no NetBIOS,
/// no name lookups (hosts are given as addresses), state in the temp dir.
fn client_conf(state: &Path) -> String {
    let state = state.display();
    format!(
        "[global]
  workgroup = SMSAUDIT
  disable netbios = yes
  name resolve order = lmhosts
  client min protocol = SMB2
  lock directory = {state}
  state directory = {state}
  cache directory = {state}
  private dir = {state}
"
    )
}

/// smbnetfs's own configuration: no network browsing (it would broadcast),
/// no desktop keyring, and a guest login.
const SMBNETFS_CONF: &str = "smb_query_browsers \"false\"
use_libsecret \"false\"
auth \"guest\" \"\"
";

/// Runs `smsaudit audit` on `roots` (each given on its own, in this order)
/// into `out`; returns the exit code.
fn audit(roots: &[PathBuf], out: &Path) -> i32 {
    let output = common::smsaudit()
        .arg("audit")
        .args(roots)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet"])
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1 | 3)),
        "the audit of {roots:?} ended with {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    code.unwrap()
}

/// Rows of a CSV keyed by the values of `key` columns, which must tell
/// every row apart (else a comparison could miss one).
fn rows_by(path: &Path, key: &[&str]) -> BTreeMap<Vec<String>, BTreeMap<String, String>> {
    let rows = read_csv_maps(path);
    let count = rows.len();
    let keyed: BTreeMap<_, _> = rows
        .into_iter()
        .map(|row| (key.iter().map(|k| row[*k].clone()).collect(), row))
        .collect();
    assert_eq!(keyed.len(), count, "{}: two rows share a key {key:?}", path.display());
    keyed
}

/// Asserts two keyed row sets are equal, naming the first rows that differ.
fn assert_same_rows(name: &str, smb: &Path, local: &Path, key: &[&str]) {
    let (smb, local) = (rows_by(&smb.join(name), key), rows_by(&local.join(name), key));
    let only = |a: &BTreeMap<Vec<String>, _>, b: &BTreeMap<Vec<String>, _>| -> Vec<Vec<String>> {
        a.keys().filter(|k| !b.contains_key(*k)).take(5).cloned().collect()
    };
    assert!(
        smb.len() == local.len() && only(&smb, &local).is_empty(),
        "{name}: rows only over SMB {:?}, rows only local {:?}",
        only(&smb, &local),
        only(&local, &smb)
    );
    for (key, row) in &smb {
        assert_eq!(
            row, &local[key],
            "{name}: row {key:?} over SMB (left) and local (right)"
        );
    }
}

/// audit.json but for what names the run rather than the estate: when it
/// started, how long it took, and the roots it was given (links into the
/// mount, or the local folders); each location's root is checked to be the
/// one given for it and then left out.
fn audit_json_without_run(out: &Path, roots: &[PathBuf]) -> Value {
    let mut json: Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    let object = json.as_object_mut().unwrap();
    for run_field in ["started", "duration_seconds", "roots"] {
        assert!(object.remove(run_field).is_some(), "audit.json has no {run_field}");
    }
    let roots: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    for location in object["locations"].as_array_mut().unwrap() {
        let root = location.as_object_mut().unwrap().remove("root").unwrap();
        assert!(
            roots.iter().any(|r| root == r.as_str()),
            "{root} is not one of the roots {roots:?}"
        );
    }
    json
}

/// Every share of the sample estate, served by Samba and read through
/// smbnetfs, audits exactly as the same folders read locally: files.csv
/// (path, size, modified, sha256, kind, versions, status, reason), the
/// stamps, findings.csv (code, site, path, observed, expected and the rest),
/// causes.csv and matrix.csv, and audit.json.
///
/// What differs by nature, and so is left out: the roots given (links into
/// the mount against local folders), which audit.json lists and names on
/// each location, and when the run started and how long it took. What is
/// the same although it might not be: names keep their case (Samba
/// preserves it, and the copy is served unchanged), and modification times
/// agree because both are shown to the second, which SMB's 100 ns times and
/// the local file system both carry. Samba's `hide dot files` only marks
/// `.keep` files hidden; they are still listed, and audited.
#[test]
fn every_share_audited_over_smb_equals_the_same_folders_read_locally() {
    let Some(samba) = Samba::start(&sample_shares(), |_| {}) else {
        return;
    };
    let served = served_shares(&samba.dir.join("served"));
    assert_eq!(served.len(), 9, "the sample estate's shares: {served:?}");
    let smb_roots: Vec<PathBuf> = served.iter().map(|(srv, share, _)| samba.root(srv, share)).collect();
    let local_roots: Vec<PathBuf> = served.iter().map(|(_, _, path)| path.clone()).collect();
    for root in &smb_roots {
        let real = std::fs::canonicalize(root).unwrap();
        assert!(
            real.starts_with(&samba.mountpoint),
            "{} is not read over SMB",
            root.display()
        );
    }

    let outs = tempfile::tempdir().unwrap();
    let (smb_out, local_out) = (outs.path().join("smb"), outs.path().join("local"));
    let smb_code = audit(&smb_roots, &smb_out);
    let local_code = audit(&local_roots, &local_out);

    // The SMB audit read every share, and every file in it: an audit that
    // read nothing would equal nothing read locally only by accident.
    let json = audit_json_without_run(&smb_out, &smb_roots);
    for location in json["locations"].as_array().unwrap() {
        assert_eq!(location["status"], "ok", "over SMB: {location}");
        assert!(location["files"].as_u64().unwrap() > 0, "over SMB: {location}");
    }
    let files = read_csv_maps(&smb_out.join("files.csv"));
    assert!(files.len() > 100, "over SMB only {} files", files.len());
    assert!(
        files.iter().all(|f| f["status"] == "ok"),
        "a file over SMB was not read"
    );

    assert_eq!(smb_code, local_code, "exit codes over SMB and local");
    assert_same_rows("files.csv", &smb_out, &local_out, &["location", "path"]);
    assert_same_rows(
        "findings.csv",
        &smb_out,
        &local_out,
        &["code", "site", "location", "path", "observed", "expected"],
    );
    for name in ["matrix.csv", "causes.csv"] {
        assert!(
            std::fs::read(smb_out.join(name)).unwrap() == std::fs::read(local_out.join(name)).unwrap(),
            "{name} differs between SMB and local"
        );
    }
    let local_json = audit_json_without_run(&local_out, &local_roots);
    assert_eq!(json["stamps"], local_json["stamps"], "stamps over SMB and local");
    for (key, value) in json.as_object().unwrap() {
        assert_eq!(
            value, &local_json[key],
            "audit.json's {key} over SMB (left) and local (right)"
        );
    }
    assert_eq!(json, local_json);
}

/// A file and a folder the share user (`nobody`) may not read on the server
/// are listed over SMB but cannot be opened: each is a row that says it
/// could not be read, with why, and an A05 finding, never a silent absence.
#[test]
fn what_the_share_user_cannot_read_over_smb_is_an_a05_row_not_an_absence() {
    let file = "clicomp.box/hinv.CFG";
    let folder = "clidata.box";
    let estate = tempfile::tempdir().unwrap();
    copy_tree(
        &sample_shares().join("SERVER2/CAP_MS2"),
        &estate.path().join("SERVER2/CAP_MS2"),
    );
    let Some(samba) = Samba::start(estate.path(), |served| {
        let share = served.join("SERVER2/CAP_MS2");
        for denied in [file, folder] {
            std::fs::set_permissions(share.join(denied), std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let code = audit(&[samba.root("SERVER2", "CAP_MS2")], out.path());
    assert_eq!(code, 3, "what could not be checked makes exit 3");

    let files = rows_by(&out.path().join("files.csv"), &["path"]);
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    for denied in [file, folder] {
        let path = denied.replace('/', "\\");
        let row = files
            .get(&vec![path.clone()])
            .unwrap_or_else(|| panic!("{path} is missing from files.csv: {:?}", files.keys()));
        assert_eq!(row["status"], "unreadable", "{row:?}");
        assert!(row["reason"].contains("Permission denied"), "{row:?}");
        assert_eq!(row["sha256"], "", "{row:?}");
        assert!(
            findings
                .iter()
                .any(|f| f["code"] == "A05" && f["path"] == path && f["observed"] == row["reason"]),
            "no A05 for {path}: {findings:?}"
        );
    }
    // The rest of the share was read.
    assert!(files.values().filter(|f| f["status"] == "ok").count() > 10);
}

/// Without the smsaudit-smb helper (a build without the feature `smb`), an
/// `smb://` root is an unreadable location whose A01 says how to get the
/// helper, never a clean or missing share.
#[test]
fn an_smb_root_without_the_helper_is_an_a01_that_says_so() {
    let out = tempfile::tempdir().unwrap();
    let output = common::smsaudit()
        .args(["audit", "smb://127.0.0.1:1/CAP_MS1"])
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    let a01 = findings
        .iter()
        .find(|f| f["code"] == "A01" && f["location"] == r"\\127.0.0.1\CAP_MS1")
        .unwrap_or_else(|| panic!("no A01: {findings:?}"));
    assert!(a01["observed"].contains("smsaudit-smb is not installed"), "{a01:?}");
}

/// An `smb://` root with credentials in it is refused before anything is
/// read or written, without quoting them.
#[test]
fn an_smb_root_with_credentials_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let output = common::smsaudit()
        .args(["audit", "smb://audit:Secret-9@127.0.0.1/CAP_MS2"])
        .arg("--out")
        .arg(out.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--smb-auth"), "{stderr}");
    assert!(!stderr.contains("Secret-9"), "{stderr}");
    assert!(!out.path().join("out").exists());
}
