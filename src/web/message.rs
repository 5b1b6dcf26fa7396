//! A page that says one thing: a heading, a sentence, and perhaps one way on ("Check your
//! e-mail", "Your password is set", a link that no longer works).

use serde::Serialize;

use super::typed::Page;

#[derive(Serialize)]
pub struct MessagePage {
    pub heading: String,
    pub message: String,
    /// The one way on, as a button; none when there is nowhere to go.
    pub link: Option<Link>,
}

#[derive(Serialize)]
pub struct Link {
    pub href: String,
    pub text: String,
}

impl MessagePage {
    pub fn new(heading: &str, message: impl Into<String>, link: Option<(&str, &str)>) -> Self {
        MessagePage {
            heading: heading.to_owned(),
            message: message.into(),
            link: link.map(|(href, text)| Link {
                href: href.to_owned(),
                text: text.to_owned(),
            }),
        }
    }
}

impl Page for MessagePage {
    const TEMPLATE: &'static str = "message";

    fn example() -> MessagePage {
        MessagePage::new(
            "Your password is set",
            "You can now sign in with your e-mail address and this password.",
            Some(("/sign-in", "Sign in")),
        )
    }
}
