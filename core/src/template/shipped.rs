//! The templates Accord ships: one for each sample agreement, made by `export` from
//! `agreements/` (with no export date or registry version, so they are reproducible) and
//! built into the binary for the console's "Start from a template" page. `tests/templates.rs`
//! fails if one differs from a fresh export of its sample.

use crate::agreement::yaml;

/// A shipped template: its name (the sample's id) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shipped {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal,)*) => {
        /// Every shipped template, by name.
        pub const ALL: &[Shipped] = &[$(Shipped {
            name: $name,
            text: include_str!(concat!("../../../agreement-templates/", $name, ".yaml")),
        },)*];
    };
}

shipped! {
    "camden-foodbank-referrals",
    "hmo-licensing-enforcement",
    "hospital-discharge",
    "school-attendance-pooling",
    "vulnerability-hub",
}

/// The shipped template called `name`.
pub fn find(name: &str) -> Option<&'static Shipped> {
    ALL.iter().find(|t| t.name == name)
}

impl Shipped {
    /// The title of the agreement the template holds.
    pub fn title(&self) -> String {
        let tree = yaml::parse(self.text.as_bytes()).ok().flatten();
        tree.as_ref()
            .and_then(|t| t.get("agreement"))
            .and_then(|e| e.value.get("title"))
            .and_then(|e| e.value.as_scalar())
            .map_or_else(|| self.name.to_owned(), |s| s.text.clone())
    }
}
