//! What Inbox Manager, CIDM and LSM copy from the site server: CAP and
//! logon point copies that differ from the site server's inboxes (F13,
//! F16, F17, F19, F20, F21), copies LSM has yet to refresh (N02) and
//! compver replication (F23, F24).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CellMark, CheckCode, FileRecord, Finding, Location, LocationKind, RowKey};
use crate::sms::layout::{CAP_BOXES, CLIDATA_SRC, LOGON_COPIES};
use crate::sms::version::Version;
use std::cmp::Ordering;

/// A file Inbox Manager copies from the site server to every CAP, and the
/// finding a differing copy raises.
struct Replica {
    /// Lower-case file name.
    file: &'static str,
    code: CheckCode,
    /// Whether a copy missing on the CAP is itself the failure.
    missing_matters: bool,
}

const REPLICAS: &[Replica] = &[
    Replica {
        file: "swdist32.exe",
        code: CheckCode::F13,
        missing_matters: false,
    },
    Replica {
        file: "clicore.exe",
        code: CheckCode::F20,
        missing_matters: false,
    },
    Replica {
        file: "ccmcore.exe",
        code: CheckCode::F20,
        missing_matters: false,
    },
    Replica {
        file: "client.lkp",
        code: CheckCode::F17,
        missing_matters: true,
    },
    Replica {
        file: "cli_inst.cfg",
        code: CheckCode::F19,
        missing_matters: true,
    },
    Replica {
        file: "clibase.cfg",
        code: CheckCode::F19,
        missing_matters: true,
    },
];

fn describe(record: &FileRecord) -> String {
    let hash = record.sha256.map(|digest| digest.hex());
    format!(
        "{} bytes, {}, sha256 {}",
        record.size.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
        record.modified.as_deref().unwrap_or("no date"),
        hash.as_ref().map_or("?", |hex| &hex.as_str()[..12])
    )
}

fn same(a: &FileRecord, b: &FileRecord) -> bool {
    a.sha256.is_some() && a.sha256 == b.sha256
}

fn site_of(location: &Location) -> String {
    location.sites.first().cloned().unwrap_or_default()
}

/// Whether `copy` is byte-identical to `site`'s copy at `src_path` on its
/// site server or at the same place in one of its CAPs' boxes.
fn is_copy_of_site(view: &EstateView, copy: &FileRecord, site: &str, src_path: &str) -> bool {
    let cap_path = CAP_BOXES
        .iter()
        .find_map(|(cap_box, src_box)| Some(format!("{cap_box}{}", src_path.strip_prefix(src_box)?)));
    let on_servers = view
        .site_locations(site, LocationKind::SiteServer)
        .into_iter()
        .filter_map(|server| view.file(&server.name, src_path));
    let on_caps = view
        .site_locations(site, LocationKind::Cap)
        .into_iter()
        .filter_map(|cap| view.file(&cap.name, cap_path.as_deref()?));
    on_servers.chain(on_caps).any(|twin| same(copy, twin))
}

/// F13, F17, F19, F20: a CAP copy that differs from (or, where it matters,
/// is missing next to) the site server's.
pub(crate) fn check_cap_copies(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = site_of(cap);
        for server in view.site_locations(&site, LocationKind::SiteServer) {
            for (cap_box, src_box) in CAP_BOXES {
                for (path, src) in view.files(&server.name) {
                    let Some(rest) = path.strip_prefix(src_box) else {
                        continue;
                    };
                    let name = rest.rsplit('\\').next().unwrap_or(rest);
                    let Some(replica) = REPLICAS.iter().find(|r| r.file == name) else {
                        continue;
                    };
                    let cap_path = format!("{cap_box}{rest}");
                    let (observed, what) = match view.file(&cap.name, &cap_path) {
                        Some(copy) if same(copy, src) => continue,
                        Some(copy) => (describe(copy), "differs from"),
                        None if replica.missing_matters && view.absent(&cap.name, &cap_path) => {
                            ("missing".to_string(), "is missing next to")
                        }
                        None => continue,
                    };
                    let shown = view
                        .file(&cap.name, &cap_path)
                        .map(|r| r.path.to_string())
                        .unwrap_or(cap_path);
                    out.push(
                        FindingDraft {
                            code: replica.code,
                            severity: None,
                            site: &site,
                            location: &cap.name,
                            path: &shown,
                            observed,
                            expected: format!("{} ({})", src.path, describe(src)),
                            message: format!(
                                "{}\\{} {} the site server's {}\\{}: Inbox Manager's copy failed or is pending.",
                                cap.name, shown, what, server.name, src.path
                            ),
                            marks: Vec::new(),
                        }
                        .into_finding(),
                    );
                }
            }
        }
    }
}

/// F16: a site server's clidata.src folder lacks Caplist.ini. A file that
/// is there but could not be read is not missing: no finding.
pub(crate) fn check_caplist_in_clidata(view: &EstateView, out: &mut Vec<Finding>) {
    for server in view.locations(LocationKind::SiteServer) {
        if !view.has_folder(&server.name, CLIDATA_SRC)
            || view.exists(&server.name, &format!("{CLIDATA_SRC}\\caplist.ini"))
        {
            continue;
        }
        let site = site_of(server);
        let hint = view
            .site_locations(&site, LocationKind::Cap)
            .into_iter()
            .find(|c| view.file(&c.name, "clidata.box\\caplist.ini").is_some())
            .map(|cap| format!("; a copy exists on {}\\Clidata.box", cap.name))
            .unwrap_or_default();
        out.push(
            FindingDraft {
                code: CheckCode::F16,
                severity: None,
                site: &site,
                location: &server.name,
                path: "Inboxes\\clidata.src\\Caplist.ini",
                observed: "missing".into(),
                expected: "Caplist.ini present".into(),
                message: format!(
                    "{} has no inboxes\\clidata.src\\Caplist.ini{hint}; remote client installs fail (\"Unable to read site data from CAP list file\").",
                    server.name
                ),
                marks: Vec::new(),
            }
            .into_finding(),
        );
    }
}

/// N02 (Q270036, Q249333): a hotfixed Clicore on a site's clicomp.src
/// (and on every CAP of the site that holds one) that has not reached a
/// logon point: the logon point's copy, which Copylog attributes to that
/// site, is an earlier revision of the same release [I]. Returns the
/// site, the site server and its copy.
fn hotfix_not_reached<'a>(
    view: &EstateView<'a>,
    lp: &Location,
    lp_path: &str,
    src_path: &str,
) -> Option<(String, &'a Location, &'a FileRecord)> {
    let copy = view.file(&lp.name, lp_path)?;
    let copylog = view.copylog(&lp.name);
    let source = copylog.iter().find(|(p, _)| *p == lp_path).map(|(_, s)| *s)?;
    let lp_version = copy
        .version
        .as_deref()
        .and_then(Version::parse)
        .filter(Version::is_sms)?;
    for server in view.site_locations(source, LocationKind::SiteServer) {
        let Some(src) = view.file(&server.name, src_path) else {
            continue;
        };
        let Some(src_version) = src.version.as_deref().and_then(Version::parse).filter(Version::is_sms) else {
            continue;
        };
        let same_release = src_version.release().is_some() && src_version.release() == lp_version.release();
        if same(copy, src) || !same_release || src_version.compare(&lp_version) != Some(Ordering::Greater) {
            continue;
        }
        let cap_path = CAP_BOXES
            .iter()
            .find_map(|(cap_box, src_box)| Some(format!("{cap_box}{}", src_path.strip_prefix(src_box)?)));
        let caps_have_it = view
            .site_locations(source, LocationKind::Cap)
            .into_iter()
            .filter_map(|cap| view.file(&cap.name, cap_path.as_deref()?))
            .all(|cap_copy| same(cap_copy, src));
        if caps_have_it {
            return Some((source.to_string(), server, src));
        }
    }
    None
}

/// N02's second case: a zero-byte copy on one logon point while another
/// logon point of the same site holds a good one (identical to the site
/// server's `src`): LSM's copy to that domain controller failed [I].
fn good_copy_elsewhere<'a>(
    view: &EstateView<'a>,
    lp: &Location,
    site: &str,
    lp_path: &str,
    src: &FileRecord,
) -> Option<&'a Location> {
    let copy = view.file(&lp.name, lp_path)?;
    if copy.size != Some(0) {
        return None;
    }
    view.locations(LocationKind::LogonPoint)
        .into_iter()
        .filter(|other| other.name != lp.name && view.participants(other).iter().any(|s| s == site))
        .find(|other| view.file(&other.name, lp_path).is_some_and(|good| same(good, src)))
}

/// N02: the finding for a logon point copy LSM has yet to refresh.
fn lsm_recopy(site: &str, lp: &Location, copy: &FileRecord, expected: String, why: String) -> Finding {
    FindingDraft {
        observed: describe(copy),
        expected,
        message: format!(
            "{}\\{} {why}: a copy Logon Server Manager has yet to make, not a corrupt file; force an LSM cycle rather than replacing it by hand.",
            lp.name, copy.path
        ),
        ..FindingDraft::new(CheckCode::N02, site, &lp.name, &copy.path)
    }
    .into_finding()
}

/// F19: `Sites\<code>\NETCONF.NCF` without Cli_inst.cfg next to the site
/// server's clidata.src copy. Not Q242492 (clients can read Netconf.ncf),
/// and F05 says it for the site the CLICORE.EXE line names.
fn missing_cli_inst(view: &EstateView, lp: &Location, site: &str, lp_path: &str, out: &mut Vec<Finding>) {
    let netconf = format!("Sites\\{site}\\netconf.ncf");
    let bootstrap_site = view
        .copylog(&lp.name)
        .iter()
        .any(|(path, code)| *path == LOGON_COPIES[0].0 && *code == site);
    if bootstrap_site || !view.absent(&lp.name, lp_path) || view.file(&lp.name, &netconf).is_none() {
        return;
    }
    for server in view.site_locations(site, LocationKind::SiteServer) {
        let Some(src) = view.file(&server.name, &format!("{CLIDATA_SRC}\\cli_inst.cfg")) else {
            continue;
        };
        out.push(
            FindingDraft {
                observed: format!("Sites\\{site} has NETCONF.NCF but no Cli_inst.cfg"),
                expected: format!("{}\\{} ({})", server.name, src.path, describe(src)),
                message: format!(
                    "{}\\Sites\\{site} has NETCONF.NCF but no Cli_inst.cfg, which site {site}'s clidata.src holds: not Q242492 (clients can read Netconf.ncf), but logon installation of {site}'s clients gets no CRC data. If site {site} has only Windows Networking Logon Discovery enabled, this is by design (Q235535, F31): enable Logon Client Installation; otherwise LSM's copy is missing: force an LSM cycle (Q270036).",
                    lp.name
                ),
                ..FindingDraft::new(CheckCode::F19, site, &lp.name, lp_path)
            }
            .into_finding(),
        );
    }
}

/// F19 (logon point half) and F20 / F21 (logon point Clicore): logon point
/// copies against the site server they come from; N02 where the
/// difference is a copy LSM has yet to make.
pub(crate) fn check_logon_copies(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let hotfix = hotfix_not_reached(view, lp, LOGON_COPIES[0].0, LOGON_COPIES[0].1);
        // Sites\<code>\Cli_inst.cfg is CIDM's clidata.src file (Q246331).
        for site in &view.participants(lp) {
            let lp_path = format!("Sites\\{site}\\cli_inst.cfg");
            let Some(copy) = view.file(&lp.name, &lp_path) else {
                missing_cli_inst(view, lp, site, &lp_path, out);
                continue;
            };
            for server in view.site_locations(site, LocationKind::SiteServer) {
                let Some(src) = view.file(&server.name, &format!("{CLIDATA_SRC}\\cli_inst.cfg")) else {
                    continue;
                };
                if same(copy, src) {
                    continue;
                }
                let expected = format!("{}\\{} ({})", server.name, src.path, describe(src));
                if let Some((_, hotfix_server, hotfix_src)) = hotfix.as_ref().filter(|(s, _, _)| s == site) {
                    let why = format!(
                        "differs from site {site}'s clidata.src copy, and {}\\{} ({}) has not reached the logon point either",
                        hotfix_server.name,
                        hotfix_src.path,
                        hotfix_src.version.as_deref().unwrap_or("?")
                    );
                    out.push(lsm_recopy(site, lp, copy, expected, why));
                    continue;
                }
                if let Some(good) = good_copy_elsewhere(view, lp, site, &lp_path, src) {
                    let why = format!(
                        "is zero bytes while {}'s copy is identical to the site server's",
                        good.name
                    );
                    out.push(lsm_recopy(site, lp, copy, expected, why));
                    continue;
                }
                out.push(
                    FindingDraft {
                        code: CheckCode::F19,
                        severity: None,
                        site,
                        location: &lp.name,
                        path: &copy.path,
                        observed: describe(copy),
                        expected: format!("{}\\{} ({})", server.name, src.path, describe(src)),
                        message: format!(
                            "{}\\{} differs from site {site}'s clidata.src copy on {}: clients may get CRCs that do not match the programs.",
                            lp.name, copy.path, server.name
                        ),
                        marks: Vec::new(),
                    }
                    .into_finding(),
                );
            }
        }
        let copylog = view.copylog(&lp.name);
        for (lp_path, src_path) in LOGON_COPIES {
            let Some(copy) = view.file(&lp.name, lp_path) else {
                continue;
            };
            // F20: against the site Copylog names as the file's source,
            // unless the file is an exact copy of one that site offers.
            let source = copylog.iter().find(|(p, _)| p == lp_path).map(|(_, s)| *s);
            if let Some(source) = source.filter(|s| !is_copy_of_site(view, copy, s, src_path)) {
                for server in view.site_locations(source, LocationKind::SiteServer) {
                    let Some(src) = view.file(&server.name, src_path) else {
                        continue;
                    };
                    if same(copy, src) {
                        continue;
                    }
                    let expected = format!("{}\\{} ({})", server.name, src.path, describe(src));
                    if hotfix.as_ref().is_some_and(|(s, _, _)| s == source) && *lp_path == LOGON_COPIES[0].0 {
                        let why = format!(
                            "is {}, an earlier build of the same release than site {source}'s hotfixed {}\\{} ({}), which its CAPs already carry",
                            copy.version.as_deref().unwrap_or("?"),
                            server.name,
                            src.path,
                            src.version.as_deref().unwrap_or("?")
                        );
                        out.push(lsm_recopy(source, lp, copy, expected, why));
                        continue;
                    }
                    if let Some(good) = good_copy_elsewhere(view, lp, source, lp_path, src) {
                        let why = format!(
                            "is zero bytes while {}'s copy is identical to the site server's",
                            good.name
                        );
                        out.push(lsm_recopy(source, lp, copy, expected, why));
                        continue;
                    }
                    out.push(
                        FindingDraft {
                            code: CheckCode::F20,
                            severity: None,
                            site: source,
                            location: &lp.name,
                            path: &copy.path,
                            observed: describe(copy),
                            expected: format!("{}\\{} ({})", server.name, src.path, describe(src)),
                            message: format!(
                                "{}\\{} differs from {}\\{}, the copy of site {source} that Copylog.tcf names as its source.",
                                lp.name, copy.path, server.name, src.path
                            ),
                            marks: Vec::new(),
                        }
                        .into_finding(),
                    );
                }
            }
            // F21: a site offering a newer base whose Clicore is dated older.
            let Some(lp_base) = view.logon_base(lp) else { continue };
            for site in &view.participants(lp) {
                let Some(site_base) = view.site_base(site) else {
                    continue;
                };
                if site_base.compare(&lp_base.version) != Some(Ordering::Greater) {
                    continue;
                }
                for server in view.site_locations(site, LocationKind::SiteServer) {
                    let Some(src) = view.file(&server.name, src_path) else {
                        continue;
                    };
                    let (Some(src_time), Some(lp_time)) = (&src.modified, &copy.modified) else {
                        continue;
                    };
                    if same(copy, src) || src_time >= lp_time {
                        continue;
                    }
                    out.push(
                        FindingDraft {
                            code: CheckCode::F21,
                            severity: None,
                            site,
                            location: &server.name,
                            path: &src.path,
                            observed: format!("{src_time} (site base {site_base})"),
                            expected: format!("not older than {}\\{} ({lp_time})", lp.name, copy.path),
                            message: format!(
                                "Site {site} offers base {site_base}, newer than {}'s {}, but its {} is dated {src_time}, before the logon point's copy ({lp_time}); LSM will not update the logon point and new logon installs fail.",
                                lp.name, lp_base.version, src.path
                            ),
                            marks: Vec::new(),
                        }
                        .into_finding(),
                    );
                }
            }
        }
    }
}

/// F23 / F24: each CAP's compver.ini against what the site's CAPs must
/// offer ([`EstateView::expected_offer`]): the site server's, or without one
/// audited, the newest of the site's CAPs.
pub(crate) fn check_compver_replication(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = site_of(cap);
        for stamp in view
            .stamps(&cap.name)
            .iter()
            .filter(|s| s.artifact == Artifact::Compver)
        {
            let Some(cap_version) = Version::parse(&stamp.value) else {
                continue;
            };
            let Some((ref_version, reference)) = view.expected_offer(&site, &stamp.component) else {
                continue;
            };
            if reference.name == cap.name || ref_version.same_as(&cap_version) {
                continue;
            }
            let downgrade = reference.kind == LocationKind::SiteServer
                && cap_version.kind == ref_version.kind
                && cap_version.fields > ref_version.fields;
            let (code, location, path, observed, expected, message) = if downgrade {
                (
                    CheckCode::F23,
                    reference.name.as_str(),
                    format!("Inboxes\\clicomp.src\\{}\\compver.ini", stamp.component),
                    ref_version.text.clone(),
                    format!("{} or newer, as on {}", cap_version, cap.name),
                    format!(
                        "{}'s clicomp.src {} compver.ini is {}, lower than {} on its CAP {}: a downgrade; clients at the higher version never take the files.",
                        reference.name, stamp.component, ref_version, cap_version, cap.name
                    ),
                )
            } else {
                (
                    CheckCode::F24,
                    cap.name.as_str(),
                    stamp.path.to_string(),
                    cap_version.text.clone(),
                    format!("{} as on {}", ref_version, reference.name),
                    format!(
                        "{} offers {} {} but {} has {}: replication lag or a failed Inbox Manager copy.",
                        cap.name, stamp.component, cap_version, reference.name, ref_version
                    ),
                )
            };
            out.push(
                FindingDraft {
                    code,
                    severity: None,
                    site: &site,
                    location,
                    path: &path,
                    observed,
                    expected: expected.clone(),
                    message,
                    marks: vec![CellMark {
                        row: RowKey::new(&stamp.component, Artifact::Compver, ""),
                        location: if downgrade {
                            reference.name.clone()
                        } else {
                            cap.name.clone()
                        },
                        expected: if downgrade {
                            cap_version.text.clone()
                        } else {
                            ref_version.text.clone()
                        },
                    }],
                }
                .into_finding(),
            );
        }
    }
}
