//! Micro-benchmarks (divan) of the parsers, the version model and the
//! hashing loop. Run with `cargo bench --bench parsers`.

use divan::{black_box, Bencher};
use smsaudit::crawl;
use smsaudit::extract::{self, cfg, compver, copylog, pe};
use smsaudit::model::FileKind;
use smsaudit::sms::version::Version;
use std::io::Write;

fn main() {
    divan::main();
}

const COMPVER: &[u8] = b"[Version]\r\nVersion=2.00.1493.2009\r\n";

const CFG: &[u8] = b"[Component Configuration]\r\n    LastUpdate=29228490, 61154480\r\n    Name=SOFTWARE DISTRIBUTION\r\n    KeyFlags=0\r\n      (REG_SZ) Version=2.00.1493.2011\r\n      (REG_DWORD) Flags=0\r\n\r\n[IDENT]\r\n    TYPE=Base Config File Type\r\n";

fn copylog_text() -> Vec<u8> {
    let mut text = String::from("[FILE SOURCE]\r\n");
    for path in [
        "X86.BIN\\SMSBOOT1.EXE",
        "X86.BIN\\BOOT32WN.EXE",
        "X86.BIN\\CLICORE.EXE",
        "I386\\BASEOBJ.DLL",
    ] {
        text.push_str(&format!("{path}=MS2\r\n"));
    }
    for code in ["MS1", "MS2", "LN1", "LN2", "PA1"] {
        for name in ["cli_inst.cfg", "NETCONF.NCF", "caplist.ini"] {
            text.push_str(&format!("SITES\\{code}\\{name}={code}\r\n"));
        }
    }
    text.into_bytes()
}

#[divan::bench]
fn compver_parse() -> impl Sized {
    compver::parse(black_box(COMPVER))
}

#[divan::bench]
fn compver_parse_utf16() -> impl Sized {
    static DATA: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let data = DATA.get_or_init(|| {
        let mut v = vec![0xff, 0xfe];
        for u in "[Version]\r\nVersion=698.0012\r\n".encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    });
    compver::parse(black_box(data))
}

#[divan::bench]
fn cfg_parse() -> impl Sized {
    cfg::parse(black_box(CFG))
}

#[divan::bench]
fn copylog_parse(bencher: Bencher) {
    let data = copylog_text();
    bencher.bench(|| copylog::parse(black_box(&data)));
}

const CLICORE: &[u8] = include_bytes!("../tests/fixtures/pe/clicore32.exe");

#[divan::bench]
fn pe_version_in_memory() -> impl Sized {
    pe::read_version_info(black_box(CLICORE))
}

/// The same through positioned reads, as the crawl reads binaries.
#[divan::bench]
fn pe_version_from_reader() -> impl Sized {
    pe::read_version_info_from(std::io::Cursor::new(black_box(CLICORE)), u64::MAX)
}

#[divan::bench]
fn version_parse() -> impl Sized {
    Version::parse(black_box("2.00.1493.2009"))
}

#[divan::bench]
fn version_compare(bencher: Bencher) {
    let a = Version::parse("2.00.1380.1000").unwrap();
    let b = Version::parse("2.00.1493.2009").unwrap();
    bencher.bench(|| black_box(&a).compare(black_box(&b)));
}

#[divan::bench]
fn text_decode_ascii() -> impl Sized {
    extract::decode(black_box(CFG))
}

#[divan::bench]
fn text_decode_utf16(bencher: Bencher) {
    let mut data = vec![0xff, 0xfe];
    for u in std::str::from_utf8(CFG).unwrap().encode_utf16() {
        data.extend_from_slice(&u.to_le_bytes());
    }
    bencher.bench(|| extract::decode(black_box(&data)));
}

/// SHA-256 of a 64 MiB file from the page cache: the ceiling of the crawl
/// per core. Throughput is shown in bytes per second.
#[divan::bench(sample_count = 10)]
fn hash_file_64mib(bencher: Bencher) {
    const SIZE: usize = 64 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pck");
    let mut file = std::fs::File::create(&path).unwrap();
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for _ in 0..SIZE >> 20 {
        file.write_all(&block).unwrap();
    }
    drop(file);
    bencher
        .counter(divan::counter::BytesCount::new(SIZE))
        .bench(|| crawl::hash_file(black_box(&path), FileKind::Other, 0).unwrap());
}

/// SHA-256 in memory, without the read: what the sha2 crate does per core.
#[divan::bench(sample_count = 10)]
fn sha256_in_memory_64mib(bencher: Bencher) {
    use sha2::Digest;
    let data = vec![0x5au8; 64 << 20];
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| sha2::Sha256::digest(black_box(&data)));
}
