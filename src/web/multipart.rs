//! The console's uploads (multipart forms), read by one reader: every text field and every file
//! part, in order. The server has already read the body within its route's limit before it
//! gets here (`api::middleware::limit_body`, which stops at the limit and answers 413 without
//! reading the rest), so what this reads is bounded; a part that does not parse is a 400. The
//! CSRF token is checked by [`Checked`](super::csrf::Checked), as for every other form.

use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};

use super::csrf::{CarriesCsrf, Reading};
use super::errors::WebError;

/// A file part: the field it was sent as, the file's name as the browser gave it (empty when
/// no file was chosen), and its bytes.
pub struct FilePart {
    pub field: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Every part of an upload.
pub struct Parts {
    texts: Vec<(String, String)>,
    files: Vec<FilePart>,
}

impl Parts {
    /// The first text field called `name`, or "" when there is none. Text that is not UTF-8 is
    /// read with replacement characters.
    pub fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first file sent as `field` (a file input left empty sends a part with no name,
    /// which is no file).
    pub fn file(&self, field: &str) -> Option<&FilePart> {
        self.files
            .iter()
            .find(|f| f.field == field && !f.name.is_empty())
    }

    /// The file parts, in order, as sent (the text fields dropped).
    pub fn into_files(self) -> Vec<FilePart> {
        self.files
    }
}

impl CarriesCsrf for Parts {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> Reading<'a, Self> {
        Box::pin(Parts::read_all(req, body))
    }

    fn csrf(&self) -> &str {
        self.text("csrf")
    }
}

impl Parts {
    async fn read_all(req: &Request, body: &mut RequestBody) -> poem::Result<Parts> {
        let unreadable = |e: &dyn std::fmt::Display| {
            WebError::BadRequest(format!("the form could not be read: {e}")).into_poem()
        };
        let mut form = Multipart::from_request(req, body)
            .await
            .map_err(|e| unreadable(&e))?;
        let (mut texts, mut files) = (Vec::new(), Vec::new());
        while let Some(part) = form.next_field().await.map_err(|e| unreadable(&e))? {
            let field = part.name().unwrap_or_default().to_owned();
            let file_name = part.file_name().map(str::to_owned);
            let bytes = part.bytes().await.map_err(|e| unreadable(&e))?;
            match file_name {
                Some(name) => files.push(FilePart { field, name, bytes }),
                None => texts.push((field, String::from_utf8_lossy(&bytes).into_owned())),
            }
        }
        Ok(Parts { texts, files })
    }
}
