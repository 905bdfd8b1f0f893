//! Builds a synthetic SMS 2.0 estate for benchmarks: sites with their CAP
//! and site server shares, logon points, component versions spread over the
//! releases, client bundles, and optional package-like large files and
//! client-uploaded small files. Deterministic from `--seed`.
//!
//! `cargo run --release --example make_estate -- --out DIR --sites 10 --caps-per-site 2 --logon-points 3 --seed 1`
//!
//! The benchmark estate's client files are random, so every site gets
//! F13, F19 and F20. `--realistic` writes instead a fixed, consistent
//! estate of five sites and 17 shares with a chosen handful of faults, a
//! preview of a real report (the docs' screenshots are taken from it):
//!
//! * AMS (SP2: a site server, two CAPs, its own logon point DCNL01):
//!   healthy.
//! * LON (SP2) and MAN (SP1) share the logon points DCUK01 and DCUK02,
//!   which hold LON's SP2 Clicore.exe since LON was upgraded: the Q236596
//!   group (MAN's clients get a base newer than MAN's CAP offers).
//! * PAR (SP2): its second CAP, CAPPAR02, still holds SP1's client
//!   components: a CAP that lags the site server's replication.
//! * FRA (SP3): one advertisement's `.ofr` on its CAP is zero bytes long.
//!
//! `cargo run --release --example make_estate -- --realistic --out DIR`

use clap::Parser;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(about = "Write a synthetic SMS 2.0 estate (server/share folders) for benchmarks")]
struct Args {
    /// Folder to write into (created; must be empty or missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of primary sites: each has SMS_<code> and CAP_<code> on its site server.
    #[arg(long, default_value_t = 3)]
    sites: usize,
    /// Extra CAP_<code> shares per site, on servers of their own.
    #[arg(long, default_value_t = 1)]
    caps_per_site: usize,
    /// Logon points (<DC>/SMSLOGON); each serves a group of sites.
    #[arg(long, default_value_t = 2)]
    logon_points: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Package-like files of random content, spread over the site servers.
    #[arg(long, default_value_t = 0)]
    large_files: usize,
    /// Size of each large file in MiB.
    #[arg(long, default_value_t = 64)]
    large_size_mib: u64,
    /// Client-uploaded small files (inventory, discovery, status), spread over the CAPs.
    #[arg(long, default_value_t = 0)]
    small_files: usize,
    /// Sizes of the files of random content other than `--large-files`:
    /// `mixed`, bundled binaries of 120-525 KiB and client uploads of
    /// 256 B-256 KiB (about 14.5 KB a file); `small`, issue 30's shape,
    /// every one 0.5-60 KiB, 2.8 KiB on average.
    #[arg(long, value_enum, default_value_t = FileSizes::Mixed)]
    file_sizes: FileSizes,
    /// Write the fixed, consistent estate with a handful of faults instead
    /// (see the top of this file); the other options are not used.
    #[arg(long, conflicts_with_all = ["sites", "caps_per_site", "logon_points", "large_files", "small_files", "file_sizes"])]
    realistic: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FileSizes {
    Mixed,
    Small,
}

const COMPONENTS: [&str; 9] = [
    "base", "hinv", "licmtr", "remctrl", "sinv", "smsapm32", "snmpelea", "SWDist", "wbem",
];
const CFGS: [(&str, &str, &str); 5] = [
    ("smsapm32", "smsapm32.CFG", "AVAILABLE PROGRAMS MANAGER WIN32"),
    ("SWDist", "SWDist.CFG", "SOFTWARE DISTRIBUTION"),
    ("sinv", "sinv.CFG", "SOFTWARE INVENTORY AGENT"),
    ("hinv", "hinv.CFG", "HARDWARE INVENTORY AGENT"),
    ("licmtr", "LICMTR.CFG", "LICENSE METERING"),
];
/// Bundled binaries per component folder (i386), with typical sizes in KiB.
const BUNDLES: [(&str, &str, u64); 6] = [
    ("base", "clicore.exe", 420),
    ("base", "ccim32.dll", 180),
    ("SWDist", "swdist32.exe", 260),
    ("hinv", "hinv32.exe", 150),
    ("sinv", "sinv32.exe", 120),
    ("remctrl", "wuser32.exe", 200),
];

/// A release: the version of each component, in `COMPONENTS` order.
fn release(index: usize) -> [&'static str; 9] {
    match index {
        0 => [
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "2.00.1239.0000",
            "698.0000",
        ],
        1 => [
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "2.00.1380.1000",
            "698.0001",
        ],
        2 => [
            "2.00.1493.2009",
            "2.00.1493.2000",
            "2.00.1493.2000",
            "2.00.1493.2001",
            "2.00.1493.2006",
            "2.00.1493.2011",
            "2.00.1493.2000",
            "2.00.1493.2011",
            "698.0012",
        ],
        3 => [
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "2.00.1493.3000",
            "698.0012",
        ],
        _ => [
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "2.00.1493.4000",
            "698.0012",
        ],
    }
}

struct Writer {
    root: PathBuf,
    rng: ChaCha8Rng,
    files: u64,
    bytes: u64,
    sizes: FileSizes,
}

impl Writer {
    /// The size of a file of random content: `mixed` as given, `small`
    /// drawn from issue 30's shape (client uploads on a real CAP): one
    /// file in fifty an inventory of 8-60 KiB, the others 512 B plus an
    /// exponential tail (mean 1,703 B), cut at 60 KiB; 2.8 KiB (2,867 B)
    /// on average.
    fn sized(&mut self, mixed: u64) -> u64 {
        const MIN: u64 = 512;
        const MAX: u64 = 60 * 1024;
        const TAIL_MEAN: f64 = 1703.0;
        match self.sizes {
            FileSizes::Mixed => mixed,
            FileSizes::Small if self.rng.random_range(0..50) == 0 => self.rng.random_range(8 * 1024..=MAX),
            FileSizes::Small => {
                let uniform: f64 = self.rng.random();
                let tail = -TAIL_MEAN * (1.0 - uniform).ln();
                (MIN + tail as u64).min(MAX)
            }
        }
    }

    fn text(&mut self, path: &str, text: &str) -> io::Result<()> {
        let data = text.replace('\n', "\r\n");
        self.bytes_at(path, data.as_bytes())
    }

    fn bytes_at(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(full, data)?;
        self.files += 1;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Random content of `size` bytes, written in 1 MiB chunks.
    fn random(&mut self, path: &str, size: u64) -> io::Result<()> {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = io::BufWriter::with_capacity(1 << 20, fs::File::create(full)?);
        let mut chunk = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            self.rng.fill_bytes(&mut chunk[..n]);
            // Not starting with MZ: these are data, not PE images.
            if left == size && n > 0 {
                chunk[0] = b'P';
            }
            file.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        file.flush()?;
        self.files += 1;
        self.bytes += size;
        Ok(())
    }
}

fn site_code(index: usize) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let a = ALPHA[(index / (36 * 36)) % 26] as char;
    let b = ALNUM[(index / 36) % 36] as char;
    let c = ALNUM[index % 36] as char;
    format!("{a}{b}{c}")
}

fn compver(version: &str) -> String {
    format!("[Version]\nVersion={version}\n")
}

fn cfg(name: &str, server: &str, version: Option<&str>, licmtr: bool) -> String {
    let mut lines = vec![
        "[Component Configuration]".to_string(),
        "    LastUpdate=29228490, 61154480".to_string(),
        format!("    Name={name}"),
        "    KeyFlags=0".to_string(),
    ];
    if let Some(v) = version {
        lines.push(format!("      (REG_SZ) Version={v}"));
    }
    lines.push("      (REG_DWORD) Flags=0".into());
    lines.push(String::new());
    if licmtr {
        lines.push(format!("[{server}]"));
        lines.push(format!("      (REG_SZ) Name={server}"));
        lines.push("      (REG_DWORD) Platform=3".into());
        lines.push(format!("      (REG_SZ) UncDbPath=\\\\{server}\\LicMtr"));
        lines.push(String::new());
    }
    lines.push("[IDENT]".into());
    lines.push("    TYPE=Base Config File Type".into());
    lines.push(String::new());
    lines.join("\n")
}

/// The component boxes of one CAP (`clicomp.box`) or site server (`inboxes/clicomp.src`).
fn component_box(
    w: &mut Writer,
    boxdir: &str,
    server: &str,
    versions: &[&str; 9],
    cfg_versions: bool,
) -> io::Result<()> {
    for (comp, version) in COMPONENTS.iter().zip(versions) {
        w.text(&format!("{boxdir}/{comp}/compver.ini"), &compver(version))?;
    }
    if boxdir.ends_with("clicomp.box") {
        for (comp, file, name) in CFGS {
            let idx = COMPONENTS.iter().position(|c| *c == comp).unwrap_or(0);
            let version = cfg_versions.then_some(versions[idx]);
            w.text(
                &format!("{boxdir}/{file}"),
                &cfg(name, server, version, comp == "licmtr"),
            )?;
        }
    }
    for (comp, file, kib) in BUNDLES {
        let jitter = w.rng.random_range(0..kib / 4 + 1);
        let size = w.sized((kib + jitter) * 1024);
        w.random(&format!("{boxdir}/{comp}/i386/{file}"), size)?;
    }
    Ok(())
}

fn client_data(w: &mut Writer, dir: &str, server: &str, code: &str) -> io::Result<()> {
    w.text(
        &format!("{dir}/caplist.ini"),
        &format!("[CAP List]\n\\\\{server}\\CAP_{code}\n"),
    )?;
    for name in ["cli_inst.cfg", "clibase.cfg"] {
        let size = w.rng.random_range(2048..8192);
        let size = w.sized(size);
        w.random(&format!("{dir}/{name}"), size)?;
    }
    w.text(&format!("{dir}/client.lkp"), "[Resync]\n")
}

fn cap(w: &mut Writer, server: &str, code: &str, versions: &[&str; 9], cfg_versions: bool) -> io::Result<()> {
    let root = format!("{server}/CAP_{code}");
    component_box(w, &format!("{root}/clicomp.box"), server, versions, cfg_versions)?;
    client_data(w, &format!("{root}/clidata.box"), server, code)?;
    let offers = w.rng.random_range(2..6);
    w.text(
        &format!("{root}/offerinf.box/{code}Systm.lkp"),
        &format!("{code}00001.ins\n"),
    )?;
    for n in 1..=offers {
        w.text(
            &format!("{root}/offerinf.box/{code}{n:05}.ins"),
            &format!("{code}{n:05}.ofr\n"),
        )?;
        w.text(
            &format!("{root}/offerinf.box/{code}{n:05}.ofr"),
            &format!("[Offer]\nPackage={code}{n:05}\n"),
        )?;
        w.text(
            &format!("{root}/pkginfo.box/{code}{n:05}.pkg"),
            &format!("[Package]\nName=Package {n}\n"),
        )?;
    }
    w.text(&format!("{root}/clifiles.box/hinv/sms_def.mof"), "// SMS_DEF.MOF\n")?;
    for b in ["ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"] {
        fs::create_dir_all(w.root.join(&root).join(b))?;
    }
    Ok(())
}

fn site_server(w: &mut Writer, server: &str, code: &str, versions: &[&str; 9]) -> io::Result<()> {
    let root = format!("{server}/SMS_{code}");
    component_box(w, &format!("{root}/inboxes/clicomp.src"), server, versions, true)?;
    client_data(w, &format!("{root}/inboxes/clidata.src"), server, code)
}

/// The files every logon point carries from its source site (path, KiB),
/// each listed in Copylog.tcf.
const LOGON_SHARED_FILES: [(&str, u64); 7] = [
    ("x86.bin/smsboot1.exe", 60),
    ("x86.bin/boot32wn.exe", 90),
    ("x86.bin/CLICORE.EXE", 420),
    ("x86.bin/Slwnt32.exe", 70),
    ("x86.bin/00000409/SMSMan.exe", 300),
    ("i386/NTLGDSCA.EXE", 110),
    ("i386/BASEOBJ.DLL", 240),
];

fn logon_point(w: &mut Writer, dc: &str, sites: &[(String, usize)]) -> io::Result<()> {
    let lp = format!("{dc}/SMSLOGON");
    let (source, _) = sites.iter().max_by_key(|(_, r)| *r).cloned().unwrap_or_default();
    let mut lines = vec!["[FILE SOURCE]".to_string()];
    for (path, kib) in LOGON_SHARED_FILES {
        let size = w.sized(kib * 1024);
        w.random(&format!("{lp}/{path}"), size)?;
        lines.push(format!("{}={source}", path.to_uppercase().replace('/', "\\")));
    }
    for (code, r) in sites {
        for name in ["cli_inst.cfg", "NETCONF.NCF", "caplist.ini"] {
            w.text(
                &format!("{lp}/Sites/{code}/{name}"),
                &format!("{name} of site {code}\n"),
            )?;
            lines.push(format!("SITES\\{code}\\{name}={code}"));
        }
        w.text(&format!("{lp}/Sites/{code}/compver.ini"), &compver(release(*r)[0]))?;
        w.text(
            &format!("{lp}/Sitescfg/{code}_cfg.lcf"),
            &format!("[Logon Configuration]\nSite={code}\n"),
        )?;
    }
    w.text(&format!("{lp}/Config/copylog.tcf"), &(lines.join("\n") + "\n"))?;
    w.text(&format!("{lp}/Sitescfg/Nt_logon.tok"), "")?;
    w.text(&format!("{lp}/Sitescfg/Senior.lst"), &format!("{source}\n"))?;
    Ok(())
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    if args.out.exists() && fs::read_dir(&args.out)?.next().is_some() {
        return Err(io::Error::other(format!("{} is not empty", args.out.display())));
    }
    fs::create_dir_all(&args.out)?;
    let mut w = Writer {
        root: args.out.clone(),
        rng: ChaCha8Rng::seed_from_u64(args.seed),
        files: 0,
        bytes: 0,
        sizes: args.file_sizes,
    };
    if args.realistic {
        let locations = realistic::write(&mut w)?;
        eprintln!(
            "wrote {}: {} locations, {} files, {:.1} MiB",
            Path::new(&args.out).display(),
            locations,
            w.files,
            w.bytes as f64 / (1u64 << 20) as f64
        );
        return Ok(());
    }
    // Releases weighted like a real rollout: most sites on SP2, some behind.
    let mut sites: Vec<(String, usize)> = Vec::new();
    let mut caps: Vec<String> = Vec::new();
    let mut site_servers: Vec<(String, String)> = Vec::new();
    for i in 0..args.sites {
        let code = site_code(i + 36 * 36 * 12); // start at "M00"
        let r = match w.rng.random_range(0..100) {
            0..10 => 0,
            10..30 => 1,
            30..80 => 2,
            80..95 => 3,
            _ => 4,
        };
        let versions = release(r);
        let server = format!("SRV{code}");
        site_server(&mut w, &server, &code, &versions)?;
        cap(&mut w, &server, &code, &versions, r > 0)?;
        caps.push(format!("{server}/CAP_{code}"));
        site_servers.push((server.clone(), code.clone()));
        for n in 1..=args.caps_per_site {
            // One CAP in ten lags a release behind its site: the Q236596 shape.
            let lag = w.rng.random_range(0..10) == 0 && r > 0;
            let cap_server = format!("CAP{code}{n:02}");
            cap(&mut w, &cap_server, &code, &release(if lag { r - 1 } else { r }), r > 0)?;
            caps.push(format!("{cap_server}/CAP_{code}"));
        }
        sites.push((code, r));
    }
    if args.logon_points > 0 && !sites.is_empty() {
        let groups = args.logon_points;
        for g in 0..groups {
            // Site i logs on through logon point i mod K; a logon point
            // left without sites serves one all the same.
            let mut members: Vec<(String, usize)> = sites
                .iter()
                .enumerate()
                .filter(|(i, _)| i % groups == g)
                .map(|(_, s)| s.clone())
                .collect();
            if members.is_empty() {
                members.push(sites[g % sites.len()].clone());
            }
            logon_point(&mut w, &format!("DC{g:03}"), &members)?;
        }
    }
    if !site_servers.is_empty() {
        for n in 0..args.large_files {
            let (server, code) = site_servers[n % site_servers.len()].clone();
            w.random(
                &format!("{server}/SMS_{code}/SMSPKG/{code}{:05}.PCK", n + 1),
                args.large_size_mib << 20,
            )?;
        }
    }
    if !caps.is_empty() {
        const UPLOADS: [(&str, &str); 4] = [
            ("inventry.box", "MIF"),
            ("ddr.box", "DDR"),
            ("statmsgs.box", "SVF"),
            ("sinv.box", "SIC"),
        ];
        for n in 0..args.small_files {
            let cap = caps[n % caps.len()].clone();
            let (dir, ext) = UPLOADS[n % UPLOADS.len()];
            // Discovery and status records are a few KiB, inventory a few
            // tens; one file in fifty is a large inventory up to 256 KiB.
            let size = if w.rng.random_range(0..50) == 0 {
                w.rng.random_range(64 * 1024..256 * 1024)
            } else if ext == "MIF" {
                w.rng.random_range(4 * 1024..48 * 1024)
            } else if ext == "SIC" {
                w.rng.random_range(1024..16 * 1024)
            } else {
                w.rng.random_range(256..4096)
            };
            let size = w.sized(size);
            w.random(&format!("{cap}/{dir}/{:08X}.{ext}", n), size)?;
        }
    }
    let locations = args.sites * (2 + args.caps_per_site) + args.logon_points;
    eprintln!(
        "wrote {}: {} locations, {} files, {:.1} MiB",
        Path::new(&args.out).display(),
        locations,
        w.files,
        w.bytes as f64 / (1u64 << 20) as f64
    );
    Ok(())
}

/// The `--realistic` estate: every copy of a file that must agree is the
/// same bytes, so only the chosen faults show.
mod realistic {
    use super::{cfg, compver, release, Writer, BUNDLES, CFGS, COMPONENTS};
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::io;

    /// Release indexes of [`release`].
    const SP1: usize = 1;
    const SP2: usize = 2;
    const SP3: usize = 3;

    struct Site {
        code: &'static str,
        server: &'static str,
        release: usize,
        /// CAPs on servers of their own, with the release each holds.
        more_caps: &'static [(&'static str, usize)],
    }

    const SITES: [Site; 5] = [
        Site {
            code: "AMS",
            server: "SRVAMS01",
            release: SP2,
            more_caps: &[("CAPAMS02", SP2)],
        },
        Site {
            code: "FRA",
            server: "SRVFRA01",
            release: SP3,
            more_caps: &[],
        },
        Site {
            code: "LON",
            server: "SRVLON01",
            release: SP2,
            more_caps: &[],
        },
        Site {
            code: "MAN",
            server: "SRVMAN01",
            release: SP1,
            more_caps: &[],
        },
        // The lagging CAP.
        Site {
            code: "PAR",
            server: "SRVPAR01",
            release: SP2,
            more_caps: &[("CAPPAR02", SP1)],
        },
    ];

    /// Logon points: the domain controller and the sites it serves. The
    /// newest site of each is the source of its shared files (Copylog).
    const LOGON_POINTS: [(&str, &[&str]); 5] = [
        ("DCNL01", &["AMS"]),
        ("DCDE01", &["FRA"]),
        ("DCUK01", &["LON", "MAN"]),
        ("DCUK02", &["LON", "MAN"]),
        ("DCFR01", &["PAR"]),
    ];

    /// The zero-byte file: one advertisement's offer on FRA's CAP.
    const ZERO_BYTE_OFFER: &str = "SRVFRA01/CAP_FRA/offerinf.box/FRA00002.ofr";

    /// Advertisements per site.
    const OFFERS: usize = 3;

    fn site(code: &str) -> &'static Site {
        SITES.iter().find(|s| s.code == code).expect("a site of the table")
    }

    /// The bytes of a release's build of `name`: the same wherever that
    /// build is copied (a site server, its CAPs, a logon point).
    fn build_of(name: &str, version: &str, kib: u64) -> Vec<u8> {
        let seed = format!("{}|{version}", name.to_ascii_lowercase())
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let size = (kib + rng.random_range(0..kib / 4 + 1)) * 1024;
        let mut data = vec![0u8; size as usize];
        rng.fill_bytes(&mut data);
        // Not starting with MZ: data, not a PE image.
        data[0] = b'P';
        data
    }

    /// A site's client configuration files, the same in every copy.
    fn client_file(name: &str, code: &str) -> String {
        format!("encrypted {name} of site {code}\n")
    }

    fn caplist(site: &Site) -> String {
        let mut lines = vec![
            "[CAP List]".to_string(),
            format!("\\\\{}\\CAP_{}", site.server, site.code),
        ];
        for (server, _) in site.more_caps {
            lines.push(format!("\\\\{server}\\CAP_{}", site.code));
        }
        lines.join("\n") + "\n"
    }

    /// A site server's `clicomp.src` or a CAP's `clicomp.box` at `release`.
    fn component_box(w: &mut Writer, boxdir: &str, server: &str, release_index: usize) -> io::Result<()> {
        let versions = release(release_index);
        for (comp, version) in COMPONENTS.iter().zip(versions) {
            w.text(&format!("{boxdir}/{comp}/compver.ini"), &compver(version))?;
        }
        if boxdir.ends_with("clicomp.box") {
            for (comp, file, name) in CFGS {
                let at = COMPONENTS.iter().position(|c| *c == comp).unwrap_or(0);
                // An RTM CFG carries no version; later ones carry their component's.
                let version = (release_index > 0).then_some(versions[at]);
                w.text(
                    &format!("{boxdir}/{file}"),
                    &cfg(name, server, version, comp == "licmtr"),
                )?;
            }
        }
        for (comp, file, kib) in BUNDLES {
            let at = COMPONENTS.iter().position(|c| *c == comp).unwrap_or(0);
            w.bytes_at(
                &format!("{boxdir}/{comp}/i386/{file}"),
                &build_of(file, versions[at], kib),
            )?;
        }
        Ok(())
    }

    fn client_data(w: &mut Writer, dir: &str, site: &Site) -> io::Result<()> {
        w.text(&format!("{dir}/caplist.ini"), &caplist(site))?;
        for name in ["cli_inst.cfg", "clibase.cfg"] {
            w.text(&format!("{dir}/{name}"), &client_file(name, site.code))?;
        }
        w.text(&format!("{dir}/client.lkp"), "[Resync]\n")
    }

    fn cap(w: &mut Writer, server: &str, site: &Site, release_index: usize) -> io::Result<()> {
        let code = site.code;
        let root = format!("{server}/CAP_{code}");
        component_box(w, &format!("{root}/clicomp.box"), server, release_index)?;
        client_data(w, &format!("{root}/clidata.box"), site)?;
        w.text(
            &format!("{root}/offerinf.box/{code}Systm.lkp"),
            &format!("{code}00001.ins\n"),
        )?;
        for n in 1..=OFFERS {
            w.text(
                &format!("{root}/offerinf.box/{code}{n:05}.ins"),
                &format!("{code}{n:05}.ofr\n"),
            )?;
            let offer = format!("{root}/offerinf.box/{code}{n:05}.ofr");
            let text = if offer == ZERO_BYTE_OFFER {
                String::new()
            } else {
                format!("[Offer]\nPackage={code}{n:05}\n")
            };
            w.text(&offer, &text)?;
            w.text(
                &format!("{root}/pkginfo.box/{code}{n:05}.pkg"),
                &format!("[Package]\nName=Package {n} of {code}\n"),
            )?;
        }
        w.text(&format!("{root}/clifiles.box/hinv/sms_def.mof"), "// SMS_DEF.MOF\n")?;
        for b in ["ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"] {
            std::fs::create_dir_all(w.root.join(&root).join(b))?;
        }
        Ok(())
    }

    fn logon_point(w: &mut Writer, dc: &str, codes: &[&str]) -> io::Result<()> {
        let lp = format!("{dc}/SMSLOGON");
        let source = codes.iter().map(|c| site(c)).max_by_key(|s| s.release).expect("a site");
        let base = release(source.release)[0];
        // Clicore.exe is the source site's very build; the other shared
        // files are that release's too.
        let mut lines = vec!["[FILE SOURCE]".to_string()];
        for (path, kib) in super::LOGON_SHARED_FILES {
            let name = path.rsplit('/').next().unwrap_or(path);
            let bytes = if name.eq_ignore_ascii_case("clicore.exe") {
                build_of("clicore.exe", base, 420)
            } else {
                build_of(name, base, kib)
            };
            w.bytes_at(&format!("{lp}/{path}"), &bytes)?;
            lines.push(format!("{}={}", path.to_uppercase().replace('/', "\\"), source.code));
        }
        for code in codes {
            let member = site(code);
            for name in ["cli_inst.cfg", "NETCONF.NCF"] {
                w.text(&format!("{lp}/Sites/{code}/{name}"), &client_file(name, code))?;
                lines.push(format!("SITES\\{code}\\{name}={code}"));
            }
            w.text(&format!("{lp}/Sites/{code}/caplist.ini"), &caplist(member))?;
            lines.push(format!("SITES\\{code}\\caplist.ini={code}"));
            w.text(
                &format!("{lp}/Sites/{code}/compver.ini"),
                &compver(release(member.release)[0]),
            )?;
            w.text(
                &format!("{lp}/Sitescfg/{code}_cfg.lcf"),
                &format!("[Logon Configuration]\nSite={code}\n"),
            )?;
        }
        w.text(&format!("{lp}/Config/copylog.tcf"), &(lines.join("\n") + "\n"))?;
        w.text(&format!("{lp}/Sitescfg/Nt_logon.tok"), "")?;
        w.text(&format!("{lp}/Sitescfg/Senior.lst"), &format!("{}\n", source.code))?;
        Ok(())
    }

    /// Writes the estate; returns how many shares it has.
    pub(super) fn write(w: &mut Writer) -> io::Result<usize> {
        let mut shares = 0;
        for site in &SITES {
            let sms = format!("{}/SMS_{}", site.server, site.code);
            component_box(w, &format!("{sms}/inboxes/clicomp.src"), site.server, site.release)?;
            client_data(w, &format!("{sms}/inboxes/clidata.src"), site)?;
            cap(w, site.server, site, site.release)?;
            shares += 2;
            for &(server, release_index) in site.more_caps {
                cap(w, server, site, release_index)?;
                shares += 1;
            }
        }
        for (dc, codes) in LOGON_POINTS {
            logon_point(w, dc, codes)?;
            shares += 1;
        }
        Ok(shares)
    }
}
