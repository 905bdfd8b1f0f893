//! A small builder for test estates: CAP, site server and logon point trees
//! in a temp dir, healthy by default, to be broken one file at a time.

use smsaudit::{Audit, Config};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const COMPONENTS: &[&str] = &[
    "base", "hinv", "licmtr", "remctrl", "sinv", "smsapm32", "snmpelea", "SWDist", "wbem",
];
pub const CFGS: &[(&str, &str)] = &[
    ("smsapm32", "smsapm32.CFG"),
    ("SWDist", "SWDist.CFG"),
    ("sinv", "sinv.CFG"),
    ("hinv", "hinv.CFG"),
    ("licmtr", "LICMTR.CFG"),
];

/// Component versions of a release: every component at `base` except WBEM.
pub fn versions(base: &str) -> Vec<(&'static str, String)> {
    COMPONENTS
        .iter()
        .map(|c| {
            (
                *c,
                if *c == "wbem" {
                    "698.0012".to_string()
                } else {
                    base.to_string()
                },
            )
        })
        .collect()
}

pub const RTM: &str = "2.00.1239.0000";
pub const SP1: &str = "2.00.1380.1000";
pub const SP2: &str = "2.00.1493.2009";
pub const SP3: &str = "2.00.1493.3004";

pub struct EstateBuilder {
    dir: tempfile::TempDir,
}

/// The bytes of a site's Clicore.exe; a logon point holding this site's
/// base has the very same bytes.
pub fn clicore(base: &str) -> String {
    format!("placeholder for Clicore.exe {base}; not a PE file\r\n")
}

pub fn compver(version: &str) -> String {
    format!("[Version]\r\nVersion={version}\r\n")
}

impl EstateBuilder {
    pub fn new() -> EstateBuilder {
        EstateBuilder {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes a file (path with `/`, relative to the estate root).
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        fs::remove_file(self.path(rel)).unwrap();
        self
    }

    /// Sets a file's modification time to `days` days after 2000-01-01.
    pub fn dated(&self, rel: &str, days: u64) -> &Self {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800 + days * 86_400);
        fs::File::options()
            .write(true)
            .open(self.path(rel))
            .unwrap()
            .set_modified(time)
            .unwrap();
        self
    }

    /// A healthy site: `SERVER/CAP_CODE` and `SERVER/SMS_CODE` at `base`.
    pub fn site(&self, server: &str, code: &str, base: &str) -> &Self {
        self.site_with(server, code, base, true)
    }

    pub fn site_with(&self, server: &str, code: &str, base: &str, cfg_versions: bool) -> &Self {
        let cap = format!("{server}/CAP_{code}");
        let sms = format!("{server}/SMS_{code}");
        let versions = versions(base);
        for (comp, version) in &versions {
            self.file(&format!("{cap}/clicomp.box/{comp}/compver.ini"), compver(version));
            self.file(
                &format!("{sms}/inboxes/clicomp.src/{comp}/compver.ini"),
                compver(version),
            );
        }
        for (comp, name) in CFGS {
            let version = if cfg_versions {
                format!("      (REG_SZ) Version={base}\r\n")
            } else {
                String::new()
            };
            let _ = comp;
            self.file(
                &format!("{cap}/clicomp.box/{name}"),
                format!("[Component Configuration]\r\n    Name=X\r\n{version}\r\n[IDENT]\r\n    TYPE=Base Config File Type\r\n"),
            );
        }
        for b in [format!("{cap}/clicomp.box"), format!("{sms}/inboxes/clicomp.src")] {
            self.file(&format!("{b}/base/i386/clicore.exe"), clicore(base));
            self.file(
                &format!("{b}/SWDist/i386/swdist32.exe"),
                format!("Swdist32.exe {base}\r\n"),
            );
        }
        for d in [format!("{cap}/clidata.box"), format!("{sms}/inboxes/clidata.src")] {
            self.file(
                &format!("{d}/caplist.ini"),
                format!("[CAP List]\r\n\\\\{server}\\CAP_{code}\r\n"),
            );
            self.file(
                &format!("{d}/cli_inst.cfg"),
                format!("encrypted CRC list of site {code}\r\n"),
            );
            self.file(
                &format!("{d}/clibase.cfg"),
                format!("encrypted base CRC list of site {code}\r\n"),
            );
            self.file(&format!("{d}/client.lkp"), "[Resync]\r\n");
        }
        self.file(
            &format!("{cap}/offerinf.box/{code}Systm.lkp"),
            format!("{code}00001.ins\r\n"),
        );
        self.file(
            &format!("{cap}/offerinf.box/{code}00001.ins"),
            format!("{code}00001.ofr\r\n"),
        );
        self.file(&format!("{cap}/offerinf.box/{code}00001.ofr"), "[Offer]\r\n");
        self.file(&format!("{cap}/pkginfo.box/{code}00001.pkg"), "[Package]\r\n");
        self
    }

    /// A healthy logon point on `dc` shared by `sites`, holding the base of
    /// `source` (Copylog names it) at version `base`.
    pub fn logon_point(&self, dc: &str, sites: &[&str], source: &str, base: &str) -> &Self {
        let lp = format!("{dc}/SMSLOGON");
        let shared = [
            "x86.bin/smsboot1.exe",
            "x86.bin/boot32wn.exe",
            "x86.bin/Slwnt32.exe",
            "i386/NTLGDSCA.EXE",
        ];
        for path in shared {
            self.file(&format!("{lp}/{path}"), format!("{path} {base}\r\n"));
        }
        self.file(&format!("{lp}/x86.bin/CLICORE.EXE"), clicore(base));
        let mut lines = vec!["[FILE SOURCE]".to_string(), format!("X86.BIN\\CLICORE.EXE={source}")];
        for path in shared {
            lines.push(format!("{}={source}", path.to_ascii_uppercase().replace('/', "\\")));
        }
        for code in sites {
            self.file(
                &format!("{lp}/Sites/{code}/cli_inst.cfg"),
                format!("encrypted CRC list of site {code}\r\n"),
            );
            self.file(&format!("{lp}/Sites/{code}/NETCONF.NCF"), "boundaries\r\n");
            self.file(
                &format!("{lp}/Sitescfg/{code}_cfg.lcf"),
                format!("[Logon Configuration]\r\nSite={code}\r\n"),
            );
            lines.push(format!("SITES\\{code}\\cli_inst.cfg={code}"));
            lines.push(format!("SITES\\{code}\\NETCONF.NCF={code}"));
        }
        self.copylog(dc, &lines.join("\r\n"));
        self.file(&format!("{lp}/Sitescfg/Nt_logon.tok"), "");
        self
    }

    pub fn copylog(&self, dc: &str, text: &str) -> &Self {
        self.file(&format!("{dc}/SMSLOGON/Config/copylog.tcf"), format!("{text}\r\n"))
    }

    /// Runs the library audit over the whole estate.
    pub fn audit(&self) -> Audit {
        let mut config = Config::new(vec![self.root().to_path_buf()]);
        config.jobs = 2;
        smsaudit::run_audit(&config)
    }

    /// The finding codes, sorted and deduplicated.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.audit().findings.into_iter().map(|f| f.code.to_string()).collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// One site alone on its logon point: the healthy baseline.
pub fn lone(base: &str) -> EstateBuilder {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", base).logon_point("DC1", &["AAA"], "AAA", base);
    e
}

/// AAA at `a` and BBB at `b` share DC1, whose base is BBB's.
pub fn shared(a: &str, b: &str) -> EstateBuilder {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", a)
        .site("SRVB", "BBB", b)
        .logon_point("DC1", &["AAA", "BBB"], "BBB", b);
    e
}

/// The text of the matrix cell of `item` at `location` (`\\SRVA\CAP_AAA`).
pub fn cell_text<'a>(audit: &'a Audit, item: &str, location: &str) -> &'a str {
    let row = audit.matrix.rows.iter().find(|r| r.item == item).expect("row");
    let column = audit
        .matrix
        .columns
        .iter()
        .position(|c| c.location == location)
        .expect("column");
    &row.cells[column].text
}
