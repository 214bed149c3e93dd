//! Environments: Test, Pre-release and Production.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the three places a version can be released to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// `test`, picked with `X-Ca-Stage: TEST`.
    Test,
    /// `pre` (Pre-release), picked with `X-Ca-Stage: PRE`.
    Pre,
    /// `prod` (Production, "On-line"), the default stage `RELEASE`.
    Prod,
}

impl Environment {
    /// All environments, in the order the console shows them.
    pub const ALL: [Environment; 3] = [Environment::Test, Environment::Pre, Environment::Prod];

    /// The identifier used in URLs and JSON (`test`, `pre`, `prod`).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Pre => "pre",
            Environment::Prod => "prod",
        }
    }

    /// The label the console shows.
    pub fn label(self) -> &'static str {
        match self {
            Environment::Test => "Test",
            Environment::Pre => "Pre-release",
            Environment::Prod => "Production",
        }
    }

    /// The `X-Ca-Stage` value that selects this environment.
    pub fn stage(self) -> &'static str {
        match self {
            Environment::Test => "TEST",
            Environment::Pre => "PRE",
            Environment::Prod => "RELEASE",
        }
    }

    /// Parses an `X-Ca-Stage` header value (case-insensitive); `None` for an unknown stage.
    pub fn from_stage(stage: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|env| env.stage().eq_ignore_ascii_case(stage.trim()))
    }

    /// Position in [`Environment::ALL`], for per-environment arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an environment name that is not `test`, `pre` or `prod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEnvironment(pub String);

impl fmt::Display for UnknownEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown environment `{}`: expected test, pre or prod", self.0)
    }
}

impl std::error::Error for UnknownEnvironment {}

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Environment::ALL.into_iter().find(|env| env.as_str() == s).ok_or_else(|| UnknownEnvironment(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_map_to_environments() {
        assert_eq!(Environment::from_stage("TEST"), Some(Environment::Test));
        assert_eq!(Environment::from_stage("pre"), Some(Environment::Pre));
        assert_eq!(Environment::from_stage("RELEASE"), Some(Environment::Prod));
        assert_eq!(Environment::from_stage("PROD"), None);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for env in Environment::ALL {
            assert_eq!(env.as_str().parse::<Environment>(), Ok(env));
        }
        assert_eq!("production".parse::<Environment>(), Err(UnknownEnvironment("production".into())));
    }
}
