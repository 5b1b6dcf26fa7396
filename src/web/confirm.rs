//! "Check your answers" before anything that cannot be undone (the GOV.UK pattern): what will
//! happen, the answers given, a warning, and the button; the answers go again as hidden fields,
//! with `step=confirm` (or `step=edit` to change them).

use serde::Serialize;

use super::typed::Page;

/// A check-your-answers page.
#[derive(Serialize)]
pub struct ConfirmPage {
    pub heading: String,
    /// The answers, as a summary list.
    pub rows: Vec<Row>,
    /// What doing it means, said before the button.
    pub warning: String,
    /// Where the form posts.
    pub action: String,
    /// The answers again, posted with the button.
    pub hidden: Vec<Hidden>,
    /// Whether a "Change what you entered" button posts them back to the form (`step=edit`);
    /// else a link goes `back`.
    pub editable: bool,
    pub back: String,
    /// What the button says.
    pub button: String,
}

/// One answer in the summary list.
#[derive(Serialize)]
pub struct Row {
    pub key: String,
    pub value: String,
}

/// One answer carried as a hidden field.
#[derive(Serialize)]
pub struct Hidden {
    pub name: String,
    pub value: String,
}

impl Row {
    pub fn new(key: &str, value: impl Into<String>) -> Row {
        Row {
            key: key.to_owned(),
            value: value.into(),
        }
    }
}

impl Hidden {
    pub fn new(name: &str, value: impl Into<String>) -> Hidden {
        Hidden {
            name: name.to_owned(),
            value: value.into(),
        }
    }
}

impl Page for ConfirmPage {
    const TEMPLATE: &'static str = "confirm";

    fn example() -> ConfirmPage {
        ConfirmPage {
            heading: "Check before you suspend".into(),
            rows: vec![Row::new("Reason", "A breach is being investigated")],
            warning: "The gate refuses every flow of the agreement at once.".into(),
            action: "/agreements/example/control/suspend".into(),
            hidden: vec![Hidden::new("reason", "A breach is being investigated")],
            editable: true,
            back: "/agreements/example".into(),
            button: "Suspend the agreement".into(),
        }
    }
}
