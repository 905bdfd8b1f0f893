//! What a run is about (issue 26 item 3): the paths of its roots and of
//! its inventory's shares, as reports show them. One rule decides whether
//! a location the history holds is in a run's scope: the expected-location
//! check (A01), the states a run ends in the history and the findings it
//! counts as resolved all use [`Scope::covers`].

use super::Config;

/// The roots and inventory shares of one run, as reports show them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) roots: Vec<String>,
}

impl Scope {
    /// The scope of a run with `config`: its roots, then its inventory's
    /// shares.
    pub(crate) fn of(config: &Config) -> Scope {
        let mut roots: Vec<String> = config.roots.iter().map(|r| crate::names::display_path(r)).collect();
        roots.extend(
            config
                .inventory
                .iter()
                .flat_map(|i| i.shares())
                .map(|s| crate::names::display_path(&s.path)),
        );
        Scope { roots }
    }

    /// Whether a location read from `path` is under one of the roots (or
    /// is one of them).
    pub(crate) fn covers(&self, path: &str) -> bool {
        self.roots.iter().any(|root| {
            let root = root.trim_end_matches(['/', '\\']);
            path == root
                || path
                    .strip_prefix(root)
                    .is_some_and(|rest| rest.starts_with(['/', '\\']))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_its_roots_and_what_is_under_them_only() {
        let scope = Scope {
            roots: vec![r"\\SERVER1\CAP_MS1\".into(), "/srv/shares".into()],
        };
        assert!(scope.covers(r"\\SERVER1\CAP_MS1"));
        assert!(scope.covers("/srv/shares/DC1/SMSLOGON"));
        assert!(!scope.covers(r"\\SERVER1\CAP_MS10"));
        assert!(!scope.covers("/srv/shares-old/DC1"));
    }
}
