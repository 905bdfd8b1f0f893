//! `smb://` roots read by the `smsaudit-smb` helper over libsmbclient
//! (issue 31), against a real Samba on 127.0.0.1 (the server pieces of
//! `tests/smb.rs`, without a mount): NT1-only and SMB3-only servers, every
//! file's SHA-256 equal to `sha256sum`'s of the served folder, odd names, a
//! 10,000-entry folder, a server stopped or frozen mid-crawl, and a wrong
//! password. Built and run with `cargo test --features smb` (the helper is a
//! binary of that feature).
//!
//! The share user is `nobody` with a password in smbd's own passdb (in the
//! temp dir); the helper runs with HOME in the temp dir, so the machine's
//! ~/.smb is neither read nor changed. smbd is stopped by its process
//! group's id when a test ends (the Drop of `Group`).
#![cfg(all(target_os = "linux", feature = "smb"))]

use crate::common::{self, copy_tree, read_csv_maps, require_root, sample_shares};
use crate::smb::{global_conf, log_file, program, spawn_smbd, start_smbd, unavailable, Group, STATE_FOLDERS};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "nobody";
const PASSWORD: &str = "Audit-Pa55";

/// Which SMB dialects a test server speaks.
#[derive(Clone, Copy, Debug)]
enum Dialects {
    /// SMB1 only, as NT4, Windows 2000 and Server 2003 (SMS 2.0's servers).
    Nt1Only,
    /// SMB3 only, as a hardened current server.
    Smb3Only,
}

impl Dialects {
    fn conf(self) -> &'static str {
        match self {
            Dialects::Nt1Only => "  server min protocol = NT1\n  server max protocol = NT1\n",
            Dialects::Smb3Only => "  server min protocol = SMB3\n  server max protocol = SMB3\n",
        }
    }
}

/// A running smbd serving the folders of `served` (each a share of its
/// name) to `nobody` with [`PASSWORD`], read only.
struct Server {
    smbd: Group,
    /// Where it and the audits of it run, for a server that keeps NT ACLs
    /// ([`Server::start_with_acls`]); dropped after smbd stops.
    namespace: Option<Namespace>,
    port: u16,
    dir: PathBuf,
    _temp: tempfile::TempDir,
}

/// The password of `root`, who sets NT ACLs through the `setup$` share of
/// a server that keeps them.
const ROOT_PASSWORD: &str = "Setup-Pa55";

/// A network namespace of the test's own, with its loopback up.
/// libsmbclient reads a security descriptor only after opening a second
/// connection (IPC$) to port 445, whatever port the URL names: a server
/// whose ACLs are read listens on 127.0.0.1:445 here, where no other
/// server on the machine (another test, another run) can be met. Deleted
/// when dropped (after smbd and its samba-dcerpcd, see [`Group`]).
struct Namespace {
    name: String,
}

impl Namespace {
    fn new() -> Option<Namespace> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let Some(ip) = program("ip") else {
            unavailable("ip is not installed (Debian package iproute2)");
            return None;
        };
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("smsaudit-test-{}-{n}", std::process::id());
        let made = Command::new(&ip).args(["netns", "add", &name]).status().unwrap();
        assert!(made.success(), "ip netns add {name} failed");
        let namespace = Namespace { name };
        let up = namespace
            .command("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(up.success(), "no loopback in {}", namespace.name);
        Some(namespace)
    }

    /// `program` run in the namespace.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Whether something listens on 127.0.0.1:445 in the namespace.
    fn listening(&self) -> bool {
        self.command("bash")
            .args(["-c", "exec 3<>/dev/tcp/127.0.0.1/445"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

impl Server {
    /// Copies `shares` (share name, folder) into a temp dir, lets `prepare`
    /// add to the served copy, and serves it. `None` (after saying why) when
    /// smbd or root is missing and that is allowed.
    fn start(dialects: Dialects, shares: &[(&str, &Path)], prepare: impl FnOnce(&Path)) -> Option<Server> {
        Server::start_with_comments(dialects, shares, &[], prepare)
    }

    /// As [`Server::start`], each share of `comments` with that comment.
    fn start_with_comments(
        dialects: Dialects,
        shares: &[(&str, &Path)],
        comments: &[(&str, &str)],
        prepare: impl FnOnce(&Path),
    ) -> Option<Server> {
        Server::start_full(dialects, shares, comments, false, prepare)
    }

    /// As [`Server::start_with_comments`], its shares keeping NT ACLs
    /// (`vfs objects = acl_xattr`, set with [`Server::set_acl`]) and read
    /// by libsmbclient: the server listens on 127.0.0.1:445 in a
    /// [`Namespace`] of its own, where its audits run too.
    fn start_with_acls(
        dialects: Dialects,
        shares: &[(&str, &Path)],
        comments: &[(&str, &str)],
        prepare: impl FnOnce(&Path),
    ) -> Option<Server> {
        Server::start_full(dialects, shares, comments, true, prepare)
    }

    fn start_full(
        dialects: Dialects,
        shares: &[(&str, &Path)],
        comments: &[(&str, &str)],
        acls: bool,
        prepare: impl FnOnce(&Path),
    ) -> Option<Server> {
        if !require_root("for smbd to serve files as its share user") {
            return None;
        }
        let (Some(smbd), Some(smbpasswd)) = (program("smbd"), program("smbpasswd")) else {
            unavailable("smbd or smbpasswd is not installed (Debian package samba)");
            return None;
        };
        let temp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = temp.path().to_path_buf();
        let served = dir.join("served");
        for (name, from) in shares {
            copy_tree(from, &served.join(name));
        }
        std::fs::create_dir_all(&served).unwrap();
        prepare(&served);
        // The share user reads everything served.
        Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(&served)
            .status()
            .unwrap();
        let state = dir.join("smbd-state");
        for folder in STATE_FOLDERS {
            std::fs::create_dir_all(state.join(folder)).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&served)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let conf = |port| {
            let mut conf = global_conf(&state, port);
            conf.push_str(dialects.conf());
            for name in &names {
                let path = served.join(name);
                conf.push_str(&format!("[{name}]\n  path = {}\n  read only = yes\n", path.display()));
                if let Some((_, comment)) = comments.iter().find(|(share, _)| share == name) {
                    conf.push_str(&format!("  comment = {comment}\n"));
                }
                if acls {
                    conf.push_str("  vfs objects = acl_xattr\n");
                }
            }
            if acls {
                // Where root sets the ACLs the shares serve.
                conf.push_str(&format!(
                    "[setup$]\n  path = {}\n  read only = no\n  valid users = root\n  vfs objects = acl_xattr\n",
                    served.display()
                ));
            }
            conf
        };
        // The passdb needs a configuration to find it by; written again
        // with the port by start_smbd.
        std::fs::write(dir.join("smb.conf"), conf(445)).unwrap();
        let mut child = Command::new(&smbpasswd)
            .args(["-c"])
            .arg(dir.join("smb.conf"))
            .args(["-a", "-s", USER])
            .stdin(Stdio::piped())
            .stdout(log_file(&dir, "smbpasswd.log"))
            .stderr(log_file(&dir, "smbpasswd.log"))
            .spawn()
            .unwrap();
        write!(child.stdin.take().unwrap(), "{PASSWORD}\n{PASSWORD}\n").unwrap();
        assert!(child.wait().unwrap().success(), "smbpasswd failed");
        let mut namespace = None;
        let (smbd, port) = match acls {
            false => start_smbd(&smbd, &dir, &conf),
            true => {
                if !acl_tools_present() {
                    return None;
                }
                let mut child = Command::new(&smbpasswd)
                    .args(["-c"])
                    .arg(dir.join("smb.conf"))
                    .args(["-a", "-s", "root"])
                    .stdin(Stdio::piped())
                    .stdout(log_file(&dir, "smbpasswd.log"))
                    .stderr(log_file(&dir, "smbpasswd.log"))
                    .spawn()
                    .unwrap();
                write!(child.stdin.take().unwrap(), "{ROOT_PASSWORD}\n{ROOT_PASSWORD}\n").unwrap();
                assert!(child.wait().unwrap().success(), "smbpasswd failed for root");
                let inside = Namespace::new()?;
                let smbd = start_smbd_in(&inside, &smbd, &dir, &conf(445));
                namespace = Some(inside);
                (smbd, 445)
            }
        };
        // The helper's libsmbclient reads HOME/.smb/smb.conf: no NetBIOS,
        // no name lookups, its state in the temp dir.
        let client = dir.join("home/.smb");
        std::fs::create_dir_all(client.join("state")).unwrap();
        let state = client.join("state");
        std::fs::write(
            client.join("smb.conf"),
            format!(
                "[global]\n  disable netbios = yes\n  name resolve order = lmhosts\n  lock directory = {0}\n  state directory = {0}\n  cache directory = {0}\n  private dir = {0}\n",
                state.display()
            ),
        )
        .unwrap();
        Some(Server {
            smbd,
            namespace,
            port,
            dir,
            _temp: temp,
        })
    }

    /// Sets the DACL of `folder` (served-relative, `/`-separated) to
    /// `acl` (smbcacls' `ACL:<sid>:ALLOWED/<flags>/<mask>,...`), as root
    /// through `setup$`; only on a server started with ACLs.
    fn set_acl(&self, folder: &str, acl: &str) {
        let namespace = self.namespace.as_ref().expect("a server started with ACLs");
        let output = namespace
            .command(program("smbcacls").unwrap())
            .arg("--option=clientminprotocol=NT1")
            .arg(format!("--user=root%{ROOT_PASSWORD}"))
            .arg("//127.0.0.1/setup$")
            .arg(folder)
            .arg("--set")
            .arg(acl)
            .env("HOME", self.dir.join("home"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(output.status.success(), "smbcacls --set {acl} on {folder}: {output:?}");
    }

    fn served(&self, share: &str) -> PathBuf {
        self.dir.join("served").join(share)
    }

    /// The share's URL; `""` names the server.
    fn url(&self, share: &str) -> String {
        match share {
            "" => format!("smb://127.0.0.1:{}", self.port),
            share => format!("smb://127.0.0.1:{}/{share}", self.port),
        }
    }

    /// An authentication file for the share user, only its owner may read.
    fn auth_file(&self, password: &str) -> PathBuf {
        let path = self.dir.join(format!("auth-{}", password.len()));
        std::fs::write(&path, format!("username = {USER}\npassword = {password}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// `smsaudit audit` of `shares` over SMB into `out`, with `args`.
    fn audit_command(&self, shares: &[&str], auth: &Path, out: &Path, args: &[&str]) -> Command {
        let mut command = match &self.namespace {
            Some(namespace) => namespace.command(env!("CARGO_BIN_EXE_smsaudit")),
            None => Command::new(env!("CARGO_BIN_EXE_smsaudit")),
        };
        command
            .arg("audit")
            .args(shares.iter().map(|share| self.url(share)))
            .arg("--smb-auth")
            .arg(auth)
            .arg("--out")
            .arg(out)
            .args(["--csv", "machine", "--quiet"])
            .args(args)
            .env("HOME", self.dir.join("home"))
            .env("SMSAUDIT_SMB_HELPER", env!("CARGO_BIN_EXE_smsaudit-smb"))
            .env_remove("SMSAUDIT_SMB_AUTH_FILE")
            .stdin(Stdio::null());
        command
    }

    fn audit(&self, shares: &[&str], auth: &Path, out: &Path, args: &[&str]) -> Output {
        let output = self.audit_command(shares, auth, out, args).output().unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 1 | 3)),
            "the audit ended with {:?}: {}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("smbd.log")).unwrap_or_default()
        );
        output
    }

    /// Sends `signal` to smbd and every process it forked.
    fn signal(&self, signal: rustix::process::Signal) {
        let group = rustix::process::Pid::from_raw(self.smbd.0.id() as i32).unwrap();
        rustix::process::kill_process_group(group, signal).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A frozen smbd must go on to hear the stop `Group` sends.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.signal(rustix::process::Signal::CONT)
        }));
    }
}

/// `sha256sum` of every file under `folder`, by share-relative path with
/// `\` separators, as files.csv spells them.
fn sha256sums(folder: &Path) -> BTreeMap<String, String> {
    let output = Command::new("sh")
        .arg("-c")
        .arg("find . -type f -print0 | xargs -0 -r sha256sum --")
        .current_dir(folder)
        .output()
        .unwrap();
    assert!(output.status.success(), "sha256sum failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            assert!(!line.starts_with('\\'), "a name sha256sum had to escape: {line}");
            let (hash, path) = line.split_once("  ").unwrap();
            (path.trim_start_matches("./").replace('/', "\\"), hash.to_string())
        })
        .collect()
}

/// files.csv's rows of one location, by path.
fn files_of(out: &Path, location: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    read_csv_maps(&out.join("files.csv"))
        .into_iter()
        .filter(|row| row["location"] == location)
        .map(|row| (row["path"].clone(), row))
        .collect()
}

/// Whether this machine can serve NT ACLs and set them: smbd's acl_xattr
/// module (Debian package samba-vfs-modules) and smbcacls (smbclient).
fn acl_tools_present() -> bool {
    let modules = Command::new(program("smbd").unwrap())
        .arg("-b")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.trim().strip_prefix("MODULESDIR:").map(|d| PathBuf::from(d.trim())))
        });
    let module = modules.is_some_and(|dir| dir.join("vfs/acl_xattr.so").is_file());
    if !module {
        unavailable("smbd's acl_xattr module is not installed (Debian package samba-vfs-modules)");
        return false;
    }
    if program("smbcacls").is_none() {
        unavailable("smbcacls is not installed (Debian package smbclient)");
        return false;
    }
    true
}

/// Starts smbd in `namespace` on 127.0.0.1:445 with the configuration
/// `conf`, and waits until it listens there.
fn start_smbd_in(namespace: &Namespace, smbd: &Path, dir: &Path, conf: &str) -> Group {
    std::fs::write(dir.join("smb.conf"), conf).unwrap();
    let mut server = spawn_smbd(namespace.command(smbd), dir);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.exited() && Instant::now() < deadline {
        if namespace.listening() && !server.exited() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(dir.join("smbd.log")).unwrap_or_default();
    panic!("smbd did not listen on 127.0.0.1:445 in {}:\n{log}", namespace.name);
}

fn locations(out: &Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    json["locations"].as_array().unwrap().clone()
}

/// Every file of every share read over SMB, against an NT1-only server and
/// an SMB3-only server, has the SHA-256 `sha256sum` gives of the served
/// copy, under its own path, and its size; the shares are named and
/// classified by their names.
#[test]
fn nt1_and_smb3_servers_serve_every_file_with_sha256sums_hash() {
    let shares = ["CAP_MS1", "SMS_MS1"].map(|share| (share, sample_shares().join("SERVER1").join(share)));
    let shares: Vec<(&str, &Path)> = shares.iter().map(|(name, path)| (*name, path.as_path())).collect();
    for dialects in [Dialects::Nt1Only, Dialects::Smb3Only] {
        let Some(server) = Server::start(dialects, &shares, |_| {}) else {
            return;
        };
        let out = tempfile::tempdir().unwrap();
        let auth = server.auth_file(PASSWORD);
        server.audit(&["CAP_MS1", "SMS_MS1"], &auth, out.path(), &[]);
        let found = locations(out.path());
        assert_eq!(found.len(), 2, "{dialects:?}: {found:?}");
        for location in &found {
            assert_eq!(location["status"], "ok", "{dialects:?}: {location}");
        }
        for (share, kind) in [("CAP_MS1", "cap"), ("SMS_MS1", "site_server")] {
            let name = format!(r"\\127.0.0.1\{share}");
            let location = found.iter().find(|l| l["name"] == name.as_str()).unwrap();
            assert_eq!(location["kind"], kind, "{dialects:?}: {location}");
            let expected = sha256sums(&server.served(share));
            assert!(expected.len() > 5, "{share}: {expected:?}");
            let files = files_of(out.path(), &name);
            let read: BTreeMap<String, String> = files
                .iter()
                .filter(|(_, row)| row["kind"] != "directory")
                .map(|(path, row)| (path.clone(), row["sha256"].clone()))
                .collect();
            assert_eq!(read, expected, "{dialects:?} {share}: files.csv against sha256sum");
            for (path, row) in &files {
                let size = std::fs::metadata(server.served(share).join(path.replace('\\', "/")))
                    .unwrap()
                    .len();
                assert_eq!(row["size"], size.to_string(), "{dialects:?} {share} {path}");
            }
            // What is parsed (PE version resources read by ranges from the
            // open file, text files) is what a local read of the same
            // folder parses.
            let local = tempfile::tempdir().unwrap();
            let output = common::smsaudit()
                .arg("audit")
                .arg(server.served(share))
                .arg("--out")
                .arg(local.path())
                .args(["--csv", "machine", "--quiet"])
                .output()
                .unwrap();
            assert!(matches!(output.status.code(), Some(0 | 1 | 3)), "{output:?}");
            let parsed = |rows: Vec<BTreeMap<String, String>>| -> BTreeMap<String, Vec<String>> {
                rows.into_iter()
                    .map(|row| {
                        let fields = ["kind", "version", "version_source", "string_version", "status"];
                        (
                            row["path"].clone(),
                            fields.iter().map(|field| row[*field].clone()).collect(),
                        )
                    })
                    .collect()
            };
            let over_smb = parsed(files.values().cloned().collect());
            let here = parsed(read_csv_maps(&local.path().join("files.csv")));
            assert_eq!(over_smb, here, "{dialects:?} {share}: parsed over SMB against locally");
            assert!(
                over_smb.values().filter(|fields| !fields[1].is_empty()).count() >= 2,
                "{share}: {over_smb:?}"
            );
        }
    }
}

/// Names that need care on the way: non-ASCII, URL syntax (`%`, `#`, `;`,
/// `&`, `=`), spaces, a path over 260 characters, and names Windows forbids
/// (`?`, `:`, `*`, `|`, `<`, `"`), which Samba serves mangled. Each file holds
/// its own content: the ones Windows allows are read under their own
/// names, and every file's content is read under some name.
#[test]
fn odd_names_are_read_under_their_own_names() {
    let allowed = [
        "café é.txt",
        "日本語.ini",
        "100% sure #1.txt",
        "semi;colon,comma.txt",
        "plus+and&amp=.txt",
    ];
    let forbidden = [
        "what?.txt",
        "a:b.txt",
        "star*.txt",
        "pipe|.txt",
        "<angle>.txt",
        "quote\".txt",
    ];
    let long_folder = ["x".repeat(60), "y".repeat(60), "z".repeat(60), "w".repeat(60)].join("/");
    let Some(server) = Server::start(Dialects::Smb3Only, &[], |served| {
        let odd = served.join("CAP_ODD");
        std::fs::create_dir_all(odd.join(&long_folder)).unwrap();
        for name in allowed.iter().chain(&forbidden) {
            std::fs::write(odd.join(name), format!("content of {name}")).unwrap();
        }
        std::fs::write(odd.join(&long_folder).join("deep file.txt"), "deep").unwrap();
    }) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    server.audit(&["CAP_ODD"], &server.auth_file(PASSWORD), out.path(), &[]);
    let files = files_of(out.path(), r"\\127.0.0.1\CAP_ODD");
    let expected = sha256sums(&server.served("CAP_ODD"));
    let long_path = format!(r"{}\deep file.txt", long_folder.replace('/', "\\"));
    assert!(long_path.len() > 240);
    for name in allowed.iter().copied().chain([long_path.as_str()]) {
        let row = files
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in files.csv: {:?}", files.keys()));
        assert_eq!(row["status"], "ok", "{row:?}");
        assert_eq!(row["sha256"], expected[name], "{name}");
    }
    // Every content read, whatever the name it was served under.
    let mut read: Vec<&str> = files
        .values()
        .filter(|row| row["kind"] != "directory")
        .map(|row| row["sha256"].as_str())
        .collect();
    let mut served: Vec<&str> = expected.values().map(String::as_str).collect();
    read.sort_unstable();
    served.sort_unstable();
    assert_eq!(read, served, "{files:?}");
}

/// A folder of 10,000 entries is listed whole (libsmbclient pages the
/// listing) and every file read.
#[test]
fn a_folder_of_ten_thousand_entries_is_read_whole() {
    let Some(server) = Server::start(Dialects::Nt1Only, &[], |served| {
        let big = served.join("CAP_BIG/big");
        std::fs::create_dir_all(&big).unwrap();
        for i in 0..10_000 {
            std::fs::write(big.join(format!("file{i:05}.txt")), i.to_string()).unwrap();
        }
    }) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    server.audit(&["CAP_BIG"], &server.auth_file(PASSWORD), out.path(), &[]);
    let files = files_of(out.path(), r"\\127.0.0.1\CAP_BIG");
    let ok = files.values().filter(|row| row["status"] == "ok").count();
    assert_eq!(ok, 10_000, "{} rows", files.len());
    assert_eq!(files[r"big\file09999.txt"]["size"], "4");
}

/// A wrong password is an A01 that says the logon was refused, at once:
/// never a hang, never a clean share.
#[test]
fn a_wrong_password_is_a_clear_a01() {
    let share = sample_shares().join("SERVER1/CAP_MS1");
    let Some(server) = Server::start(Dialects::Smb3Only, &[("CAP_MS1", &share)], |_| {}) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = server.audit(&["CAP_MS1"], &server.auth_file("not-the-password"), out.path(), &[]);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    assert_eq!(output.status.code(), Some(3), "could not be checked: exit 3");
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    let a01 = findings
        .iter()
        .find(|f| f["code"] == "A01")
        .unwrap_or_else(|| panic!("no A01: {findings:?}"));
    assert!(a01["observed"].contains("refused the logon"), "{a01:?}");
    assert!(!std::fs::read_to_string(out.path().join("audit.json"))
        .unwrap()
        .contains("not-the-password"));
}

/// An authentication file others may read is refused before anything is
/// read, naming the flag, and the password never reaches the output.
#[test]
fn an_auth_file_others_may_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth");
    std::fs::write(&auth, "username = audit\npassword = Leaky-Pa55\n").unwrap();
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = common::smsaudit()
        .args(["audit", "smb://127.0.0.1:1/CAP_MS1", "--smb-auth"])
        .arg(&auth)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--smb-auth") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(!stderr.contains("Leaky"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

fn big_share(served: &Path) {
    let big = served.join("CAP_BIG/big");
    std::fs::create_dir_all(&big).unwrap();
    for i in 0..6_000 {
        std::fs::write(big.join(format!("file{i:05}.bin")), vec![i as u8; 8192]).unwrap();
    }
}

/// The audit ends on its own within `limit`, with the code it gives.
fn wait_within(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the audit did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server frozen mid-crawl (SIGSTOP: connections open, no answers) is
/// given up on by the stall limit, its helper killed and its reader
/// processes with it: the share is unreadable (A01, exit 3), the audit
/// ends, no reader is left waiting on the server.
#[test]
fn a_server_frozen_mid_crawl_is_given_up_on() {
    let Some(server) = Server::start(Dialects::Smb3Only, &[], big_share) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    // Frozen while reader processes wait for its answers.
    let mut audit = reading_in_readers(&server, out.path(), "3");
    server.signal(rustix::process::Signal::STOP);
    let code = wait_within(&mut audit, Duration::from_secs(60));
    // The helper's readers end with it, though the server still holds
    // their connections unanswered.
    let left = readers_left(&server, Duration::from_secs(2));
    server.signal(rustix::process::Signal::CONT);
    assert_eq!(left, Vec::<i32>::new(), "reader processes left after the audit");
    assert_eq!(code, Some(3));
    let found = locations(out.path());
    assert_eq!(found[0]["status"], "unreadable", "{found:?}");
    assert!(
        found[0]["reason"].as_str().unwrap().contains("stopped answering"),
        "{found:?}"
    );
}

/// A server stopped mid-crawl (killed: connections reset, then refused)
/// ends the audit with what could not be read said, never a clean share.
#[test]
fn a_server_stopped_mid_crawl_leaves_no_clean_share() {
    let Some(server) = Server::start(Dialects::Nt1Only, &[], big_share) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut audit = reading_in_readers(&server, out.path(), "3");
    server.signal(rustix::process::Signal::KILL);
    let code = wait_within(&mut audit, Duration::from_secs(120));
    // 3 for what could not be read, 1 when the files missing from the
    // report also make findings (the CAP looks incomplete): never 0.
    assert!(matches!(code, Some(1 | 3)), "{code:?}");
    let found = locations(out.path());
    let files = files_of(out.path(), r"\\127.0.0.1\CAP_BIG");
    let unread = files.values().filter(|row| row["status"] != "ok").count();
    assert!(
        found[0]["status"] == "unreadable" || unread > 0,
        "{found:?}, {} rows",
        files.len()
    );
    let ok = files.values().filter(|row| row["status"] == "ok").count();
    assert!(ok < 6_000, "every file read although the server was stopped");
}

/// The shares of the sample estate's sites MS1 and MS2 and their logon
/// point, as one server serves them: (share, folder).
fn ms_shares() -> Vec<(&'static str, PathBuf)> {
    [
        ("CAP_MS1", "SERVER1/CAP_MS1"),
        ("SMS_MS1", "SERVER1/SMS_MS1"),
        ("CAP_MS2", "SERVER2/CAP_MS2"),
        ("SMS_MS2", "SERVER2/SMS_MS2"),
        ("SMSLOGON", "DC1/SMSLOGON"),
    ]
    .into_iter()
    .map(|(share, folder)| (share, sample_shares().join(folder)))
    .collect()
}

fn borrowed<'a>(shares: &'a [(&'static str, PathBuf)]) -> Vec<(&'static str, &'a Path)> {
    shares.iter().map(|(name, path)| (*name, path.as_path())).collect()
}

/// audit.json's locations without what says how they were reached (the
/// root, the share comment, a CAP's folder permissions), by name.
fn location_facts(out: &Path) -> BTreeMap<String, serde_json::Value> {
    locations(out)
        .into_iter()
        .map(|mut location| {
            let object = location.as_object_mut().unwrap();
            object.remove("root");
            object.remove("share_comment");
            object.remove("folder_acls");
            (object["name"].as_str().unwrap().to_string(), location)
        })
        .collect()
}

/// A server root (`smb://host:port`, no share) is its disk shares: those
/// named CAP_<site>, SMSLOGON and SMS_<site> are found (the others, and
/// IPC$, are not shares of SMS), each with its comment, and read by the
/// helper. The audit says what an audit of the same folders on this
/// machine says: the same locations (the logon point with the sites of
/// its Sites folders and LCF files), the same findings and the same
/// matrix, against an NT1-only and an SMB3-only server. The server
/// listens on port 445, as a real one does, so the CAPs' folder
/// permissions are read too (Samba's own, which give clients no more than
/// Read: no F32, and no note that F32 was not judged).
#[test]
fn a_server_root_is_its_shares_audited_as_local_ones_are() {
    let shares = ms_shares();
    let comments = [("SMSLOGON", "SMS NT logon service"), ("CAP_MS1", "CAP of MS1")];
    for dialects in [Dialects::Nt1Only, Dialects::Smb3Only] {
        let Some(server) = Server::start_with_acls(dialects, &borrowed(&shares), &comments, |served| {
            std::fs::create_dir_all(served.join("Users")).unwrap();
            std::fs::write(served.join("Users/readme.txt"), "not SMS").unwrap();
        }) else {
            return;
        };
        let out = tempfile::tempdir().unwrap();
        let auth = server.auth_file(PASSWORD);
        server.audit(&[""], &auth, out.path(), &[]);
        let found = locations(out.path());
        let names: Vec<&str> = found.iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["CAP_MS1", "CAP_MS2", "SMSLOGON", "SMS_MS1", "SMS_MS2"].map(|s| format!(r"\\127.0.0.1\{s}")),
            "{dialects:?}: {found:?}"
        );
        let comment = |name: &str| found.iter().find(|l| l["name"] == name).unwrap()["share_comment"].clone();
        assert_eq!(
            comment(r"\\127.0.0.1\SMSLOGON"),
            serde_json::json!({"read": "SMS NT logon service"})
        );
        assert_eq!(
            comment(r"\\127.0.0.1\CAP_MS1"),
            serde_json::json!({"read": "CAP of MS1"})
        );
        assert_eq!(comment(r"\\127.0.0.1\SMS_MS1"), serde_json::json!({"read": ""}));
        // The same folders audited on this machine, under a folder named
        // as the server so that the locations have the same names.
        let local = tempfile::tempdir().unwrap();
        let local_root = local.path().join("127.0.0.1");
        std::os::unix::fs::symlink(server.dir.join("served"), &local_root).unwrap();
        let local_out = local.path().join("out");
        let output = common::smsaudit()
            .arg("audit")
            .arg(&local_root)
            .arg("--out")
            .arg(&local_out)
            .args(["--csv", "machine", "--quiet"])
            .output()
            .unwrap();
        assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
        let over_smb = location_facts(out.path());
        assert_eq!(over_smb, location_facts(&local_out), "{dialects:?}");
        let logon_point = &over_smb[r"\\127.0.0.1\SMSLOGON"];
        assert_eq!(logon_point["sites"], serde_json::json!(["MS1", "MS2"]), "{logon_point}");
        assert!(logon_point["files"].as_u64().unwrap() > 10, "{logon_point}");
        for report in ["findings.csv", "matrix.csv"] {
            let read = |dir: &Path| std::fs::read_to_string(dir.join(report)).unwrap();
            assert_eq!(read(out.path()), read(&local_out), "{dialects:?}: {report}");
        }
        let findings = read_csv_maps(&out.path().join("findings.csv"));
        assert!(findings.iter().any(|f| f["code"] == "F01"), "{findings:?}");
        assert!(!findings.iter().any(|f| f["code"] == "N16"), "{findings:?}");
    }
}

/// A SMSLOGON share whose comment is not exactly "SMS NT logon service"
/// is N16 (Q235173), with the comment in the finding, audit.json and the
/// Sites view; the share is read all the same.
#[test]
fn a_logon_share_with_another_comment_is_n16() {
    let share = sample_shares().join("DC3/SMSLOGON");
    let Some(server) = Server::start_with_comments(
        Dialects::Smb3Only,
        &[("SMSLOGON", &share)],
        &[("SMSLOGON", "SMS NT Logon Service")],
        |_| {},
    ) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    server.audit(&["SMSLOGON"], &server.auth_file(PASSWORD), out.path(), &[]);
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    let n16: Vec<_> = findings.iter().filter(|f| f["code"] == "N16").collect();
    assert_eq!(n16.len(), 1, "{findings:?}");
    assert_eq!(n16[0]["location"], r"\\127.0.0.1\SMSLOGON");
    assert_eq!(n16[0]["kb"], "Q235173");
    assert!(n16[0]["observed"].contains("SMS NT Logon Service"), "{:?}", n16[0]);
    assert!(n16[0]["fix"].contains("SMS NT logon service"), "{:?}", n16[0]);
    let found = locations(out.path());
    assert_eq!(found[0]["status"], "ok");
    assert_eq!(
        found[0]["share_comment"],
        serde_json::json!({"read": "SMS NT Logon Service"})
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let logon_points: Vec<&serde_json::Value> = json["sites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|site| site["logon_points"].as_array().unwrap())
        .collect();
    assert!(!logon_points.is_empty(), "{}", json["sites"]);
    for lp in logon_points {
        assert_eq!(lp["share_comment"], serde_json::json!({"read": "SMS NT Logon Service"}));
    }
    // The Sites view of the page shows it after the share.
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        page.contains("; comment &quot;SMS NT Logon Service&quot;"),
        "no comment in the Sites view"
    );
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(out.path().join("audit.xlsx")).unwrap();
    let sites = book.worksheet_range("Sites").unwrap();
    assert!(
        sites
            .rows()
            .flatten()
            .any(|cell| cell.to_string().contains(r#"\\127.0.0.1\SMSLOGON"#)
                && cell.to_string().contains(r#"; comment "SMS NT Logon Service""#)),
        "no comment in the Sites sheet"
    );
}

/// A share comment the server's share list does not give (here a helper
/// that cannot list shares, as an account without the right to) is an A06
/// note that N16 was not judged: never N16, never a clean logon point.
#[test]
fn a_comment_that_cannot_be_read_is_not_checked() {
    let share = sample_shares().join("DC3/SMSLOGON");
    let Some(server) = Server::start(Dialects::Nt1Only, &[("SMSLOGON", &share)], |_| {}) else {
        return;
    };
    let helper = server.dir.join("no-share-list");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = __enumerate ]; then echo 'access denied' >&2; exit 2; fi\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_smsaudit-smb")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = server
        .audit_command(&["SMSLOGON"], &server.auth_file(PASSWORD), out.path(), &[])
        .env("SMSAUDIT_SMB_HELPER", &helper)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "not judged: exit 3: {output:?}");
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    assert!(!findings.iter().any(|f| f["code"] == "N16"), "{findings:?}");
    let a06 = findings
        .iter()
        .find(|f| f["code"] == "A06" && f["message"].contains("N16"))
        .unwrap_or_else(|| panic!("no A06 for the comment: {findings:?}"));
    assert!(a06["observed"].contains("access denied"), "{a06:?}");
    let found = locations(out.path());
    assert_eq!(found[0]["status"], "ok", "the share itself was read: {found:?}");
    assert!(found[0]["share_comment"]["unread"]
        .as_str()
        .unwrap()
        .contains("access denied"));
}

/// The healthy part of the sample, site LN1 at SP2 (its CAP, site server
/// and logon point), as one server serves it; its logon share carries the
/// comment SMS gives it.
fn ln1_server_with_acls(dialects: Dialects) -> Option<Server> {
    let shares: Vec<(&str, PathBuf)> = [
        ("CAP_LN1", "SERVER3/CAP_LN1"),
        ("SMS_LN1", "SERVER3/SMS_LN1"),
        ("SMSLOGON", "DC3/SMSLOGON"),
    ]
    .into_iter()
    .map(|(share, folder)| (share, sample_shares().join(folder)))
    .collect();
    let server = Server::start_with_acls(
        dialects,
        &borrowed(&shares),
        &[("SMSLOGON", "SMS NT logon service")],
        |_| {},
    )?;
    // As Q252856 says for SP2, with what a real CAP carries besides:
    // Administrators and SYSTEM (inherited), an inherit-only Creator Owner,
    // and the account the audit reads with as the SMS service account.
    for folder in [
        "",
        "clicomp.box",
        "clidata.box",
        "clifiles.box",
        "offerinf.box",
        "pkginfo.box",
    ] {
        server.set_acl(&format!("CAP_LN1/{folder}"), &sp2_acl(READ_EXECUTE));
    }
    for folder in ["ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"] {
        server.set_acl(&format!("CAP_LN1/{folder}"), &sp2_acl(SPECIAL_RWX));
    }
    Some(server)
}

/// Read & Execute, SP1's Special Access (Read, Write, Execute) and RTM's
/// Change, as access masks.
const READ_EXECUTE: &str = "0x001200a9";
const SPECIAL_RWX: &str = "0x001201bf";
const RTM_CHANGE: &str = "0x001301bf";

/// A CAP folder's DACL: Users and Guests get `mask`; Administrators,
/// SYSTEM (inherited), Creator Owner (inherit only) and the share user
/// (as the SMS service account) Full Control.
fn sp2_acl(mask: &str) -> String {
    format!(
        "ACL:S-1-5-32-544:ALLOWED/0x0/FULL,ACL:S-1-5-18:ALLOWED/0x10/FULL,ACL:S-1-3-0:ALLOWED/0x1b/FULL,\
         ACL:S-1-22-1-65534:ALLOWED/0x0/FULL,ACL:S-1-5-32-545:ALLOWED/0x0/{mask},ACL:S-1-5-32-546:ALLOWED/0x0/{mask}"
    )
}

/// The CAP's folder permissions as audit.json's locations give them.
fn folder_acls(out: &Path) -> serde_json::Value {
    let found = locations(out);
    let cap = found.iter().find(|l| l["name"] == r"\\127.0.0.1\CAP_LN1").unwrap();
    cap["folder_acls"].clone()
}

/// One folder's entry of [`folder_acls`].
fn folder_acl(out: &Path, folder: &str) -> serde_json::Value {
    let acls = folder_acls(out);
    let found = acls["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["folder"] == folder);
    found.unwrap_or_else(|| panic!("no {folder} in {acls}")).clone()
}

/// F32 (Q252856) over SMB: the healthy SP2 site with its CAP's folders set
/// up as the article says for SP2, extra entries and all, is clean (exit
/// 0, no note); RTM's Change (delete) for Users and Guests left on its
/// writable box ccr.box is F32 for that box, in findings.csv, audit.json,
/// the page and the workbook. Against an NT1-only and an SMB3-only server.
#[test]
fn f32_rtm_change_on_an_sp2_cap_read_over_smb() {
    for dialects in [Dialects::Nt1Only, Dialects::Smb3Only] {
        let Some(server) = ln1_server_with_acls(dialects) else {
            return;
        };
        let auth = server.auth_file(PASSWORD);
        let shares = ["CAP_LN1", "SMS_LN1", "SMSLOGON"];
        let out = tempfile::tempdir().unwrap();
        let output = server.audit(&shares, &auth, out.path(), &[]);
        let findings = read_csv_maps(&out.path().join("findings.csv"));
        assert_eq!(output.status.code(), Some(0), "{dialects:?}: {findings:?}");
        assert!(findings.is_empty(), "{dialects:?}: {findings:?}");
        let acls = folder_acls(out.path());
        let folders = acls["folders"].as_array().unwrap_or_else(|| panic!("{acls}"));
        let names: Vec<&str> = folders.iter().map(|f| f["folder"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "",
                "ccr.box",
                "clicomp.box",
                "clidata.box",
                "clifiles.box",
                "ddr.box",
                "inventry.box",
                "offerinf.box",
                "pkginfo.box",
                "sinv.box",
                "statmsgs.box"
            ],
            "{dialects:?}"
        );
        assert!(folders.iter().all(|f| f["dacl"]["read"].is_array()), "{acls}");

        server.set_acl("CAP_LN1/ccr.box", &sp2_acl(RTM_CHANGE));
        let out = tempfile::tempdir().unwrap();
        server.audit(&shares, &auth, out.path(), &[]);
        let findings = read_csv_maps(&out.path().join("findings.csv"));
        assert_eq!(findings.len(), 1, "{dialects:?}: {findings:?}");
        let f32 = &findings[0];
        assert_eq!(
            (
                f32["code"].as_str(),
                f32["location"].as_str(),
                f32["path"].as_str(),
                f32["kb"].as_str()
            ),
            ("F32", r"\\127.0.0.1\CAP_LN1", "ccr.box", "Q252856"),
            "{dialects:?}"
        );
        assert_eq!(f32["severity"], "info");
        assert!(f32["observed"].contains("Users 0x001301bf (delete)"), "{f32:?}");
        assert!(f32["expected"].starts_with("SP2: "), "{f32:?}");
        let ccr = folder_acl(out.path(), "ccr.box");
        assert!(
            ccr["dacl"]["read"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!({"sid": "S-1-5-32-545", "type": 0, "flags": 0, "mask": 0x0013_01bf})),
            "{ccr}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
        assert!(json["findings"].as_array().unwrap().iter().any(|f| f["code"] == "F32"));
        let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
        assert!(
            page.contains("F32") && page.contains("folder ACLs read (11 folders)"),
            "{dialects:?}"
        );
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(out.path().join("audit.xlsx")).unwrap();
        let sheet = book.worksheet_range("Findings").unwrap();
        assert!(
            sheet.rows().any(|row| row.iter().any(|cell| *cell == "F32")),
            "no F32 in the Findings sheet"
        );
    }
}

/// A folder whose security descriptor the audit account may not read (its
/// Read Permissions denied, its files still listed and read) is an A06
/// note that F32 was not judged for it, naming it and why: never F32,
/// never a clean run (exit 3, as for N16).
#[test]
fn a_folder_acl_that_cannot_be_read_is_not_judged() {
    let Some(server) = ln1_server_with_acls(Dialects::Nt1Only) else {
        return;
    };
    let deny_read_permissions = format!("ACL:S-1-22-1-65534:DENIED/0x0/0x00020000,{}", sp2_acl(READ_EXECUTE));
    server.set_acl("CAP_LN1/clicomp.box", &deny_read_permissions);
    let out = tempfile::tempdir().unwrap();
    let output = server.audit(
        &["CAP_LN1", "SMS_LN1", "SMSLOGON"],
        &server.auth_file(PASSWORD),
        out.path(),
        &[],
    );
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    assert_eq!(output.status.code(), Some(3), "not judged: exit 3: {findings:?}");
    assert_eq!(findings.len(), 1, "only the note: {findings:?}");
    let a06 = &findings[0];
    assert_eq!(
        (a06["code"].as_str(), a06["location"].as_str()),
        ("A06", r"\\127.0.0.1\CAP_LN1")
    );
    assert!(a06["message"].contains("F32"), "{a06:?}");
    assert!(a06["observed"].contains("clicomp.box: Permission denied"), "{a06:?}");
    let clicomp = folder_acl(out.path(), "clicomp.box");
    assert!(
        clicomp["dacl"]["unread"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{clicomp}"
    );
}

/// A server root whose server refuses the logon, or does not answer at
/// all, is an A01 row saying so, at once: never a hang, never a server
/// without shares.
#[test]
fn a_refused_server_root_is_a_clear_a01() {
    let share = sample_shares().join("SERVER1/CAP_MS1");
    let Some(server) = Server::start(Dialects::Nt1Only, &[("CAP_MS1", &share)], |_| {}) else {
        return;
    };
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("smb://127.0.0.1:{closed}");
    for (root, password, said) in [
        ("", "not-the-password", "refused the logon"),
        (refused.as_str(), PASSWORD, "cannot list the server's shares"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let mut command = server.audit_command(&[], &server.auth_file(password), out.path(), &[]);
        command.arg(if root.is_empty() {
            server.url("")
        } else {
            root.to_string()
        });
        let output = command.output().unwrap();
        assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
        assert_eq!(output.status.code(), Some(3), "{root}: {output:?}");
        let findings = read_csv_maps(&out.path().join("findings.csv"));
        let a01 = findings
            .iter()
            .find(|f| f["code"] == "A01")
            .unwrap_or_else(|| panic!("{root}: no A01: {findings:?}"));
        assert!(a01["observed"].contains(said), "{root}: {a01:?}");
        assert!(!a01["observed"].contains("no CAP_"), "{root}: {a01:?}");
        let found = locations(out.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["status"], "unreadable");
        assert_eq!(found[0]["name"], r"\\127.0.0.1");
    }
}

/// The live `smsaudit-smb` reader processes of `server`'s audits (told by
/// the HOME they inherit, unique to the test), zombies aside.
fn reader_pids(server: &Server) -> Vec<i32> {
    let home = format!("HOME={}", server.dir.join("home").display());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        let proc = entry.path();
        let (Ok(cmdline), Ok(environ), Ok(stat)) = (
            std::fs::read(proc.join("cmdline")),
            std::fs::read(proc.join("environ")),
            std::fs::read_to_string(proc.join("stat")),
        ) else {
            continue;
        };
        let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
        let reader = cmdline.split(|b| *b == 0).any(|arg| arg == b"__smb-reader");
        if reader && !zombie && environ.split(|b| *b == 0).any(|var| var == home.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// An audit of CAP_BIG with `stall` as its stall timeout, once at least two
/// reader processes read its files.
fn reading_in_readers(server: &Server, out: &Path, stall: &str) -> std::process::Child {
    let mut audit = server
        .audit_command(
            &["CAP_BIG"],
            &server.auth_file(PASSWORD),
            out,
            &["--stall-timeout", stall],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while reader_pids(server).len() < 2 {
        assert!(Instant::now() < deadline, "fewer than 2 reader processes");
        assert!(
            audit.try_wait().unwrap().is_none(),
            "the audit ended before its readers were seen"
        );
    }
    audit
}

/// The readers of `server`'s audits still alive after waiting up to `limit`.
fn readers_left(server: &Server, limit: Duration) -> Vec<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let pids = reader_pids(server);
        if pids.is_empty() || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A share's files are read by several reader processes at once; when
/// they are killed mid-crawl, the files they were reading get rows saying
/// so (never a hash), the others are read by new readers with
/// `sha256sum`'s hashes, the audit ends, and no reader outlives it.
#[test]
fn readers_killed_mid_crawl_give_rows_not_a_hang_nor_orphans() {
    let Some(server) = Server::start(Dialects::Nt1Only, &[], big_share) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut audit = reading_in_readers(&server, out.path(), "10");
    // Frozen, so that the readers are caught mid-request, then killed.
    server.signal(rustix::process::Signal::STOP);
    std::thread::sleep(Duration::from_millis(200));
    let readers = reader_pids(&server);
    for pid in &readers {
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(*pid).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
    }
    server.signal(rustix::process::Signal::CONT);
    let code = wait_within(&mut audit, Duration::from_secs(120));
    assert_eq!(readers_left(&server, Duration::from_secs(2)), Vec::<i32>::new());
    assert!(matches!(code, Some(1 | 3)), "{code:?}");
    let expected = sha256sums(&server.served("CAP_BIG"));
    let files = files_of(out.path(), r"\\127.0.0.1\CAP_BIG");
    let rows: BTreeMap<&String, &BTreeMap<String, String>> =
        files.iter().filter(|(_, row)| row["kind"] != "directory").collect();
    assert_eq!(rows.len(), expected.len(), "a file without a row");
    let mut lost = 0;
    for (path, row) in rows {
        if row["status"] == "ok" {
            assert_eq!(&row["sha256"], &expected[path], "{path}");
        } else {
            assert_eq!(row["sha256"], "", "{path}: {row:?}");
            assert!(row["reason"].contains("SMB reader process"), "{path}: {row:?}");
            lost += 1;
        }
    }
    assert!(
        lost >= 1 && lost <= readers.len(),
        "{lost} files lost with {} readers",
        readers.len()
    );
}

/// A file rewritten all through its read over SMB (in place, same size, a
/// later modification time each time) gets no hash: the state the
/// folder's listing after the read gives differs from the first listing's,
/// and the file, read again and checked by its handle, changes again. Its
/// neighbours are read as they are.
///
/// Whether the writer changes the file during a read depends on the
/// scheduler: on a loaded machine it can miss a whole read, and then the
/// file truly was unchanged while read and may be hashed. So a hashed row
/// must be the hash of exactly the content its modification time names
/// (replayed from the writer's ticks, hashed by `sha256sum`), never of a
/// mix; and of up to five audits at least one must refuse the hash. A
/// writer stopped by the scheduler between its write and its setting of
/// the time leaves the file, for that while, at a time of the kernel's
/// (not a tick): a read that falls wholly there reads one state, whose
/// tick the row cannot name, so its content is not replayed. The writer
/// rests between ticks, outside that window, to keep such reads rare.
#[test]
fn a_file_changed_while_read_over_smb_gets_no_hash() {
    const SIZE: usize = 24 << 20;
    const EPOCH_SECONDS: u64 = 1_000_000_000;
    let position = |tick: u64| ((tick * 4099) % SIZE as u64) as usize;
    let Some(server) = Server::start(Dialects::Nt1Only, &[], |served| {
        let folder = served.join("CAP_BUSY/busy");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("big.bin"), vec![7u8; SIZE]).unwrap();
        for i in 0..20 {
            std::fs::write(folder.join(format!("small{i}.txt")), format!("small {i}")).unwrap();
        }
    }) else {
        return;
    };
    let big = server.served("CAP_BUSY").join("busy/big.bin");
    // Tick 0: the content as written, at a time the replay understands.
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECONDS))
        .unwrap();
    let expected = sha256sums(&server.served("CAP_BUSY"));
    let auth = server.auth_file(PASSWORD);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut refused = 0;
    let mut hashed = Vec::new();
    let last_tick = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            use std::os::unix::fs::FileExt;
            let file = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
            let mut tick = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tick += 1;
                file.write_all_at(&[tick as u8], position(tick) as u64).unwrap();
                file.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECONDS + tick))
                    .unwrap();
                std::thread::sleep(Duration::from_micros(100));
            }
            tick
        });
        for _ in 0..5 {
            let out = tempfile::tempdir().unwrap();
            server.audit(&["CAP_BUSY"], &auth, out.path(), &[]);
            let files = files_of(out.path(), r"\\127.0.0.1\CAP_BUSY");
            for i in 0..20 {
                let path = format!(r"busy\small{i}.txt");
                assert_eq!(files[&path]["sha256"], expected[&path], "{path}");
            }
            let row = files[r"busy\big.bin"].clone();
            if row["status"] == "unreadable" {
                assert_eq!(row["sha256"], "", "{row:?}");
                assert!(row["reason"].contains("changed while read"), "{row:?}");
                refused += 1;
                break;
            }
            hashed.push(row);
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        writer.join().unwrap()
    });
    for row in &hashed {
        assert_eq!(row["status"], "ok", "{row:?}");
        let modified = humantime::parse_rfc3339(&row["modified"]).unwrap();
        let seconds = modified.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let Some(tick) = seconds.checked_sub(EPOCH_SECONDS).filter(|tick| *tick <= last_tick) else {
            // Read wholly while the writer was stopped inside a tick.
            continue;
        };
        let mut content = vec![7u8; SIZE];
        for earlier in 1..=tick {
            content[position(earlier)] = earlier as u8;
        }
        let replayed = tempfile::tempdir().unwrap();
        std::fs::write(replayed.path().join("big.bin"), &content).unwrap();
        assert_eq!(
            row["sha256"],
            sha256sums(replayed.path())["big.bin"],
            "hashed, but not the content of its time (a mix of two states): {row:?}"
        );
    }
    assert_eq!(
        refused, 1,
        "five audits hashed a file rewritten all the time: {hashed:?}"
    );
}
