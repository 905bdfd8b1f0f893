//! The inventory file (TOML): the estate as the admin knows it. It names
//! the sites with their CAPs and site server share, the domains with their
//! logon points, which sites use which domains, the expected releases and
//! the exclusions.

use crate::model::LocationKind;
use crate::names;
use crate::sms::layout;
use crate::sms::release::{self, ReleaseInfo};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Where UNC shares are found on this machine: `\\SERVER1\CAP_MS1` is
    /// read from `<unc_root>/SERVER1/CAP_MS1`. Relative to the inventory
    /// file. Without it, UNC names are opened as they are (Windows).
    pub unc_root: Option<PathBuf>,
    /// The release every site should be at (`RTM`, `SP1` ... `SP5`).
    pub expected_release: Option<String>,
    /// Glob patterns of share-relative paths not to audit (`*.log`,
    /// `ddr.box/*`), matched case-insensitively.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default, rename = "site")]
    pub sites: Vec<Site>,
    #[serde(default, rename = "domain")]
    pub domains: Vec<Domain>,
    /// Where the file was read from; relative paths are resolved from here.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file itself, as named on the command line: the reports name it
    /// beside (or instead of) the roots.
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub code: String,
    #[serde(default)]
    pub caps: Vec<ShareRef>,
    pub site_server: Option<ShareRef>,
    /// Domains whose logon points the site uses.
    #[serde(default)]
    pub domains: Vec<String>,
    pub expected_release: Option<String>,
}

/// A share as the inventory names it: its UNC name, read from where
/// `unc_root` (or Windows) puts it, or its UNC name with the path where it
/// is mounted here (`{ name = '\\SERVER1\CAP_MS1', path = "/mnt/cap1" }`),
/// so a mount point audits under the share's real name, kind and site.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ShareRef {
    Name(String),
    Mounted { name: String, path: PathBuf },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub name: String,
    #[serde(default)]
    pub logon_points: Vec<ShareRef>,
}

/// A share the inventory names, resolved to a path on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryShare {
    /// As written in the inventory.
    pub name: String,
    pub server: String,
    pub share: String,
    pub path: PathBuf,
    pub kind: LocationKind,
    pub sites: Vec<String>,
}

impl Inventory {
    pub(crate) fn load(path: &Path) -> Result<Inventory> {
        let bytes = crate::input::read_regular_file(path, "inventory")?;
        let text =
            String::from_utf8(bytes).with_context(|| format!("inventory {} is not UTF-8 text", path.display()))?;
        let mut inventory: Inventory = toml::from_str(&text)
            .map_err(|err| crate::text::Lines(err.to_string()))
            .with_context(|| format!("inventory {} is not valid", path.display()))?;
        inventory.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        inventory.file = path.to_path_buf();
        inventory.validate()?;
        if inventory.shares().is_empty() {
            bail!(
                "inventory {} names no share: list each site's caps and site_server, and each domain's logon_points",
                path.display()
            );
        }
        Ok(inventory)
    }

    fn validate(&self) -> Result<()> {
        let releases = self
            .expected_release
            .iter()
            .chain(self.sites.iter().filter_map(|s| s.expected_release.as_ref()));
        for release in releases {
            if release::release_by_label(release).is_none() {
                bail!("unknown release {release:?} in inventory (use RTM, SP1 ... SP5)");
            }
        }
        for site in &self.sites {
            if !layout::is_site_code(&site.code) {
                bail!("site code {:?} in inventory is not three letters or digits", site.code);
            }
            for domain in &site.domains {
                if !self.domains.iter().any(|d| d.name.eq_ignore_ascii_case(domain)) {
                    bail!(
                        "site {} uses domain {domain:?}, which the inventory does not list",
                        site.code
                    );
                }
            }
        }
        if self.unc_root.is_some() {
            for share in self.share_refs() {
                if let ShareRef::Name(name) = share {
                    check_unc_name(name)?;
                }
            }
        }
        Ok(())
    }

    /// Every share entry of the inventory, as written.
    fn share_refs(&self) -> impl Iterator<Item = &ShareRef> {
        self.sites
            .iter()
            .flat_map(|site| site.caps.iter().chain(site.site_server.iter()))
            .chain(self.domains.iter().flat_map(|domain| domain.logon_points.iter()))
    }

    /// The release a site should be at, if the inventory says.
    pub(crate) fn expected_release(&self, site: &str) -> Option<&'static ReleaseInfo> {
        self.sites
            .iter()
            .find(|s| s.code.eq_ignore_ascii_case(site))
            .and_then(|s| s.expected_release.as_deref())
            .or(self.expected_release.as_deref())
            .and_then(release::release_by_label)
    }

    /// Sites that use a domain's logon points.
    pub(crate) fn domain_sites(&self, domain: &str) -> Vec<String> {
        let mut sites: Vec<String> = self
            .sites
            .iter()
            .filter(|s| s.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
            .map(|s| s.code.to_ascii_uppercase())
            .collect();
        sites.sort();
        sites
    }

    /// The logon points the inventory lists for a domain, as location
    /// names (`\\DC1\SMSLOGON`).
    pub(crate) fn domain_logon_points(&self, domain: &Domain) -> Vec<String> {
        domain
            .logon_points
            .iter()
            .map(|lp| {
                let share = self.share(lp, LocationKind::LogonPoint, Vec::new());
                crate::names::location_name(&share.server, &share.share)
            })
            .collect()
    }

    /// The domain whose logon points include the location `\\SERVER\SHARE`
    /// (as the inventory names it), if the inventory says.
    pub(crate) fn logon_point_domain(&self, location: &str) -> Option<&str> {
        self.domains
            .iter()
            .find(|domain| {
                self.domain_logon_points(domain)
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(location))
            })
            .map(|domain| domain.name.as_str())
    }

    /// Every share the inventory names, resolved to a path.
    pub(crate) fn shares(&self) -> Vec<InventoryShare> {
        let mut shares = Vec::new();
        for site in &self.sites {
            let code = site.code.to_ascii_uppercase();
            for cap in &site.caps {
                shares.push(self.share(cap, LocationKind::Cap, vec![code.clone()]));
            }
            if let Some(server) = &site.site_server {
                shares.push(self.share(server, LocationKind::SiteServer, vec![code.clone()]));
            }
        }
        for domain in &self.domains {
            for lp in &domain.logon_points {
                shares.push(self.share(lp, LocationKind::LogonPoint, self.domain_sites(&domain.name)));
            }
        }
        shares
    }

    fn share(&self, share: &ShareRef, kind: LocationKind, sites: Vec<String>) -> InventoryShare {
        let (name, path) = match share {
            ShareRef::Name(name) => (name.as_str(), self.resolve(name)),
            ShareRef::Mounted { name, path } => (name.as_str(), self.base_dir.join(path)),
        };
        let (server, share) = match names::parse_unc(name) {
            Some(unc) if unc.rest.is_empty() => (unc.server, unc.share),
            _ => names::server_and_share(&path),
        };
        InventoryShare {
            name: name.to_string(),
            server,
            share,
            path,
            kind,
            sites,
        }
    }

    /// `\\S\share` under `unc_root` becomes `<unc_root>/S/share`; other
    /// relative paths are taken from the inventory's folder.
    fn resolve(&self, name: &str) -> PathBuf {
        match (names::parse_unc(name), &self.unc_root) {
            (Some(unc), Some(root)) => {
                let mut path = self.base_dir.join(root).join(&unc.server).join(&unc.share);
                for part in &unc.rest {
                    path.push(part);
                }
                path
            }
            (Some(_), None) => PathBuf::from(name),
            (None, _) => self.base_dir.join(name),
        }
    }
}

/// Refuses a UNC name that `unc_root` would resolve outside itself, or
/// to another share than the one it names: a component that is empty,
/// `.` or `..` (or only dots and spaces, which Windows trims to one of
/// those), or that holds a drive colon or a NUL.
fn check_unc_name(name: &str) -> Result<()> {
    let normal = name.replace('/', "\\");
    let body = [r"\\?\UNC\", r"\\.\UNC\", r"\\"].iter().find_map(|prefix| {
        normal
            .get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| &normal[prefix.len()..])
    });
    let Some(body) = body else {
        return Ok(());
    };
    for part in body.split('\\') {
        let why = if part.is_empty() {
            "an empty component"
        } else if part.chars().all(|c| c == '.' || c == ' ') {
            "a component of only dots (. or ..)"
        } else if part.contains(':') || part.contains('\0') {
            "a component with ':' or a NUL"
        } else {
            continue;
        };
        bail!(
            "inventory share '{name}' has {why}: a UNC name must be \\\\SERVER\\SHARE[\\FOLDER...] and stay under unc_root; fix that entry"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
unc_root = "sample-shares"
expected_release = "SP1"
exclude = ["*.log"]

[[site]]
code = "MS1"
caps = ['\\SERVER1\CAP_MS1']
site_server = '\\SERVER1\SMS_MS1'
domains = ["CORP"]
expected_release = "RTM"

[[site]]
code = "MS2"
caps = ['\\SERVER2\CAP_MS2']
domains = ["CORP"]

[[domain]]
name = "CORP"
logon_points = ['\\DC1\SMSLOGON']
"#;

    fn example() -> Inventory {
        let mut inventory: Inventory = toml::from_str(EXAMPLE).unwrap();
        inventory.base_dir = PathBuf::from("/estate");
        inventory.validate().unwrap();
        inventory
    }

    #[test]
    fn resolves_shares_under_the_unc_root() {
        let shares = example().shares();
        assert_eq!(shares.len(), 4);
        assert_eq!(shares[0].path, PathBuf::from("/estate/sample-shares/SERVER1/CAP_MS1"));
        assert_eq!(
            (shares[0].server.as_str(), shares[0].share.as_str()),
            ("SERVER1", "CAP_MS1")
        );
        assert_eq!(shares[1].kind, LocationKind::SiteServer);
        assert_eq!(shares[3].kind, LocationKind::LogonPoint);
        assert_eq!(shares[3].sites, vec!["MS1", "MS2"]);
    }

    #[test]
    fn expected_release_per_site_or_estate() {
        let inventory = example();
        assert_eq!(inventory.expected_release("MS1").unwrap().label, "RTM");
        assert_eq!(inventory.expected_release("ms2").unwrap().label, "SP1");
    }

    #[test]
    fn rejects_mistakes() {
        for bad in [
            "expected_release = \"SP9\"",
            "[[site]]\ncode = \"TOOLONG\"",
            "[[site]]\ncode = \"AB1\"\ndomains = [\"NOPE\"]",
            "colour = \"red\"",
        ] {
            let parsed: Result<Inventory, _> = toml::from_str(bad);
            assert!(parsed.map(|i| i.validate().is_err()).unwrap_or(true), "{bad}");
        }
    }
}
