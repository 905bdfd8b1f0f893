//! `--exclude` globs (and the inventory's `exclude`), checked and compiled
//! once, before any crawl: the walk only matches.

/// Share-relative paths the user asked not to audit, matched without
/// regard to case or to `\` versus `/`. Crosses to crawl workers as the
/// patterns given, compiled again on arrival the same way.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Exclusions {
    /// As given, for workers and messages.
    patterns: Vec<String>,
    compiled: Vec<glob::Pattern>,
}

/// A pattern that is not a glob.
#[derive(Debug, thiserror::Error)]
#[error("bad --exclude pattern {pattern:?}: {error}")]
pub struct BadPattern {
    pub pattern: String,
    pub error: glob::PatternError,
}

impl Exclusions {
    /// Checks each pattern as given, and compiles it with `\` read as `/`
    /// (a pattern that only that spelling breaks matches nothing).
    pub fn new(patterns: Vec<String>) -> Result<Exclusions, BadPattern> {
        for pattern in &patterns {
            glob::Pattern::new(pattern).map_err(|error| BadPattern {
                pattern: pattern.clone(),
                error,
            })?;
        }
        let compiled = patterns
            .iter()
            .filter_map(|p| glob::Pattern::new(&p.replace('\\', "/")).ok())
            .collect();
        Ok(Exclusions { patterns, compiled })
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `relative` (share-relative, `\` or `/`) is excluded.
    pub(crate) fn matches(&self, relative: &str) -> bool {
        if self.compiled.is_empty() {
            return false;
        }
        let options = glob::MatchOptions {
            case_sensitive: false,
            require_literal_separator: false,
            require_literal_leading_dot: false,
        };
        let path = relative.replace('\\', "/");
        self.compiled.iter().any(|p| p.matches_with(&path, options))
    }
}

impl TryFrom<Vec<String>> for Exclusions {
    type Error = BadPattern;

    fn try_from(patterns: Vec<String>) -> Result<Exclusions, BadPattern> {
        Exclusions::new(patterns)
    }
}

impl From<Exclusions> for Vec<String> {
    fn from(exclusions: Exclusions) -> Vec<String> {
        exclusions.patterns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_any_case_and_either_separator() {
        let exclusions = Exclusions::new(vec!["*.LOG".into(), r"ddr.box\*".into()]).unwrap();
        assert!(exclusions.matches("a/b.log"));
        assert!(exclusions.matches(r"DDR.BOX\x.ddr"));
        assert!(!exclusions.matches("a.ini"));
        assert!(!Exclusions::default().matches("a.log"));
    }

    #[test]
    fn a_bad_pattern_is_refused_by_name() {
        let err = Exclusions::new(vec!["ok".into(), "[".into()]).unwrap_err();
        assert!(err.to_string().starts_with(r#"bad --exclude pattern "[": "#), "{err}");
    }

    #[test]
    fn exclusions_cross_to_a_worker_as_their_patterns() {
        let sent = Exclusions::new(vec![r"a\*.tmp".into()]).unwrap();
        let json = serde_json::to_string(&sent).unwrap();
        assert_eq!(json, r#"["a\\*.tmp"]"#);
        let got: Exclusions = serde_json::from_str(&json).unwrap();
        assert_eq!(got.patterns(), sent.patterns());
        assert!(got.matches("A/x.TMP"));
    }
}
